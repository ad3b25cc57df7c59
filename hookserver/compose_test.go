package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

// liveEnv stands for an operator's .env: what docker-compose.yml's live profile
// interpolates. The two Entra client IDs differ: they are two app registrations.
var liveEnv = map[string]string{
	"OKTA_ORG_URL": "https://example.okta.com", "ENTRA_TENANT_ID": "t1",
	"ENTRA_CLIENT_ID": "graph-app-id", "ENTRA_VERIFIER_CLIENT_ID": "ropc-app-id",
	"HOOK_EVENTS_AUTH_SECRET_FILE":  "/run/secrets/hook_events_auth_secret",
	"HOOK_MFA_CANARY_USER":          "canary@example.com",
	"HOOK_MFA_CANARY_PASSWORD_FILE": "/run/secrets/hook_mfa_canary_password",
}

// liveSecrets stands for the operator's ./secrets files, by secret name.
var liveSecrets = map[string]string{
	"okta_api_token":           "00okta-api-token-value\n",
	"entra_client_secret":      "graph-app-client-secret\n",
	"hook_auth_secret":         "Basic c2VjcmV0LXNlY3JldC1zZWNyZXQ=\n",
	"hook_events_auth_secret":  "Basic ZXZlbnRzLWV2ZW50cy1ldmVudHM=\n",
	"hook_mfa_canary_password": "a-deliberately-wrong-password\n",
	"hook_tls_cert":            "-----BEGIN CERTIFICATE-----\n",
	"hook_tls_key":             "-----BEGIN PRIVATE KEY-----\n",
	"hook_store":               "postgres://temporal:pg-password@postgresql:5432/hookstore?sslmode=disable\n",
}

// secretVars are the binaries' secret variables: in the live profile each
// comes from a file (NAME_FILE), never from the environment itself.
var secretVars = secretenv.Names()

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

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, err := p.GetService(name)
	if err != nil {
		t.Fatalf("service %s: %v", name, err)
	}
	return s
}

func rawEnv(s types.ServiceConfig) func(string) string {
	return func(k string) string {
		if v, ok := s.Environment[k]; ok && v != nil {
			return *v
		}
		return ""
	}
}

// secretTarget is where Docker mounts a service's secret.
func secretTarget(sc types.ServiceSecretConfig) string {
	switch {
	case sc.Target == "":
		return "/run/secrets/" + sc.Source
	case !filepath.IsAbs(sc.Target):
		return "/run/secrets/" + sc.Target
	}
	return sc.Target
}

// serviceEnv is the environment the service's binary sees, with each path
// under /run/secrets/ replaced by a file holding files[secret], as Docker
// mounts it. A path that names no secret of the service, or a secret
// without a file under ./secrets, is an error. The binaries' own parsers
// then read the files their NAME_FILE variables name.
func serviceEnv(t *testing.T, p *types.Project, s types.ServiceConfig, files map[string]string) func(string) string {
	t.Helper()
	dir := t.TempDir()
	env := map[string]string{}
	for k, v := range s.Environment {
		if v == nil {
			continue
		}
		env[k] = *v
		if !strings.HasPrefix(*v, "/run/secrets/") {
			if name, ok := strings.CutSuffix(k, secretenv.FileSuffix); ok && slices.Contains(secretVars, name) && *v != "" {
				t.Errorf("service %s: %s=%s is not a Docker secret (/run/secrets/...)", s.Name, k, *v)
			}
			continue
		}
		i := slices.IndexFunc(s.Secrets, func(sc types.ServiceSecretConfig) bool { return secretTarget(sc) == *v })
		if i < 0 {
			t.Errorf("service %s: %s=%s, but the service mounts no secret there", s.Name, k, *v)
			continue
		}
		name := s.Secrets[i].Source
		def, ok := p.Secrets[name]
		if !ok || def.File == "" {
			t.Errorf("service %s: secret %s has no file", s.Name, name)
		} else if rel, err := relPath(filepath.Join(p.WorkingDir, "secrets"), def.File); err != nil || strings.HasPrefix(rel, "..") {
			t.Errorf("secret %s: file %s is not under ./secrets (git-ignored)", name, def.File)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(files[name]), 0o400); err != nil {
			t.Fatal(err)
		}
		env[k] = path
	}
	return func(k string) string { return env[k] }
}

