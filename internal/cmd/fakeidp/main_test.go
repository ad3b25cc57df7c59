package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestRunWritesTrustMaterialAndServes starts fakeidp as the compose demo
// profile does (on free ports) and checks what the other services rely on:
// the CA, and a server certificate for the hook server, written to -dir.
func TestRunWritesTrustMaterialAndServes(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	env := map[string]string{"HOOK_AUTH_SECRET": "s3cret", "OKTA_API_TOKEN": "tok"}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-dir", dir, "-okta-addr", "127.0.0.1:0", "-entra-addr", "127.0.0.1:0",
			"-hook-url", "https://hookserver-demo:8443/okta/password-import", "-users", "25", "-dns-name", "fakeidp"},
			func(k string) string { return env[k] }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(dir, "ca.pem")); err == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("fakeidp exited: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no ca.pem after 30 s")
		}
	}
	for _, f := range []string{"ca.pem", "server.crt", "server.crt.key"} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil || !strings.Contains(string(b), "-----BEGIN ") {
			t.Errorf("%s: %v", f, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("fakeidp did not stop")
	}
}

func TestRunRefusesMissingSettings(t *testing.T) {
	err := run(context.Background(), []string{"-dir", t.TempDir()}, func(string) string { return "" },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err == nil || !strings.Contains(err.Error(), "required") {
		t.Fatalf("err = %v", err)
	}
}

// TestParseConfig checks the flags' defaults and values and that the two
// secrets are read from the environment or from their _FILE, never from a
// flag.
func TestParseConfig(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	if err := os.WriteFile(token, []byte("tok-from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOK_AUTH_SECRET": "s3cret", "OKTA_API_TOKEN_FILE": token}
	getenv := func(k string) string { return env[k] }
	c, err := parseConfig([]string{"-hook-url", "https://hook.example/okta/password-import", "-dns-name", "a", "-dns-name", "b"}, getenv)
	if err != nil {
		t.Fatal(err)
	}
	if c.dir != "." || c.oktaAddr != ":8441" || c.entraAddr != ":8442" || c.users != 300 {
		t.Errorf("defaults: %+v", c)
	}
	if c.hookSecret != "s3cret" || c.oktaToken != "tok-from-file" || strings.Join(c.dnsNames, ",") != "a,b" {
		t.Errorf("secrets or DNS names: %q %q %v", c.hookSecret, c.oktaToken, c.dnsNames)
	}
	if _, err := parseConfig([]string{"-hook-url", "https://h", "-okta-api-token", "x"}, getenv); err == nil {
		t.Error("a flag for the API token was accepted")
	}
	if _, err := parseConfig([]string{"-hook-url", "https://h", "-users", "many"}, getenv); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("bad -users: %v", err)
	}
	if _, err := parseConfig([]string{"-hook-url", "https://h", "extra"}, getenv); err == nil {
		t.Error("a positional argument was accepted")
	}
}
