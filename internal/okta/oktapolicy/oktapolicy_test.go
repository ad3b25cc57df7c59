package oktapolicy_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/okta/oktapolicy"
	"entra2okta/internal/pwpolicy"
)

// The hook server's policy check reads through a Reader.
var _ pwimport.PasswordPolicies = (*oktapolicy.Reader)(nil)

func startFake(t *testing.T) *fakeokta.Running {
	t.Helper()
	fk, err := fakeokta.Start(fakeokta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fk.Close() })
	return fk
}

func newReader(t *testing.T, cfg oktapolicy.Config) *oktapolicy.Reader {
	t.Helper()
	r, err := oktapolicy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestPasswordPolicies reads password policies over HTTP from fakeokta: a new org's default policy, complexity objects as the Policies
// API documents them (absent fields take the API's defaults), a policy
// scoped to a group, its rule's passwordChange, and the priority order.
func TestPasswordPolicies(t *testing.T) {
	fk := startFake(t)
	c := newReader(t, oktapolicy.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0)})
	pols, err := c.PasswordPolicies(t.Context())
	if err != nil || len(pols) != 1 {
		t.Fatalf("password policies: %+v %v", pols, err)
	}
	want := pwpolicy.Complexity{MinLength: 8, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, ExcludeUsername: true, ExcludeAttributes: []string{}}
	if d := pols[0]; !d.System || d.AuthProvider != "OKTA" || len(d.Groups) != 1 || d.Groups[0] != fk.EveryoneGroupID() ||
		!equalComplexity(d.Complexity, want) || len(d.Rules) != 1 || d.Rules[0].PasswordChange != "ALLOW" {
		t.Fatalf("default policy: %+v", d)
	}

	// Only minLength given: the other fields take the API's defaults.
	fk.SetPasswordComplexity(map[string]any{"minLength": 14})
	id, err := fk.AddPasswordPolicy(fakeokta.PasswordPolicySpec{Name: "Migrated", Groups: []string{"00gmigrated"},
		PasswordChange: "DENY", Complexity: map[string]any{"minLength": 10, "minSymbol": 1, "excludeUsername": false,
			"excludeAttributes": []string{"firstName", "lastName"}, "maxConsecutiveCharacters": 2,
			"dictionary": map[string]any{"common": map[string]any{"exclude": true}}}})
	if err != nil {
		t.Fatal(err)
	}
	pols, err = c.PasswordPolicies(t.Context())
	if err != nil || len(pols) != 2 || pols[0].ID != id || pols[0].Priority != 1 || pols[1].Priority != 2 {
		t.Fatalf("password policies, in priority order: %+v %v", pols, err)
	}
	if got, want := pols[0].Complexity, (pwpolicy.Complexity{MinLength: 10, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1,
		ExcludeAttributes: []string{"firstName", "lastName"}, DictionaryCommon: true, MaxConsecutiveCharacters: 2}); !equalComplexity(got, want) {
		t.Errorf("group policy's complexity: %+v, want %+v", got, want)
	}
	if !slices.Equal(pols[0].Groups, []string{"00gmigrated"}) || pols[0].Rules[0].PasswordChange != "DENY" {
		t.Errorf("group policy: %+v", pols[0])
	}
	if got, want := pols[1].Complexity, (pwpolicy.Complexity{MinLength: 14, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1,
		ExcludeUsername: true}); !equalComplexity(got, want) {
		t.Errorf("default policy's complexity with defaults: %+v, want %+v", got, want)
	}
}

func equalComplexity(a, b pwpolicy.Complexity) bool {
	return slices.Equal(a.ExcludeAttributes, b.ExcludeAttributes) && a.MinLength == b.MinLength &&
		a.MinLowerCase == b.MinLowerCase && a.MinUpperCase == b.MinUpperCase && a.MinNumber == b.MinNumber &&
		a.MinSymbol == b.MinSymbol && a.ExcludeUsername == b.ExcludeUsername && a.DictionaryCommon == b.DictionaryCommon &&
		a.MaxConsecutiveCharacters == b.MaxConsecutiveCharacters
}

