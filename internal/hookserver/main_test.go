package hookserver

import (
	"bytes"
	"context"
	"encoding/json"
	"entra2okta/internal/testkit/logbuf"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfig(t *testing.T) {
	base := map[string]string{"HOOK_AUTH_SECRET": "Basic c2VjcmV0OnZhbHVl", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1"}
	c, err := ParseConfig(nil, envOf(base), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != ":8080" || c.Admin != "127.0.0.1:9091" || c.Hook.AuthHeader != "Authorization" || c.Hook.Budget != 2500*time.Millisecond ||
		c.TemporalAddress != "localhost:7233" || c.TemporalNamespace != "default" ||
		c.Entra.AuthorityHost != "https://login.microsoftonline.com" || c.Hook.OAuth != nil {
		t.Fatalf("defaults: %+v", c)
	}
	if p := c.Entra.Policy; !p.MFAVerified || p.PasswordExpiredVerified || p.ConditionalAccessVerified {
		t.Fatalf("default policy %+v", p)
	}
	if sh := c.Hook.Shield; sh.LockoutThreshold != 10 || sh.GlobalFailures != 500 || len(sh.IPTrusted) != 0 || sh.Validate() != nil {
		t.Fatalf("default shield %+v", sh)
	}

	env := map[string]string{"HOOK_POLICY_MFA": "false", "HOOK_POLICY_EXPIRED": "true", "HOOK_POLICY_CA": "1",
		"HOOK_BUDGET": "2s", "HOOK_LISTEN_ADDR": ":9999", "HOOK_AUTH_HEADER": "X-Secret"}
	for k, v := range base {
		env[k] = v
	}
	c, err = ParseConfig([]string{"-listen", "127.0.0.1:1234"}, envOf(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Listen != "127.0.0.1:1234" || c.Hook.Budget != 2*time.Second || c.Hook.AuthHeader != "X-Secret" {
		t.Fatalf("flags over env: %+v", c)
	}
	if p := c.Entra.Policy; p.MFAVerified || !p.PasswordExpiredVerified || !p.ConditionalAccessVerified {
		t.Fatalf("policy from env %+v", p)
	}

	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"no secret":                  {map[string]string{"ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c"}, nil, "HOOK_AUTH_SECRET"},
		"no tenant":                  {map[string]string{"HOOK_AUTH_SECRET": "s"}, nil, "ENTRA_TENANT_ID"},
		"cert without key":           {base, []string{"-tls-cert", "c.pem"}, "HOOK_TLS_KEY"},
		"budget too long":            {base, []string{"-budget", "3s"}, "budget"},
		"bad duration":               {base, []string{"-user-window", "soon"}, "user-window"},
		"bad policy":                 {base, []string{"-policy-mfa", "maybe"}, "policy-mfa"},
		"too many tries":             {base, []string{"-user-attempts", "10"}, "user-attempts"},
		"daily cap at the threshold": {base, []string{"-user-daily-attempts", "10"}, "lockout threshold of 10"},
		"US Gov threshold":           {base, []string{"-lockout-threshold", "3", "-user-daily-attempts", "3"}, "lockout threshold of 3"},
		"bad trusted range":          {base, []string{"-ip-trusted", "10.0.0.0/8, office"}, "ip-trusted"},
		"threshold too low":          {base, []string{"-lockout-threshold", "1"}, "lockout-threshold"},
		"bad level":                  {base, []string{"-log-level", "loud"}, "log-level"},
		"no concurrency":             {base, []string{"-max-concurrent", "0"}, "max-concurrent"},
		"stray argument":             {base, []string{"extra"}, "unexpected"},
		"admin on the public port":   {base, []string{"-listen", ":8443", "-admin-addr", ":8443"}, "admin-addr"},
		"admin not an address":       {base, []string{"-admin-addr", "metrics"}, "admin-addr"},
		"canary without a password":  {base, []string{"-mfa-canary-user", "canary@example.com"}, "HOOK_MFA_CANARY_PASSWORD"},
		"canary password, no user":   {with(base, "HOOK_MFA_CANARY_PASSWORD", "Wrong-Canary-1"), nil, "HOOK_MFA_CANARY_USER"},
		"canary password in spaces":  {with(base, "HOOK_MFA_CANARY_PASSWORD", " Wrong-Canary-1"), []string{"-mfa-canary-user", "c@example.com"}, "HOOK_MFA_CANARY_PASSWORD"},
		"secret as a flag":           {base, []string{"-auth-secret", "s"}, "set HOOK_AUTH_SECRET or HOOK_AUTH_SECRET_FILE"},
		"canary password as a flag":  {base, []string{"--mfa-canary-password=p"}, "set HOOK_MFA_CANARY_PASSWORD or HOOK_MFA_CANARY_PASSWORD_FILE"},
		"canary every second":        {base, []string{"-mfa-canary-interval", "1s"}, "mfa-canary-interval"},
		"okta org without a token":   {base, []string{"-okta-org-url", "https://example.okta.com"}, "OKTA_API_TOKEN"},
		"policy read every second":   {base, []string{"-password-policy-refresh", "1s"}, "password-policy-refresh"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseConfig(tc.args, envOf(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

// TestParsePasswordPolicyCheck: OKTA_ORG_URL and OKTA_API_TOKEN turn the
// password policy check on, with its groups and refresh period; without
// them it is off.
func TestParsePasswordPolicyCheck(t *testing.T) {
	base := map[string]string{"HOOK_AUTH_SECRET": "Basic c2VjcmV0OnZhbHVl", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1"}
	c, err := ParseConfig(nil, envOf(base), io.Discard)
	if err != nil || c.Okta != nil || c.Hook.Policy.Refresh != 10*time.Minute {
		t.Fatalf("off by default: okta %v refresh %v, %v", c.Okta, c.Hook.Policy.Refresh, err)
	}
	base["OKTA_ORG_URL"], base["OKTA_API_TOKEN"] = "https://example.okta.com", "00token"
	base["HOOK_PASSWORD_POLICY_GROUPS"], base["HOOK_PASSWORD_POLICY_REFRESH"] = " 00gone, 00gtwo ,", "5m"
	c, err = ParseConfig(nil, envOf(base), io.Discard)
	if err != nil || c.Okta == nil || c.Okta.OrgURL != "https://example.okta.com" || c.Okta.APIToken != "00token" ||
		!slices.Equal(c.Hook.Policy.Groups, []string{"00gone", "00gtwo"}) || c.Hook.Policy.Refresh != 5*time.Minute {
		t.Fatalf("on: %+v %+v, %v", c.Okta, c.Hook.Policy, err)
	}
}

// TestSecretsFromEnvironment: the secrets are read from their variables.
// (No output of any binary prints them: internal/settings/catalog.)
func TestSecretsFromEnvironment(t *testing.T) {
	const secret = "Basic bm90LXRvLWJlLXByaW50ZWQ="
	const evSecret = "Basic ZXZlbnRzLW5vdC10by1iZS1wcmludGVk"
	const canaryPw = "Canary-Wrong-Not-To-Be-Printed"
	env := envOf(map[string]string{"HOOK_AUTH_SECRET": secret, "HOOK_EVENTS_AUTH_SECRET": evSecret, "ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c",
		"HOOK_MFA_CANARY_USER": "canary@example.com", "HOOK_MFA_CANARY_PASSWORD": canaryPw})
	c, err := ParseConfig(nil, env, io.Discard)
	if err != nil || c.Hook.AuthSecret != secret || c.Events == nil || c.Events.AuthSecret != evSecret ||
		c.Hook.MFACheck.Password.Reveal() != canaryPw || c.Hook.MFACheck.Username != "canary@example.com" || !c.Hook.MFACheck.PolicyMFA ||
		c.Hook.MFACheck.Interval != time.Hour {
		t.Fatalf("secrets from the environment: %v", err)
	}
}

// TestSecretsFromFiles: every secret may be a file named by NAME_FILE
// (Docker secrets); the values are used, printed nowhere, and a conflict or
// an unreadable file is an error naming the variable and the path only.
func TestSecretsFromFiles(t *testing.T) {
	const secret = "Basic ZmlsZS1zZWNyZXQtbm90LXByaW50ZWQ="
	const evSecret = "Basic ZmlsZS1ldmVudHMtc2VjcmV0LW5vdA=="
	const canaryPw = "Canary-File-Not-To-Be-Printed"
	const apiKey = "temporal-api-key-file-Not-To-Be-Printed"
	dir := t.TempDir()
	file := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	m := map[string]string{"HOOK_AUTH_SECRET_FILE": file("auth", secret+"\n"), "HOOK_EVENTS_AUTH_SECRET_FILE": file("events", evSecret+"\n"),
		"HOOK_MFA_CANARY_PASSWORD_FILE": file("canary", canaryPw+"\n"), "TEMPORAL_API_KEY_FILE": file("api-key", apiKey+"\n"),
		"HOOK_MFA_CANARY_USER": "canary@example.com", "ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c",
		"TEMPORAL_CONFIG_FILE": filepath.Join(dir, "none.toml"), "TEMPORAL_ADDRESS": "migration.a1b2c.tmprl.cloud:7233"}
	leaks := func(s string) bool {
		return strings.Contains(s, secret) || strings.Contains(s, evSecret) || strings.Contains(s, canaryPw) || strings.Contains(s, apiKey)
	}
	c, err := ParseConfig(nil, envOf(m), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.Hook.AuthSecret != secret || c.Events == nil || c.Events.AuthSecret != evSecret || c.Hook.MFACheck.Password.Reveal() != canaryPw {
		t.Fatal("the secrets are not the files' contents")
	}
	if !c.Temporal.TLS() || c.TemporalAddress != "migration.a1b2c.tmprl.cloud:7233" || leaks(c.Temporal.String()) {
		t.Fatalf("temporal connection %s: want TLS from the API key", c.Temporal)
	}
	var out strings.Builder
	if err := ParseAndRun(context.Background(), []string{"-h"}, envOf(m), &out); err != nil || leaks(out.String()) ||
		!strings.Contains(out.String(), "HOOK_AUTH_SECRET_FILE") {
		t.Fatalf("-h: %v\n%s", err, out.String())
	}
	out.Reset()
	if err := ParseAndRun(context.Background(), []string{"-no-such-flag"}, envOf(m), &out); err == nil || leaks(err.Error()+out.String()) {
		t.Fatalf("usage error %v:\n%s", err, out.String())
	}

	m["HOOK_AUTH_SECRET"] = secret
	m["TEMPORAL_API_KEY_FILE"] = filepath.Join(dir, "missing")
	_, err = ParseConfig(nil, envOf(m), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "HOOK_AUTH_SECRET and HOOK_AUTH_SECRET_FILE are both set") ||
		!strings.Contains(err.Error(), "TEMPORAL_API_KEY_FILE: cannot read "+filepath.Join(dir, "missing")) || leaks(err.Error()) {
		t.Fatalf("conflicting or unreadable secrets: %v", err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	_ = ln.Close()
	return addr
}

// TestRunAgainstFakeEntra starts the real binary's run with the real MSAL
// entraDemo is a fakeentra shared by the tests of this package: the binary
// trusts the system pool, which Go loads once per process from SSL_CERT_FILE.
var entraDemo struct {
	fe   *fakeentra.Running
	dir  fakeentra.DemoDirectory
	good []fakeentra.DemoUser // enabled members on managed domains
}

func TestMain(m *testing.M) {
	os.Exit(func() int {
		fe, err := fakeentra.Start(fakeentra.Options{})
		if err != nil {
			panic(err)
		}
		defer fe.Close()
		dir, err := fe.SeedDemo(40)
		if err != nil {
			panic(err)
		}
		tmp, err := os.MkdirTemp("", "hookserver-test")
		if err != nil {
			panic(err)
		}
		defer os.RemoveAll(tmp)
		caFile := filepath.Join(tmp, "ca.pem")
		if err := fe.CA.WriteCAFile(caFile); err != nil {
			panic(err)
		}
		os.Setenv("SSL_CERT_FILE", caFile)
		entraDemo.fe, entraDemo.dir = fe, dir
		for _, u := range dir.Users {
			if u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated {
				entraDemo.good = append(entraDemo.good, u)
			}
		}
		return m.Run()
	}())
}

// startRun starts run with env on a free loopback port and returns its base
// URL, its log and a stop function that cancels run and returns its error.
// Unless env sets it, the admin listener gets a free loopback port too, left
// in env["HOOK_ADMIN_ADDR"].
func startRun(t *testing.T, env map[string]string) (string, *logbuf.Buffer, func() error) {
	t.Helper()
	addr := freeAddr(t)
	env["HOOK_LISTEN_ADDR"] = addr
	if env["HOOK_ADMIN_ADDR"] == "" {
		env["HOOK_ADMIN_ADDR"] = freeAddr(t)
	}
	ctx, cancel := context.WithCancel(context.Background())
	logs := &logbuf.Buffer{}
	done := make(chan error, 1)
	go func() { done <- ParseAndRun(ctx, nil, envOf(env), logs) }()
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(30 * time.Second):
				runErr = errors.New("run did not return 30 s after cancel")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })
	return base, logs, stop
}

// signIn posts Okta's payload for user and password and returns the body.
func signIn(t *testing.T, base, secret, eventID, user, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"eventId": eventID, "eventType": pwimport.EventTypePasswordImport,
		"data": map[string]any{"context": map[string]any{"credential": map[string]any{"username": user, "password": password}}}})
	req, _ := http.NewRequest(http.MethodPost, base+pwimport.PasswordImportPath, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRunAgainstFakeEntra starts the real binary's run with the real MSAL
// verifier against fakeentra and Temporal unreachable: the hook answers, the
// admin listener's /readyz reports Temporal while the public listener serves
// neither /readyz nor /metrics, and cancelling ctx (SIGTERM) shuts it down.
func TestRunAgainstFakeEntra(t *testing.T) {
	good := entraDemo.good[0]
	const secret = "Basic aG9vazpsb25nLWVub3VnaC1zZWNyZXQ="
	const evSecret = "Basic ZXZlbnRzOmFub3RoZXItbG9uZy1zZWNyZXQ="
	const canaryPw = "Canary-Wrong-Pa55-4410"
	var canary string
	for _, u := range entraDemo.dir.Users {
		if u.State == fakeentra.StateMFARequired && !u.Disabled && !u.Guest && !u.Federated {
			canary = u.UserPrincipalName
		}
	}
	env := map[string]string{
		"HOOK_MFA_CANARY_USER":     canary,
		"HOOK_MFA_CANARY_PASSWORD": canaryPw,
		"HOOK_AUTH_SECRET":         secret,
		"HOOK_EVENTS_AUTH_SECRET":  evSecret,
		"ENTRA_AUTHORITY_HOST":     entraDemo.fe.URL,
		"ENTRA_TENANT_ID":          entraDemo.dir.TenantID,
		"ENTRA_CLIENT_ID":          entraDemo.dir.PublicClientID,
		"TEMPORAL_ADDRESS":         freeAddr(t), // nothing listens there
		"LOG_LEVEL":                "debug",
	}
	base, logs, stop := startRun(t, env)
	admin := "http://" + env["HOOK_ADMIN_ADDR"]
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, m := get(t, admin+"/metrics")
		if strings.Contains(m, `entra2okta_hook_mfa_order{state="password_first"} 1`) && strings.Contains(m, "entra2okta_hook_mfa_policy_unsafe 0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the canary check did not pass:\n%s", logs.String())
		}
	}
	// Temporal is unreachable, so the hook cannot tell which Entra account
	// the Okta user came from (identity binding): undecided, right password
	// or wrong, and Entra is not asked.
	entraBefore := entraDemo.fe.TokenRequests(good.UserPrincipalName)
	if got := signIn(t, base, secret, "ev1", good.UserPrincipalName, good.Password); !strings.Contains(got, `"errorSummary"`) {
		t.Fatalf("right password while Temporal is down: %s", got)
	}
	if got := signIn(t, base, secret, "ev2", good.UserPrincipalName, good.Password+"x"); !strings.Contains(got, `"errorSummary"`) {
		t.Fatalf("wrong password while Temporal is down: %s", got)
	}
	if entraDemo.fe.TokenRequests(good.UserPrincipalName) != entraBefore {
		t.Fatal("Entra asked while Temporal is down")
	}
	if code, _ := get(t, admin+"/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Temporal unreachable: %d", code)
	}
	if code, body := get(t, admin+"/metrics"); code != http.StatusOK || !strings.Contains(body, `entra2okta_hook_identity_total{result="identity_unavailable"} 2`) {
		t.Fatalf("admin metrics: %d\n%s", code, body)
	}
	for _, path := range []string{"/readyz", "/metrics"} {
		if code, body := get(t, base+path); code != http.StatusNotFound || strings.Contains(body, "entra2okta_") {
			t.Fatalf("public %s: %d %.80s", path, code, body)
		}
	}
	// The event hook answers its own secret only.
	verify := func(s string) int {
		req, _ := http.NewRequest(http.MethodGet, base+eventhook.EventsPath, nil)
		req.Header.Set("Authorization", s)
		req.Header.Set("X-Okta-Verification-Challenge", "challenge-1")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := verify(secret); code != http.StatusUnauthorized {
		t.Fatalf("event hook verification with the password hook's secret: %d", code)
	}
	if code := verify(evSecret); code != http.StatusOK {
		t.Fatalf("event hook verification with its own secret: %d", code)
	}
	if got := signIn(t, base, evSecret, "ev3", good.UserPrincipalName, good.Password); strings.Contains(got, "VERIFIED") {
		t.Fatalf("the password hook accepted the event hook's secret: %s", got)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(logs.String(), good.Password) {
		t.Fatal("a password appears in the server's log")
	}
	if strings.Contains(logs.String(), secret) || strings.Contains(logs.String(), evSecret) || strings.Contains(logs.String(), canaryPw) {
		t.Fatal("a hook secret or the canary's password appears in the server's log")
	}
	if !strings.Contains(logs.String(), "MFA order check passed") {
		t.Fatalf("the canary check did not pass:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"msg":"password import answered"`) {
		t.Fatalf("no JSON answer log:\n%s", logs.String())
	}
}

// with returns a copy of m with the pairs kv set.
func with(m map[string]string, kv ...string) map[string]string {
	out := make(map[string]string, len(m)+len(kv)/2)
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}
