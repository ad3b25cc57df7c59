package pwimport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.temporal.io/api/serviceerror"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook"
	"entra2okta/workflows"
)

func TestDocumentedPayloads(t *testing.T) {
	for _, name := range []string{"identity-engine.json", "classic.json"} {
		t.Run(name, func(t *testing.T) {
			var gotUser, gotPassword string
			v := &fakeVerifier{fn: func(ctx context.Context, u, p string) entra.Result {
				gotUser, gotPassword = u, p
				if _, ok := ctx.Deadline(); !ok {
					t.Error("verifier called without a deadline")
				}
				return entra.Result{Verdict: entra.Verified, Reason: "ok", Latency: 3 * time.Millisecond}
			}}
			s := &fakeSignaler{}
			h := newTestHandler(t, Config{}, v, s, nil)
			if got := credentialOf(t, post(h, fixture(t, name))); got != "VERIFIED" {
				t.Fatalf("credential %q, want VERIFIED", got)
			}
			if gotUser != "isaac.brock@example.com" || gotPassword != "Okta" {
				t.Fatalf("verifier got user %q and a password of %d bytes", gotUser, len(gotPassword))
			}
			sent := s.waitSignals(t, 1)
			if sent[0].workflowID != workflows.UserWorkflowID("isaac.brock@example.com") {
				t.Fatalf("signalled %q", sent[0].workflowID)
			}
			sig := signalArg(t, sent[0])
			if sig.Outcome != workflows.OutcomeVerified || sig.EventID != "3o9jBzq1SmOGmmsDsqyyeQ" ||
				sig.Reason != "ok" || sig.Latency != 3*time.Millisecond || sig.At.IsZero() {
				t.Fatalf("signal %+v", sig)
			}
		})
	}
}

func TestVerdictMatrix(t *testing.T) {
	cases := []struct {
		name       string
		res        entra.Result
		credential string
		outcome    string
	}{
		{"success", entra.Result{Verdict: entra.Verified, Reason: "ok"}, "VERIFIED", workflows.OutcomeVerified},
		{"mfa required (policy)", entra.Result{Verdict: entra.Verified, Code: 50076, Reason: "mfa_required"}, "VERIFIED", workflows.OutcomeVerified},
		{"mfa enrollment (policy)", entra.Result{Verdict: entra.Verified, Code: 50079, Reason: "mfa_enrollment"}, "VERIFIED", workflows.OutcomeVerified},
		{"external challenge (policy)", entra.Result{Verdict: entra.Verified, Code: 50158, Reason: "external_challenge"}, "VERIFIED", workflows.OutcomeVerified},
		{"wrong password", entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: "wrong_password"}, "UNVERIFIED", workflows.OutcomeUnverified},
		{"no such user", entra.Result{Verdict: entra.Rejected, Code: 50034, Reason: "user_not_found"}, "UNVERIFIED", workflows.OutcomeUnverified},
		{"disabled", entra.Result{Verdict: entra.Rejected, Code: 50057, Reason: "disabled"}, "UNVERIFIED", workflows.OutcomeUnverified},
		{"expired (policy default)", entra.Result{Verdict: entra.Rejected, Code: 50055, Reason: "password_expired"}, "UNVERIFIED", workflows.OutcomeUnverified},
		{"conditional access (policy default)", entra.Result{Verdict: entra.Rejected, Code: 53003, Reason: "conditional_access"}, "UNVERIFIED", workflows.OutcomeUnverified},
		{"locked", entra.Result{Verdict: entra.Indeterminate, Code: 50053, Reason: "locked"}, "UNDECIDED", workflows.OutcomeIndeterminate},
		{"throttled", entra.Result{Verdict: entra.Indeterminate, Reason: "throttled", RetryAfter: time.Second}, "UNDECIDED", workflows.OutcomeIndeterminate},
		{"loop detected", entra.Result{Verdict: entra.Indeterminate, Code: 50196, Reason: "throttled"}, "UNDECIDED", workflows.OutcomeIndeterminate},
		{"config error", entra.Result{Verdict: entra.Indeterminate, Code: 7000218, Reason: "config"}, "UNDECIDED", workflows.OutcomeIndeterminate},
		{"verifier timeout", entra.Result{Verdict: entra.Indeterminate, Reason: "timeout"}, "UNDECIDED", workflows.OutcomeIndeterminate},
		{"empty verdict", entra.Result{}, "UNDECIDED", workflows.OutcomeIndeterminate},
		{"unknown verdict", entra.Result{Verdict: "maybe", Code: 12345}, "UNDECIDED", workflows.OutcomeIndeterminate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := verifierReturning(tc.res)
			s := &fakeSignaler{}
			h := newTestHandler(t, Config{}, v, s, nil)
			w := post(h, payload("ev-"+tc.name, "user@example.com", "pw", "203.0.113.5"))
			if got := credentialOf(t, w); got != tc.credential {
				t.Fatalf("credential %q, want %q", got, tc.credential)
			}
			if n := v.calls.Load(); n != 1 {
				t.Fatalf("%d verifier calls", n)
			}
			sig := signalArg(t, s.waitSignals(t, 1)[0])
			if sig.Outcome != tc.outcome || sig.Code != tc.res.Code || sig.Reason != tc.res.Reason || sig.EventID != "ev-"+tc.name {
				t.Fatalf("signal %+v, want outcome %s code %d reason %q", sig, tc.outcome, tc.res.Code, tc.res.Reason)
			}
			if got := testutil.ToFloat64(h.m.outcomes.WithLabelValues(tc.outcome, tc.res.Reason)); got != 1 {
				t.Fatalf("outcome metric %v", got)
			}
		})
	}
}

