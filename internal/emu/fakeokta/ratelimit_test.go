package fakeokta_test

import (
	"net/http"
	"strconv"
	"testing"

	"entra2okta/internal/emu/fakeokta"
)

// TestTokenRateShare: by default one API token may use half of each bucket
// (Okta's default share), per bucket and per window, and the headers show the
// token's ceiling and what is left of it; a second token has its own half,
// both within the org-wide limit; unauthenticated sign-ins are not counted
// against any token; 100 % gives the token the whole bucket again.
func TestTokenRateShare(t *testing.T) {
	const tokA, tokB = "token-a", "token-b"
	c := newClock()
	e := newEnv(t, fakeokta.Options{Now: c.Now, APITokens: []string{tokA, tokB},
		RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 10, fakeokta.BucketUserGet: 10, fakeokta.BucketAuthn: 4}})
	if got := e.srv.TokenRateShare(); fakeokta.DefaultTokenRateShare != 50 || got != 50 {
		t.Fatalf("default share = %d, want 50", got)
	}
	as := func(tok string) []string { return []string{"Authorization", "SSWS " + tok} }
	wantHeaders := func(r resp, limit, remaining int) {
		t.Helper()
		if r.header.Get("X-Rate-Limit-Limit") != strconv.Itoa(limit) || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(remaining) {
			t.Errorf("limit %s remaining %s, want %d and %d", r.header.Get("X-Rate-Limit-Limit"),
				r.header.Get("X-Rate-Limit-Remaining"), limit, remaining)
		}
		if r.header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(c.Now().Unix()+60, 10) {
			t.Errorf("reset %s", r.header.Get("X-Rate-Limit-Reset"))
		}
	}

	// Token A: 5 of the users bucket's 10.
	for i := range 5 {
		r := e.do("GET", "/api/v1/users", nil, as(tokA)...)
		r.wantStatus(t, http.StatusOK, "")
		wantHeaders(r, 5, 4-i)
	}
	r := e.do("POST", "/api/v1/users", hookUser("a@example.com"), as(tokA)...)
	r.wantStatus(t, http.StatusTooManyRequests, "E0000047")
	wantHeaders(r, 5, 0)
	// Its share of another bucket is untouched.
	e.do("GET", "/api/v1/users/nobody@example.com", nil, as(tokA)...).wantStatus(t, http.StatusNotFound, "E0000007")

	// Token B has its own half; the org has 5 left, exactly B's share.
	for i := range 5 {
		r := e.do("GET", "/api/v1/users", nil, as(tokB)...)
		r.wantStatus(t, http.StatusOK, "")
		wantHeaders(r, 5, 4-i)
	}
	e.do("GET", "/api/v1/users", nil, as(tokB)...).wantStatus(t, http.StatusTooManyRequests, "E0000047")

	// Sign-ins carry no API token: only the org's authn quota counts.
	for i := range 4 {
		r := e.do("POST", "/api/v1/authn", map[string]any{"username": "nobody" + strconv.Itoa(i) + "@example.com", "password": "x"}, "Authorization", "")
		if r.status == http.StatusTooManyRequests {
			t.Fatalf("sign-in throttled within the org's quota: %s", r.raw)
		}
		if r.header.Get("X-Rate-Limit-Limit") != "4" {
			t.Errorf("authn limit %s, want the org's 4", r.header.Get("X-Rate-Limit-Limit"))
		}
	}

	// A new window gives each token its share again.
	c.Add(60e9)
	wantHeaders(e.do("GET", "/api/v1/users", nil, as(tokA)...), 5, 4)

	// A share above half lets the org-wide limit bind first: 8 each, 10 in all.
	e.srv.SetTokenRateShare(80)
	c.Add(60e9)
	for i := range 8 {
		r := e.do("GET", "/api/v1/users", nil, as(tokA)...)
		r.wantStatus(t, http.StatusOK, "")
		wantHeaders(r, 8, 7-i)
	}
	r = e.do("GET", "/api/v1/users", nil, as(tokB)...)
	r.wantStatus(t, http.StatusOK, "")
	wantHeaders(r, 8, 1) // B has 7 of its 8 left, the org only 1
	e.do("GET", "/api/v1/users", nil, as(tokB)...).wantStatus(t, http.StatusOK, "")
	e.do("GET", "/api/v1/users", nil, as(tokB)...).wantStatus(t, http.StatusTooManyRequests, "E0000047")

	// 100 %: the token may use the whole bucket, and the headers are the org's.
	e.srv.SetTokenRateShare(100)
	c.Add(60e9)
	for i := range 10 {
		r := e.do("GET", "/api/v1/users", nil, as(tokA)...)
		r.wantStatus(t, http.StatusOK, "")
		wantHeaders(r, 10, 9-i)
	}
	e.do("GET", "/api/v1/users", nil, as(tokA)...).wantStatus(t, http.StatusTooManyRequests, "E0000047")
}

// TestTokenRateShareOptions: the option's zero value is Okta's default, out of
// range values are clamped, and a tiny bucket still allows a token one call.
func TestTokenRateShareOptions(t *testing.T) {
	for _, tc := range []struct{ in, want int }{{0, 50}, {-3, 50}, {5, 5}, {100, 100}, {250, 100}} {
		if got := fakeokta.New(fakeokta.Options{TokenRateShare: tc.in}).TokenRateShare(); got != tc.want {
			t.Errorf("TokenRateShare %d: got %d, want %d", tc.in, got, tc.want)
		}
	}
	e := newEnv(t, fakeokta.Options{RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 1}})
	r := e.do("GET", "/api/v1/users", nil)
	r.wantStatus(t, http.StatusOK, "")
	if r.header.Get("X-Rate-Limit-Limit") != "1" || r.header.Get("X-Rate-Limit-Remaining") != "0" {
		t.Errorf("limit %s remaining %s", r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"))
	}
	e.do("GET", "/api/v1/users", nil).wantStatus(t, http.StatusTooManyRequests, "E0000047")
}