// relPath is target relative to base, both made absolute.
func relPath(base, target string) (string, error) {
	b, err := filepath.Abs(base)
	if err != nil {
		return "", err
	}
	t, err := filepath.Abs(target)
	if err != nil {
		return "", err
	}
	return filepath.Rel(b, t)
}

// oneShots are the services others wait on to complete (set-up jobs); the
// rest run for good.
func oneShots(p *types.Project) map[string]bool {
	m := map[string]bool{}
	for _, s := range p.Services {
		for name, d := range s.DependsOn {
			if d.Condition == types.ServiceConditionCompletedSuccessfully {
				m[name] = true
			}
		}
	}
	return m
}

// TestComposeFile loads docker-compose.yml with the compose-spec loader and
// checks what an operator relies on: the services of both profiles, a health
// check and a restart policy on every long-running service, start-up order,
// pinned images, and that the worker and hook server accept the environment
// and secrets each service gives them (their own config parsers validate it).
func TestComposeFile(t *testing.T) {
	p := loadCompose(t, liveEnv)
	want := map[string][]string{ // service -> profiles
		"postgresql": nil, "temporal-schema": nil, "temporal": nil, "temporal-namespace": nil, "temporal-ui": nil,
		"worker": {"live"}, "hookserver": {"live"}, "hookproxy": {"live"},
		"fakeidp": {"demo"}, "worker-demo": {"demo"}, "hookserver-demo": {"demo"}, "hookproxy-demo": {"demo"},
	}
	once := oneShots(p)
	for name, profiles := range want {
		s, err := p.GetService(name)
		if err != nil {
			t.Errorf("service %s: %v", name, err)
			continue
		}
		if !slices.Equal(s.Profiles, profiles) {
			t.Errorf("service %s: profiles %v, want %v", name, s.Profiles, profiles)
		}
		if s.Image != "" && (strings.HasSuffix(s.Image, ":latest") || !strings.Contains(s.Image, ":")) {
			t.Errorf("service %s: image %q is not pinned", name, s.Image)
		}
		if once[name] {
			// A set-up job restarted for good would run again and again.
			if s.Restart == types.RestartPolicyAlways || s.Restart == types.RestartPolicyUnlessStopped {
				t.Errorf("one-shot service %s: restart %q", name, s.Restart)
			}
			continue
		}
		if s.HealthCheck == nil || len(s.HealthCheck.Test) == 0 {
			t.Errorf("service %s has no health check", name)
		}
		if s.Restart != types.RestartPolicyUnlessStopped && s.Restart != types.RestartPolicyAlways {
			t.Errorf("service %s: restart %q, want unless-stopped or always (a host reboot or a crash must not stop the migration)", name, s.Restart)
		}
	}
	if len(p.Services) != len(want) {
		t.Errorf("services: %v, want exactly %d", p.ServiceNames(), len(want))
	}
	if !once["temporal-schema"] || !once["temporal-namespace"] {
		t.Errorf("one-shot services %v: want temporal-schema and temporal-namespace", once)
	}

	deps := map[string]map[string]string{
		"temporal-schema":    {"postgresql": types.ServiceConditionHealthy},
		"temporal":           {"postgresql": types.ServiceConditionHealthy, "temporal-schema": types.ServiceConditionCompletedSuccessfully},
		"temporal-namespace": {"temporal": types.ServiceConditionHealthy},
		"temporal-ui":        {"temporal": types.ServiceConditionHealthy},
		// The worker registers its search attributes in the namespace: it
		// must exist, with its retention, first.
		"worker": {"temporal": types.ServiceConditionHealthy, "temporal-namespace": types.ServiceConditionCompletedSuccessfully},
		// The hook replicas' shared store lives in a database temporal-schema creates.
		"hookserver":      {"temporal": types.ServiceConditionHealthy, "temporal-namespace": types.ServiceConditionCompletedSuccessfully, "temporal-schema": types.ServiceConditionCompletedSuccessfully},
		"worker-demo":     {"temporal": types.ServiceConditionHealthy, "temporal-namespace": types.ServiceConditionCompletedSuccessfully, "fakeidp": types.ServiceConditionHealthy},
		"hookserver-demo": {"temporal": types.ServiceConditionHealthy, "temporal-namespace": types.ServiceConditionCompletedSuccessfully, "temporal-schema": types.ServiceConditionCompletedSuccessfully, "fakeidp": types.ServiceConditionHealthy},
		"hookproxy":       {"hookserver": types.ServiceConditionHealthy},
		"hookproxy-demo":  {"hookserver-demo": types.ServiceConditionHealthy},
	}
	for name, on := range deps {
		s := service(t, p, name)
		for d, cond := range on {
			if dep, ok := s.DependsOn[d]; !ok || dep.Condition != cond {
				t.Errorf("service %s: must depend on %s with %s (got %+v)", name, d, cond, dep)
			}
		}
	}

	for _, name := range []string{"worker", "worker-demo"} {
		s := service(t, p, name)
		if _, err := worker.ParseConfig(nil, serviceEnv(t, p, s, liveSecrets)); err != nil {
			t.Errorf("service %s: the worker rejects its environment: %v", name, err)
		}
		if !slices.Equal([]string(s.Command), []string{"worker"}) {
			t.Errorf("service %s: command %v", name, s.Command)
		}
	}
	for _, name := range []string{"hookserver", "hookserver-demo"} {
		s := service(t, p, name)
		cfg, err := hookserver.ParseConfig(nil, serviceEnv(t, p, s, liveSecrets), io.Discard)
		if err != nil {
			t.Errorf("service %s: the hook server rejects its environment: %v", name, err)
			continue
		}
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			t.Errorf("service %s: no TLS (Okta only calls https hooks)", name)
		}
		if !strings.HasSuffix(cfg.Listen, ":8443") {
			t.Errorf("service %s: listens on %s, but publishes 8443", name, cfg.Listen)
		}
	}
	fi := service(t, p, "fakeidp")
	for _, k := range []string{"HOOK_AUTH_SECRET", "OKTA_API_TOKEN"} {
		if rawEnv(fi)(k) == "" {
			t.Errorf("fakeidp: %s not set", k)
		}
	}
	if rawEnv(fi)("HOOK_AUTH_SECRET") != rawEnv(service(t, p, "hookserver-demo"))("HOOK_AUTH_SECRET") {
		t.Error("fakeidp registers the hook with a secret the demo hook server does not expect")
	}
}

