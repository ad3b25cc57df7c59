package oktatest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
)

func (s *suite) runEmulated(t *testing.T) {
	f := s.Fake
	reset := func(t *testing.T) {
		t.Cleanup(func() {
			f.ClearFaults()
			f.SetReadOnly(false)
			f.SetConcurrencyLimit(75)
			for b, n := range fakeokta.DefaultRateLimits {
				f.SetRateLimit(b, n)
			}
		})
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"PagingOverThreePages", s.testPaging},
		{"BadFilterIsInvalid", s.testBadFilter},
		{"RateLimitBucketIsRateLimited", s.testRateLimitBucket},
		{"Injected429WithAndWithoutReset", s.testInjected429},
		{"ConcurrencyLimitIsRateLimited", s.testConcurrency429},
		{"ServerErrorIsTransient", s.testServerError},
		{"DroppedConnectionIsTransient", s.testDropped},
		{"DeadlineIsTransient", s.testDeadline},
		{"SignInFiresHook", s.testSignIn},
		{"HookRequestShape", s.testHookRequest},
		{"ReadOnlyMode", s.testReadOnly},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reset(t)
			tc.fn(t)
		})
	}
}

func (s *suite) testPaging(t *testing.T) {
	c := s.client(t)
	const n = 450 // three pages of 200
	want := map[string]bool{}
	for i := range n {
		u, err := s.Fake.SeedUser(fakeokta.SeedUser{Profile: profileFor(s.login(fmt.Sprintf("page%03d", i))),
			Status: okta.StatusActive, ImportHook: true})
		if err != nil {
			t.Fatal(err)
		}
		want[u.ID] = true
		t.Cleanup(func() { s.remove(c, u.ID) })
	}
	before := s.Fake.Calls(fakeokta.RouteListUsers)
	seen := map[string]bool{}
	err := c.ListUsers(t.Context(), "", func(u okta.User) error {
		if seen[u.ID] {
			t.Errorf("user %s listed twice", u.ID)
		}
		seen[u.ID] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for id := range want {
		if !seen[id] {
			t.Fatalf("user %s not listed (%d seen)", id, len(seen))
		}
	}
	pages := s.Fake.Calls(fakeokta.RouteListUsers) - before
	if wantPages := (len(seen) + 199) / 200; pages != wantPages {
		t.Errorf("pages = %d, want %d for %d users", pages, wantPages, len(seen))
	}
	rr := lastRequest(t, s.Fake, fakeokta.RouteListUsers)
	if !strings.Contains(rr.RawQuery, "after=") || !strings.Contains(rr.RawQuery, "limit=200") {
		t.Errorf("last page query = %q, want the next link's after cursor", rr.RawQuery)
	}
}

// testBadFilter: Okta answers 400 to a filter it cannot parse, a status the
// OpenAPI description does not list for listUsers (hence emulator-only).
func (s *suite) testBadFilter(t *testing.T) {
	err := s.client(t).ListUsers(t.Context(), `profile.login eq`, func(okta.User) error { return nil })
	wantErr(t, err, apierr.Invalid, http.StatusBadRequest, "E0000031")
}

func (s *suite) testRateLimitBucket(t *testing.T) {
	c := s.client(t)
	u := s.create(t, c, okta.NewUser{Profile: profileFor(s.login("rl")), PasswordHook: true})
	s.Fake.SetRateLimit(fakeokta.BucketUserGet, 1)
	// Exhaust the current window (others may have used it already).
	var err error
	for range 3 {
		if _, err = c.GetUser(t.Context(), u.ID); err != nil {
			break
		}
	}
	start := time.Now()
	before := s.Fake.Calls(fakeokta.RouteGetUser)
	_, err = c.GetUser(t.Context(), u.ID)
	ae := wantErr(t, err, apierr.RateLimited, http.StatusTooManyRequests, "E0000047")
	if !ae.RetryAt.After(start.Add(-time.Second)) || ae.RetryAt.After(start.Add(62*time.Second)) {
		t.Errorf("RetryAt = %v, want within the 60 s window after %v", ae.RetryAt, start)
	}
	if got := s.Fake.Calls(fakeokta.RouteGetUser) - before; got != 1 {
		t.Errorf("the SDK retried the 429: %d requests", got)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("the SDK waited %s on the 429", time.Since(start))
	}
	// Other buckets are not affected.
	if _, err := c.UpdateUser(t.Context(), u.ID, okta.UserUpdate{Profile: okta.Profile{"nickName": "n"}}); err != nil {
		t.Errorf("write bucket throttled too: %v", err)
	}
}

func (s *suite) testInjected429(t *testing.T) {
	c := s.client(t)
	s.Fake.InjectFault(fakeokta.RouteCreateUser, fakeokta.Fault{Status: 429, ResetIn: 42 * time.Second, Times: 1})
	start := time.Now()
	_, err := c.CreateUser(t.Context(), okta.NewUser{Profile: profileFor(s.login("inj")), PasswordHook: true})
	ae := wantErr(t, err, apierr.RateLimited, http.StatusTooManyRequests, "E0000047")
	if d := ae.RetryAt.Sub(start); d < 41*time.Second || d > 44*time.Second {
		t.Errorf("RetryAt is %s after the call, want about 42 s", d)
	}
	if d := apierr.RetryAfter(err, start); d < 41*time.Second {
		t.Errorf("apierr.RetryAfter = %s", d)
	}

	// Without X-Rate-Limit-Reset the SDK fails permanently; still RateLimited.
	s.Fake.InjectFault(fakeokta.RouteCreateUser, fakeokta.Fault{Status: 429, OmitReset: true, Times: 1})
	_, err = c.CreateUser(t.Context(), okta.NewUser{Profile: profileFor(s.login("inj")), PasswordHook: true})
	ae = wantErr(t, err, apierr.RateLimited, http.StatusTooManyRequests, "")
	if !ae.RetryAt.IsZero() {
		t.Errorf("RetryAt = %v, want zero without a reset header", ae.RetryAt)
	}
}

func (s *suite) testConcurrency429(t *testing.T) {
	c := s.client(t)
	u := s.create(t, c, okta.NewUser{Profile: profileFor(s.login("conc")), PasswordHook: true})
	s.Fake.SetConcurrencyLimit(1)
	s.Fake.SetLatency(fakeokta.RouteListUsers, 1500*time.Millisecond)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = c.ListUsers(context.Background(), `profile.login eq "`+u.Login+`"`, func(okta.User) error { return nil })
	}()
	defer wg.Wait()
	deadline := time.Now().Add(3 * time.Second)
	for s.Fake.InFlight() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	_, err := c.GetUser(t.Context(), u.ID)
	ae := wantErr(t, err, apierr.RateLimited, http.StatusTooManyRequests, "E0000047")
	if ae.RetryAt.IsZero() || ae.RetryAt.Before(start.Add(-time.Second)) || ae.RetryAt.After(start.Add(5*time.Second)) {
		t.Errorf("RetryAt = %v, want a suggested reset a few seconds ahead of %v", ae.RetryAt, start)
	}
}

func (s *suite) testServerError(t *testing.T) {
	c := s.client(t)
	for _, status := range []int{500, 502, 503} {
		s.Fake.FailNext(fakeokta.RouteGetUser, 1, status)
		before := s.Fake.Calls(fakeokta.RouteGetUser)
		_, err := c.GetUser(t.Context(), s.login("x"))
		wantErr(t, err, apierr.Transient, status, "E0000009")
		if got := s.Fake.Calls(fakeokta.RouteGetUser) - before; got != 1 {
			t.Errorf("%d: %d requests, want 1 (no SDK retry)", status, got)
		}
	}
	s.Fake.InjectFault(fakeokta.RouteActivateUser, fakeokta.Fault{Status: 409, Code: "E0000112",
		Summary: "Cannot update this user because they are still being activated. Please try again in a few minutes.", Times: 1})
	err := c.ActivateUser(t.Context(), "00u0000000000000none", false)
	wantErr(t, err, apierr.Busy, http.StatusConflict, "E0000112")
	s.Fake.FailNext(fakeokta.RouteGetUser, 1, http.StatusForbidden)
	_, err = c.GetUser(t.Context(), s.login("x"))
	wantErr(t, err, apierr.Unauthorized, http.StatusForbidden, "E0000006")
}

func (s *suite) testDropped(t *testing.T) {
	c := s.client(t)
	u := s.create(t, c, okta.NewUser{Profile: profileFor(s.login("drop")), PasswordHook: true})
	for _, route := range []fakeokta.Route{fakeokta.RouteUpdateUser, fakeokta.RouteGetUser} {
		s.Fake.DropNext(route, 5)
		before := s.Fake.Calls(route)
		start := time.Now()
		var err error
		if route == fakeokta.RouteGetUser {
			_, err = c.GetUser(t.Context(), u.ID)
		} else {
			_, err = c.UpdateUser(t.Context(), u.ID, okta.UserUpdate{Profile: okta.Profile{"nickName": "d"}})
		}
		wantErr(t, err, apierr.Transient, 0, "")
		// The SDK retries io.EOF without limit; the adapter must stop it.
		if n := s.Fake.Calls(route) - before; n > 2 {
			t.Errorf("%s: %d requests for one call", route, n)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s: the call took %s", route, d)
		}
		s.Fake.ClearFaults()
	}
}

func (s *suite) testDeadline(t *testing.T) {
	c := s.client(t)
	s.Fake.SetLatency(fakeokta.RouteGetUser, 2*time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := c.GetUser(ctx, s.login("slow"))
	ae := wantErr(t, err, apierr.Transient, 0, "")
	if !strings.Contains(ae.Error(), "deadline") {
		t.Errorf("error = %v, want a deadline", ae)
	}
}

// hook is a password import hook served over TLS by HookCA.
type hook struct {
	url     string
	mu      sync.Mutex
	handler http.HandlerFunc
	bodies  [][]byte
	headers []http.Header
}

const hookSecret = "Basic Y29uZm9ybWFuY2U6c2VjcmV0" // conformance:secret

func (s *suite) startHook(t *testing.T) *hook {
	t.Helper()
	h := &hook{}
	srv, err := s.HookCA.Serve("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.bodies = append(h.bodies, b)
		h.headers = append(h.headers, r.Header.Clone())
		fn := h.handler
		h.mu.Unlock()
		fn(w, r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	h.url = srv.URL + "/okta/password-import"
	if _, err := s.Fake.SetPasswordImportHook(h.url, "Authorization", hookSecret); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *hook) set(fn http.HandlerFunc) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.handler, h.bodies, h.headers = fn, nil, nil
}

func (h *hook) calls() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bodies)
}

func command(credential string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"`+credential+`"}}]}`)
	}
}

func reply(status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(status) }
}

// hang answers nothing until Okta gives up on the attempt, then drops the
// connection (returning would send an implicit empty 200).
func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
	panic(http.ErrAbortHandler)
}

// signIn posts to /api/v1/authn as a browser would and returns the status
// and the decoded answer.
func (s *suite) signIn(t *testing.T, username, password string) (int, map[string]any) {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.OrgURL+"/api/v1/authn", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	res, err := s.HTTPClient.Do(req)
	if err != nil {
		t.Fatalf("sign-in: %v", err)
	}
	defer res.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out
}

func (s *suite) testSignIn(t *testing.T) {
	c := s.client(t)
	h := s.startHook(t)
	tests := []struct {
		name      string
		handler   http.HandlerFunc
		attempts  int
		signedIn  bool
		imported  bool
		importEvt string
	}{
		{"VERIFIED", command("VERIFIED"), 1, true, true, "SUCCESS"},
		{"UNVERIFIED", command("UNVERIFIED"), 1, false, false, "FAILURE"},
		{"204 default action", reply(http.StatusNoContent), 1, false, false, "FAILURE"},
		{"timeout then retry", hang, 2, false, false, "FAILURE"},
		{"5xx then retry", reply(http.StatusBadGateway), 2, false, false, "FAILURE"},
		{"4xx not retried", reply(http.StatusUnauthorized), 1, false, false, "FAILURE"},
		{"redirect not followed", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, "/okta/elsewhere", http.StatusFound)
		}, 1, false, false, "FAILURE"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			login := s.login("signin")
			const password = "Entra-Pa55word!"
			since := time.Now().Add(-time.Second)
			u := s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true, Activate: true})
			h.set(tc.handler)

			status, ans := s.signIn(t, login, password)
			if tc.signedIn != (status == http.StatusOK) {
				t.Fatalf("sign-in status %d (%v), want signed in = %v", status, ans, tc.signedIn)
			}
			if !tc.signedIn && (status != http.StatusUnauthorized || ans["errorCode"] != "E0000004") {
				t.Errorf("failed sign-in answered %d %v, want 401 E0000004", status, ans)
			}
			if tc.signedIn && (ans["status"] != "SUCCESS" || ans["sessionToken"] == nil) {
				t.Errorf("sign-in answer = %v", ans)
			}
			if h.calls() != tc.attempts {
				t.Errorf("hook attempts = %d, want %d", h.calls(), tc.attempts)
			}
			got, err := c.GetUser(t.Context(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			wantProvider := okta.ProviderImport
			if tc.imported {
				wantProvider = okta.ProviderOkta
			}
			if got.ProviderType != wantProvider || got.ProviderName != wantProvider {
				t.Errorf("provider = %s/%s, want %s", got.ProviderType, got.ProviderName, wantProvider)
			}
			if s.Fake.CheckPassword(login, password) != tc.imported {
				t.Errorf("password stored = %v, want %v", !tc.imported, tc.imported)
			}
			if tc.imported && (got.PasswordChanged.Before(since) || got.LastLogin.IsZero()) {
				t.Errorf("after import: %+v", got)
			}
			evs, err := c.PasswordImportEvents(t.Context(), u.ID, since)
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Outcome != tc.importEvt || evs[0].EventType != okta.EventTypePasswordImport ||
				len(evs[0].TargetIDs) == 0 || evs[0].TargetIDs[0] != u.ID || evs[0].UUID == "" || evs[0].Published.IsZero() {
				t.Errorf("PasswordImportEvents = %+v, want one %s", evs, tc.importEvt)
			}

			// The next sign-in calls the hook again unless the password was imported.
			h.set(command("UNVERIFIED"))
			status, _ = s.signIn(t, login, password)
			if tc.imported {
				if h.calls() != 0 || status != http.StatusOK {
					t.Errorf("second sign-in: hook calls %d, status %d; want no hook call and success", h.calls(), status)
				}
				if st, _ := s.signIn(t, login, "wrong-password"); st != http.StatusUnauthorized {
					t.Errorf("wrong password after import answered %d", st)
				}
			} else if h.calls() != 1 {
				t.Errorf("second sign-in: hook calls %d, want 1", h.calls())
			}
		})
	}
}

func (s *suite) testHookRequest(t *testing.T) {
	c := s.client(t)
	h := s.startHook(t)
	h.set(command("VERIFIED"))
	login := s.login("shape")
	s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true, Activate: true})
	typed := strings.ToUpper(login[:1]) + login[1:] // Okta passes on what the user typed
	if status, ans := s.signIn(t, typed, "Okta"); status != http.StatusOK {
		t.Fatalf("sign-in: %d %v", status, ans)
	}
	if h.calls() != 1 {
		t.Fatalf("hook calls = %d", h.calls())
	}
	hdr := h.headers[0]
	for k, v := range map[string]string{"Accept": "application/json", "Content-Type": "application/json", "Authorization": hookSecret} {
		if hdr.Get(k) != v {
			t.Errorf("hook header %s = %q, want %q", k, hdr.Get(k), v)
		}
	}
	var body map[string]any
	if err := json.Unmarshal(h.bodies[0], &body); err != nil {
		t.Fatalf("hook request %s: %v", h.bodies[0], err)
	}
	got := map[string]any{}
	jsonLeaves("", body, got)
	calls := s.Fake.HookCalls()
	hookID := calls[len(calls)-1].HookID
	// The request's fields by JSON path, as PasswordImportPayloadExample of
	// https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook
	// spells them; "" marks a value generated per request.
	want := map[string]string{
		"eventId":                          "",
		"eventTime":                        "",
		"eventType":                        "com.okta.user.credential.password.import",
		"eventTypeVersion":                 "1.0",
		"contentType":                      "application/json",
		"cloudEventVersion":                "0.1",
		"source":                           s.OrgURL + "/api/v1/inlineHooks/" + hookID,
		"data.context.request.id":          "",
		"data.context.request.method":      "POST",
		"data.context.request.url.value":   "/api/v1/authn",
		"data.context.request.ipAddress":   "198.51.100.7",
		"data.context.credential.username": typed,
		"data.context.credential.password": "Okta",
		"data.action.credential":           "UNVERIFIED",
	}
	for path, v := range got {
		if _, ok := want[path]; !ok {
			t.Errorf("hook request has %s = %v, a field Okta does not send", path, v)
		}
	}
	for path, w := range want {
		v, ok := got[path].(string)
		if !ok || (w == "" && v == "") || (w != "" && v != w) {
			t.Errorf("hook request %s = %#v, want %q", path, got[path], w)
		}
	}
	eventTime, _ := got["eventTime"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05.000Z", eventTime); err != nil {
		t.Errorf("eventTime %q: %v", eventTime, err)
	}
	if calls[len(calls)-1].EventID != got["eventId"] {
		t.Errorf("eventId %v not recorded", got["eventId"])
	}
}

// jsonLeaves adds the leaves of a decoded JSON value to out by dotted path
// ("data.context.request.id"); an empty object is a leaf.
func jsonLeaves(path string, v any, out map[string]any) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		out[path] = v
		return
	}
	for k, x := range m {
		if path != "" {
			k = path + "." + k
		}
		jsonLeaves(k, x, out)
	}
}

func (s *suite) testReadOnly(t *testing.T) {
	c := s.client(t)
	h := s.startHook(t)
	h.set(command("VERIFIED"))
	login := s.login("readonly")
	since := time.Now().Add(-time.Second)
	u := s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true, Activate: true})
	s.Fake.SetReadOnly(true)
	if status, ans := s.signIn(t, login, "Pa55word!"); status != http.StatusOK {
		t.Fatalf("read-only sign-in: %d %v, want signed in", status, ans)
	}
	got, _ := c.GetUser(t.Context(), u.ID)
	if got.ProviderType != okta.ProviderImport || s.Fake.CheckPassword(login, "Pa55word!") {
		t.Errorf("read-only mode stored the password: %+v", got)
	}
	s.Fake.SetReadOnly(false)
	h.set(command("VERIFIED"))
	if status, _ := s.signIn(t, login, "Pa55word!"); status != http.StatusOK || h.calls() != 1 {
		t.Errorf("after read-only mode: status %d, hook calls %d; want the hook called again", status, h.calls())
	}
	evs, err := c.PasswordImportEvents(t.Context(), u.ID, since)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 2 || evs[0].Outcome != "FAILURE" || evs[1].Outcome != "SUCCESS" || evs[0].Published.After(evs[1].Published) {
		t.Errorf("events = %+v, want FAILURE (read-only) then SUCCESS", evs)
	}
}
