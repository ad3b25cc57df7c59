package main

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"entra2okta/internal/devcluster"
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
// schema job creates, behind a load balancer that Okta (and the demo's
// fakeidp) calls; TestComposeHookProxyPerRequest checks how it balances.
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

	// The load balancer: over the replicas of the service its HOOK_REPLICAS
	// names, on the port they listen on, enough slots for them.
	cfg := composeConfig(t, p, "hookproxy")
	m := regexp.MustCompile(`(?m)^\s*server-template\s+\S+\s+(\d+)\s+"\$\{HOOK_REPLICAS\}:(\d+)"`).FindStringSubmatch(cfg)
	if m == nil {
		t.Fatalf("hookproxy config: no server-template over ${HOOK_REPLICAS}:\n%s", cfg)
	}
	slots, _ := strconv.Atoi(m[1])
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

// haproxySections splits an HAProxy configuration into its sections: each
// header line ("frontend hook") maps to its keyword lines, each split into
// words.
func haproxySections(cfg string) map[string][][]string {
	secs := map[string][][]string{}
	cur := ""
	for _, line := range strings.Split(cfg, "\n") {
		if i := strings.Index(line, "#"); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			cur = strings.Join(strings.Fields(line), " ")
			secs[cur] = nil
			continue
		}
		secs[cur] = append(secs[cur], strings.Fields(line))
	}
	return secs
}

// haproxyLine returns the words after the first line of sec that starts with
// keyword (words separated by spaces, as in "timeout server"), or nil.
func haproxyLine(sec [][]string, keyword string) []string {
	kw := strings.Fields(keyword)
	for _, l := range sec {
		if len(l) >= len(kw) && slices.Equal(l[:len(kw)], kw) {
			return l[len(kw):]
		}
	}
	return nil
}

// haproxyDuration parses an HAProxy time ("3s", "500ms"; a bare number is
// milliseconds).
func haproxyDuration(s string) (time.Duration, error) {
	if _, err := strconv.Atoi(s); err == nil {
		s += "ms"
	}
	return time.ParseDuration(s)
}

// mountSource names what a path in service s is: the secret mounted there
// ("secret:NAME") or the file in a volume ("volume:NAME:/rel/path"); "" when
// it is neither.
func mountSource(s types.ServiceConfig, path string) string {
	for _, sc := range s.Secrets {
		if secretTarget(sc) == path {
			return "secret:" + sc.Source
		}
	}
	for _, v := range s.Volumes {
		if rel, ok := strings.CutPrefix(path, strings.TrimSuffix(v.Target, "/")+"/"); ok && v.Type == types.VolumeTypeVolume {
			return "volume:" + v.Source + ":" + rel
		}
	}
	return ""
}

