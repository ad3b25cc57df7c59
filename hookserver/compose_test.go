package main

import (
	"context"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"entra2okta/internal/worker"
)

// liveEnv stands for an operator's .env: what docker-compose.yml's live profile
// interpolates.
var liveEnv = map[string]string{
	"OKTA_ORG_URL": "https://example.okta.com", "OKTA_API_TOKEN": "00token", "ENTRA_TENANT_ID": "t1",
	"ENTRA_CLIENT_ID": "c1", "ENTRA_CLIENT_SECRET": "s1", "HOOK_AUTH_SECRET": "Basic c2VjcmV0",
}

func loadCompose(t *testing.T, env map[string]string) *types.Project {
	t.Helper()
	p, err := loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  "..",
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join("..", "docker-compose.yml")}},
		Environment: env,
	}, func(o *loader.Options) {
		o.SetProjectName("entra2okta", true)
		o.Profiles = []string{"live", "demo"}
	})
	if err != nil {
		t.Fatalf("load docker-compose.yml: %v", err)
	}
	return p
}

func serviceEnv(s types.ServiceConfig) func(string) string {
	return func(k string) string {
		if v, ok := s.Environment[k]; ok && v != nil {
			return *v
		}
		return ""
	}
}

// TestComposeFile loads docker-compose.yml with the compose-spec loader and
// checks what an operator relies on: the services of both profiles, their
// published ports, a health check on every service, start-up order on healthy
// dependencies, pinned images, and that the worker and hook server accept the
// environment each service gives them (their own config parsers validate it).
func TestComposeFile(t *testing.T) {
	p := loadCompose(t, liveEnv)
	want := map[string][]string{ // service -> profiles
		"postgresql": nil, "temporal": nil, "temporal-ui": nil,
		"worker": {"live"}, "hookserver": {"live"},
		"fakeidp": {"demo"}, "worker-demo": {"demo"}, "hookserver-demo": {"demo"},
	}
	for name, profiles := range want {
		s, err := p.GetService(name)
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if !slices.Equal(s.Profiles, profiles) {
			t.Errorf("service %s: profiles %v, want %v", name, s.Profiles, profiles)
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("service %s has no health check", name)
		}
		if s.Image != "" && (strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":")) {
			t.Errorf("service %s: image %q is not pinned", name, s.Image)
		}
	}
	if len(p.Services) != len(want) {
		t.Errorf("services: %v, want exactly %d", p.ServiceNames(), len(want))
	}

	ports := map[string]string{"temporal": "7233", "temporal-ui": "8233", "hookserver": "8443", "hookserver-demo": "8443"}
	for name, published := range ports {
		s, _ := p.GetService(name)
		found := false
		for _, pc := range s.Ports {
			found = found || pc.Published == published
		}
		if !found {
			t.Errorf("service %s does not publish port %s", name, published)
		}
	}

	deps := map[string][]string{
		"temporal": {"postgresql"}, "temporal-ui": {"temporal"},
		"worker": {"temporal"}, "hookserver": {"temporal"},
		"worker-demo": {"temporal", "fakeidp"}, "hookserver-demo": {"temporal", "fakeidp"},
	}
	for name, on := range deps {
		s, _ := p.GetService(name)
		for _, d := range on {
			dep, ok := s.DependsOn[d]
			if !ok || dep.Condition != types.ServiceConditionHealthy {
				t.Errorf("service %s: must depend on %s being healthy (got %+v)", name, d, dep)
			}
		}
	}

	for _, name := range []string{"worker", "worker-demo"} {
		s, _ := p.GetService(name)
		if _, err := worker.ParseConfig(nil, serviceEnv(s)); err != nil {
			t.Errorf("service %s: the worker rejects its environment: %v", name, err)
		}
		if !slices.Equal([]string(s.Command), []string{"worker"}) {
			t.Errorf("service %s: command %v", name, s.Command)
		}
	}
	for _, name := range []string{"hookserver", "hookserver-demo"} {
		s, _ := p.GetService(name)
		cfg, err := parseConfig(nil, serviceEnv(s), io.Discard)
		if err != nil {
			t.Errorf("service %s: the hook server rejects its environment: %v", name, err)
			continue
		}
		if cfg.tlsCert == "" || cfg.tlsKey == "" {
			t.Errorf("service %s: no TLS (Okta only calls https hooks)", name)
		}
		if !strings.HasSuffix(cfg.listen, ":8443") {
			t.Errorf("service %s: listens on %s, but publishes 8443", name, cfg.listen)
		}
	}
	fi, _ := p.GetService("fakeidp")
	for _, k := range []string{"HOOK_AUTH_SECRET", "OKTA_API_TOKEN"} {
		if serviceEnv(fi)(k) == "" {
			t.Errorf("fakeidp: %s not set", k)
		}
	}
	hd, _ := p.GetService("hookserver-demo")
	if serviceEnv(fi)("HOOK_AUTH_SECRET") != serviceEnv(hd)("HOOK_AUTH_SECRET") {
		t.Error("fakeidp registers the hook with a secret the demo hook server does not expect")
	}
}

// TestComposeLiveNeedsTheOperatorsSettings checks that without an .env the
// live services do not silently start half-configured: the binaries refuse.
func TestComposeLiveNeedsTheOperatorsSettings(t *testing.T) {
	p := loadCompose(t, map[string]string{})
	w, _ := p.GetService("worker")
	if _, err := worker.ParseConfig(nil, serviceEnv(w)); err == nil {
		t.Error("worker accepted an empty Okta/Entra configuration")
	}
	h, _ := p.GetService("hookserver")
	if _, err := parseConfig(nil, serviceEnv(h), io.Discard); err == nil {
		t.Error("hook server accepted an empty HOOK_AUTH_SECRET")
	}
}
