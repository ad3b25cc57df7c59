package main

import (
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/settings/catalog"
	"entra2okta/internal/worker"
)

// replicas is a service's deploy.replicas, 1 when unset.
func replicas(s types.ServiceConfig) int {
	if s.Deploy != nil && s.Deploy.Replicas != nil {
		return *s.Deploy.Replicas
	}
	return 1
}

// composeConfig returns the inline content of the compose file's config name.
func composeConfig(t *testing.T, p *types.Project, name string) string {
	t.Helper()
	c, ok := p.Configs[name]
	if !ok || c.Content == "" {
		t.Fatalf("configs: no inline %s", name)
	}
	return c.Content
}

// mountsConfig reports whether s mounts config source at target.
func mountsConfig(s types.ServiceConfig, source, target string) bool {
	return slices.ContainsFunc(s.Configs, func(c types.ServiceConfigObjConfig) bool {
		return c.Source == source && c.Target == target
	})
}

// TestComposeTopology checks that docker-compose.yml runs the topology the
// tests run: the Temporal server on PostgreSQL as devtemporal.StartSQL
// configures it (plugin, databases, history shards, dynamic configuration),
// two workers, two hook replicas sharing their budgets in a database the
// schema job creates, behind a TLS-passthrough load balancer that Okta (and
// the demo's fakeidp) calls.
func TestComposeTopology(t *testing.T) {
	p := loadCompose(t, liveEnv)

	srv := rawEnv(service(t, p, "temporal"))
	if srv("DB") != devtemporal.SQLPlugin {
		t.Errorf("temporal: DB=%q, want %q", srv("DB"), devtemporal.SQLPlugin)
	}
	if srv("NUM_HISTORY_SHARDS") != strconv.Itoa(devtemporal.HistoryShards) {
		t.Errorf("temporal: NUM_HISTORY_SHARDS=%q, want the tests' %d", srv("NUM_HISTORY_SHARDS"), devtemporal.HistoryShards)
	}
	path := srv("DYNAMIC_CONFIG_FILE_PATH")
	if path == "" || !mountsConfig(service(t, p, "temporal"), "temporal-dynamic-config", path) {
		t.Errorf("temporal: DYNAMIC_CONFIG_FILE_PATH=%q is not where temporal-dynamic-config is mounted", path)
	}
	var dc map[string][]struct {
		Value       any            `yaml:"value"`
		Constraints map[string]any `yaml:"constraints"`
	}
	if err := yaml.Unmarshal([]byte(composeConfig(t, p, "temporal-dynamic-config")), &dc); err != nil {
		t.Fatalf("temporal-dynamic-config: %v", err)
	}
	want := devtemporal.DynamicConfig()
	for k, v := range want {
		if got := dc[k]; len(got) != 1 || len(got[0].Constraints) != 0 || fmt.Sprint(got[0].Value) != fmt.Sprint(v) {
			t.Errorf("temporal-dynamic-config %s = %+v, want one unconstrained value %v (devtemporal.DynamicConfig)", k, got, v)
		}
	}
	for k := range dc {
		if _, ok := want[k]; !ok {
			t.Errorf("temporal-dynamic-config sets %s, which the tests' server does not (devtemporal.DynamicConfig)", k)
		}
	}

	for _, name := range []string{"worker", "worker-demo", "hookserver", "hookserver-demo"} {
		if n := replicas(service(t, p, name)); n != 2 {
			t.Errorf("service %s: %d replicas, want 2", name, n)
		}
	}
	// Okta allows 75 simultaneous requests per org, across all workers.
	for _, name := range []string{"worker", "worker-demo"} {
		s := service(t, p, name)
		cfg, err := worker.ParseConfig(nil, serviceEnv(t, p, s, liveSecrets))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if total := replicas(s) * cfg.OktaConcurrency; total >= 75 {
			t.Errorf("%s: %d replicas × OKTA_CONCURRENCY %d = %d simultaneous Okta calls, Okta allows 75 per org", name, replicas(s), cfg.OktaConcurrency, total)
		}
	}

	// The hook replicas' store: the database the schema job creates.
	storeDB := rawEnv(service(t, p, "temporal-schema"))("HOOK_STORE_DB")
	calls, err := runScript(t, service(t, p, "temporal-schema"))
	if err != nil {
		t.Fatalf("temporal-schema: %v", err)
	}
	if storeDB == "" || !slices.Contains(calls, "temporal-sql-tool --db "+storeDB+" create") {
		t.Errorf("temporal-schema: HOOK_STORE_DB=%q is not created (calls %v)", storeDB, calls)
	}
	live := serviceEnv(t, p, service(t, p, "hookserver"), liveSecrets)
	demo := rawEnv(service(t, p, "hookserver-demo"))
	if f := live("HOOK_STORE_FILE"); f == "" {
		t.Error("hookserver: no HOOK_STORE_FILE: the replicas would each keep their own budgets")
	}
	for name, dsn := range map[string]string{"hookserver (secret hook_store)": strings.TrimSpace(liveSecrets["hook_store"]), "hookserver-demo": demo("HOOK_STORE")} {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Errorf("%s: HOOK_STORE does not parse", name)
			continue
		}
		pg := service(t, p, "postgresql")
		if u.Hostname() != pg.Name || u.Port() != rawEnv(service(t, p, "temporal"))("DB_PORT") || strings.TrimPrefix(u.Path, "/") != storeDB {
			t.Errorf("%s: HOOK_STORE names %s:%s/%s, want %s:%s/%s", name, u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"),
				pg.Name, rawEnv(service(t, p, "temporal"))("DB_PORT"), storeDB)
		}
	}

	// The load balancer: TCP, over the replicas of the service its
	// HOOK_REPLICAS names, on the port they listen on, enough slots for them.
	cfg := composeConfig(t, p, "hookproxy")
	m := regexp.MustCompile(`(?m)^\s*server-template\s+\S+\s+(\d+)\s+"\$\{HOOK_REPLICAS\}:(\d+)"`).FindStringSubmatch(cfg)
	if m == nil {
		t.Fatalf("hookproxy config: no server-template over ${HOOK_REPLICAS}:\n%s", cfg)
	}
	slots, _ := strconv.Atoi(m[1])
	if !regexp.MustCompile(`(?m)^\s*mode tcp$`).MatchString(cfg) || !strings.Contains(cfg, "balance roundrobin") {
		t.Error("hookproxy config: want mode tcp (TLS passes through to the replicas) and balance roundrobin")
	}
	for proxy, backend := range map[string]string{"hookproxy": "hookserver", "hookproxy-demo": "hookserver-demo"} {
		ps := service(t, p, proxy)
		if got := rawEnv(ps)("HOOK_REPLICAS"); got != backend {
			t.Errorf("%s: HOOK_REPLICAS=%q, want %s", proxy, got, backend)
		}
		if !mountsConfig(ps, "hookproxy", "/usr/local/etc/haproxy/haproxy.cfg") {
			t.Errorf("%s: does not mount the hookproxy config", proxy)
		}
		hs := service(t, p, backend)
		if listen := rawEnv(hs)("HOOK_LISTEN_ADDR"); !strings.HasSuffix(listen, ":"+m[2]) {
			t.Errorf("%s listens on %s, the proxy forwards to port %s", backend, listen, m[2])
		}
		if replicas(hs) > slots {
			t.Errorf("%s: %d replicas, the proxy has %d slots", backend, replicas(hs), slots)
		}
		if !slices.ContainsFunc(ps.Ports, func(pc types.ServicePortConfig) bool { return pc.Target == 8443 && pc.Published == "8443" }) {
			t.Errorf("%s: does not publish 8443", proxy)
		}
	}
	fi := []string(service(t, p, "fakeidp").Command)
	i := slices.Index(fi, "-hook-url")
	if i < 0 || i+1 >= len(fi) {
		t.Fatalf("fakeidp: no -hook-url in %v", fi)
	}
	u, err := url.Parse(fi[i+1])
	if err != nil || u.Hostname() != "hookproxy-demo" {
		t.Errorf("fakeidp: hook URL %q, want the demo's load balancer hookproxy-demo", fi[i+1])
	}
	var names []string
	for j, a := range fi {
		if a == "-dns-name" && j+1 < len(fi) {
			names = append(names, fi[j+1])
		}
	}
	if !slices.Contains(names, u.Hostname()) {
		t.Errorf("fakeidp: the replicas' certificate (-dns-name %v) does not name the hook URL's host %s", names, u.Hostname())
	}
}

