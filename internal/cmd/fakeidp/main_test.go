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
