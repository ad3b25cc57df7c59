package fakeokta_test

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

func TestInlineHookManagement(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	create := map[string]any{
		"name": "Entra password import", "type": fakeokta.HookTypePasswordImport, "version": "1.0.0",
		"channel": map[string]any{"type": "HTTP", "version": "1.0.0", "config": map[string]any{
			"uri": "https://hook.example.com/passwordImport", "method": "POST",
			"headers":    []any{map[string]any{"key": "x-any-key", "value": "my-header-value"}},
			"authScheme": map[string]any{"type": "HEADER", "key": "Authorization", "value": "my-shared-secret"},
		}},
	}
	r := e.do("POST", "/api/v1/inlineHooks", create)
	r.wantStatus(t, 200, "")
	id, _ := r.obj["id"].(string)
	if !regexp.MustCompile(`^cal[0-9A-Za-z]{17}$`).MatchString(id) || r.obj["status"] != "ACTIVE" || r.obj["version"] != "1.0.0" {
		t.Errorf("created = %s", r.raw)
	}
	if strings.Contains(string(r.raw), "my-shared-secret") || strings.Contains(string(r.raw), "my-header-value") {
		t.Errorf("secret echoed: %s", r.raw)
	}
	if got := path(r.obj, "channel", "config", "authScheme", "key"); got != "authorization" {
		t.Errorf("authScheme.key = %v", got)
	}

	tests := []struct {
		name         string
		method, path string
		body         any
		status       int
		code         string
	}{
		{"second password import hook", "POST", "/api/v1/inlineHooks", create, 400, "E0000001"},
		{"http uri", "POST", "/api/v1/inlineHooks", map[string]any{"name": "t", "type": "com.okta.oauth2.tokens.transform",
			"channel": map[string]any{"type": "HTTP", "config": map[string]any{"uri": "http://hook.example.com/x"}}}, 400, "E0000001"},
		{"unknown type", "POST", "/api/v1/inlineHooks", map[string]any{"name": "t", "type": "nope",
			"channel": map[string]any{"type": "HTTP", "config": map[string]any{"uri": "https://hook.example.com/x"}}}, 400, "E0000001"},
		{"get", "GET", "/api/v1/inlineHooks/" + id, nil, 200, ""},
		{"list by type", "GET", "/api/v1/inlineHooks?type=" + fakeokta.HookTypePasswordImport, nil, 200, ""},
		{"delete ACTIVE refused", "DELETE", "/api/v1/inlineHooks/" + id, nil, 403, "E0000038"},
		{"update name", "POST", "/api/v1/inlineHooks/" + id, map[string]any{"name": "renamed"}, 200, ""},
		{"deactivate", "POST", "/api/v1/inlineHooks/" + id + "/lifecycle/deactivate", nil, 200, ""},
		{"delete INACTIVE", "DELETE", "/api/v1/inlineHooks/" + id, nil, 204, ""},
		{"gone", "GET", "/api/v1/inlineHooks/" + id, nil, 404, "E0000007"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.do(tc.method, tc.path, tc.body).wantStatus(t, tc.status, tc.code)
		})
	}
}

// hookServer is a TLS password import hook whose answer the test sets.
type hookServer struct {
	*httptest.Server
	mu      sync.Mutex
	handler http.HandlerFunc
	bodies  [][]byte
	headers []http.Header
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.headers = append(h.headers, r.Header.Clone())
		fn := h.handler
		h.mu.Unlock()
		fn(w, r)
	}))
	t.Cleanup(h.Close)
	return h
}

func (h *hookServer) set(fn http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handler, h.bodies, h.headers = fn, nil, nil
}

func (h *hookServer) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func (h *hookServer) pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(h.Certificate())
	return p
}

