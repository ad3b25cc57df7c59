// Package storetest is the behaviour suite every pwimport.ShieldStore passes:
// the memory store (internal/hook/pwimport's tests) and the PostgreSQL store
// (internal/hookstore's tests) run the same cases, with the callers' clock
// given explicitly as the shield takes it.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
)

// Open returns a fresh, empty store configured with cfg.
type Open func(t *testing.T, cfg pwimport.ShieldConfig) pwimport.ShieldStore

// Options scale the suite.
type Options struct {
	// Seeds is the number of random sequences of the property test
	// (default 40).
	Seeds int
	// Steps is the length of each sequence (default 1,000).
	Steps int
}

var (
	wrong     = entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword}
	verified  = entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK}
	throttled = entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled}
	locked    = entra.Result{Verdict: entra.Indeterminate, Code: 50053, Reason: entra.ReasonLocked}
)

// store wraps a ShieldStore for terse test steps.
type store struct {
	t   *testing.T
	s   pwimport.ShieldStore
	cfg pwimport.ShieldConfig
}

func (s store) admit(user, ip string, now time.Time) (pwimport.Charge, string, bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, why, tripped, err := s.s.Admit(ctx, s.cfg.AttemptOf(user, ip), now)
	if err != nil {
		s.t.Fatal(err)
	}
	return c, why, tripped
}

func (s store) admitOK(user, ip string, now time.Time) pwimport.Charge {
	s.t.Helper()
	c, why, _ := s.admit(user, ip, now)
	if why != "" {
		s.t.Fatalf("%s from %q at %v refused: %s", user, ip, now, why)
	}
	return c
}

func (s store) refusal(user, ip string, now time.Time) string {
	s.t.Helper()
	_, why, _ := s.admit(user, ip, now)
	return why
}

func (s store) record(c pwimport.Charge, pair [sha256.Size]byte, res entra.Result, now time.Time) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.s.Record(ctx, c, pair, res, now); err != nil {
		s.t.Fatal(err)
	}
}

func (s store) rejection(pair [sha256.Size]byte, now time.Time) (pwimport.Rejection, bool) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, ok, err := s.s.CachedRejection(ctx, pair, now)
	if err != nil {
		s.t.Fatal(err)
	}
	return r, ok
}

func pair(i int) [sha256.Size]byte { return sha256.Sum256([]byte(fmt.Sprint("pair-", i))) }

// Run runs the suite against the stores open returns.
func Run(t *testing.T, open Open, opts Options) {
	if opts.Seeds <= 0 {
		opts.Seeds = 40
	}
	if opts.Steps <= 0 {
		opts.Steps = 1000
	}
	mk := func(t *testing.T, cfg pwimport.ShieldConfig) store {
		return store{t: t, s: open(t, cfg), cfg: cfg}
	}
	t.Run("Key", func(t *testing.T) {
		if k := open(t, pwimport.ShieldConfig{}).Key(); len(k) != 32 {
			t.Fatalf("key of %d bytes, want 32", len(k))
		}
	})
	for _, c := range []struct {
		name string
		run  func(*testing.T, maker)
	}{
		{"SlidingWindowAndDailyCap", slidingWindowAndDailyCap},
		{"NegativeCacheTTL", negativeCacheTTL},
		{"CoolDownAfterLockout", coolDownAfterLockout},
		{"GivesBackChecksEntraNeverCounted", givesBackChecksEntraNeverCounted},
		{"VerifiedClearsSettledNotInFlight", verifiedClearsSettledNotInFlight},
		{"AddressBudget", addressBudget},
		{"CircuitBreaker", circuitBreaker},
		{"EntraBackoff", entraBackoff},
		{"ConcurrentAdmitsForOneUser", concurrentAdmitsForOneUser},
	} {
		t.Run(c.name, func(t *testing.T) { c.run(t, mk) })
	}
	t.Run("BudgetHoldsInEveryWindow", func(t *testing.T) { budgetProperty(t, mk, opts) })
}

// maker returns a fresh, empty store configured with cfg, wrapped for the
// test steps.
type maker func(t *testing.T, cfg pwimport.ShieldConfig) store

// t0 is the suite's clock origin.
var t0 = time.Unix(1_800_000_000, 123_456_789)

