package fakeokta_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/testkit/oktaspec"
)

// TestExecuteInlineHookMatchesOpenAPI validates the emulator's answers to
// POST /api/v1/inlineHooks/{id}/execute (executeInlineHook) against Okta's
// published OpenAPI description: 200 with the hook's PasswordImportResponse
// (also when the hook answered with no body), 400 when the hook failed or is
// INACTIVE, 404 for an unknown hook.
func TestExecuteInlineHookMatchesOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	rep := oktaspec.NewReport()
	hs := newHookServer(t)
	s := fakeokta.New(fakeokta.Options{HookRootCAs: hs.pool(), HookTimeout: 300 * time.Millisecond})
	srv := httptest.NewServer(spec.Middleware(s, rep))
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: s, url: srv.URL}
	id, err := s.SetPasswordImportHook(hs.URL, "Authorization", "Basic s3cret")
	if err != nil {
		t.Fatal(err)
	}
	// Okta's PasswordImportRequestExecute: the payload Okta would send.
	payload := map[string]any{"eventType": fakeokta.HookTypePasswordImport, "eventTypeVersion": "1.0",
		"contentType": "application/json", "cloudEventVersion": "0.1", "source": "https://example.okta.com/api/v1/inlineHooks/" + id,
		"eventId": "3o9jBzq1SmOGmmsDsZyyeQ", "eventTime": "2020-01-17T21:23:56.000Z",
		"data": map[string]any{
			"context": map[string]any{"request": map[string]any{"id": "reqv66CbCaCStGEFc8AdfS0ng", "method": "POST",
				"url": map[string]any{"value": "https://example.okta.com/api/v1/authn"}, "ipAddress": "203.0.113.10"},
				"credential": map[string]any{"username": "nobody@example.com", "password": "Not-A-Real-Pa55"}},
			"action": map[string]any{"credential": "UNVERIFIED"}}}
	execute := func(hookID string) resp { return e.do("POST", "/api/v1/inlineHooks/"+hookID+"/execute", payload) }

	for _, h := range []http.HandlerFunc{answer("UNVERIFIED"), answer("VERIFIED"), status(http.StatusNoContent)} {
		hs.set(h)
		if r := execute(id); r.status != 200 {
			t.Fatalf("execute: %d %s", r.status, r.raw)
		}
	}
	for _, h := range []http.HandlerFunc{status403, status(http.StatusBadGateway),
		func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, `{"status":"ok"}`) }} {
		hs.set(h)
		if r := execute(id); r.status != 400 {
			t.Fatalf("execute against a failing hook: %d %s", r.status, r.raw)
		}
	}
	if r := execute("calnosuchhook0000000"); r.status != 404 {
		t.Fatalf("unknown hook: %d %s", r.status, r.raw)
	}
	e.do("POST", "/api/v1/inlineHooks/"+id+"/lifecycle/deactivate", nil)
	if r := execute(id); r.status != 400 {
		t.Fatalf("INACTIVE hook: %d %s", r.status, r.raw)
	}

	rep.AssertClean(t)
	for _, st := range []int{200, 400, 404} {
		rep.AssertSeen(t, "executeInlineHook", st)
	}
}
