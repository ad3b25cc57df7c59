package fakeokta_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"entra2okta/internal/emu/fakeokta"
)

// TestStartServesTLS: Start serves the emulator over TLS with its own CA;
// links and the hook's source name the https org URL. It also exercises the
// hook's execute endpoint through the emulator.
func TestStartServesTLS(t *testing.T) {
	hs := newHookServer(t)
	hs.set(answer("VERIFIED"))
	fk, err := fakeokta.Start(fakeokta.Options{HookRootCAs: hs.pool()})
	if err != nil {
		t.Fatal(err)
	}
	defer fk.Close()
	if !strings.HasPrefix(fk.URL, "https://127.0.0.1:") {
		t.Fatalf("URL = %s", fk.URL)
	}
	c := fk.HTTPClient(0)
	post := func(path string, body any) (*http.Response, map[string]any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", fk.URL+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "SSWS "+fakeokta.DefaultAPIToken)
		req.Header.Set("Content-Type", "application/json")
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return res, m
	}
	res, u := post("/api/v1/users?activate=false", hookUser("tls@example.com"))
	if res.StatusCode != 200 || !strings.HasPrefix(path(u, "_links", "self", "href").(string), fk.URL+"/api/v1/users/00u") {
		t.Fatalf("create over TLS: %d %v", res.StatusCode, u)
	}
	id, err := fk.SetPasswordImportHook(hs.URL, "Authorization", "x")
	if err != nil {
		t.Fatal(err)
	}
	res, ans := post("/api/v1/inlineHooks/"+id+"/execute", map[string]any{"eventType": fakeokta.HookTypePasswordImport})
	if res.StatusCode != 200 || path(ans, "commands") == nil || hs.calls() != 1 {
		t.Errorf("execute: %d %v, hook calls %d", res.StatusCode, ans, hs.calls())
	}
	hs.set(status(500))
	if res, _ := post("/api/v1/inlineHooks/"+id+"/execute", map[string]any{}); res.StatusCode != 400 || hs.calls() != 2 {
		t.Errorf("execute against a failing hook: %d after %d attempts, want 400 after 2", res.StatusCode, hs.calls())
	}
	if _, err := http.Get(fk.URL + "/api/v1/users"); err == nil {
		t.Error("a client without the CA connected")
	}
}