// One failure at t0, four at t0+14:59 and five at t0+15:00 would send
// ten failures under a fixed window; the sliding window and the daily
// cap refuse them.
func slidingWindowAndDailyCap(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{IPAttempts: -1, GlobalFailures: -1})
	sent := 0
	try := func(at time.Time) {
		if c, why, _ := s.admit("Ann@Example.com", "", at); why == "" {
			sent++
			s.record(c, pair(sent), wrong, at)
		}
	}
	try(t0)
	for range 4 {
		try(t0.Add(14*time.Minute + 59*time.Second))
	}
	for range 5 {
		try(t0.Add(15 * time.Minute))
	}
	if sent != 5 {
		t.Fatalf("%d failures reached Entra, want 5 (the sliding window)", sent)
	}
	for i := range 30 {
		try(t0.Add(time.Hour + time.Duration(i)*time.Minute))
	}
	if sent != 5 {
		t.Fatalf("%d failures reached Entra within a day, want 5 (the daily cap)", sent)
	}
	try(t0.Add(24*time.Hour + time.Second))
	if sent != 6 {
		t.Fatalf("after a day: %d sent, want 6", sent)
	}
}

func negativeCacheTTL(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{NegativeTTL: 30 * time.Second, IPAttempts: -1, GlobalFailures: -1})
	s.record(s.admitOK("ann@example.com", "", t0), pair(1), wrong, t0)
	if r, ok := s.rejection(pair(1), t0.Add(29*time.Second)); !ok || r.Code != 50126 || r.Reason != entra.ReasonWrongPassword {
		t.Fatalf("rejection before its TTL: %+v, %v", r, ok)
	}
	if _, ok := s.rejection(pair(1), t0.Add(31*time.Second)); ok {
		t.Fatal("rejection remembered after its TTL")
	}
	if _, ok := s.rejection(pair(2), t0); ok {
		t.Fatal("a pair never rejected is remembered")
	}
	s.record(s.admitOK("bo@example.com", "", t0), pair(3), verified, t0)
	if _, ok := s.rejection(pair(3), t0); ok {
		t.Fatal("a verified pair is remembered as rejected")
	}
}

func coolDownAfterLockout(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{UserAttempts: 3, UserWindow: time.Minute, IPAttempts: -1, GlobalFailures: -1})
	early := s.admitOK("cy@example.com", "", t0) // in flight across the lockout
	s.record(s.admitOK("cy@example.com", "", t0), pair(0), locked, t0)
	if why := s.refusal("cy@example.com", "", t0.Add(59*time.Second)); why != pwimport.ReasonUserBudget {
		t.Fatalf("during the cool-down: %q", why)
	}
	s.admitOK("cy@example.com", "", t0.Add(61*time.Second))
	// A verified sign-in ends a cool-down.
	s.record(s.admitOK("di@example.com", "", t0), pair(0), entra.Result{Verdict: entra.Indeterminate, Code: 50196, Reason: entra.ReasonThrottled}, t0)
	if why := s.refusal("di@example.com", "", t0.Add(time.Second)); why != pwimport.ReasonUserBudget {
		t.Fatalf("after AADSTS50196: %q", why)
	}
	s.record(early, pair(0), verified, t0.Add(2*time.Second))
	s.admitOK("cy@example.com", "", t0.Add(62*time.Second))
}

func givesBackChecksEntraNeverCounted(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{UserAttempts: 2, UserWindow: time.Minute, IPAttempts: 3, GlobalFailures: 3})
	for i, res := range []entra.Result{
		throttled,
		{Verdict: entra.Indeterminate, Reason: entra.ReasonUnavailable},
		{Verdict: entra.Rejected, Code: 53003, Reason: entra.ReasonConditionalAccess},
		{Verdict: entra.Rejected, Code: 50055, Reason: entra.ReasonPasswordExpired},
		verified,
		throttled,
	} {
		c, why, _ := s.admit("fay@example.com", "192.0.2.1", t0)
		if why != "" {
			t.Fatalf("attempt %d after %d uncounted checks: %q", i, i, why)
		}
		s.record(c, pair(i), res, t0)
	}
	for i, res := range []entra.Result{{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}, wrong} {
		s.record(s.admitOK("fay@example.com", "192.0.2.1", t0), pair(10+i), res, t0)
	}
	if why := s.refusal("fay@example.com", "192.0.2.1", t0); why != pwimport.ReasonUserBudget {
		t.Fatalf("after a timeout and a wrong password (budget 2): %q", why)
	}
	// The address and tenant-wide budgets hold the same two charges.
	s.record(s.admitOK("gus@example.com", "192.0.2.1", t0), pair(20), wrong, t0)
	if why := s.refusal("hal@example.com", "192.0.2.1", t0); why != pwimport.ReasonIPBudget {
		t.Fatalf("the address's fourth failure: %q", why)
	}
}

