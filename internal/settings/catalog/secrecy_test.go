package catalog

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/secretenv"
)

// marker starts the value of every secret variable in TestNoSecretInOutput;
// each secret gets its own suffix, as some must differ from each other.
const marker = "s3cr3t-MARKER"

// runTimeout bounds one run of a binary: a run that would wait longer (a
// server that started after all) is interrupted, and its output checked
// too. serverTimeout is that of a server expected to start (the hook server
// connects to Temporal lazily): long enough for its start-up checks.
const (
	runTimeout    = 20 * time.Second
	serverTimeout = 4 * time.Second
)

// TestNoSecretInOutput builds every main package of the module and runs
// each with every secret variable (Secrets: what the binaries declare, so a
// secret added later is covered) set to a marker, directly, as a _FILE and
// both at once: the help of each binary and of each subcommand, a mistyped
// flag, a secret's former flag, a bad value of each kind of setting as a
// flag and as a variable, missing required settings, and Temporal, Okta,
// Entra ID and the hook server unreachable (closed loopback ports). No
// stdout or stderr may hold a marker, a piece of the OAuth private key or
// a client assertion signed with it.
func TestNoSecretInOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every binary")
	}
	secrets := Secrets()
	for _, want := range []string{"OKTA_API_TOKEN", "OKTA_PRIVATE_KEY", "ENTRA_CLIENT_SECRET", "HOOK_AUTH_SECRET",
		"HOOK_EVENTS_AUTH_SECRET", "HOOK_MFA_CANARY_PASSWORD", "HOOK_STORE", "PREFLIGHT_CANARY_PASSWORD", "TEMPORAL_API_KEY"} {
		if !slices.Contains(secrets, want) {
			t.Fatalf("Secrets() = %v lacks %s", secrets, want)
		}
	}
	bins := buildMains(t)
	dir := t.TempDir()
	closed := closedPort(t)
	key, keyPieces := privateKey(t)

	value := func(name string) string { return marker + "-" + strings.ToLower(name) }
	plain, files, both := env{}, env{}, env{}
	for _, name := range secrets {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(value(name)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		plain[name] = value(name)
		files[name+secretenv.FileSuffix] = p
		both[name], both[name+secretenv.FileSuffix] = value(name), p
	}
	// Everything a run needs to get as far as calling out, every service at
	// a closed port; the Okta credential is the token or the service app.
	down := env{
		"TEMPORAL_ADDRESS": closed, "TEMPORAL_NAMESPACE": "default", "TEMPORAL_CONFIG_FILE": filepath.Join(dir, "none.toml"),
		"OKTA_ORG_URL": "https://" + closed, "ENTRA_TENANT_ID": "contoso.com", "ENTRA_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
		"ENTRA_AUTHORITY_HOST": "https://" + closed, "GRAPH_BASE_URL": "https://" + closed, "HOOK_ADMIN_URL": "http://" + closed,
		"HOOK_LISTEN_ADDR": "127.0.0.1:0", "HOOK_ADMIN_ADDR": "off", "HOOK_MFA_CANARY_USER": "canary@contoso.com",
		"PREFLIGHT_CANARY_USER": "canary@contoso.com", "METRICS_ADDR": "off", "REGISTER_SEARCH_ATTRIBUTES": "false",
	}
	withToken := down.with(plain).without("OKTA_PRIVATE_KEY")
	withApp := down.with(files).without("OKTA_API_TOKEN_FILE").with(env{"OKTA_CLIENT_ID": "0oa1serviceapp", "OKTA_PRIVATE_KEY": key}).
		without("OKTA_PRIVATE_KEY_FILE")

	// Bad values: the first setting of each kind a binary declares, as a
	// flag, and every such setting at once as variables.
	badFlags := map[string][][]string{}
	badEnv := map[string]env{}
	for _, b := range Binaries() {
		badEnv[b.Name] = env{}
		seen := map[string]bool{}
		for _, d := range b.Decls {
			if d.Secret || d.Kind == "string" {
				continue
			}
			bad := "not-a-" + d.Kind
			if d.Env != "" {
				badEnv[b.Name][d.Env] = bad
			}
			if d.Flag != "" && !seen[d.Kind] {
				seen[d.Kind] = true
				badFlags[b.Name] = append(badFlags[b.Name], []string{"--" + d.Flag + "=" + bad})
			}
		}
		if len(seen) == 0 {
			t.Fatalf("%s declares no setting other than strings", b.Name)
		}
	}

	var cases []runCase
	add := func(bin string, e env, args ...string) { cases = append(cases, runCase{bin: bin, env: e, args: args}) }
	// expect adds a run that must print want, so that it is known to have
	// got as far as meant.
	expect := func(want string, bin string, e env, args ...string) {
		cases = append(cases, runCase{bin: bin, env: e, args: args, want: want})
	}
	formerFlags := map[string][]string{}
	for _, b := range Binaries() {
		if b.Name == "starter" {
			continue // its commands have the flags: below
		}
		for _, d := range b.Decls {
			if d.FormerFlag != "" {
				formerFlags[b.Name] = append(formerFlags[b.Name], d.FormerFlag)
			}
		}
	}
	for name := range bins {
		for _, e := range []env{plain, files} {
			add(name, e, "-h")
			add(name, e, "--help")
			add(name, e, "--no-such-flag")
			add(name, e, "-version")
		}
		add(name, both)
		for _, f := range formerFlags[name] {
			expect("is no longer accepted", name, plain, "-"+f, value("flag"))
		}
		for _, a := range badFlags[name] {
			add(name, plain, a...)
		}
		if be, ok := badEnv[name]; ok {
			add(name, plain.with(be))
		}
		add(name, plain) // required settings missing
	}
	expect("connect to Temporal", "worker", withToken)
	expect("connect to Temporal", "worker", withApp)
	// The hook server starts (its Temporal client connects lazily), checks
	// the MFA canary against the unreachable Entra ID and is interrupted.
	// HOOK_STORE's marker is no database URL: without it the shield is in
	// memory.
	hookEnv := withToken.without("HOOK_STORE")
	cases = append(cases, runCase{bin: "hookserver", env: hookEnv.with(env{"OKTA_O365_APP_ID": "0oa365"}),
		timeout: serverTimeout, want: "MFA order check inconclusive"})
	// With the API token, it also reads the Okta password policy in the
	// background, from the unreachable Okta, and logs the failure.
	cases = append(cases, runCase{bin: "hookserver", env: hookEnv,
		timeout: serverTimeout, want: "cannot read the Okta password policies"})
	// A shared store URL whose password is the marker, at a closed port,
	// directly and as a file: the start fails naming HOOK_STORE, not the
	// URL or its password.
	storeURL := "postgres://e2o:" + value("HOOK_STORE") + "@" + closed + "/shield?sslmode=disable"
	storeFile := filepath.Join(dir, "hook_store_url")
	if err := os.WriteFile(storeFile, []byte(storeURL+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect("hook store (HOOK_STORE)", "hookserver", hookEnv.with(env{"HOOK_STORE": storeURL}))
	expect("hook store (HOOK_STORE)", "hookserver", hookEnv.with(env{"HOOK_STORE_FILE": storeFile}))
	expect("hook store (HOOK_STORE)", "hookserver", hookEnv.with(env{"HOOK_STORE": "password=" + value("HOOK_STORE") + " not a connection string"}))

	// Every starter command, as the starter's help lists them, and every
	// bench subcommand: help, mistyped flag, bad values, the services down.
	startArgs := map[string][]string{
		"migrate":      {"--batch", "b1", "--all"},
		"status":       {"--batch", "b1"},
		"report":       {"--batch", "b1"},
		"throttle":     {"--okta-rps", "5"},
		"extend":       {"--batch", "b1", "--deadline", "30d"},
		"skip":         {"alice@contoso.com", "--reason", "left"},
		"release":      {"alice@contoso.com", "--reason", "checked"},
		"rollback":     {"--batch", "b1", "--dry-run"},
		"replay-check": {"--batch", "b1"},
		"watch":        {"--once", "--hook-url", "http://" + closed},
		"preflight":    {"--timeout", "3s"},
	}
	for _, sub := range subcommands(t, bins["starter"]) {
		for _, e := range []env{plain, files} {
			add("starter", e, sub, "-h")
			add("starter", e, sub, "--help")
			add("starter", e, sub, "--no-such-flag")
		}
		add("starter", both, sub)
		add("starter", plain, sub, "--okta-api-token", value("flag"))
		for _, a := range badFlags["starter"] {
			add("starter", plain, append([]string{sub}, a...)...)
		}
		if sub == "demo" {
			continue // with nothing wrong it runs the whole product
		}
		add("starter", plain.with(badEnv["starter"]), sub)
		add("starter", plain, sub) // required settings missing
		add("starter", withToken, append([]string{sub}, startArgs[sub]...)...)
		add("starter", withApp, append([]string{sub}, startArgs[sub]...)...)
		if sub == "preflight" {
			expect("FAIL  okta: credentials", "starter", withToken, sub, "--timeout", "3s")
			expect(`"status": "FAIL"`, "starter", withApp, sub, "--timeout", "3s", "--json")
			expect("FAIL  entra: graph reads users", "starter", withToken, sub, "--timeout", "3s")
		}
	}
	// The tools declare their settings through internal/settings too, but
	// outside Binaries (they are not the product's configuration): a bad
	// value of a setting each has, with the secrets set.
	for _, sub := range subcommands(t, bins["bench"]) {
		add("bench", plain, sub, "-h")
		add("bench", plain, sub, "--no-such-flag")
		expect("-users", "bench", plain, sub, "--users=not-a-int")
	}
	expect("-users", "fakeidp", plain, "--users=not-a-int")
	expect("-users", "fakeidp", files, "--users=not-a-int")

	// A signed client assertion is a credential too until it expires.
	pieces := append([]string{marker, "client_assertion=eyJ"}, keyPieces...)
	work := make(chan runCase)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range work {
				out := c.run(bins[c.bin], dir)
				if !strings.Contains(out, c.want) {
					t.Errorf("%s %q (%s) did not print %q:\n%s", c.bin, c.args, c.env.describe(), c.want, out)
				}
				for _, p := range pieces {
					if strings.Contains(out, p) {
						t.Errorf("%s %q (%s) printed a secret:\n%s", c.bin, c.args, c.env.describe(), out)
						break
					}
				}
			}
		}()
	}
	start := time.Now()
	for _, c := range cases {
		work <- c
	}
	close(work)
	wg.Wait()
	t.Logf("%d runs of %d binaries in %v", len(cases), len(bins), time.Since(start).Round(time.Millisecond))

	// The check itself: a variable that is not a secret is quoted in a bad
	// value's error, so a marker there must be seen.
	out := runCase{bin: "worker", env: env{"OKTA_RPS": marker}}.run(bins["worker"], dir)
	if !strings.Contains(out, marker) {
		t.Errorf("a marker in a quoted bad value was not seen, the check sees nothing:\n%s", out)
	}
}

