package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/fakeentra"
	"entra2okta/internal/hook"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestParseConfig(t *testing.T) {
	base := map[string]string{"HOOK_AUTH_SECRET": "Basic c2VjcmV0OnZhbHVl", "ENTRA_TENANT_ID": "t1", "ENTRA_CLIENT_ID": "c1"}
	c, err := parseConfig(nil, envOf(base), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != ":8080" || c.hook.AuthHeader != "Authorization" || c.hook.Budget != 2500*time.Millisecond ||
		c.temporalAddress != "localhost:7233" || c.temporalNamespace != "default" ||
		c.entra.AuthorityHost != "https://login.microsoftonline.com" || c.hook.OAuth != nil {
		t.Fatalf("defaults: %+v", c)
	}
	if p := c.entra.Policy; !p.MFAVerified || p.PasswordExpiredVerified || p.ConditionalAccessVerified {
		t.Fatalf("default policy %+v", p)
	}

	env := map[string]string{"HOOK_POLICY_MFA": "false", "HOOK_POLICY_EXPIRED": "true", "HOOK_POLICY_CA": "1",
		"HOOK_BUDGET": "2s", "HOOK_LISTEN_ADDR": ":9999", "HOOK_AUTH_HEADER": "X-Secret"}
	for k, v := range base {
		env[k] = v
	}
	c, err = parseConfig([]string{"-listen", "127.0.0.1:1234"}, envOf(env), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.1:1234" || c.hook.Budget != 2*time.Second || c.hook.AuthHeader != "X-Secret" {
		t.Fatalf("flags over env: %+v", c)
	}
	if p := c.entra.Policy; p.MFAVerified || !p.PasswordExpiredVerified || !p.ConditionalAccessVerified {
		t.Fatalf("policy from env %+v", p)
	}

	for name, tc := range map[string]struct {
		env  map[string]string
		args []string
		want string
	}{
		"no secret":        {map[string]string{"ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c"}, nil, "HOOK_AUTH_SECRET"},
		"no tenant":        {map[string]string{"HOOK_AUTH_SECRET": "s"}, nil, "ENTRA_TENANT_ID"},
		"cert without key": {base, []string{"-tls-cert", "c.pem"}, "HOOK_TLS_KEY"},
		"budget too long":  {base, []string{"-budget", "3s"}, "budget"},
		"bad duration":     {base, []string{"-user-window", "soon"}, "user-window"},
		"bad policy":       {base, []string{"-policy-mfa", "maybe"}, "policy-mfa"},
		"too many tries":   {base, []string{"-user-attempts", "10"}, "user-attempts"},
		"bad level":        {base, []string{"-log-level", "loud"}, "log-level"},
		"no concurrency":   {base, []string{"-max-concurrent", "0"}, "max-concurrent"},
		"stray argument":   {base, []string{"extra"}, "unexpected"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfig(tc.args, envOf(tc.env), io.Discard)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
		})
	}
}

func TestHelpDoesNotPrintTheSecret(t *testing.T) {
	var out strings.Builder
	const secret = "Basic bm90LXRvLWJlLXByaW50ZWQ="
	env := envOf(map[string]string{"HOOK_AUTH_SECRET": secret, "ENTRA_TENANT_ID": "t", "ENTRA_CLIENT_ID": "c"})
	if err := run(context.Background(), []string{"-h"}, env, &out); err != nil {
		t.Fatalf("-h: %v", err)
	}
	if !strings.Contains(out.String(), "HOOK_AUTH_SECRET") || strings.Contains(out.String(), secret) {
		t.Fatalf("help output:\n%s", out.String())
	}
	c, err := parseConfig(nil, env, io.Discard)
	if err != nil || c.hook.AuthSecret != secret {
		t.Fatalf("secret from the environment: %v", err)
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
// verifier against fakeentra and Temporal unreachable: the hook answers,
// /readyz reports Temporal, and SIGTERM (ctx) shuts it down cleanly.
func TestRunAgainstFakeEntra(t *testing.T) {
	fe, err := fakeentra.Start(fakeentra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fe.Close() })
	dir, err := fe.SeedDemo(30)
	if err != nil {
		t.Fatal(err)
	}
	var good fakeentra.DemoUser
	for _, u := range dir.Users {
		if u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated {
			good = u
			break
		}
	}
	if good.UserPrincipalName == "" {
		t.Fatal("no plain demo user")
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := fe.CA.WriteCAFile(caFile); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSL_CERT_FILE", caFile) // the binary trusts the system pool

	addr := freeAddr(t)
	const secret = "Basic aG9vazpsb25nLWVub3VnaC1zZWNyZXQ="
	env := envOf(map[string]string{
		"HOOK_LISTEN_ADDR":     addr,
		"HOOK_AUTH_SECRET":     secret,
		"ENTRA_AUTHORITY_HOST": fe.URL,
		"ENTRA_TENANT_ID":      dir.TenantID,
		"ENTRA_CLIENT_ID":      dir.PublicClientID,
		"TEMPORAL_ADDRESS":     freeAddr(t), // nothing listens there
		"LOG_LEVEL":            "debug",
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	logs := &syncWriter{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, nil, env, logs) }()

	client := &http.Client{Timeout: 5 * time.Second}
	base := "http://" + addr
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(base + "/healthz")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	answer := func(user, password string) string {
		body, _ := json.Marshal(map[string]any{"eventId": "ev1", "eventType": hook.EventTypePasswordImport,
			"data": map[string]any{"context": map[string]any{"credential": map[string]any{"username": user, "password": password}}}})
		req, _ := http.NewRequest(http.MethodPost, base+hook.PasswordImportPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := answer(good.UserPrincipalName, good.Password); !strings.Contains(got, `"VERIFIED"`) {
		t.Fatalf("right password: %s", got)
	}
	if got := answer(good.UserPrincipalName, good.Password+"x"); !strings.Contains(got, `"UNVERIFIED"`) {
		t.Fatalf("wrong password: %s", got)
	}
	resp, err := client.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Temporal unreachable: %d", resp.StatusCode)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	if strings.Contains(logs.String(), good.Password) {
		t.Fatal("a password appears in the server's log")
	}
	if !strings.Contains(logs.String(), `"msg":"password import answered"`) {
		t.Fatalf("no JSON answer log:\n%s", logs.String())
	}
}

// syncWriter serialises writes from the server's goroutines.
type syncWriter struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncWriter) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
