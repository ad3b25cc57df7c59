package oktaclient_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
)

func guardProfile(i int) okta.Profile {
	login := fmt.Sprintf("guard%d@example.com", i)
	return okta.Profile{"login": login, "email": login, "firstName": "G", "lastName": "W"}
}

// TestWaitForWindowSpendsNoRequestOn429: a token may make 5 creates per 2 s
// window (half of the org's 10); 12 creates sent 4 at a time through a client
// that waits for the window all succeed, none meets a 429, and they take at
// least the two further windows they need. Without the guard the same load
// meets 429s.
func TestWaitForWindowSpendsNoRequestOn429(t *testing.T) {
	const window, n = 2 * time.Second, 12
	run := func(t *testing.T, wait bool) (rejected int, took time.Duration) {
		fk, err := fakeokta.Start(fakeokta.Options{RateWindow: window, TokenRateShare: 50,
			RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 10}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = fk.Close() })
		c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken,
			HTTPClient: fk.HTTPClient(0), WaitForWindow: wait})
		if err != nil {
			t.Fatal(err)
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			next int
		)
		began := time.Now()
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					mu.Unlock()
					if i >= n {
						return
					}
					ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
					_, err := c.CreateUser(ctx, okta.NewUser{Profile: guardProfile(i)})
					cancel()
					var e *apierr.Error
					switch {
					case errors.As(err, &e) && e.Kind == apierr.RateLimited:
						mu.Lock()
						rejected++
						mu.Unlock()
					case err != nil:
						t.Errorf("create %d: %v", i, err)
					}
				}
			}()
		}
		wg.Wait()
		return rejected, time.Since(began)
	}
	t.Run("guarded", func(t *testing.T) {
		rejected, took := run(t, true)
		if rejected != 0 {
			t.Errorf("%d creates rate-limited, want 0", rejected)
		}
		if took < window {
			t.Errorf("12 creates at 5 per %s took %s: the windows were overrun", window, took)
		}
	})
	t.Run("unguarded", func(t *testing.T) {
		if rejected, _ := run(t, false); rejected == 0 {
			t.Error("no create rate-limited without the guard: the load does not test it")
		}
	})
}

// TestWaitForWindowFailsFastPastTheDeadline: when the window is spent and
// the call's deadline comes before it resets, the call fails at once as
// rate-limited, to be retried at the reset, and never reaches Okta.
func TestWaitForWindowFailsFastPastTheDeadline(t *testing.T) {
	fk, err := fakeokta.Start(fakeokta.Options{TokenRateShare: 50, RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fk.Close() })
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken,
		HTTPClient: fk.HTTPClient(0), WaitForWindow: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateUser(t.Context(), okta.NewUser{Profile: guardProfile(0)}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	began := time.Now()
	_, err = c.CreateUser(ctx, okta.NewUser{Profile: guardProfile(1)})
	wantKind(t, err, apierr.RateLimited, 429, "E0000047")
	var e *apierr.Error
	if errors.As(err, &e) && (e.RetryAt.Before(time.Now().Add(40*time.Second)) || e.RetryAt.After(time.Now().Add(62*time.Second))) {
		t.Errorf("retry at %s, want the window's end, about a minute away", e.RetryAt)
	}
	if took := time.Since(began); took > time.Second {
		t.Errorf("the refused call took %s, want at once", took)
	}
	if got := fk.Calls(fakeokta.RouteCreateUser); got != 1 {
		t.Errorf("Okta saw %d creates, want 1: the held one must not be sent", got)
	}
}