func TestUnauthenticated(t *testing.T) {
	body := fixture(t, "identity-engine.json")
	cases := []struct {
		name   string
		cfg    Config
		mutate func(*http.Request)
	}{
		{"no header", Config{}, func(r *http.Request) { r.Header.Del("Authorization") }},
		{"empty header", Config{}, func(r *http.Request) { r.Header.Set("Authorization", "") }},
		{"wrong secret", Config{}, func(r *http.Request) { r.Header.Set("Authorization", "Basic d3Jvbmc6c2VjcmV0") }},
		{"secret without scheme", Config{}, func(r *http.Request) {
			r.Header.Set("Authorization", strings.TrimPrefix(testSecret, "Basic "))
		}},
		{"secret with a suffix", Config{}, func(r *http.Request) { r.Header.Set("Authorization", testSecret+"x") }},
		{"secret in other case", Config{}, func(r *http.Request) { r.Header.Set("Authorization", strings.ToUpper(testSecret)) }},
		{"two values", Config{}, func(r *http.Request) { r.Header.Add("Authorization", testSecret) }},
		{"secret in the wrong header", Config{AuthHeader: "X-Hook-Secret"}, func(*http.Request) {}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := verifierReturning(entra.Result{Verdict: entra.Verified})
			s := &fakeSignaler{}
			h := newTestHandler(t, tc.cfg, v, s, nil)
			w := post(h, body, tc.mutate)
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", w.Code)
			}
			if strings.Contains(w.Body.String(), "VERIFIED") {
				t.Fatalf("401 body carries a verdict: %s", w.Body.String())
			}
			if n := v.calls.Load(); n != 0 {
				t.Fatalf("%d verifier calls on an unauthenticated request", n)
			}
			time.Sleep(10 * time.Millisecond)
			if n := len(s.signals()); n != 0 {
				t.Fatalf("%d signals on an unauthenticated request", n)
			}
		})
	}
}

func TestCustomAuthHeader(t *testing.T) {
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h := newTestHandler(t, Config{AuthHeader: "x-okta-hook-secret", AuthSecret: "s3cr3t-value"}, v, &fakeSignaler{}, nil)
	w := post(h, fixture(t, "classic.json"), func(r *http.Request) {
		r.Header.Del("Authorization")
		r.Header.Set("X-Okta-Hook-Secret", "s3cr3t-value")
	})
	if got := credentialOf(t, w); got != "VERIFIED" {
		t.Fatalf("credential %q", got)
	}
}

func TestNewHandlerRefusesNoSecret(t *testing.T) {
	v := verifierReturning(entra.Result{})
	if _, err := NewHandler(Config{}, v, &fakeSignaler{}, nil); err == nil {
		t.Fatal("NewHandler accepted an empty auth secret")
	}
	if _, err := NewHandler(Config{AuthSecret: "x", OAuth: &hook.OAuthConfig{Issuer: "https://o", Audience: "a", ClientID: "c"}},
		v, &fakeSignaler{}, nil); err == nil {
		t.Fatal("NewHandler accepted OAuth with the secret in Authorization")
	}
}