func answer(credential string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"`+credential+`"}}]}`)
	}
}

func status(code int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(code) }
}

func TestSignInFiresPasswordImportHook(t *testing.T) {
	hs := newHookServer(t)
	e := newEnv(t, fakeokta.Options{HookRootCAs: hs.pool(), HookTimeout: 300 * time.Millisecond})
	hookID, err := e.srv.SetPasswordImportHook(hs.URL+"/okta/password-import", "Authorization", "Basic c2VjcmV0")
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		status    int
		hookCalls int
		stored    bool
		provider  string
		importEvt string // outcome of the user.import.password event, "" for none
		hookEvt   bool   // an inline_hook.executed event
	}
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		readOnly bool
		want     outcome
	}{
		{"VERIFIED stores the password", answer("VERIFIED"), false, outcome{200, 1, true, "OKTA", "SUCCESS", false}},
		{"VERIFIED in read-only mode stores nothing", answer("VERIFIED"), true, outcome{200, 1, false, "IMPORT", "FAILURE", false}},
		{"UNVERIFIED", answer("UNVERIFIED"), false, outcome{401, 1, false, "IMPORT", "FAILURE", false}},
		{"204 takes the default action", status(204), false, outcome{401, 1, false, "IMPORT", "FAILURE", false}},
		{"error object", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"error":{"errorSummary":"boom"}}`)
		}, false, outcome{401, 1, false, "IMPORT", "FAILURE", false}},
		{"garbage", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, `<html>`) }, false,
			outcome{401, 1, false, "IMPORT", "FAILURE", false}},
		{"too large", func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}],"pad":"`+strings.Repeat("x", 300<<10)+`"}`)
		}, false, outcome{401, 1, false, "IMPORT", "FAILURE", true}},
		{"500 is retried once", status(500), false, outcome{401, 2, false, "IMPORT", "FAILURE", true}},
		{"timeout is retried once", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
			panic(http.ErrAbortHandler) // never answer, not even an implicit 200
		}, false, outcome{401, 2, false, "IMPORT", "FAILURE", true}},
		{"400 is not retried", status(400), false, outcome{401, 1, false, "IMPORT", "FAILURE", true}},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/elsewhere", http.StatusTemporaryRedirect)
		}, false, outcome{401, 1, false, "IMPORT", "FAILURE", true}},
		{"second attempt succeeds after a 503", func() http.HandlerFunc {
			n := 0
			return func(w http.ResponseWriter, r *http.Request) {
				if n++; n == 1 {
					w.WriteHeader(503)
					return
				}
				answer("VERIFIED")(w, r)
			}
		}(), false, outcome{200, 2, true, "OKTA", "SUCCESS", false}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			login := "user" + string(rune('a'+i)) + "@example.com"
			u, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile(login), Status: fakeokta.StatusActive, ImportHook: true})
			if err != nil {
				t.Fatal(err)
			}
			hs.set(tc.handler)
			e.srv.SetReadOnly(tc.readOnly)
			defer e.srv.SetReadOnly(false)
			before := len(e.srv.Events())

			r := e.do("POST", "/api/v1/authn", map[string]any{"username": login, "password": "Pa55word!"},
				"Authorization", "", "X-Forwarded-For", "203.0.113.9, 10.0.0.1")
			if r.status != tc.want.status {
				t.Fatalf("authn status = %d, want %d: %s", r.status, tc.want.status, r.raw)
			}
			if tc.want.status == 401 {
				r.wantStatus(t, 401, "E0000004")
				if r.obj["errorSummary"] != "Authentication failed" {
					t.Errorf("summary = %v", r.obj["errorSummary"])
				}
			} else {
				if r.obj["status"] != "SUCCESS" || r.obj["sessionToken"] == "" || path(r.obj, "_embedded", "user", "id") != u.ID ||
					path(r.obj, "_embedded", "user", "profile", "login") != login || r.obj["expiresAt"] == nil {
					t.Errorf("authn answer = %s", r.raw)
				}
			}
			if hs.calls() != tc.want.hookCalls {
				t.Errorf("hook calls = %d, want %d", hs.calls(), tc.want.hookCalls)
			}
			got, _ := e.srv.User(login)
			if stored := e.srv.CheckPassword(login, "Pa55word!"); stored != tc.want.stored {
				t.Errorf("password stored = %v, want %v", stored, tc.want.stored)
			}
			if got.ProviderType != tc.want.provider || got.ProviderName != tc.want.provider {
				t.Errorf("provider = %s/%s, want %s", got.ProviderType, got.ProviderName, tc.want.provider)
			}
			if tc.want.stored && (got.PasswordChanged.IsZero() || got.LastLogin.IsZero()) {
				t.Errorf("after import: %+v", got)
			}
			var importEvt string
			hookEvt := false
			for _, ev := range e.srv.Events()[before:] {
				switch ev.EventType {
				case fakeokta.EventPasswordImport:
					importEvt = ev.Outcome.Result
					if len(ev.Target) == 0 || ev.Target[0].ID != u.ID || ev.Target[0].Type != "User" {
						t.Errorf("import event target = %+v", ev.Target)
					}
				case fakeokta.EventInlineHookExecuted:
					hookEvt = true
				}
			}
			if importEvt != tc.want.importEvt || hookEvt != tc.want.hookEvt {
				t.Errorf("events: import %q (want %q), inline_hook.executed %v (want %v)", importEvt, tc.want.importEvt, hookEvt, tc.want.hookEvt)
			}
			calls := e.srv.HookCalls()
			if last := calls[len(calls)-1]; last.UserID != u.ID || last.HookID != hookID || len(last.Attempts) != tc.want.hookCalls {
				t.Errorf("HookCall = %+v", last)
			}

			// The next sign-in calls the hook again unless the password was stored.
			hs.set(answer("UNVERIFIED"))
			r = e.do("POST", "/api/v1/authn", map[string]any{"username": login, "password": "Pa55word!"}, "Authorization", "")
			wantAgain := 1
			if tc.want.stored {
				wantAgain = 0
				r.wantStatus(t, 200, "")
			}
			if hs.calls() != wantAgain {
				t.Errorf("second sign-in hook calls = %d, want %d", hs.calls(), wantAgain)
			}
		})
	}
}

func TestHookRequestShape(t *testing.T) {
	hs := newHookServer(t)
	hs.set(answer("VERIFIED"))
	e := newEnv(t, fakeokta.Options{HookRootCAs: hs.pool()})
	r := e.do("POST", "/api/v1/inlineHooks", map[string]any{
		"name": "pw", "type": fakeokta.HookTypePasswordImport,
		"channel": map[string]any{"type": "HTTP", "config": map[string]any{"uri": hs.URL + "/hook",
			"headers":    []any{map[string]any{"key": "X-Extra", "value": "extra-value"}},
			"authScheme": map[string]any{"type": "HEADER", "key": "X-Hook-Secret", "value": "s3cr3t"}}}})
	r.wantStatus(t, 200, "")
	hookID := r.obj["id"].(string)
	if _, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile("isaac.brock@example.com"), Status: "ACTIVE", ImportHook: true}); err != nil {
		t.Fatal(err)
	}
	a := e.do("POST", "/api/v1/authn", map[string]any{"username": "Isaac.Brock@example.com", "password": "Okta"},
		"Authorization", "", "X-Forwarded-For", "66.124.153.138")
	a.wantStatus(t, 200, "")

	if hs.calls() != 1 {
		t.Fatalf("hook calls = %d", hs.calls())
	}
	hdr := hs.headers[0]
	for k, v := range map[string]string{"Accept": "application/json", "Content-Type": "application/json",
		"X-Hook-Secret": "s3cr3t", "X-Extra": "extra-value"} {
		if hdr.Get(k) != v {
			t.Errorf("hook header %s = %q, want %q", k, hdr.Get(k), v)
		}
	}
	var got map[string]any
	if err := json.Unmarshal(hs.bodies[0], &got); err != nil {
		t.Fatal(err)
	}
	reqID := a.header.Get("X-Okta-Request-Id")
	want := map[string]any{
		"eventType": "com.okta.user.credential.password.import", "eventTypeVersion": "1.0",
		"contentType": "application/json", "cloudEventVersion": "0.1",
		"source": e.url + "/api/v1/inlineHooks/" + hookID,
		"data": map[string]any{
			"context": map[string]any{
				"request": map[string]any{"id": reqID, "method": "POST", "url": map[string]any{"value": "/api/v1/authn"},
					"ipAddress": "66.124.153.138"},
				"credential": map[string]any{"username": "Isaac.Brock@example.com", "password": "Okta"},
			},
			"action": map[string]any{"credential": "UNVERIFIED"},
		},
	}
	for k, v := range want {
		if gv, _ := json.Marshal(got[k]); string(gv) != mustJSON(v) {
			t.Errorf("%s = %s, want %s", k, gv, mustJSON(v))
		}
	}
	if len(got) != len(want)+2 {
		t.Errorf("hook request has keys %v", keys(got))
	}
	if id, _ := got["eventId"].(string); len(id) != 22 {
		t.Errorf("eventId = %v", got["eventId"])
	}
	if ts, _ := got["eventTime"].(string); !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$`).MatchString(ts) {
		t.Errorf("eventTime = %v", got["eventTime"])
	}
	// The recorded sign-in request never keeps the password.
	for _, rr := range e.srv.RequestLog() {
		if strings.Contains(string(rr.Body), "Okta\"") {
			t.Errorf("recorded request keeps the password: %s", rr.Body)
		}
	}
}