func verifiedClearsSettledNotInFlight(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{UserAttempts: 3, UserDailyAttempts: 3, IPAttempts: -1, GlobalFailures: -1})
	u := "ida@example.com"
	inflight := s.admitOK(u, "", t0)
	s.record(s.admitOK(u, "", t0), pair(1), wrong, t0)
	s.record(s.admitOK(u, "", t0), pair(2), verified, t0)
	// Left: the check still in flight, which Entra may count after
	// the reset.
	s.admitOK(u, "", t0)
	s.admitOK(u, "", t0)
	if why := s.refusal(u, "", t0); why != pwimport.ReasonUserBudget {
		t.Fatalf("with one check from before the reset in flight and two after: %q", why)
	}
	s.record(inflight, pair(3), wrong, t0)
	if why := s.refusal(u, "", t0); why != pwimport.ReasonUserBudget {
		t.Fatalf("after the in-flight check failed: %q", why)
	}
}

func addressBudget(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{IPAttempts: 3, IPWindow: time.Minute, GlobalFailures: -1})
	for i := range 3 {
		s.record(s.admitOK(fmt.Sprintf("u%d@example.com", i), "2001:db8:1:2::1", t0), pair(i), wrong, t0)
	}
	// Another address of the same /64 shares the budget.
	if why := s.refusal("v@example.com", "2001:db8:1:2::99", t0.Add(59*time.Second)); why != pwimport.ReasonIPBudget {
		t.Fatalf("fourth failure from one /64: %q", why)
	}
	s.admitOK("v@example.com", "2001:db8:1:3::1", t0)
	s.admitOK("w@example.com", "2001:db8:1:2::1", t0.Add(61*time.Second))
	// Requests without an address share one budget.
	for i := range 3 {
		s.record(s.admitOK(fmt.Sprintf("x%d@example.com", i), "", t0), pair(10+i), wrong, t0)
	}
	if why := s.refusal("y@example.com", "not an address", t0); why != pwimport.ReasonIPBudget {
		t.Fatalf("fourth failure without an address: %q", why)
	}
	// Trusted ranges are not charged.
	tr := mk(t, pwimport.ShieldConfig{IPAttempts: 1, GlobalFailures: -1, IPTrusted: trusted(t, "198.51.100.0/24")})
	for i := range 5 {
		tr.record(tr.admitOK(fmt.Sprintf("z%d@example.com", i), "198.51.100.7", t0), pair(i), wrong, t0)
	}
}

func circuitBreaker(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{IPAttempts: -1, GlobalFailures: 3, GlobalWindow: time.Minute, BreakerCooldown: 2 * time.Minute})
	for i := range 3 {
		s.record(s.admitOK(fmt.Sprintf("u%d@example.com", i), "", t0), pair(i), wrong, t0)
	}
	if _, why, tripped := s.admit("v@example.com", "", t0.Add(time.Second)); why != pwimport.ReasonBreakerOpen || !tripped {
		t.Fatalf("the fourth failure in the window: %q, tripped %v", why, tripped)
	}
	if _, why, tripped := s.admit("w@example.com", "", t0.Add(time.Minute+30*time.Second)); why != pwimport.ReasonBreakerOpen || tripped {
		t.Fatalf("while open (window passed): %q, tripped %v", why, tripped)
	}
	s.admitOK("w@example.com", "", t0.Add(2*time.Minute+2*time.Second))
}

func entraBackoff(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{IPAttempts: -1, GlobalFailures: -1})
	s.record(s.admitOK("dee@example.com", "", t0), pair(0), entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled, RetryAfter: time.Hour}, t0)
	if why := s.refusal("eve@example.com", "", t0.Add(59*time.Second)); why != pwimport.ReasonEntraBackoff {
		t.Fatalf("during Entra's back-off (capped at 1 min): %q", why)
	}
	// A shorter Retry-After does not shorten the pause.
	s2 := mk(t, pwimport.ShieldConfig{IPAttempts: -1, GlobalFailures: -1})
	c1, c2 := s2.admitOK("dee@example.com", "", t0), s2.admitOK("fox@example.com", "", t0)
	s2.record(c1, pair(0), entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled, RetryAfter: 40 * time.Second}, t0)
	s2.record(c2, pair(1), entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled, RetryAfter: time.Second}, t0)
	if why := s2.refusal("eve@example.com", "", t0.Add(39*time.Second)); why != pwimport.ReasonEntraBackoff {
		t.Fatalf("a shorter Retry-After ended the pause: %q", why)
	}
	s.admitOK("eve@example.com", "", t0.Add(61*time.Second))
}