func TestBadRequests(t *testing.T) {
	good := string(fixture(t, "identity-engine.json"))
	deep := strings.Repeat(`{"a":`, 40) + `1` + strings.Repeat(`}`, 40)
	cases := []struct {
		name   string
		body   string
		mutate func(*http.Request)
	}{
		{"empty body", "", nil},
		{"not json", "username=isaac&password=Okta", nil},
		{"array", "[" + good + "]", nil},
		{"string", `"hello"`, nil},
		{"null", `null`, nil},
		{"truncated", good[:len(good)/2], nil},
		{"trailing garbage", good + "x", nil},
		{"two objects", good + good, nil},
		{"duplicate username", `{"data":{"context":{"credential":{"username":"a@example.com","username":"b@example.com","password":"p"}}}}`, nil},
		{"duplicate data", `{"data":{"context":{"credential":{"username":"a@example.com","password":"p"}}},"data":{}}`, nil},
		{"wrong case member", `{"data":{"context":{"credential":{"Username":"a@example.com","password":"p"}}}}`, nil},
		{"username is a number", `{"data":{"context":{"credential":{"username":42,"password":"p"}}}}`, nil},
		{"password is null", `{"data":{"context":{"credential":{"username":"a@example.com","password":null}}}}`, nil},
		{"password is an object", `{"data":{"context":{"credential":{"username":"a@example.com","password":{"v":"p"}}}}}`, nil},
		{"empty password", `{"data":{"context":{"credential":{"username":"a@example.com","password":""}}}}`, nil},
		{"empty username", `{"data":{"context":{"credential":{"username":"","password":"p"}}}}`, nil},
		{"no credential", `{"data":{"context":{"request":{"ipAddress":"1.2.3.4"}}}}`, nil},
		{"legacy data.credential path", `{"data":{"credential":{"username":"a@example.com","password":"p"}}}`, nil},
		{"no data", `{"eventId":"x"}`, nil},
		{"data is a string", `{"data":"x"}`, nil},
		{"request is a string", `{"data":{"context":{"request":"x","credential":{"username":"a@example.com","password":"p"}}}}`, nil},
		{"ipAddress is a number", `{"data":{"context":{"request":{"ipAddress":1},"credential":{"username":"a@example.com","password":"p"}}}}`, nil},
		{"eventId is a number", `{"eventId":1,"data":{"context":{"credential":{"username":"a@example.com","password":"p"}}}}`, nil},
		{"other hook type", strings.Replace(good, EventTypePasswordImport, "com.okta.oauth2.tokens.transform", 1), nil},
		{"invalid utf-8", `{"data":{"context":{"credential":{"username":"a@example.com","password":"` + "\xff\xfe" + `"}}}}`, nil},
		{"too deep", deep, nil},
		{"oversized", `{"pad":"` + strings.Repeat("x", 70<<10) + `",` + good[1:], nil},
		{"text/plain", good, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }},
		{"no content type", good, func(r *http.Request) { r.Header.Del("Content-Type") }},
		{"form content type", good, func(r *http.Request) { r.Header.Set("Content-Type", "application/x-www-form-urlencoded") }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := verifierReturning(entra.Result{Verdict: entra.Verified})
			s := &fakeSignaler{}
			h := newTestHandler(t, Config{}, v, s, nil)
			var mut []func(*http.Request)
			if tc.mutate != nil {
				mut = append(mut, tc.mutate)
			}
			w := post(h, []byte(tc.body), mut...)
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400 (body %s)", w.Code, w.Body.String())
			}
			if !strings.Contains(w.Body.String(), `"errorSummary"`) || strings.Contains(w.Body.String(), "VERIFIED") {
				t.Fatalf("400 body %s", w.Body.String())
			}
			if n := v.calls.Load(); n != 0 {
				t.Fatalf("%d verifier calls on a bad request", n)
			}
			time.Sleep(5 * time.Millisecond)
			if n := len(s.signals()); n != 0 {
				t.Fatalf("%d signals on a bad request", n)
			}
		})
	}
}

func TestToleratesContractGrowth(t *testing.T) {
	body := `{"eventId":"e1","newTopLevel":{"x":[1,2,{"y":null}]},"data":{"newInData":true,"context":{` +
		`"request":{"id":"r","ipAddress":"2001:db8::1","newInRequest":"v","url":{"value":"/idp/idx/challenge/answer","extra":1}},` +
		`"credential":{"username":"a@example.com","password":"p","newInCredential":"v"},"newInContext":7},` +
		`"action":{"credential":"UNVERIFIED","extra":false}}}`
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	charset := func(r *http.Request) { r.Header.Set("Content-Type", "application/json; charset=UTF-8") }
	if got := credentialOf(t, post(h, []byte(body), charset)); got != "VERIFIED" {
		t.Fatalf("credential %q", got)
	}
	// A member the hook does not read may change shape.
	reshaped := `{"data":{"context":{"request":{"url":"/api/v1/authn","method":7},"credential":{"username":"c@example.com","password":"p"}}}}`
	if got := credentialOf(t, post(h, []byte(reshaped))); got != "VERIFIED" {
		t.Fatalf("credential %q", got)
	}
	// Without the optional eventType, request and action members.
	min := `{"data":{"context":{"credential":{"username":"b@example.com","password":"p"}}}}`
	if got := credentialOf(t, post(h, []byte(min))); got != "VERIFIED" {
		t.Fatalf("credential %q", got)
	}
}