func TestSignInWithoutHook(t *testing.T) {
	e := newEnv(t, fakeokta.Options{})
	seed := func(login, status, pw string, hook bool) {
		if _, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile(login), Status: status, Password: pw, ImportHook: hook}); err != nil {
			t.Fatal(err)
		}
	}
	seed("okta@example.com", "ACTIVE", "Right-password1", false)
	seed("staged@example.com", "STAGED", "Right-password1", false)
	seed("import@example.com", "ACTIVE", "", true)
	tests := []struct {
		name, user, pw string
		status         int
	}{
		{"OKTA user, right password", "okta@example.com", "Right-password1", 200},
		{"OKTA user by short name", "okta", "Right-password1", 200},
		{"OKTA user, wrong password", "okta@example.com", "wrong", 401},
		{"not ACTIVE", "staged@example.com", "Right-password1", 401},
		{"unknown", "nobody@example.com", "x", 401},
		{"IMPORT user but no hook registered", "import@example.com", "x", 401},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "/api/v1/authn", map[string]any{"username": tc.user, "password": tc.pw}, "Authorization", "")
			if tc.status == 401 {
				r.wantStatus(t, 401, "E0000004")
			} else {
				r.wantStatus(t, tc.status, "")
			}
		})
	}
	e.do("POST", "/api/v1/authn", "{", "Authorization", "").wantStatus(t, 400, "E0000003")
}

