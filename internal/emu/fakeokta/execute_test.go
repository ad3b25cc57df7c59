package fakeokta_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

// TestExecuteInlineHook: Okta calls the hook with the request body and
// answers 200 with the hook's response when it matches the password import
// contract ({} for an empty one); a hook that answers no command, something
// else, a 4xx or nothing in time gets Okta's 400 with what failed; an
// INACTIVE hook is not called; an unknown one is a 404.
func TestExecuteInlineHook(t *testing.T) {
	hs := newHookServer(t)
	e := newEnv(t, fakeokta.Options{HookRootCAs: hs.pool(), HookTimeout: time.Second})
	id, err := e.srv.SetPasswordImportHook(hs.URL, "Authorization", "Basic s3cret")
	if err != nil {
		t.Fatal(err)
	}
	payload := map[string]any{"eventType": fakeokta.HookTypePasswordImport,
		"data": map[string]any{"context": map[string]any{"credential": map[string]any{"username": "a@example.com", "password": "x"}}}}
	execute := func() resp { return e.do("POST", "/api/v1/inlineHooks/"+id+"/execute", payload) }

	hs.set(answer("UNVERIFIED"))
	r := execute()
	if r.status != 200 || !strings.Contains(string(r.raw), `"UNVERIFIED"`) || hs.calls() != 1 {
		t.Fatalf("UNVERIFIED: %d %s after %d calls", r.status, r.raw, hs.calls())
	}
	hs.mu.Lock()
	auth, sent := hs.headers[0].Get("Authorization"), string(hs.bodies[0])
	hs.mu.Unlock()
	if auth != "Basic s3cret" || !strings.Contains(sent, `"username":"a@example.com"`) {
		t.Errorf("the hook got %q and %s", auth, sent)
	}

	hs.set(status(http.StatusNoContent))
	if r := execute(); r.status != 200 || string(r.raw) != "{}" || hs.calls() != 1 {
		t.Errorf("no content: %d %s after %d calls, want 200 {}", r.status, r.raw, hs.calls())
	}
	for name, tc := range map[string]struct {
		h     http.HandlerFunc
		cause string
		calls int
	}{
		"not a command": {func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) }, "no commands", 1},
		"another credential": {func(w http.ResponseWriter, _ *http.Request) {
			_, _ = io.WriteString(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"MAYBE"}}]}`)
		}, "credential VERIFIED or UNVERIFIED", 1},
		"undecided 403": {status403, "hook answered HTTP 403", 1},
		"5xx, retried":  {status(http.StatusBadGateway), "hook answered HTTP 502", 2},
		"time-out, retried": {func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
				// Okta gave up: answer nothing (returning would send a 200).
				panic(http.ErrAbortHandler)
			case <-time.After(5 * time.Second):
			}
		}, "timed out", 2},
	} {
		t.Run(name, func(t *testing.T) {
			hs.set(tc.h)
			r := execute()
			r.wantStatus(t, 400, "E0000001")
			if c := r.causes(); len(c) != 1 || !strings.Contains(c[0], tc.cause) || hs.calls() != tc.calls {
				t.Errorf("causes %v after %d calls, want %q after %d", c, hs.calls(), tc.cause, tc.calls)
			}
		})
	}
	e.do("POST", "/api/v1/inlineHooks/calnosuchhook0000000/execute", payload).wantStatus(t, 404, "E0000007")

	hs.set(answer("UNVERIFIED"))
	e.do("POST", "/api/v1/inlineHooks/"+id+"/lifecycle/deactivate", nil)
	r = execute()
	r.wantStatus(t, 400, "E0000001")
	if c := r.causes(); len(c) != 1 || !strings.Contains(c[0], "INACTIVE") || hs.calls() != 0 {
		t.Errorf("an INACTIVE hook: causes %v after %d calls", c, hs.calls())
	}
}
