package hook

import (
	"fmt"
	"testing"
	"time"

	"entra2okta/internal/entra"
)

func TestShieldMemoryIsBounded(t *testing.T) {
	s, err := newShield(ShieldConfig{MaxEntries: 50})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for i := range 10_000 {
		user, ip := fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("10.0.%d.%d", i>>8&255, i&255)
		if why := s.admit(user, ip, now); why != "" {
			t.Fatalf("attempt %d refused: %s", i, why)
		}
		s.record(user, s.pairKey(user, "wrong"), entra.Result{Verdict: entra.Rejected, Code: 50126}, now)
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

func TestShieldWindowsAndTTL(t *testing.T) {
	s, err := newShield(ShieldConfig{UserAttempts: 2, UserWindow: time.Minute, NegativeTTL: 30 * time.Second, IPAttempts: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	k := s.pairKey("Ann@Example.com ", "pw")
	if k != s.pairKey("ann@example.com", "pw") || k == s.pairKey("ann@example.com", "pW") || k == s.pairKey("ann@example.co", "mpw") {
		t.Fatal("pair keys: the username is normalised, the password is not, and the encoding is unambiguous")
	}
	s.record("ann@example.com", k, entra.Result{Verdict: entra.Rejected, Code: 50126}, t0)
	if _, ok := s.cachedRejection(k, t0.Add(29*time.Second)); !ok {
		t.Fatal("rejection forgotten before its TTL")
	}
	if _, ok := s.cachedRejection(k, t0.Add(31*time.Second)); ok {
		t.Fatal("rejection remembered after its TTL")
	}

	for i := range 2 {
		if why := s.admit("bo@example.com", "", t0); why != "" {
			t.Fatalf("attempt %d: %s", i, why)
		}
	}
	if why := s.admit("bo@example.com", "", t0.Add(59*time.Second)); why != reasonUserBudget {
		t.Fatalf("third attempt in the window: %q", why)
	}
	if why := s.admit("bo@example.com", "", t0.Add(61*time.Second)); why != "" {
		t.Fatalf("attempt after the window: %q", why)
	}

	// A lockout cools the user down for a full window from the lockout.
	s.record("cy@example.com", [32]byte{}, entra.Result{Verdict: entra.Indeterminate, Code: 50053}, t0)
	if why := s.admit("cy@example.com", "", t0.Add(59*time.Second)); why != reasonUserBudget {
		t.Fatalf("during the cool-down: %q", why)
	}
	if why := s.admit("cy@example.com", "", t0.Add(61*time.Second)); why != "" {
		t.Fatalf("after the cool-down: %q", why)
	}

	// Entra's Retry-After pauses everyone, capped by MaxBackoff (1 min).
	s.record("dee@example.com", [32]byte{}, entra.Result{Verdict: entra.Indeterminate, RetryAfter: time.Hour}, t0)
	if why := s.admit("eve@example.com", "", t0.Add(59*time.Second)); why != reasonEntraBackoff {
		t.Fatalf("during Entra's back-off: %q", why)
	}
	if why := s.admit("eve@example.com", "", t0.Add(61*time.Second)); why != "" {
		t.Fatalf("after the capped back-off: %q", why)
	}
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
// throttling or outage (429, 5xx) evaluated no password, so they do not spend
// the user's budget; a timeout, which may have reached Entra, and a wrong
// password do.
func TestShieldGivesBackAttemptsEntraNeverEvaluated(t *testing.T) {
	s, err := newShield(ShieldConfig{UserAttempts: 2, UserWindow: time.Minute, IPAttempts: -1})
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	for i, res := range []entra.Result{
		{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled},
		{Verdict: entra.Indeterminate, Reason: entra.ReasonUnavailable},
		{Verdict: entra.Indeterminate, Reason: entra.ReasonThrottled},
		{Verdict: entra.Indeterminate, Reason: entra.ReasonUnavailable},
	} {
		if why := s.admit("fay@example.com", "", t0); why != "" {
			t.Fatalf("attempt %d after %d unevaluated checks: %q", i, i, why)
		}
		s.record("fay@example.com", [32]byte{}, res, t0)
	}
	for i, res := range []entra.Result{
		{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout},
		{Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword},
	} {
		if why := s.admit("fay@example.com", "", t0); why != "" {
			t.Fatalf("charged attempt %d: %q", i, why)
		}
		s.record("fay@example.com", [32]byte{byte(i + 1)}, res, t0)
	}
	if why := s.admit("fay@example.com", "", t0); why != reasonUserBudget {
		t.Fatalf("after a timeout and a wrong password (budget 2): %q", why)
	}
	// Entra's per-user "loop detected" (50196) is no refund: it cools the user down.
	s.record("gil@example.com", [32]byte{}, entra.Result{Verdict: entra.Indeterminate, Code: 50196, Reason: entra.ReasonThrottled}, t0)
	if why := s.admit("gil@example.com", "", t0); why != reasonUserBudget {
		t.Fatalf("after AADSTS50196: %q", why)
	}
}