func TestMethodNotAllowed(t *testing.T) {
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	for _, m := range []string{http.MethodGet, http.MethodPut} {
		r, _ := http.NewRequest(m, PasswordImportPath, bytes.NewReader(fixture(t, "classic.json")))
		r.Header.Set("Authorization", testSecret)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed {
			t.Fatalf("%s: status %d", m, w.Code)
		}
	}
	if n := v.calls.Load(); n != 0 {
		t.Fatalf("%d verifier calls", n)
	}
}

func TestCoalescesIdenticalChecks(t *testing.T) {
	release := make(chan struct{})
	v := &fakeVerifier{fn: func(ctx context.Context, _, p string) entra.Result {
		select {
		case <-release:
		case <-ctx.Done():
			return entra.Result{Verdict: entra.Indeterminate, Reason: "timeout"}
		}
		return entra.Result{Verdict: entra.Verified, Reason: "ok"}
	}}
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	var arrived atomic.Int64
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { arrived.Add(1); h.ServeHTTP(w, r) })
	const n = 20
	var wg sync.WaitGroup
	creds := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The same user typed in different case is the same check.
			user := "Carol@Example.com"
			if i%2 == 0 {
				user = "carol@example.com"
			}
			creds[i] = credentialOf(t, post(counting, payload(fmt.Sprint("e", i), user, "right", "198.51.100.7")))
		}()
	}
	for arrived.Load() < n {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(100 * time.Millisecond) // from arrival to joining the check is microseconds
	close(release)
	wg.Wait()
	for i, c := range creds {
		if c != "VERIFIED" {
			t.Fatalf("request %d: %q", i, c)
		}
	}
	if got := v.calls.Load(); got != 1 {
		t.Fatalf("%d verifier calls for %d identical checks, want 1", got, n)
	}
	if got := testutil.ToFloat64(h.m.coalesced); got != n-1 {
		t.Fatalf("coalesced %v, want %d", got, n-1)
	}
}

func TestNegativeCache(t *testing.T) {
	v := passwordVerifier("right")
	s := &fakeSignaler{}
	h := newTestHandler(t, Config{}, v, s, nil)
	// Entra's rejection is UNVERIFIED; the repeats, answered from memory,
	// are undecided (a failed hook call, not another failed sign-in for
	// Okta's lockout).
	for i, want := range []string{"UNVERIFIED", "UNDECIDED", "UNDECIDED"} {
		if got := credentialOf(t, post(h, payload(fmt.Sprint("e", i), "dave@example.com", "wrong", ""))); got != want {
			t.Fatalf("attempt %d: %q, want %q", i, got, want)
		}
	}
	if got := v.calls.Load(); got != 1 {
		t.Fatalf("%d verifier calls for a repeated wrong password, want 1", got)
	}
	sig := signalFor(t, s.waitSignals(t, 3), "e2")
	if sig.Outcome != workflows.OutcomeUnverified || sig.Reason != reasonCachedReject || sig.Code != 50126 {
		t.Fatalf("cached signal %+v", sig)
	}
	// The right password, and the same wrong password for another user, still go to Entra.
	if got := credentialOf(t, post(h, payload("e", "dave@example.com", "right", ""))); got != "VERIFIED" {
		t.Fatalf("right password: %q", got)
	}
	_ = post(h, payload("e", "erin@example.com", "wrong", ""))
	if got := v.calls.Load(); got != 3 {
		t.Fatalf("%d verifier calls, want 3", got)
	}
}

func TestUserBudget(t *testing.T) {
	v := passwordVerifier("right")
	s := &fakeSignaler{}
	h := newTestHandler(t, Config{Shield: ShieldConfig{UserAttempts: 3}}, v, s, nil)
	for i := range 3 {
		_ = post(h, payload("e", "frank@example.com", fmt.Sprint("guess", i), ""))
	}
	// Budget spent: even the right password is not sent to Entra.
	if got := credentialOf(t, post(h, payload("e4", "FRANK@example.com", "right", ""))); got != "UNDECIDED" {
		t.Fatalf("over budget: %q", got)
	}
	if got := v.calls.Load(); got != 3 {
		t.Fatalf("%d verifier calls, want 3", got)
	}
	sig := signalFor(t, s.waitSignals(t, 4), "e4")
	if sig.Outcome != workflows.OutcomeIndeterminate || sig.Reason != reasonUserBudget {
		t.Fatalf("signal %+v", sig)
	}
	if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonUserBudget)); got != 1 {
		t.Fatalf("shield metric %v", got)
	}
	// Other users are unaffected.
	if got := credentialOf(t, post(h, payload("e", "grace@example.com", "right", ""))); got != "VERIFIED" {
		t.Fatalf("other user: %q", got)
	}
}