// Concurrent callers for one user: exactly the budget is admitted.
func concurrentAdmitsForOneUser(t *testing.T, mk maker) {
	s := mk(t, pwimport.ShieldConfig{UserAttempts: 4, UserDailyAttempts: 4, IPAttempts: 6, GlobalFailures: 8})
	var mu sync.Mutex
	admitted := map[string]int{}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			user := fmt.Sprintf("u%d@example.com", i%3)
			_, why, _, err := s.s.Admit(ctx, s.cfg.AttemptOf(user, fmt.Sprintf("192.0.2.%d", i%2)), t0)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			admitted[why]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	// 8 tenant-wide, at most 6 per address and 4 per user.
	if admitted[""] != 8 {
		t.Fatalf("admitted %v: want 8 (the tenant-wide bound)", admitted)
	}
}

func trusted(t *testing.T, cidr string) []netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(cidr)
	if err != nil {
		t.Fatal(err)
	}
	return []netip.Prefix{p}
}

// budgetProperty: for random sequences of attempts, clocks out of order,
// Entra answers (counted, given back, verified, lockouts), the checks that
// Entra may have counted for one user never exceed UserAttempts in any span
// of UserWindow nor UserDailyAttempts in any span of UserHorizon since the
// user's last verified sign-in.
func budgetProperty(t *testing.T, mk maker, opts Options) {
	for seed := range uint64(opts.Seeds) {
		r := rand.New(rand.NewPCG(seed, 16))
		cfg := pwimport.ShieldConfig{
			LockoutThreshold: 3 + r.IntN(8),
			UserWindow:       time.Duration(1+r.IntN(30)) * time.Minute,
			UserHorizon:      time.Duration(1+r.IntN(24)) * time.Hour,
			IPAttempts:       -1,
			GlobalFailures:   -1,
		}
		cfg.UserDailyAttempts = 1 + r.IntN(cfg.LockoutThreshold-1)
		cfg.UserAttempts = 1 + r.IntN(cfg.UserDailyAttempts)
		s := mk(t, cfg)
		users := []string{"a@x", "b@x", "c@x"}
		counted := map[string][]time.Time{}
		type pending struct {
			c    pwimport.Charge
			user string
		}
		var inflight []pending
		now := time.Unix(1_800_000_000, 0)
		settle := func(p pending) {
			var res entra.Result
			switch x := r.IntN(10); {
			case x < 6:
				res = wrong
			case x < 7:
				res = entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}
			case x < 8:
				res = throttled
			case x < 9:
				res = locked
			default:
				res = verified
			}
			if res.Verdict == entra.Verified {
				counted[p.user] = nil
			} else if pwimport.MayCountAsFailure(res) {
				counted[p.user] = append(counted[p.user], p.c.At)
			}
			s.record(p.c, pair(r.Int()), res, now)
		}
		for range opts.Steps {
			switch x := r.IntN(100); {
			case x < 70:
				now = now.Add(time.Duration(r.IntN(60)) * time.Second)
			case x < 95:
				now = now.Add(time.Duration(r.IntN(30)) * time.Minute)
			default:
				now = now.Add(time.Duration(r.IntN(30)) * time.Hour)
			}
			at := now.Add(-time.Duration(r.IntN(3)) * time.Second)
			u := users[r.IntN(len(users))]
			if c, why, _ := s.admit(u, "", at); why == "" {
				inflight = append(inflight, pending{c, u})
			}
			for len(inflight) > 0 && r.IntN(2) == 0 {
				i := r.IntN(len(inflight))
				settle(inflight[i])
				inflight = append(inflight[:i], inflight[i+1:]...)
			}
		}
		for _, p := range inflight {
			settle(p)
		}
		for u, times := range counted {
			if n, at := maxInWindow(times, cfg.UserWindow); n > cfg.UserAttempts {
				t.Fatalf("seed %d, %+v: %s has %d counted checks in the %v from %v", seed, cfg, u, n, cfg.UserWindow, at)
			}
			if n, at := maxInWindow(times, cfg.UserHorizon); n > cfg.UserDailyAttempts {
				t.Fatalf("seed %d, %+v: %s has %d counted checks in the %v from %v", seed, cfg, u, n, cfg.UserHorizon, at)
			}
		}
	}
}

// maxInWindow returns the most times in any half-open span [t, t+w).
func maxInWindow(times []time.Time, w time.Duration) (int, time.Time) {
	best, at := 0, time.Time{}
	for _, start := range times {
		n := 0
		for _, x := range times {
			if !x.Before(start) && x.Before(start.Add(w)) {
				n++
			}
		}
		if n > best {
			best, at = n, start
		}
	}
	return best, at
}
