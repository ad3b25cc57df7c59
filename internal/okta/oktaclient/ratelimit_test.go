package oktaclient_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
)

func TestBucketOf(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		want         oktaclient.RateBucket
	}{
		{"POST", "/api/v1/users", oktaclient.RateBucketUsers},
		{"GET", "/api/v1/users", oktaclient.RateBucketUsers},
		{"GET", "/api/v1/users/a%40example.com", oktaclient.RateBucketUserGet},
		{"POST", "/api/v1/users/00u1", oktaclient.RateBucketUserWrite},
		{"PUT", "/api/v1/users/00u1", oktaclient.RateBucketUserWrite},
		{"DELETE", "/api/v1/users/00u1", oktaclient.RateBucketUserWrite},
		{"POST", "/api/v1/users/00u1/lifecycle/activate", oktaclient.RateBucketOther},
		{"GET", "/api/v1/logs", oktaclient.RateBucketLogs},
		{"GET", "/api/v1/inlineHooks", oktaclient.RateBucketOther},
		{"GET", "/oauth2/v1/keys", oktaclient.RateBucketOther},
		{"GET", "/api/v1/groups", oktaclient.RateBucketGroups},
		{"POST", "/api/v1/groups", oktaclient.RateBucketGroups},
		{"GET", "/api/v1/groups/rules", oktaclient.RateBucketGroups},
		{"GET", "/api/v1/groups/00g1", oktaclient.RateBucketGroupByID},
		{"DELETE", "/api/v1/groups/00g1", oktaclient.RateBucketGroupByID},
		{"GET", "/api/v1/groups/00g1/users", oktaclient.RateBucketGroupMembers},
		{"PUT", "/api/v1/groups/00g1/users/00u1", oktaclient.RateBucketGroupMembers},
		{"GET", "/api/v1/users/00u1/groups", oktaclient.RateBucketOther},
	} {
		if got := oktaclient.BucketOf(tc.method, tc.path); got != tc.want {
			t.Errorf("BucketOf(%s %s) = %s, want %s", tc.method, tc.path, got, tc.want)
		}
	}
}

// TestRateObserverSeesTheTokensShare: through the real SDK against fakeokta
// with Okta's default 50 % token share, the observer is told each answer's
// bucket and the token's ceiling (half the org's 600 creates a minute), what
// is left of it and when the window ends; a concurrency 429 (limit 0) is not
// reported as a limit.
func TestRateObserverSeesTheTokensShare(t *testing.T) {
	fk, _ := startFake(t)
	fk.SetTokenRateShare(fakeokta.DefaultTokenRateShare)
	var (
		mu   sync.Mutex
		seen []oktaclient.RateObservation
	)
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0),
		RateObserver: func(o oktaclient.RateObservation) { mu.Lock(); seen = append(seen, o); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now().Add(-2 * time.Second)
	u, err := c.CreateUser(t.Context(), okta.NewUser{Profile: okta.Profile{"login": "rl@example.com", "email": "rl@example.com",
		"firstName": "R", "lastName": "L"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateUser(t.Context(), u.ID, okta.UserUpdate{Profile: okta.Profile{"nickName": "r"}}); err != nil {
		t.Fatal(err)
	}
	fk.SetConcurrencyLimit(1)
	fk.SetLatency(fakeokta.RouteGetUser, 300*time.Millisecond)
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = c.GetUser(t.Context(), u.ID) }()
	}
	wg.Wait()

	mu.Lock()
	defer mu.Unlock()
	want := []struct {
		bucket oktaclient.RateBucket
		limit  int
	}{{oktaclient.RateBucketUsers, 300}, {oktaclient.RateBucketUserGet, 1000}, {oktaclient.RateBucketUserWrite, 300}}
	if len(seen) < len(want) {
		t.Fatalf("observations %+v", seen)
	}
	for i, w := range want {
		o := seen[i]
		if o.Bucket != w.bucket || o.Limit != w.limit || o.Remaining != w.limit-1 || o.Status != http.StatusOK {
			t.Errorf("observation %d = %+v, want bucket %s, limit %d, remaining %d", i, o, w.bucket, w.limit, w.limit-1)
		}
		if o.Reset.Before(before.Add(time.Minute)) || o.Reset.After(time.Now().Add(62*time.Second)) || o.At.Before(before) {
			t.Errorf("observation %d: reset %v, at %v", i, o.Reset, o.At)
		}
	}
	for _, o := range seen {
		if o.Limit <= 0 || o.Status == http.StatusTooManyRequests {
			t.Errorf("a concurrency 429 was reported as a limit: %+v", o)
		}
	}
	if fk.Calls(fakeokta.RouteGetUser) < 4 {
		t.Errorf("the concurrent lookups did not reach the emulator: %d", fk.Calls(fakeokta.RouteGetUser))
	}
}