// TestComposeLiveSecretsAreFiles checks that the live profile hands every
// secret to the binaries as a Docker secret (a file under /run/secrets read
// through NAME_FILE), never as an environment variable that `docker inspect`
// and every process in the container can read, and that each one arrives:
// the binaries read the files' contents.
func TestComposeLiveSecretsAreFiles(t *testing.T) {
	p := loadCompose(t, liveEnv)
	for _, name := range []string{"worker", "hookserver"} {
		s := service(t, p, name)
		for _, k := range secretVars {
			if v := rawEnv(s)(k); v != "" {
				t.Errorf("service %s: secret %s in the environment; use %s%s and a Docker secret", name, k, k, secretenv.FileSuffix)
			}
		}
		for _, v := range s.Volumes {
			if v.Target == "/run/secrets" || strings.HasPrefix(v.Target, "/run/secrets/") {
				t.Errorf("service %s: %s mounted over /run/secrets as a volume; use Docker secrets, one file each", name, v.Source)
			}
		}
	}
	trim := func(s string) string { return strings.TrimSuffix(s, "\n") }
	w := service(t, p, "worker")
	wcfg, err := worker.ParseConfig(nil, serviceEnv(t, p, w, liveSecrets))
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	if wcfg.OktaAPIToken != trim(liveSecrets["okta_api_token"]) || wcfg.EntraClientSecret != trim(liveSecrets["entra_client_secret"]) {
		t.Error("worker: the Okta token or the Graph client secret is not the secret file's content")
	}
	h := service(t, p, "hookserver")
	hcfg, err := hookserver.ParseConfig(nil, serviceEnv(t, p, h, liveSecrets), io.Discard)
	if err != nil {
		t.Fatalf("hookserver: %v", err)
	}
	if hcfg.Hook.AuthSecret != trim(liveSecrets["hook_auth_secret"]) {
		t.Error("hookserver: the inline hook's secret is not the secret file's content")
	}
	if hcfg.Events == nil || hcfg.Events.AuthSecret != trim(liveSecrets["hook_events_auth_secret"]) {
		t.Error("hookserver: HOOK_EVENTS_AUTH_SECRET_FILE set in .env, but the event hook's secret is not the file's content")
	}
	if hcfg.Hook.MFACheck.Password.Reveal() != trim(liveSecrets["hook_mfa_canary_password"]) || hcfg.Hook.MFACheck.Username != liveEnv["HOOK_MFA_CANARY_USER"] {
		t.Error("hookserver: the MFA canary is not configured from .env and its secret file")
	}
	if hcfg.TLSKey == "" || !strings.HasPrefix(rawEnv(h)("HOOK_TLS_KEY"), "/run/secrets/") {
		t.Errorf("hookserver: HOOK_TLS_KEY %q is not a Docker secret", rawEnv(h)("HOOK_TLS_KEY"))
	}

	// An Okta OAuth 2.0 service app instead of the API token.
	env := copyEnv(liveEnv)
	env["OKTA_API_TOKEN_FILE"], env["OKTA_CLIENT_ID"] = "", "0oaserviceapp"
	env["OKTA_PRIVATE_KEY_FILE"] = "/run/secrets/okta_private_key"
	files := copyEnv(liveSecrets)
	files["okta_api_token"], files["okta_private_key"] = "", ecKeyPEM(t)
	p = loadCompose(t, env)
	wcfg, err = worker.ParseConfig(nil, serviceEnv(t, p, service(t, p, "worker"), files))
	if err != nil {
		t.Fatalf("worker with an OAuth service app: %v", err)
	}
	if wcfg.OktaAPIToken != "" || wcfg.OktaClientID != "0oaserviceapp" || wcfg.OktaPrivateKey != trim(files["okta_private_key"]) {
		t.Error("worker: OKTA_API_TOKEN_FILE= and OKTA_PRIVATE_KEY_FILE in .env do not give the service app's key instead of the token")
	}

	// The optional secrets stay off unless .env names their files.
	env = copyEnv(liveEnv)
	delete(env, "HOOK_EVENTS_AUTH_SECRET_FILE")
	delete(env, "HOOK_MFA_CANARY_USER")
	delete(env, "HOOK_MFA_CANARY_PASSWORD_FILE")
	p = loadCompose(t, env)
	off := copyEnv(liveSecrets)
	off["hook_events_auth_secret"], off["hook_mfa_canary_password"] = "", ""
	hcfg, err = hookserver.ParseConfig(nil, serviceEnv(t, p, service(t, p, "hookserver"), off), io.Discard)
	if err != nil {
		t.Fatalf("hookserver without the optional secrets: %v", err)
	}
	if hcfg.Events != nil || !hcfg.Hook.MFACheck.Password.Empty() {
		t.Error("hookserver: the event hook or the MFA canary is on without .env naming its secret file")
	}

	// Secret files stay out of git and out of the image's build context.
	for file, line := range map[string]string{"../.gitignore": "/secrets/", "../.dockerignore": "secrets"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(strings.Split(string(b), "\n"), line) {
			t.Errorf("%s does not exclude %s", file, line)
		}
	}
}

