package pwimport

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"entra2okta/internal/entra"
)

var wrongPassword = entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword}

// admitOK admits a check or fails the test.
func admitOK(t *testing.T, s *shield, user, ip string, now time.Time) charge {
	t.Helper()
	c, why, _ := s.admit(user, ip, now)
	if why != "" {
		t.Fatalf("%s at %v refused: %s", user, now, why)
	}
	return c
}

func refusal(s *shield, user, ip string, now time.Time) string {
	_, why, _ := s.admit(user, ip, now)
	return why
}

func TestShieldMemoryIsBounded(t *testing.T) {
	s, err := newShield(ShieldConfig{MaxEntries: 50, GlobalFailures: -1, UserHorizon: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 10_000 {
		user, ip := fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255)
		now = now.Add(time.Hour) // every older budget has expired
		c := admitOK(t, s, user, ip, now)
		s.record(c, s.pairKey(user, "wrong"), wrongPassword, now)
	}
	if u, ip, r := s.sizes(); u > 50 || ip > 50 || r > 50 {
		t.Fatalf("tables grew to %d users, %d addresses, %d rejected pairs; bound 50", u, ip, r)
	}
	// The most recent entries are the ones kept.
	last := "u9999@example.com"
	if _, ok := s.cachedRejection(s.pairKey(last, "wrong"), now); !ok {
		t.Fatal("the newest rejection was evicted")
	}
}

// TestShieldNeverEvictsALiveBudget: touching other usernames does not give a
// victim a fresh budget; while the table is full of live budgets a new
// username is refused (fail closed) and a dead budget makes room.
func TestShieldNeverEvictsALiveBudget(t *testing.T) {
	s, err := newShield(ShieldConfig{MaxEntries: 10, IPAttempts: -1, GlobalFailures: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	victim := "victim@example.com"
	for i := range 5 {
		c := admitOK(t, s, victim, "", t0.Add(time.Duration(i)*time.Second))
		s.record(c, s.pairKey(victim, fmt.Sprint(i)), wrongPassword, t0)
	}
	full := 0
	for i := range 1000 {
		u := fmt.Sprintf("other%d@example.com", i)
		c, why, _ := s.admit(u, "", t0.Add(time.Minute))
		switch why {
		case "":
			s.record(c, s.pairKey(u, "x"), wrongPassword, t0.Add(time.Minute))
		case reasonUserTableFull:
			full++
		default:
			t.Fatalf("other user refused: %s", why)
		}
	}
	if full != 1000-9 {
		t.Fatalf("%d new usernames refused with the table full, want %d", full, 1000-9)
	}
	if why := refusal(s, victim, "", t0.Add(20*time.Minute)); why != reasonUserBudget {
		t.Fatalf("the victim's spent budget after table pressure: %q", why)
	}
	// A day later the budgets are dead and make room.
	admitOK(t, s, "new@example.com", "", t0.Add(25*time.Hour))
}

// TestShieldFixedWindowEdge: one failure at t0,
// four at t0+14:59 and five at t0+15:00 would send ten failures to Entra
// under a fixed window. The sliding window and the daily cap refuse them.
func TestShieldFixedWindowEdge(t *testing.T) {
	s, err := newShield(ShieldConfig{IPAttempts: -1, GlobalFailures: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	sent := 0
	try := func(at time.Time) {
		if c, why, _ := s.admit("ann@example.com", "", at); why == "" {
			sent++
			s.record(c, s.pairKey("ann@example.com", fmt.Sprint(sent)), wrongPassword, at)
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
	// An hour of one attempt a minute: the daily cap (5) holds.
	for i := range 60 {
		try(t0.Add(time.Hour + time.Duration(i)*time.Minute))
	}
	if sent != 5 {
		t.Fatalf("%d failures reached Entra within a day, want 5 (the daily cap)", sent)
	}
	// A day after the first failures, the cap has room again.
	try(t0.Add(24*time.Hour + time.Second))
	if sent != 6 {
		t.Fatalf("after a day: %d", sent)
	}
}

func TestShieldConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		cfg ShieldConfig
		ok  bool
	}{
		{ShieldConfig{}, true},
		{ShieldConfig{LockoutThreshold: 3}, true}, // US Government clouds: 1 per day
		{ShieldConfig{LockoutThreshold: 10, UserDailyAttempts: 9}, true},
		{ShieldConfig{LockoutThreshold: 10, UserDailyAttempts: 10}, false},
		{ShieldConfig{LockoutThreshold: 3, UserAttempts: 5}, false},
		{ShieldConfig{UserAttempts: 6, UserDailyAttempts: 5}, false},
		{ShieldConfig{LockoutThreshold: 1}, false},
		{ShieldConfig{UserWindow: 48 * time.Hour}, false},
	} {
		if err := tc.cfg.Validate(); (err == nil) != tc.ok {
			t.Errorf("%+v: %v", tc.cfg, err)
		}
	}
	c := ShieldConfig{LockoutThreshold: 3}
	c.setDefaults()
	if c.UserDailyAttempts != 1 || c.UserAttempts != 1 {
		t.Fatalf("threshold 3: %d per day, %d per window", c.UserDailyAttempts, c.UserAttempts)
	}
}

// TestShieldBudgetHoldsInEveryWindow is a property test: for
// random sequences of attempts, timestamps (out of order as concurrent
// callers take them), Entra answers (counted, given back, verified) and
// pressure on a small user table, the checks that Entra may have counted
// for one user never exceed UserAttempts in any span of UserWindow nor
// UserDailyAttempts in any span of UserHorizon since the user's last
// verified sign-in.
func TestShieldBudgetHoldsInEveryWindow(t *testing.T) {
	for seed := range uint64(60) {
		r := rand.New(rand.NewPCG(seed, 14))
		cfg := ShieldConfig{
			LockoutThreshold: 3 + r.IntN(8),
			UserWindow:       time.Duration(1+r.IntN(30)) * time.Minute,
			UserHorizon:      time.Duration(1+r.IntN(24)) * time.Hour,
			MaxEntries:       2 + r.IntN(20),
			IPAttempts:       -1,
			GlobalFailures:   -1,
		}
		cfg.UserDailyAttempts = 1 + r.IntN(cfg.LockoutThreshold-1)
		cfg.UserAttempts = 1 + r.IntN(cfg.UserDailyAttempts)
		s, err := newShield(cfg)
		if err != nil {
			t.Fatal(err)
		}
		users := []string{"a@x", "b@x", "c@x"}
		counted := map[string][]time.Time{} // since the last verified sign-in
		type pending struct {
			c    charge
			user string
		}
		var inflight []pending
		now := time.Unix(1_800_000_000, 0)
		settle := func(p pending) {
			var res entra.Result
			switch x := r.IntN(10); {
			case x < 6:
				res = wrongPassword
			case x < 7:
				res = entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}
			case x < 8:
				res = entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled}
			case x < 9:
				res = entra.Result{Verdict: entra.Indeterminate, Code: codeLocked, Reason: entra.ReasonLocked}
			default:
				res = entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK}
			}
			if res.Verdict == entra.Verified {
				counted[p.user] = nil
			} else if mayCountAsFailure(res) {
				counted[p.user] = append(counted[p.user], p.c.at)
			}
			s.record(p.c, s.pairKey(p.user, fmt.Sprint(r.Int())), res, now)
		}
		for range 1500 {
			// Time moves by seconds to hours, and a caller's clock may lag.
			switch x := r.IntN(100); {
			case x < 70:
				now = now.Add(time.Duration(r.IntN(60)) * time.Second)
			case x < 95:
				now = now.Add(time.Duration(r.IntN(30)) * time.Minute)
			default:
				now = now.Add(time.Duration(r.IntN(30)) * time.Hour)
			}
			at := now.Add(-time.Duration(r.IntN(3)) * time.Second)
			if r.IntN(3) == 0 { // table pressure: many other usernames
				for range r.IntN(30) {
					u := fmt.Sprintf("noise%d@x", r.IntN(1_000_000))
					if c, why, _ := s.admit(u, "", at); why == "" {
						s.record(c, [32]byte{}, wrongPassword, at)
					}
				}
			}
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

func TestShieldWindowsAndTTL(t *testing.T) {
	s, err := newShield(ShieldConfig{UserAttempts: 2, UserWindow: time.Minute, NegativeTTL: 30 * time.Second, IPAttempts: -1, GlobalFailures: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	k := s.pairKey("Ann@Example.com ", "pw")
	if k != s.pairKey("ann@example.com", "pw") || k == s.pairKey("ann@example.com", "pW") || k == s.pairKey("ann@example.co", "mpw") {
		t.Fatal("pair keys: the username is normalised, the password is not, and the encoding is unambiguous")
	}
	s.record(admitOK(t, s, "ann@example.com", "", t0), k, wrongPassword, t0)
	if _, ok := s.cachedRejection(k, t0.Add(29*time.Second)); !ok {
		t.Fatal("rejection forgotten before its TTL")
	}
	if _, ok := s.cachedRejection(k, t0.Add(31*time.Second)); ok {
		t.Fatal("rejection remembered after its TTL")
	}

	for range 2 {
		s.record(admitOK(t, s, "bo@example.com", "", t0), [32]byte{1}, wrongPassword, t0)
	}
	if why := refusal(s, "bo@example.com", "", t0.Add(59*time.Second)); why != reasonUserBudget {
		t.Fatalf("third attempt in the window: %q", why)
	}
	admitOK(t, s, "bo@example.com", "", t0.Add(61*time.Second))

	// A lockout cools the user down for a full window from the lockout.
	s.record(admitOK(t, s, "cy@example.com", "", t0), [32]byte{}, entra.Result{Verdict: entra.Indeterminate, Code: 50053, Reason: entra.ReasonLocked}, t0)
	if why := refusal(s, "cy@example.com", "", t0.Add(59*time.Second)); why != reasonUserBudget {
		t.Fatalf("during the cool-down: %q", why)
	}
	admitOK(t, s, "cy@example.com", "", t0.Add(61*time.Second))

	// Entra's Retry-After pauses everyone, capped by MaxBackoff (1 min).
	s.record(admitOK(t, s, "dee@example.com", "", t0), [32]byte{}, entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled, RetryAfter: time.Hour}, t0)
	if why := refusal(s, "eve@example.com", "", t0.Add(59*time.Second)); why != reasonEntraBackoff {
		t.Fatalf("during Entra's back-off: %q", why)
	}
	admitOK(t, s, "eve@example.com", "", t0.Add(61*time.Second))
}

func TestIPKey(t *testing.T) {
	for in, want := range map[string]string{
		"66.124.153.138":          "66.124.153.138",
		"::ffff:66.124.153.138":   "66.124.153.138",
		"2001:db8:1:2:3:4:5:6":    "2001:db8:1:2::/64",
		"2001:db8:1:2::9":         "2001:db8:1:2::/64",
		"":                        "",
		"not an address":          "",
		"66.124.153.138, 1.2.3.4": "",
	} {
		if got := ipKey(in); got != want {
			t.Errorf("ipKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestShieldGivesBackAttemptsEntraNeverEvaluated: checks that met Entra's
// throttling or outage (429, 5xx) evaluated no password, and a password Entra
// accepted before refusing the sign-in is no failure, so they do not spend
// the user's budget; a timeout, which may have reached Entra, and a wrong
// password do.
func TestShieldGivesBackAttemptsEntraNeverEvaluated(t *testing.T) {
	s, err := newShield(ShieldConfig{UserAttempts: 2, UserWindow: time.Minute, IPAttempts: -1, GlobalFailures: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i, res := range []entra.Result{
		{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled},
		{Verdict: entra.Indeterminate, Reason: entra.ReasonUnavailable},
		{Verdict: entra.Rejected, Code: 53003, Reason: entra.ReasonConditionalAccess},
		{Verdict: entra.Rejected, Code: 50055, Reason: entra.ReasonPasswordExpired},
		{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled},
	} {
		c, why, _ := s.admit("fay@example.com", "", t0)
		if why != "" {
			t.Fatalf("attempt %d after %d uncounted checks: %q", i, i, why)
		}
		s.record(c, [32]byte{}, res, t0)
	}
	for i, res := range []entra.Result{
		{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout},
		wrongPassword,
	} {
		s.record(admitOK(t, s, "fay@example.com", "", t0), [32]byte{byte(i + 1)}, res, t0)
	}
	if why := refusal(s, "fay@example.com", "", t0); why != reasonUserBudget {
		t.Fatalf("after a timeout and a wrong password (budget 2): %q", why)
	}
	// Entra's per-user "loop detected" (50196) is no refund: it cools the user down.
	s.record(admitOK(t, s, "gil@example.com", "", t0), [32]byte{}, entra.Result{Verdict: entra.Indeterminate, Code: 50196, Reason: entra.ReasonThrottled}, t0)
	if why := refusal(s, "gil@example.com", "", t0); why != reasonUserBudget {
		t.Fatalf("after AADSTS50196: %q", why)
	}
}

// TestShieldForgetsAnswersAfterOktasRetry: a request's answer is kept for
// Okta's one retry (replyTTL) and then dropped as new answers arrive, not
// kept until the table is full.
func TestShieldForgetsAnswersAfterOktasRetry(t *testing.T) {
	s, err := newShield(ShieldConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	key := func(i int) [32]byte {
		k, _ := s.requestKey(fmt.Sprint("req-", i), s.pairKey("u@example.com", "pw"))
		return k
	}
	for i := range 20 {
		s.remember(key(i), outcome{outcome: "verified", answer: answerVerified}, t0)
	}
	if out, ok := s.answered(key(3), t0.Add(replyTTL-time.Second)); !ok || out.answer != answerVerified {
		t.Fatal("the answer was gone before Okta's retry could come")
	}
	if _, ok := s.answered(key(3), t0.Add(replyTTL)); ok {
		t.Fatal("an answer outlived replyTTL")
	}
	later := t0.Add(replyTTL + time.Second)
	for i := 20; i < 23; i++ {
		s.remember(key(i), outcome{outcome: "verified", answer: answerVerified}, later)
	}
	if n := s.replies.Len(); n != 3 {
		t.Fatalf("%d answers kept, want the 3 fresh ones", n)
	}
}
