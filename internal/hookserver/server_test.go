package hookserver

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/loopbacktls"
)

func TestServerOverTLS(t *testing.T) {
	ca, err := loopbacktls.New()
	if err != nil {
		t.Fatal(err)
	}
	var temporalUp atomic.Bool
	v := verifierReturning(entra.Result{Verdict: entra.Verified, Reason: "ok", Latency: 2 * time.Millisecond})
	s := &fakeSignaler{}
	srv, err := NewServer(ServerConfig{
		Hook: pwimport.Config{AuthSecret: testSecret},
		TLS:  ca.ServerTLSConfig(),
		Ready: func(context.Context) error {
			if !temporalUp.Load() {
				return errors.New("temporal unreachable")
			}
			return nil
		},
	}, v, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	adminLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served, adminServed := make(chan error, 1), make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	go func() { adminServed <- srv.ServeAdmin(adminLn) }()
	base, adminBase := "https://"+ln.Addr().String(), "http://"+adminLn.Addr().String()
	client := ca.HTTPClient(5 * time.Second)

	getFrom := func(c *http.Client, url string) (int, string) {
		resp, err := c.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	get := func(path string) (int, string) { return getFrom(client, base+path) }
	admin := func(path string) (int, string) { return getFrom(http.DefaultClient, adminBase+path) }
	if code, _ := get("/healthz"); code != http.StatusOK {
		t.Fatalf("healthz %d", code)
	}
	if code, _ := admin("/healthz"); code != http.StatusOK {
		t.Fatalf("admin healthz %d", code)
	}
	// Metrics and readiness are on the admin listener, not on the public one.
	for _, path := range []string{"/metrics", "/readyz"} {
		if code, body := get(path); code != http.StatusNotFound || strings.Contains(body, "entra2okta_") {
			t.Fatalf("public %s: %d %.80s", path, code, body)
		}
	}
	// Temporal down: the hook still answers; only readiness says so.
	if code, _ := admin("/readyz"); code != http.StatusServiceUnavailable {
		t.Fatalf("readyz with Temporal down: %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, base+pwimport.PasswordImportPath, bytes.NewReader(fixture(t, "identity-engine.json")))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", testSecret)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(body) != string(bodyVerified) {
		t.Fatalf("hook answered %d %s", resp.StatusCode, body)
	}
	temporalUp.Store(true)
	if code, _ := admin("/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with Temporal up: %d", code)
	}
	s.waitSignals(t, 1)
	wants := []string{
		`entra2okta_hook_outcomes_total{reason="ok",verdict="verified"} 1`,
		`entra2okta_hook_requests_total{status="200"} 1`,
		`entra2okta_hook_entra_calls_total 1`,
		`entra2okta_hook_answer_seconds_count 1`,
		`entra2okta_hook_signals_total{result="delivered"} 1`,
		`go_goroutines`,
	}
	// The dispatcher counts a delivery once the signal call has returned,
	// a moment after the stand-in Temporal recorded it: read until then.
	var metrics string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		_, metrics = admin("/metrics")
		if !slices.ContainsFunc(wants, func(w string) bool { return !strings.Contains(metrics, w) }) || time.Now().After(deadline) {
			break
		}
	}
	for _, want := range wants {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if code, _ := get("/nope"); code != http.StatusNotFound {
		t.Fatalf("unknown path %d", code)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-served; err != nil {
		t.Fatalf("Serve returned %v after Shutdown", err)
	}
	if err := <-adminServed; err != nil {
		t.Fatalf("ServeAdmin returned %v after Shutdown", err)
	}
}

func TestServerRefusesNoSecret(t *testing.T) {
	if _, err := NewServer(ServerConfig{}, verifierReturning(entra.Result{}), &fakeSignaler{}, nil); err == nil {
		t.Fatal("NewServer accepted a configuration without an auth secret")
	}
}