// TestPasswordPoliciesFollowsNextLinks reads policies and rules split over
// pages linked by Link rel="next", sends the token as SSWS on every page,
// and refuses a next link to another origin (the token must not go there).
func TestPasswordPoliciesFollowsNextLinks(t *testing.T) {
	const token = "00pagedtoken"
	var foreign atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Authorization"); got != "SSWS "+token {
			t.Errorf("%s: Authorization %q", r.URL, got)
		}
		next := func(u string) { w.Header().Add("Link", `<`+u+`>; rel="next"`) }
		w.Header().Add("Link", `<http://`+r.Host+r.URL.RequestURI()+`>; rel="self"`)
		switch r.URL.Path + "?" + r.URL.RawQuery {
		case "/api/v1/policies?type=PASSWORD":
			next("http://" + r.Host + "/api/v1/policies?type=PASSWORD&after=p1")
			fmt.Fprint(w, `[{"id":"p1","name":"One","status":"ACTIVE","priority":1}]`)
		case "/api/v1/policies?type=PASSWORD&after=p1":
			fmt.Fprint(w, `[{"id":"p2","name":"Two","status":"ACTIVE","priority":2,"system":true,
				"conditions":{"people":{"groups":{"include":["00geveryone"]}}},"settings":{"password":{"complexity":{"minLength":12}}}}]`)
		case "/api/v1/policies/p1/rules?":
			next("/api/v1/policies/p1/rules?after=r1")
			fmt.Fprint(w, `[{"name":"r1","priority":1,"actions":{"passwordChange":{"access":"ALLOW"}}}]`)
		case "/api/v1/policies/p1/rules?after=r1":
			fmt.Fprint(w, `[{"name":"r2","priority":2,"conditions":{"people":{"users":{"include":["00u1"]}}}}]`)
		case "/api/v1/policies/p2/rules?":
			if foreign.Load() {
				next("http://other.example/api/v1/policies/p2/rules?after=x")
			}
			fmt.Fprint(w, `[]`)
		default:
			t.Errorf("unexpected request %s", r.URL)
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := newReader(t, oktapolicy.Config{OrgURL: srv.URL, APIToken: token})
	pols, err := c.PasswordPolicies(t.Context())
	if err != nil || len(pols) != 2 {
		t.Fatalf("policies: %+v %v", pols, err)
	}
	if p := pols[0]; p.ID != "p1" || len(p.Rules) != 2 || p.Rules[0].PasswordChange != "ALLOW" ||
		!slices.Equal(p.Rules[1].Users, []string{"00u1"}) || p.AuthProvider != "OKTA" || p.Complexity.MinLength != 8 {
		t.Errorf("first policy: %+v", p)
	}
	if p := pols[1]; p.ID != "p2" || !p.System || p.Complexity.MinLength != 12 || !slices.Equal(p.Groups, []string{"00geveryone"}) {
		t.Errorf("second policy: %+v", p)
	}

	foreign.Store(true)
	_, err = c.PasswordPolicies(t.Context())
	if !apierr.Is(err, apierr.Invalid) || !strings.Contains(err.Error(), "another origin") {
		t.Fatalf("next link to another host: %v", err)
	}
}