// env is a set of environment variables.
type env map[string]string

func (e env) with(o env) env {
	out := env{}
	for k, v := range e {
		out[k] = v
	}
	for k, v := range o {
		out[k] = v
	}
	return out
}

func (e env) without(names ...string) env {
	out := e.with(nil)
	for _, n := range names {
		delete(out, n)
	}
	return out
}

func (e env) describe() string {
	var files, key bool
	for k := range e {
		files = files || strings.HasSuffix(k, secretenv.FileSuffix)
		key = key || k == "OKTA_PRIVATE_KEY"
	}
	return fmt.Sprintf("%d variables, secret files: %v, OAuth key: %v", len(e), files, key)
}

type runCase struct {
	bin     string
	env     env
	args    []string
	want    string        // what the output must hold, if anything
	timeout time.Duration // runTimeout when 0
}

// run runs the binary in dir with only c.env (and PATH, HOME) and returns
// its stdout and stderr.
func (c runCase) run(path, dir string) string {
	timeout := c.timeout
	if timeout == 0 {
		timeout = runTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, c.args...)
	// Interrupted, a server shuts down as an operator's Ctrl-C has it do,
	// and its shutdown's output is checked too; WaitDelay then kills it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range c.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		fmt.Fprintf(&out, "\n(run: %v)", err)
	}
	return out.String()
}