// ecKeyPEM returns a new P-256 private key in PKCS #8 PEM, as an Okta
// service app's key file holds it.
func ecKeyPEM(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func copyEnv(m map[string]string) map[string]string {
	c := make(map[string]string, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// TestComposeTwoEntraApps checks that the worker and the hook server get the
// client IDs of two app registrations: Graph reads with a confidential client
// (secret, application permissions) for the worker, ROPC with a public client
// (no secret) for the hook server. One variable for both would give the hook
// the Graph app, or the worker the public client.
func TestComposeTwoEntraApps(t *testing.T) {
	p := loadCompose(t, liveEnv)
	wcfg, err := worker.ParseConfig(nil, serviceEnv(t, p, service(t, p, "worker"), liveSecrets))
	if err != nil {
		t.Fatalf("worker: %v", err)
	}
	hcfg, err := hookserver.ParseConfig(nil, serviceEnv(t, p, service(t, p, "hookserver"), liveSecrets), io.Discard)
	if err != nil {
		t.Fatalf("hookserver: %v", err)
	}
	if wcfg.EntraClientID != liveEnv["ENTRA_CLIENT_ID"] {
		t.Errorf("worker: Entra client %q, want the Graph app %q (ENTRA_CLIENT_ID)", wcfg.EntraClientID, liveEnv["ENTRA_CLIENT_ID"])
	}
	if hcfg.Entra.ClientID != liveEnv["ENTRA_VERIFIER_CLIENT_ID"] {
		t.Errorf("hookserver: Entra client %q, want the ROPC app %q (ENTRA_VERIFIER_CLIENT_ID)", hcfg.Entra.ClientID, liveEnv["ENTRA_VERIFIER_CLIENT_ID"])
	}
	if wcfg.EntraTenantID != hcfg.Entra.TenantID {
		t.Errorf("worker tenant %q, hook server tenant %q: one tenant", wcfg.EntraTenantID, hcfg.Entra.TenantID)
	}
}

// TestComposePorts checks what the host publishes: the hook's load
// balancer's HTTPS port on every interface (Okta calls it), everything else on
// loopback only (Temporal's frontend has no authentication here and the Web
// UI can terminate workflows; operators reach them through an SSH tunnel),
// and nothing on a replicated service (its replicas would contend for the
// host port).
func TestComposePorts(t *testing.T) {
	p := loadCompose(t, liveEnv)
	published := map[string]string{}
	for _, s := range p.Services {
		for _, pc := range s.Ports {
			published[s.Name+":"+pc.Published] = pc.HostIP
			public := s.Name == "hookproxy" && pc.Target == 8443
			if replicas(s) > 1 {
				t.Errorf("service %s: %d replicas publish port %s", s.Name, replicas(s), pc.Published)
			}
			switch {
			case public && pc.HostIP != "" && pc.HostIP != "0.0.0.0":
				t.Errorf("service %s: port %s bound to %s, but Okta must reach it", s.Name, pc.Published, pc.HostIP)
			case !public && pc.HostIP != "127.0.0.1":
				t.Errorf("service %s: port %s published on %q, want 127.0.0.1 (only the hook's HTTPS port is public)", s.Name, pc.Published, pc.HostIP)
			}
		}
	}
	for _, want := range []string{"temporal:7233", "temporal-ui:8233", "hookproxy:8443", "hookproxy-demo:8443"} {
		if _, ok := published[want]; !ok {
			t.Errorf("%s is not published (got %v)", want, published)
		}
	}
}

// toolsModVersion returns the version tools.mod requires of module.
func toolsModVersion(t *testing.T, module string) string {
	t.Helper()
	b, err := os.ReadFile("../tools.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s*` + regexp.QuoteMeta(module) + `\s+v(\S+)`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("tools.mod does not require %s", module)
	}
	return string(m[1])
}

// TestComposeTemporalImages checks that Temporal runs from its current images
// (temporalio/auto-setup is deprecated) at the server release the repository's
// dev server embeds, so the compose stack and the tests run the same server.
func TestComposeTemporalImages(t *testing.T) {
	p := loadCompose(t, liveEnv)
	server := toolsModVersion(t, "go.temporal.io/server")
	ui := toolsModVersion(t, "github.com/temporalio/ui-server/v2")
	for _, s := range p.Services {
		if strings.Contains(s.Image, "auto-setup") {
			t.Errorf("service %s: %s is deprecated; use temporalio/server and temporalio/admin-tools", s.Name, s.Image)
		}
	}
	if img := service(t, p, "temporal").Image; img != "temporalio/server:"+server {
		t.Errorf("temporal: image %s, want temporalio/server:%s", img, server)
	}
	for _, name := range []string{"temporal-schema", "temporal-namespace"} {
		if img := service(t, p, name).Image; !strings.HasPrefix(img, "temporalio/admin-tools:"+server+"-") && img != "temporalio/admin-tools:"+server {
			t.Errorf("%s: image %s, want temporalio/admin-tools at %s", name, img, server)
		}
	}
	if img := service(t, p, "temporal-ui").Image; img != "temporalio/ui:"+ui {
		t.Errorf("temporal-ui: image %s, want temporalio/ui:%s", img, ui)
	}
}

// stubs writes stand-ins for the programs a set-up script calls: each logs
// its arguments to $STUB_LOG. temporal's `operator namespace describe`
// succeeds once the namespace exists ($STUB_NAMESPACE_EXISTS, or after a
// create); `operator cluster health` exits $STUB_HEALTH_RC.
func stubs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range map[string]string{
		"temporal-sql-tool": `echo "temporal-sql-tool $*" >> "$STUB_LOG"`,
		"sleep":             `:`,
		"temporal": `echo "temporal $*" >> "$STUB_LOG"
case "$*" in
*"cluster health"*) exit "${STUB_HEALTH_RC:-0}" ;;
*"namespace describe"*) [ -n "${STUB_NAMESPACE_EXISTS:-}" ] && exit 0; grep -q "namespace create" "$STUB_LOG" && exit 0; exit 1 ;;
esac`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// runScript runs a one-shot service's shell script as its container would
// (entrypoint /bin/sh -c, the service's environment) with the stand-ins,
// and returns the calls they logged and the script's error.
func runScript(t *testing.T, s types.ServiceConfig, extra ...string) ([]string, error) {
	t.Helper()
	if !slices.Equal([]string(s.Entrypoint), []string{"/bin/sh", "-c"}) || len(s.Command) != 1 {
		t.Fatalf("service %s: entrypoint %v command %v, want /bin/sh -c SCRIPT", s.Name, s.Entrypoint, s.Command)
	}
	dir := stubs(t)
	log := filepath.Join(t.TempDir(), "calls")
	cmd := exec.Command("/bin/sh", "-c", s.Command[0])
	cmd.Env = []string{"PATH=" + dir + ":/usr/bin:/bin", "STUB_LOG=" + log}
	for k, v := range s.Environment {
		if v != nil {
			cmd.Env = append(cmd.Env, k+"="+*v)
		}
	}
	cmd.Env = append(cmd.Env, extra...)
	out, err := cmd.CombinedOutput()
	b, _ := os.ReadFile(log)
	calls := strings.Split(strings.TrimSpace(string(b)), "\n")
	if err != nil {
		t.Logf("%s: %s", s.Name, out)
	}
	return calls, err
}

// TestComposeTemporalSchema runs temporal-schema's script: both databases
// are created (idempotent in temporal-sql-tool) and brought to the schema
// versions embedded in the tool, by the same steps the tests' server on
// PostgreSQL takes (devtemporal.SchemaSteps), with the credentials the server
// uses; then the hook replicas' database is created.
func TestComposeTemporalSchema(t *testing.T) {
	env := copyEnv(liveEnv)
	env["TEMPORAL_DB_PASSWORD"] = "pg-password"
	p := loadCompose(t, env)
	s := service(t, p, "temporal-schema")
	calls, err := runScript(t, s)
	if err != nil {
		t.Fatalf("temporal-schema: %v", err)
	}
	var want []string
	for _, step := range devtemporal.SchemaSteps() {
		want = append(want, "temporal-sql-tool "+strings.Join(step, " "))
	}
	want = append(want, "temporal-sql-tool --db hookstore create")
	if !slices.Equal(calls, want) {
		t.Errorf("temporal-schema ran\n%s\nwant\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
	// temporal-sql-tool's connection comes from SQL_* (its flags' variables);
	// the server's from its config template's DB, POSTGRES_* and DB_PORT.
	tool, srv, pg := rawEnv(s), rawEnv(service(t, p, "temporal")), rawEnv(service(t, p, "postgresql"))
	for _, c := range [][3]string{
		{"SQL_PLUGIN", "DB", devtemporal.SQLPlugin},
		{"SQL_HOST", "POSTGRES_SEEDS", "postgresql"},
		{"SQL_PORT", "DB_PORT", "5432"},
		{"SQL_USER", "POSTGRES_USER", pg("POSTGRES_USER")},
		{"SQL_PASSWORD", "POSTGRES_PWD", "pg-password"},
	} {
		if tool(c[0]) != c[2] || srv(c[1]) != c[2] {
			t.Errorf("temporal-schema %s=%q, temporal %s=%q, want both %q", c[0], tool(c[0]), c[1], srv(c[1]), c[2])
		}
	}
	if pg("POSTGRES_PASSWORD") != "pg-password" {
		t.Errorf("postgresql: POSTGRES_PASSWORD %q, want TEMPORAL_DB_PASSWORD", pg("POSTGRES_PASSWORD"))
	}
	for k, db := range map[string]string{"DBNAME": devtemporal.DatabaseDefault, "VISIBILITY_DBNAME": devtemporal.DatabaseVisibility} {
		if tool(k) != db || srv(k) != db {
			t.Errorf("temporal-schema %s=%q, temporal %s=%q, want both %q", k, tool(k), k, srv(k), db)
		}
	}
}

// retention parses TEMPORAL_RETENTION as the temporal CLI does (Go durations
// plus "d" for 24 h).
func retention(t *testing.T, v string) time.Duration {
	t.Helper()
	if d, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(d)
		if err != nil {
			t.Fatalf("retention %q: %v", v, err)
		}
		return time.Duration(n) * 24 * time.Hour
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		t.Fatalf("retention %q: %v", v, err)
	}
	return d
}

// TestComposeNamespaceRetention checks that temporal-namespace creates the
// namespace with a retention that outlives a campaign (closed users must
// still be there for report, status and rollback after the deadline), sets
// it again on an existing namespace (one created by an earlier release with
// a day's retention), honours TEMPORAL_RETENTION, and gives up after a bounded
// wait for the server.
func TestComposeNamespaceRetention(t *testing.T) {
	p := loadCompose(t, liveEnv)
	s := service(t, p, "temporal-namespace")
	got := rawEnv(s)("TEMPORAL_RETENTION")
	if least := workflows.DefaultDeadlineAfter + workflows.DefaultDeadlineSpread + 7*24*time.Hour; retention(t, got) < least {
		t.Errorf("default retention %s: shorter than the default campaign (deadline and its spread) plus a week, %v", got, least)
	}
	if ns, app := rawEnv(s)("TEMPORAL_NAMESPACE"), rawEnv(service(t, p, "worker"))("TEMPORAL_NAMESPACE"); ns != app {
		t.Errorf("temporal-namespace sets up %q, the worker uses %q", ns, app)
	}

	calls, err := runScript(t, s)
	if err != nil {
		t.Fatalf("new namespace: %v", err)
	}
	create := "temporal operator namespace create --address temporal:7233 --namespace default --retention " + got
	if !slices.Contains(calls, create) {
		t.Errorf("new namespace: calls\n%s\nwant %q", strings.Join(calls, "\n"), create)
	}

	calls, err = runScript(t, s, "STUB_NAMESPACE_EXISTS=1")
	if err != nil {
		t.Fatalf("existing namespace: %v", err)
	}
	update := "temporal operator namespace update --address temporal:7233 --namespace default --retention " + got
	if !slices.Contains(calls, update) || slices.ContainsFunc(calls, func(c string) bool { return strings.Contains(c, "namespace create") }) {
		t.Errorf("existing namespace: calls\n%s\nwant %q and no create", strings.Join(calls, "\n"), update)
	}

	env := copyEnv(liveEnv)
	env["TEMPORAL_RETENTION"], env["TEMPORAL_NAMESPACE"] = "180d", "migration"
	p = loadCompose(t, env)
	s = service(t, p, "temporal-namespace")
	calls, err = runScript(t, s)
	if err != nil {
		t.Fatalf("TEMPORAL_RETENTION=180d: %v", err)
	}
	if want := "temporal operator namespace create --address temporal:7233 --namespace migration --retention 180d"; !slices.Contains(calls, want) {
		t.Errorf("TEMPORAL_RETENTION=180d: calls\n%s\nwant %q", strings.Join(calls, "\n"), want)
	}
	if ns := rawEnv(service(t, p, "worker"))("TEMPORAL_NAMESPACE"); ns != "migration" {
		t.Errorf("worker: namespace %q, want TEMPORAL_NAMESPACE", ns)
	}

	calls, err = runScript(t, s, "STUB_HEALTH_RC=1")
	if err == nil {
		t.Error("the server never healthy: the script succeeded")
	}
	if n := len(slices.DeleteFunc(calls, func(c string) bool { return !strings.Contains(c, "cluster health") })); n < 2 || n > 60 {
		t.Errorf("the server never healthy: %d health checks, want a bounded retry", n)
	}
}

// dockerfileUser returns the Dockerfile's final USER and the uid and gid its
// adduser and addgroup give the app user.
func dockerfileUser(t *testing.T) (user, uid, gid string) {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`(?m)^USER\s+(\S+)`).FindAllSubmatch(b, -1) {
		user = string(m[1])
	}
	if m := regexp.MustCompile(`adduser\b[^\n&]*-u\s+(\d+)`).FindSubmatch(b); m != nil {
		uid = string(m[1])
	}
	if m := regexp.MustCompile(`addgroup\b[^\n&]*-g\s+(\d+)`).FindSubmatch(b); m != nil {
		gid = string(m[1])
	}
	return user, uid, gid
}

// TestComposeSecretFilesReadable checks what makes the hook's TLS key and the
// other secret files readable in the containers. Compose bind-mounts a file
// secret with its host owner and mode (it does not apply uid, gid or mode to
// file secrets), so the operator chowns the files to the image's user: that
// user must be numeric in the Dockerfile and stated in the compose file, the
// same on both sides.
func TestComposeSecretFilesReadable(t *testing.T) {
	user, uid, gid := dockerfileUser(t)
	if uid == "" || gid == "" || user != uid+":"+gid {
		t.Fatalf("Dockerfile: USER %q, adduser -u %q, addgroup -g %q: want a numeric USER uid:gid matching them", user, uid, gid)
	}
	if uid == "0" {
		t.Fatal("Dockerfile: the image runs as root")
	}
	p := loadCompose(t, liveEnv)
	for _, s := range p.Services {
		if s.Build == nil {
			continue
		}
		if s.User != user {
			t.Errorf("service %s: user %q, want the Dockerfile's %s (the owner of the files under ./secrets)", s.Name, s.User, user)
		}
	}
	b, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "chown "+user+" secrets/*") {
		t.Errorf("docker-compose.yml does not tell the operator to chown %s the secret files", user)
	}
}

// TestComposeLiveNeedsTheOperatorsSettings checks that without an .env the
// live services do not silently start half-configured: the binaries refuse,
// and a hook server left without its own app registration does not borrow
// the worker's.
func TestComposeLiveNeedsTheOperatorsSettings(t *testing.T) {
	p := loadCompose(t, map[string]string{})
	if _, err := worker.ParseConfig(nil, serviceEnv(t, p, service(t, p, "worker"), liveSecrets)); err == nil {
		t.Error("worker accepted an empty Okta/Entra configuration")
	}
	if _, err := hookserver.ParseConfig(nil, serviceEnv(t, p, service(t, p, "hookserver"), liveSecrets), io.Discard); err == nil {
		t.Error("hook server accepted an empty Entra configuration")
	}

	env := copyEnv(liveEnv)
	delete(env, "ENTRA_VERIFIER_CLIENT_ID")
	p = loadCompose(t, env)
	if _, err := hookserver.ParseConfig(nil, serviceEnv(t, p, service(t, p, "hookserver"), liveSecrets), io.Discard); err == nil ||
		!strings.Contains(err.Error(), "ENTRA_CLIENT_ID") {
		t.Errorf("hook server without ENTRA_VERIFIER_CLIENT_ID: %v, want a refusal naming ENTRA_CLIENT_ID", err)
	}
}