// TestPasswordPoliciesWaitsForRateLimitReset: a 429 whose window resets
// within MaxRateLimitWait is waited out and the read succeeds; one whose
// reset lies beyond it fails at once as RateLimited with RetryAt.
func TestPasswordPoliciesWaitsForRateLimitReset(t *testing.T) {
	fk := startFake(t)
	c := newReader(t, oktapolicy.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0),
		MaxRateLimitWait: 5 * time.Second})
	fk.InjectFault(fakeokta.RouteListPolicyRules, fakeokta.Fault{Status: http.StatusTooManyRequests, ResetIn: time.Second, Times: 1})
	start := time.Now()
	pols, err := c.PasswordPolicies(t.Context())
	if err != nil || len(pols) != 1 || len(pols[0].Rules) != 1 {
		t.Fatalf("after one 429: %+v %v", pols, err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 4*time.Second {
		t.Errorf("read took %v: it should have waited for the reset (about 1-2 s)", d)
	}

	fk.InjectFault(fakeokta.RouteListPolicies, fakeokta.Fault{Status: http.StatusTooManyRequests, ResetIn: time.Minute, Times: 1})
	start = time.Now()
	_, err = c.PasswordPolicies(t.Context())
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.RateLimited || ae.RetryAt.Before(start.Add(30*time.Second)) {
		t.Fatalf("reset beyond the wait: %#v", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("a reset beyond MaxRateLimitWait was waited for (%v)", d)
	}

	// Without X-Rate-Limit-Reset there is nothing to wait for.
	fk.InjectFault(fakeokta.RouteListPolicies, fakeokta.Fault{Status: http.StatusTooManyRequests, OmitReset: true, Times: 1})
	if _, err = c.PasswordPolicies(t.Context()); !apierr.Is(err, apierr.RateLimited) {
		t.Fatalf("429 without reset: %v", err)
	}
	// A 429 on every attempt: the retries are bounded.
	fk.InjectFault(fakeokta.RouteListPolicies, fakeokta.Fault{Status: http.StatusTooManyRequests, ResetIn: time.Second})
	start = time.Now()
	if _, err = c.PasswordPolicies(t.Context()); !apierr.Is(err, apierr.RateLimited) {
		t.Fatalf("429 on every attempt: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("bounded retries took %v", d)
	}
	fk.ClearFaults()
}

// TestPasswordPoliciesErrorsHoldNoToken: a refused token, a server error, a
// hanging server (the per-call deadline ends the call) and a refused
// connection each fail with an apierr kind and an error that does not
// contain the token.
func TestPasswordPoliciesErrorsHoldNoToken(t *testing.T) {
	const token = "00secret-token-value"
	var status atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := int(status.Load())
		if st == 0 {
			<-r.Context().Done()
			return
		}
		w.WriteHeader(st)
		fmt.Fprint(w, `{"errorCode":"E00000`+strconv.Itoa(st%10)+`","errorSummary":"refused"}`)
	}))
	defer srv.Close()
	c := newReader(t, oktapolicy.Config{OrgURL: srv.URL, APIToken: token, Timeout: 300 * time.Millisecond})
	for _, tc := range []struct {
		status int
		kind   apierr.Kind
	}{{http.StatusUnauthorized, apierr.Unauthorized}, {http.StatusForbidden, apierr.Unauthorized},
		{http.StatusServiceUnavailable, apierr.Transient}, {http.StatusBadRequest, apierr.Invalid}, {0, apierr.Transient}} {
		status.Store(int32(tc.status))
		start := time.Now()
		_, err := c.PasswordPolicies(t.Context())
		if !apierr.Is(err, tc.kind) || strings.Contains(err.Error(), token) {
			t.Errorf("status %d: %v, want kind %v without the token", tc.status, err, tc.kind)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("status %d: took %v despite the 300 ms per-call deadline", tc.status, d)
		}
	}
	srv.Close()
	if _, err := c.PasswordPolicies(t.Context()); !apierr.Is(err, apierr.Transient) || strings.Contains(err.Error(), token) {
		t.Errorf("server gone: %v", err)
	}
}

// TestNewRejectsBadConfig: an org URL that is not an absolute http(s) URL,
// or a missing token, fails at once, and the error holds no token.
func TestNewRejectsBadConfig(t *testing.T) {
	for _, cfg := range []oktapolicy.Config{
		{OrgURL: "example.okta.com", APIToken: "00tok"},
		{OrgURL: "ftp://example.okta.com", APIToken: "00tok"},
		{OrgURL: "https://example.okta.com", APIToken: " "},
	} {
		if _, err := oktapolicy.New(cfg); err == nil || strings.Contains(err.Error(), "00tok") {
			t.Errorf("%+v: %v", cfg, err)
		}
	}
}