func TestVerifiedClearsUserBudget(t *testing.T) {
	v := passwordVerifier("right")
	h := newTestHandler(t, Config{Shield: ShieldConfig{UserAttempts: 3}}, v, &fakeSignaler{}, nil)
	_ = post(h, payload("e", "heidi@example.com", "g1", ""))
	_ = post(h, payload("e", "heidi@example.com", "g2", ""))
	if got := credentialOf(t, post(h, payload("e", "heidi@example.com", "right", ""))); got != "VERIFIED" {
		t.Fatalf("%q", got)
	}
	for i := range 3 {
		_ = post(h, payload("e", "heidi@example.com", fmt.Sprint("again", i), ""))
	}
	if got := v.calls.Load(); got != 6 {
		t.Fatalf("%d verifier calls, want 6", got)
	}
}

func TestIPBudget(t *testing.T) {
	v := passwordVerifier("right")
	h := newTestHandler(t, Config{Shield: ShieldConfig{IPAttempts: 2}}, v, &fakeSignaler{}, nil)
	_ = post(h, payload("e", "u1@example.com", "x", "203.0.113.9"))
	_ = post(h, payload("e", "u2@example.com", "x", "203.0.113.9"))
	if got := credentialOf(t, post(h, payload("e", "u3@example.com", "right", "203.0.113.9"))); got != "UNDECIDED" {
		t.Fatalf("over address budget: %q", got)
	}
	// Addresses in one IPv6 /64 share a budget.
	_ = post(h, payload("e", "u4@example.com", "x", "2001:db8:1:2::1"))
	_ = post(h, payload("e", "u5@example.com", "x", "2001:db8:1:2:ffff::9"))
	_ = post(h, payload("e", "u6@example.com", "x", "2001:db8:1:2::77"))
	if got := credentialOf(t, post(h, payload("e", "u7@example.com", "right", "203.0.113.10"))); got != "VERIFIED" {
		t.Fatalf("other address: %q", got)
	}
	if got := v.calls.Load(); got != 5 {
		t.Fatalf("%d verifier calls, want 5", got)
	}
	if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonIPBudget)); got != 2 {
		t.Fatalf("address rejections %v, want 2", got)
	}
}

func TestEntraLockoutCoolsUserDown(t *testing.T) {
	for _, code := range []int{50053, 50196} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			v := verifierReturning(entra.Result{Verdict: entra.Indeterminate, Code: code, Reason: "locked"})
			h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
			_ = post(h, payload("e", "ivan@example.com", "a", ""))
			_ = post(h, payload("e", "ivan@example.com", "b", ""))
			_ = post(h, payload("e", "judy@example.com", "a", ""))
			if got := v.calls.Load(); got != 2 {
				t.Fatalf("%d verifier calls, want 2 (ivan cooled down after %d)", got, code)
			}
		})
	}
}

func TestEntraThrottlingPausesCalls(t *testing.T) {
	v := verifierReturning(entra.Result{Verdict: entra.Indeterminate, Reason: "throttled", RetryAfter: time.Minute})
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	_ = post(h, payload("e", "a@example.com", "a", ""))
	if got := credentialOf(t, post(h, payload("e", "b@example.com", "b", ""))); got != "UNDECIDED" {
		t.Fatalf("%q", got)
	}
	if got := v.calls.Load(); got != 1 {
		t.Fatalf("%d verifier calls during Entra's Retry-After, want 1", got)
	}
	if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonEntraBackoff)); got != 1 {
		t.Fatalf("backoff metric %v", got)
	}
}

func TestOverlongCredentialNotSent(t *testing.T) {
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	if got := credentialOf(t, post(h, payload("e", "a@example.com", strings.Repeat("p", 2000), ""))); got != "UNDECIDED" {
		t.Fatalf("%q", got)
	}
	if got := credentialOf(t, post(h, payload("e", strings.Repeat("u", 600)+"@example.com", "p", ""))); got != "UNDECIDED" {
		t.Fatalf("%q", got)
	}
	if n := v.calls.Load(); n != 0 {
		t.Fatalf("%d verifier calls", n)
	}
}