// buildMains builds every package main of the module into a temporary
// directory, once, and returns each binary's path by its name.
func buildMains(t *testing.T) map[string]string {
	t.Helper()
	root, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
	if err != nil {
		t.Fatal(err)
	}
	list := exec.Command("go", "list", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./...")
	list.Dir = strings.TrimSpace(string(root))
	b, err := list.Output()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := strings.Fields(string(b))
	out := t.TempDir()
	// No symbol tables: linking six binaries is most of the build.
	build := exec.Command("go", append([]string{"build", "-ldflags=-s -w", "-o", out + string(filepath.Separator)}, pkgs...)...)
	build.Dir = list.Dir
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	bins := map[string]string{}
	for _, p := range pkgs {
		name := filepath.Base(p)
		bins[name] = filepath.Join(out, name)
	}
	for _, want := range []string{"starter", "worker", "hookserver", "bench", "fakeidp", "configdoc"} {
		if bins[want] == "" {
			t.Fatalf("no binary %s among %v", want, pkgs)
		}
	}
	return bins
}

var (
	// starter's help: "Commands:" then one "  name  summary" line each.
	commandLine = regexp.MustCompile(`(?m)^  ([a-z][a-z-]*) +\S`)
	// bench's usage: "subcommands: a, b, c (...)".
	subcommandList = regexp.MustCompile(`subcommands: ([a-z, -]+)`)
)

// subcommands returns the subcommands a binary's -h lists.
func subcommands(t *testing.T, path string) []string {
	t.Helper()
	out := runCase{bin: filepath.Base(path), args: []string{"-h"}}.run(path, t.TempDir())
	var subs []string
	if _, after, ok := strings.Cut(out, "Commands:"); ok {
		for _, m := range commandLine.FindAllStringSubmatch(after, -1) {
			subs = append(subs, m[1])
		}
	} else if m := subcommandList.FindStringSubmatch(out); m != nil {
		for _, s := range strings.Split(m[1], ",") {
			if s = strings.TrimSpace(s); s != "" {
				subs = append(subs, s)
			}
		}
	}
	if len(subs) < 3 {
		t.Fatalf("%s -h lists no subcommands:\n%s", path, out)
	}
	return subs
}

// closedPort returns a loopback host:port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// privateKey returns a PEM RSA private key and pieces of its encoding that
// no output may hold.
func privateKey(t *testing.T) (string, []string) {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	p := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	lines := strings.Split(p, "\n")
	// Body lines only: the armour says nothing secret.
	return p, []string{lines[2], lines[len(lines)/2], "PRIVATE KEY-----\nMII"}
}