func TestSystemLog(t *testing.T) {
	c := newClock()
	hs := newHookServer(t)
	hs.set(answer("VERIFIED"))
	e := newEnv(t, fakeokta.Options{Now: c.Now, HookRootCAs: hs.pool()})
	if _, err := e.srv.SetPasswordImportHook(hs.URL, "", ""); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, l := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		u, _ := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile(l), Status: "ACTIVE", ImportHook: true})
		ids = append(ids, u.ID)
		c.Add(time.Minute)
		e.do("POST", "/api/v1/authn", map[string]any{"username": l, "password": "pw"}, "Authorization", "").wantStatus(t, 200, "")
	}
	q := func(v string) string { return strings.ReplaceAll(strings.ReplaceAll(v, " ", "+"), `"`, "%22") }

	r := e.do("GET", "/api/v1/logs?filter="+q(`eventType eq "user.import.password" and target.id eq "`+ids[1]+`"`)+"&until="+
		c.Now().Format(time.RFC3339), nil)
	r.wantStatus(t, 200, "")
	if len(r.arr) != 1 {
		t.Fatalf("events = %s", r.raw)
	}
	ev := r.arr[0].(map[string]any)
	for _, k := range []string{"uuid", "published", "eventType", "displayMessage", "severity", "outcome", "actor", "target",
		"client", "debugContext", "transaction", "request", "authenticationContext", "securityContext", "version"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("event lacks %s", k)
		}
	}
	if path(ev, "outcome", "result") != "SUCCESS" || path(ev, "actor", "id") != ids[1] {
		t.Errorf("event = %v", ev)
	}
	for _, l := range r.header.Values("Link") {
		if strings.Contains(l, `rel="next"`) {
			t.Errorf("bounded query answered a next link: %s", l)
		}
	}

	// since, sortOrder, limit and polling paging.
	since := c.Now().Add(-90 * time.Second).UTC().Format("2006-01-02T15:04:05.000Z")
	r = e.do("GET", "/api/v1/logs?filter="+q(`eventType eq "user.import.password"`)+"&since="+since+"&sortOrder=DESCENDING", nil)
	if len(r.arr) != 2 || path(r.arr[0].(map[string]any), "target") == nil ||
		path(r.arr[0].(map[string]any), "actor", "id") != ids[2] {
		t.Errorf("since/sortOrder = %s", r.raw)
	}
	var seen int
	next := "/api/v1/logs?limit=1&filter=" + q(`eventType eq "user.import.password"`)
	for i := 0; i < 10 && next != ""; i++ {
		r = e.do("GET", next, nil)
		if len(r.arr) == 0 {
			break
		}
		seen += len(r.arr)
		next = ""
		for _, l := range r.header.Values("Link") {
			if strings.HasSuffix(l, `rel="next"`) {
				next = strings.TrimPrefix(strings.TrimSuffix(strings.TrimPrefix(l, "<"), `>; rel="next"`), e.url)
			}
		}
		if next == "" {
			t.Fatal("a polling query must always answer a next link")
		}
	}
	if seen != 3 {
		t.Errorf("paged %d import events, want 3", seen)
	}
	e.do("GET", "/api/v1/logs?filter="+q(`eventType eq`), nil).wantStatus(t, 400, "E0000031")
}