// TestComposeVariablesKnown checks that every variable docker-compose.yml
// gives the worker and the hook server is one the binary declares (the
// settings catalog), a secret's file form, or a variable read outside the
// catalog (Go's SSL_CERT_FILE; secretenv's): a misspelt variable is silently
// ignored by a binary, so it fails here.
func TestComposeVariablesKnown(t *testing.T) {
	known := map[string]map[string]bool{}
	for _, b := range catalog.Binaries() {
		k := map[string]bool{"SSL_CERT_FILE": true}
		for _, d := range b.Decls {
			if d.Env == "" {
				continue
			}
			k[d.Env] = true
			if d.Secret {
				k[d.Env+secretenv.FileSuffix] = true
			}
		}
		for _, n := range secretenv.Names() {
			k[n], k[n+secretenv.FileSuffix] = true, true
		}
		known[b.Name] = k
	}
	p := loadCompose(t, liveEnv)
	for _, s := range p.Services {
		if s.Build == nil || len(s.Command) == 0 {
			continue
		}
		bin := s.Command[0]
		k, ok := known[bin]
		if !ok {
			continue // fakeidp: a test emulator with its own flags
		}
		for v := range s.Environment {
			if !k[v] {
				t.Errorf("service %s: %s is not a %s setting", s.Name, v, bin)
			}
		}
	}
}
