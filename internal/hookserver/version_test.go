package hookserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
)

// TestReadyzReportsVersion: the admin listener's /readyz carries the build's
// version whether the server is ready or not; the public listener serves no
// /readyz.
func TestReadyzReportsVersion(t *testing.T) {
	var up atomic.Bool
	srv, err := NewServer(ServerConfig{
		Hook: pwimport.Config{AuthSecret: testSecret},
		Ready: func(context.Context) error {
			if !up.Load() {
				return errors.New("temporal unreachable")
			}
			return nil
		},
	}, verifierReturning(entra.Result{Verdict: entra.Verified, Reason: "ok", Latency: time.Millisecond}), &fakeSignaler{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	v := Version()
	if v == "" || strings.ContainsAny(v, "\n\t") {
		t.Fatalf("Version() = %q", v)
	}
	readyz := func(h http.Handler) (int, map[string]string) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/readyz", nil))
		var body map[string]string
		_ = json.Unmarshal(rec.Body.Bytes(), &body)
		return rec.Code, body
	}
	if code, body := readyz(srv.AdminHandler()); code != http.StatusServiceUnavailable || body["status"] != "unavailable" || body["version"] != v {
		t.Fatalf("not ready: %d %v", code, body)
	}
	up.Store(true)
	if code, body := readyz(srv.AdminHandler()); code != http.StatusOK || body["status"] != "ok" || body["version"] != v {
		t.Fatalf("ready: %d %v", code, body)
	}
	if code, _ := readyz(srv.Handler()); code != http.StatusNotFound {
		t.Fatalf("public /readyz: %d", code)
	}
}