// TestComposeHookProxyPerRequest checks that docker-compose.yml's hookproxy
// balances as the tests' harness does by default (devcluster.DefaultProxyMode):
// per request (ProxyHTTP: HAProxy in mode http, terminating TLS with the
// hook's own certificate and key, re-encrypting to the replicas), not per
// connection (ProxyTCP: mode tcp, TLS passed through), which would send
// every call of a caller that keeps its connection open (Okta, fakeokta) to
// one replica. It also checks what keeps a call within Okta's 3 s: a failed
// connection redispatched to another replica, bounded timeouts.
func TestComposeHookProxyPerRequest(t *testing.T) {
	p := loadCompose(t, liveEnv)
	secs := haproxySections(composeConfig(t, p, "hookproxy"))
	fe, ok := secs["frontend hook"]
	if !ok {
		t.Fatal("hookproxy config: no frontend hook")
	}
	be, ok := secs["backend hook_replicas"]
	if !ok {
		t.Fatal("hookproxy config: no backend hook_replicas")
	}
	mode := haproxyLine(fe, "mode")
	if mode == nil {
		mode = haproxyLine(secs["defaults"], "mode")
	}
	bind := haproxyLine(fe, "bind")
	if len(bind) == 0 || !strings.HasSuffix(bind[0], ":8443") {
		t.Fatalf("frontend hook: bind %v, want :8443", bind)
	}
	terminates := slices.Contains(bind, "ssl") && slices.Contains(bind, "crt")
	var got string
	switch {
	case slices.Equal(mode, []string{"http"}) && terminates:
		got = devcluster.ProxyHTTP
	case slices.Equal(mode, []string{"tcp"}) && !terminates:
		got = devcluster.ProxyTCP
	default:
		t.Fatalf("frontend hook: mode %v with bind %v: neither per request (mode http, TLS terminated) nor per connection (mode tcp, TLS passed through)", mode, bind)
	}
	if got != devcluster.DefaultProxyMode {
		t.Fatalf("hookproxy balances as devcluster's %q proxy, the tests' harness runs %q by default: the tests do not prove what Compose runs", got, devcluster.DefaultProxyMode)
	}

	// Per request: HTTP/2 and HTTP/1.1 from Okta, round robin, re-encrypted.
	if i := slices.Index(bind, "alpn"); i < 0 || i+1 >= len(bind) ||
		!slices.Contains(strings.Split(bind[i+1], ","), "h2") || !slices.Contains(strings.Split(bind[i+1], ","), "http/1.1") {
		t.Errorf("frontend hook: bind %v does not offer alpn h2,http/1.1", bind)
	}
	if b := haproxyLine(be, "balance"); !slices.Equal(b, []string{"roundrobin"}) {
		t.Errorf("backend: balance %v, want roundrobin", b)
	}
	srv := append(haproxyLine(be, "default-server"), haproxyLine(be, "server-template")...)
	for _, w := range []string{"ssl", "check"} {
		if !slices.Contains(srv, w) {
			t.Errorf("backend: servers %v lack %q (TLS to the replicas, health checks)", srv, w)
		}
	}
	if c := haproxyLine(be, "http-check send"); !slices.Contains(c, "/healthz") {
		t.Errorf("backend: health check %v, want GET /healthz", c)
	}
	if extra := haproxyLine(secs["global"], "ssl-load-extra-files"); extra != nil && !slices.Contains(extra, "all") && !slices.Contains(extra, "key") {
		t.Errorf("global: ssl-load-extra-files %v does not load the key beside the certificate", extra)
	}

	// Within Okta's 3 s: redispatched once a connection fails, given up on
	// after 3 s.
	all := append(append([][]string{}, secs["defaults"]...), be...)
	if haproxyLine(all, "option redispatch") == nil {
		t.Error("hookproxy config: no option redispatch: a request to a dead replica is not sent to another")
	}
	retries := -1
	if r := haproxyLine(all, "retries"); len(r) == 1 {
		retries, _ = strconv.Atoi(r[0])
	}
	if retries < 1 {
		t.Errorf("hookproxy config: retries %d, want at least 1", retries)
	}
	limit := 3 * time.Second
	for _, k := range []string{"timeout connect", "timeout server"} {
		v := haproxyLine(all, k)
		d, err := time.Duration(0), error(nil)
		if len(v) == 1 {
			d, err = haproxyDuration(v[0])
		}
		if len(v) != 1 || err != nil || d <= 0 || d > limit {
			t.Errorf("hookproxy config: %s %v, want at most Okta's %v", k, v, limit)
		}
		if k == "timeout connect" && time.Duration(retries+1)*d > limit {
			t.Errorf("hookproxy config: %d connection attempts of %v each exceed Okta's %v", retries+1, d, limit)
		}
	}

	// The certificate and key are the replicas' own, in both profiles.
	crt := ""
	if i := slices.Index(bind, "crt"); i+1 < len(bind) {
		crt = strings.Trim(bind[i+1], `"`)
	}
	for proxy, backend := range map[string]string{"hookproxy": "hookserver", "hookproxy-demo": "hookserver-demo"} {
		ps, hs := service(t, p, proxy), service(t, p, backend)
		path := os.Expand(crt, rawEnv(ps))
		if !filepath.IsAbs(path) {
			t.Errorf("%s: certificate %q (bind crt %s) is not an absolute path", proxy, path, crt)
			continue
		}
		for _, f := range []struct{ proxyPath, replicaVar string }{{path, "HOOK_TLS_CERT"}, {path + ".key", "HOOK_TLS_KEY"}} {
			want := mountSource(hs, rawEnv(hs)(f.replicaVar))
			if got := mountSource(ps, f.proxyPath); want == "" || got != want {
				t.Errorf("%s: %s is %q, %s's %s=%s is %q: want the same file", proxy, f.proxyPath, got, backend, f.replicaVar, rawEnv(hs)(f.replicaVar), want)
			}
		}
	}
}