func TestOverloadAnswersAtOnce(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	entered := make(chan struct{}, 1)
	v := &fakeVerifier{fn: func(ctx context.Context, _, _ string) entra.Result {
		entered <- struct{}{}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return entra.Result{Verdict: entra.Indeterminate, Reason: "timeout"}
	}}
	h := newTestHandler(t, Config{MaxConcurrent: 1}, v, &fakeSignaler{}, nil)
	go post(h, payload("e", "a@example.com", "a", ""))
	<-entered
	start := time.Now()
	if got := credentialOf(t, post(h, payload("e", "b@example.com", "b", ""))); got != "UNDECIDED" {
		t.Fatalf("%q", got)
	}
	if d := time.Since(start); d > 500*time.Millisecond {
		t.Fatalf("overloaded answer took %v", d)
	}
	if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonOverloaded)); got != 1 {
		t.Fatalf("overloaded metric %v", got)
	}
}

func TestVerifierHangsAnswerWithinBudget(t *testing.T) {
	const budget = 200 * time.Millisecond
	for _, honours := range []bool{true, false} {
		t.Run(fmt.Sprint("honours ctx=", honours), func(t *testing.T) {
			stuck := make(chan struct{})
			t.Cleanup(func() { close(stuck) })
			v := &fakeVerifier{fn: func(ctx context.Context, _, _ string) entra.Result {
				if honours {
					<-ctx.Done()
				} else {
					<-stuck // ignores its deadline entirely
				}
				return entra.Result{Verdict: entra.Verified}
			}}
			s := &fakeSignaler{}
			h := newTestHandler(t, Config{Budget: budget}, v, s, nil)
			start := time.Now()
			got := credentialOf(t, post(h, fixture(t, "classic.json")))
			took := time.Since(start)
			if got != "UNDECIDED" {
				t.Fatalf("hanging verifier answered %q", got)
			}
			// The check gives up answerReserve before the budget; allow the
			// race detector and a loaded CI machine some scheduling slack.
			if took < budget-answerReserve(budget) || took > budget+250*time.Millisecond {
				t.Fatalf("answered after %v, budget %v", took, budget)
			}
			sig := signalArg(t, s.waitSignals(t, 1)[0])
			if sig.Outcome != workflows.OutcomeIndeterminate || sig.Reason != "timeout" {
				t.Fatalf("signal %+v", sig)
			}
		})
	}
}

func TestSignalFailuresDoNotChangeTheAnswer(t *testing.T) {
	// A blocking signaler takes 3 × AttemptTimeout: far longer than the
	// answer may take.
	fast := SignalConfig{InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond, MaxAttempts: 3, AttemptTimeout: time.Second}
	cases := []struct {
		name     string
		err      func(ctx context.Context) error
		attempts int
		result   string
	}{
		{"temporal down", func(context.Context) error { return serviceerror.NewUnavailable("connection refused") }, 3, signalFailed},
		{"plain error", func(context.Context) error { return errors.New("boom") }, 3, signalFailed},
		{"no such workflow", func(context.Context) error { return serviceerror.NewNotFound("workflow not found") }, 1, signalNotFound},
		{"bad argument", func(context.Context) error { return serviceerror.NewInvalidArgument("bad") }, 1, signalFailed},
		{"blocks until deadline", func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }, 3, signalFailed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v := verifierReturning(entra.Result{Verdict: entra.Verified, Reason: "ok"})
			s := &fakeSignaler{fn: tc.err}
			h := newTestHandler(t, Config{Signals: fast, Budget: time.Second}, v, s, nil)
			start := time.Now()
			if got := credentialOf(t, post(h, fixture(t, "identity-engine.json"))); got != "VERIFIED" {
				t.Fatalf("%q", got)
			}
			if d := time.Since(start); d > 500*time.Millisecond {
				t.Fatalf("answer took %v", d)
			}
			s.waitSignals(t, tc.attempts)
			deadline := time.Now().Add(6 * time.Second)
			for testutil.ToFloat64(h.m.signals.WithLabelValues(tc.result)) != 1 && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if got := testutil.ToFloat64(h.m.signals.WithLabelValues(tc.result)); got != 1 {
				t.Fatalf("%s count %v", tc.result, got)
			}
			time.Sleep(20 * time.Millisecond)
			if n := len(s.signals()); n != tc.attempts {
				t.Fatalf("%d attempts, want %d", n, tc.attempts)
			}
		})
	}
}