func TestSystemLogIsEventuallyConsistent(t *testing.T) {
	c := newClock()
	e := newEnv(t, fakeokta.Options{Now: c.Now, LogDelay: 5 * time.Second})
	e.do("POST", "/api/v1/users?activate=false", hookUser("late@example.com")).wantStatus(t, 200, "")
	if r := e.do("GET", "/api/v1/logs", nil); len(r.arr) != 0 {
		t.Errorf("events visible at once: %s", r.raw)
	}
	c.Add(5 * time.Second)
	if r := e.do("GET", "/api/v1/logs", nil); len(r.arr) != 1 {
		t.Errorf("events after the delay: %s", r.raw)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func keys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestSignInLockout: the default password policy locks a user out after 10
// failed sign-ins in a row (a wrong Okta password, or an UNVERIFIED hook
// answer), never unlocks by default, and resets on success; a failed hook
// call (here the hook's 403) is not counted.
func TestSignInLockout(t *testing.T) {
	hs := newHookServer(t)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	e := newEnv(t, fakeokta.Options{HookRootCAs: hs.pool(), HookTimeout: 300 * time.Millisecond, Now: func() time.Time { return now }})
	if _, err := e.srv.SetPasswordImportHook(hs.URL+"/okta/password-import", "Authorization", "Basic c2VjcmV0"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []fakeokta.SeedUser{
		{Profile: profile("okta@example.com"), Status: "ACTIVE", Password: "Right-password1"},
		{Profile: profile("import@example.com"), Status: "ACTIVE", ImportHook: true},
	} {
		if _, err := e.srv.SeedUser(u); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(user, pw string) int {
		return e.do("POST", "/api/v1/authn", map[string]any{"username": user, "password": pw}, "Authorization", "").status
	}
	status := func(login string) string { st, _ := e.srv.User(login); return st.Status }

	for range 9 {
		signIn("okta@example.com", "wrong")
	}
	if signIn("okta@example.com", "Right-password1") != 200 {
		t.Fatal("9 failures must not lock")
	}
	for range 10 {
		signIn("okta@example.com", "wrong")
	}
	if status("okta@example.com") != fakeokta.StatusLockedOut || signIn("okta@example.com", "Right-password1") != 401 {
		t.Fatalf("after 10 failures: %s", status("okta@example.com"))
	}
	now = now.Add(365 * 24 * time.Hour)
	if signIn("okta@example.com", "Right-password1") != 401 {
		t.Fatal("unlocked by itself: the default policy never unlocks")
	}

	hs.set(status403)
	for range 30 {
		signIn("import@example.com", "x")
	}
	if st := status("import@example.com"); st != fakeokta.StatusActive {
		t.Fatalf("failed hook calls locked the user: %s", st)
	}
	hs.set(answer("UNVERIFIED"))
	for range 10 {
		signIn("import@example.com", "x")
	}
	if st := status("import@example.com"); st != fakeokta.StatusLockedOut {
		t.Fatalf("10 UNVERIFIED answers: %s", st)
	}

	auto := newEnv(t, fakeokta.Options{LockoutAttempts: 3, LockoutAutoUnlock: time.Minute, Now: func() time.Time { return now }})
	if _, err := auto.srv.SeedUser(fakeokta.SeedUser{Profile: profile("a@example.com"), Status: "ACTIVE", Password: "Right-password1"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		auto.do("POST", "/api/v1/authn", map[string]any{"username": "a@example.com", "password": "wrong"}, "Authorization", "")
	}
	if r := auto.do("POST", "/api/v1/authn", map[string]any{"username": "a@example.com", "password": "Right-password1"}, "Authorization", ""); r.status != 401 {
		t.Fatal("not locked after 3")
	}
	now = now.Add(61 * time.Second)
	if r := auto.do("POST", "/api/v1/authn", map[string]any{"username": "a@example.com", "password": "Right-password1"}, "Authorization", ""); r.status != 200 {
		t.Fatalf("not unlocked after autoUnlock: %d", r.status)
	}
}

func status403(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	_, _ = io.WriteString(w, `{"errorSummary":"the password could not be checked now; try again later"}`)
}