func TestSignalQueueFullDrops(t *testing.T) {
	block := make(chan struct{})
	s := &fakeSignaler{fn: func(ctx context.Context) error {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return nil
	}}
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h := newTestHandler(t, Config{Signals: SignalConfig{QueueSize: 2, Workers: 1, AttemptTimeout: 5 * time.Second}}, v, s, nil)
	start := time.Now()
	for i := range 10 {
		if got := credentialOf(t, post(h, payload("e", fmt.Sprint("q", i, "@example.com"), "p", ""))); got != "VERIFIED" {
			t.Fatalf("%q", got)
		}
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("10 answers took %v with a stuck signaler", d)
	}
	// One in delivery, two queued, the rest dropped.
	if got := testutil.ToFloat64(h.m.signals.WithLabelValues(signalDropped)); got < 7 {
		t.Fatalf("dropped %v, want ≥ 7", got)
	}
	close(block)
}

func TestShutdownDrainsSignals(t *testing.T) {
	s := &fakeSignaler{fn: func(context.Context) error { time.Sleep(5 * time.Millisecond); return nil }}
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h, err := NewHandler(Config{AuthSecret: testSecret, Signals: SignalConfig{Workers: 1}}, v, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		_ = post(h, payload("e", fmt.Sprint("d", i, "@example.com"), "p", ""))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(h.m.signals.WithLabelValues(signalDelivered)); got != 20 {
		t.Fatalf("delivered %v of 20 before shutdown returned", got)
	}
	// After shutdown the hook still answers; the signal is dropped and counted.
	if got := credentialOf(t, post(h, payload("e", "late@example.com", "p", ""))); got != "VERIFIED" {
		t.Fatalf("%q", got)
	}
	if got := testutil.ToFloat64(h.m.signals.WithLabelValues(signalDropped)); got != 1 {
		t.Fatalf("dropped %v", got)
	}
}

func TestShutdownIsBounded(t *testing.T) {
	s := &fakeSignaler{fn: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() }}
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h, err := NewHandler(Config{AuthSecret: testSecret, Signals: SignalConfig{Workers: 1, AttemptTimeout: time.Hour}}, v, s, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		_ = post(h, payload("e", fmt.Sprint("b", i, "@example.com"), "p", ""))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("shutdown: %v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("shutdown took %v", d)
	}
}

// TestIPBudgetCountsFailuresOnly: behind one office NAT, VPN or secure web
// gateway, any number of users with the right password are verified; only
// failures spend the address's budget; trusted ranges have none; requests
// without an address share one.
func TestIPBudgetCountsFailuresOnly(t *testing.T) {
	v := passwordVerifier("right")
	office := "198.51.100.0/24"
	h := newTestHandler(t, Config{Shield: ShieldConfig{IPAttempts: 3, IPTrusted: []netip.Prefix{netip.MustParsePrefix(office)}}}, v, &fakeSignaler{}, nil)
	for i := range 120 {
		if got := credentialOf(t, post(h, payload("e", fmt.Sprintf("staff%d@example.com", i), "right", "203.0.113.20"))); got != "VERIFIED" {
			t.Fatalf("user %d behind one address with the right password: %q", i, got)
		}
	}
	for i := range 3 {
		_ = post(h, payload("e", fmt.Sprintf("typo%d@example.com", i), "wrong", "203.0.113.20"))
	}
	if got := credentialOf(t, post(h, payload("e", "late@example.com", "right", "203.0.113.20"))); got == "VERIFIED" {
		t.Fatal("the address's failure budget is spent, yet a check reached Entra")
	}
	if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonIPBudget)); got != 1 {
		t.Fatalf("address rejections %v, want 1", got)
	}
	// A trusted range has no address budget (the per-user budget still holds).
	for i := range 10 {
		_ = post(h, payload("e", fmt.Sprintf("office%d@example.com", i), "wrong", "198.51.100.7"))
	}
	if got := credentialOf(t, post(h, payload("e", "office-late@example.com", "right", "198.51.100.8"))); got != "VERIFIED" {
		t.Fatalf("trusted range: %q", got)
	}
	// No address: one shared budget.
	for i := range 3 {
		_ = post(h, payload("e", fmt.Sprintf("anon%d@example.com", i), "wrong", ""))
	}
	calls := v.calls.Load()
	_ = post(h, payload("e", "anon-late@example.com", "right", ""))
	if v.calls.Load() != calls {
		t.Fatal("requests without an address have no budget")
	}
}

// TestCircuitBreaker: failures across many users beyond the tenant-wide
// budget open the breaker (metric, log line); no check reaches Entra until
// it closes.
func TestCircuitBreaker(t *testing.T) {
	v := passwordVerifier("right")
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return logs.Write(p)
	}), nil))
	h := newTestHandler(t, Config{Shield: ShieldConfig{GlobalFailures: 20, GlobalWindow: time.Hour, BreakerCooldown: 300 * time.Millisecond, IPAttempts: -1}},
		v, &fakeSignaler{}, logger)
	for i := range 30 {
		_ = post(h, payload("e", fmt.Sprintf("spray%d@example.com", i), "Summer2026!", ""))
	}
	if n := v.calls.Load(); n != 20 {
		t.Fatalf("%d checks reached Entra, want the 20 of the tenant-wide budget", n)
	}
	if got := testutil.ToFloat64(h.m.breakerTrips); got != 1 {
		t.Fatalf("breaker trips %v, want 1", got)
	}
	if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonBreakerOpen)); got != 10 {
		t.Fatalf("breaker rejections %v, want 10", got)
	}
	mu.Lock()
	logged := strings.Contains(logs.String(), "circuit breaker open")
	mu.Unlock()
	if !logged {
		t.Fatal("no log line when the breaker opened")
	}
	// After the cool-down the breaker closes, but the window still holds 20
	// failures: the next check opens it again.
	time.Sleep(350 * time.Millisecond)
	if got := credentialOf(t, post(h, payload("e", "real@example.com", "right", ""))); got == "VERIFIED" {
		t.Fatal("the window still holds 20 failures: the breaker must open again")
	}
	if got := testutil.ToFloat64(h.m.breakerTrips); got != 2 {
		t.Fatalf("breaker trips %v, want 2", got)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// TestPanicInCoalescedCheckIsRecovered: a panic in a shared check would be
// re-raised by singleflight in every waiter and kill the process; it is
// answered undecided and counted instead.
func TestPanicInCoalescedCheckIsRecovered(t *testing.T) {
	release := make(chan struct{})
	v := &fakeVerifier{fn: func(context.Context, string, string) entra.Result {
		<-release
		panic("verifier bug")
	}}
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	var wg sync.WaitGroup
	got := make([]string, 4)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = credentialOf(t, post(h, payload("e", "pat@example.com", "pw", "")))
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	for i, g := range got {
		if g != "UNDECIDED" {
			t.Fatalf("request %d: %q", i, g)
		}
	}
	if n := testutil.ToFloat64(h.m.panics); n != 1 {
		t.Fatalf("panics metric %v, want 1", n)
	}
}

// TestOktaRetryOfTheSameRequestCostsNoEntraAttempt: Okta retries a hook call
// once after a time-out; the retry carries the same request id and
// credential and gets the same answer without a second Entra attempt. Another
// request with the same wrong password is not a retry.
func TestOktaRetryOfTheSameRequestCostsNoEntraAttempt(t *testing.T) {
	v := passwordVerifier("right")
	h := newTestHandler(t, Config{}, v, &fakeSignaler{}, nil)
	for range 2 {
		if got := credentialOf(t, post(h, payloadWithRequest("e1", "req-A", "quinn@example.com", "wrong", ""))); got != "UNVERIFIED" {
			t.Fatalf("%q", got)
		}
	}
	for range 2 {
		if got := credentialOf(t, post(h, payloadWithRequest("e2", "req-B", "quinn@example.com", "right", ""))); got != "VERIFIED" {
			t.Fatalf("%q", got)
		}
	}
	if n := v.calls.Load(); n != 2 {
		t.Fatalf("%d Entra attempts for two requests and their retries, want 2", n)
	}
	// Same request id, another password: checked (a retry never carries one).
	if got := credentialOf(t, post(h, payloadWithRequest("e3", "req-A", "quinn@example.com", "other", ""))); got != "UNVERIFIED" {
		t.Fatalf("%q", got)
	}
	if n := v.calls.Load(); n != 3 {
		t.Fatalf("%d Entra attempts, want 3", n)
	}
}

// TestPasswordWithOuterSpacesNotSent: ROPC does not support passwords with
// leading or trailing spaces; the hook answers undecided without asking
// Entra and without spending the user's budget.
func TestPasswordWithOuterSpacesNotSent(t *testing.T) {
	v := passwordVerifier("right")
	h := newTestHandler(t, Config{Shield: ShieldConfig{UserAttempts: 1, UserDailyAttempts: 1}}, v, &fakeSignaler{}, nil)
	for _, pw := range []string{" right", "right ", "\tright", "right\n", " "} {
		if got := credentialOf(t, post(h, payload("e", "rita@example.com", pw, ""))); got != "UNDECIDED" {
			t.Fatalf("%q: %q", pw, got)
		}
	}
	if n := v.calls.Load(); n != 0 {
		t.Fatalf("%d Entra attempts", n)
	}
	if got := credentialOf(t, post(h, payload("e", "rita@example.com", "right", ""))); got != "VERIFIED" {
		t.Fatalf("the budget was spent: %q", got)
	}
}
