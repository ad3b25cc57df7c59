package pwimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/pwpolicy"
)

// fakePolicies serves fixed password policies and counts the reads; block,
// when set, holds every read until it is closed.
type fakePolicies struct {
	pols  []pwpolicy.Policy
	fail  atomic.Bool // reads fail
	block chan struct{}
	reads atomic.Int64
}

func (f *fakePolicies) PasswordPolicies(ctx context.Context) ([]pwpolicy.Policy, error) {
	f.reads.Add(1)
	if f.block != nil {
		select {
		case <-f.block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if f.fail.Load() {
		return nil, errors.New("okta: 503")
	}
	return f.pols, nil
}

// defaultPolicy is a default password policy as the Policies API returns
// it, with complexity c and a default rule that allows password changes.
func defaultPolicy(c pwpolicy.Complexity, change string) []pwpolicy.Policy {
	return []pwpolicy.Policy{{ID: "00pdefault", Name: "Default Policy", Status: "ACTIVE", Priority: 1, System: true,
		Groups: []string{"00geveryone"}, AuthProvider: "OKTA", Complexity: c,
		Rules: []pwpolicy.Rule{{Name: "Default Rule", Status: "ACTIVE", Priority: 1, PasswordChange: change}}}}
}

func waitPolicy(t *testing.T, h *Handler) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for h.pol.applied.Load() == nil {
		if time.Now().After(deadline) {
			t.Fatal("the password policy was never read")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestBelowPolicyStillVerified checks that a verified password below the
// policy is answered VERIFIED and signalled with the broken rules' names
// only, that a password meeting it is signalled without, and that a rejected
// one is not checked.
func TestBelowPolicyStillVerified(t *testing.T) {
	const weak, strong = "summer2024", "Corr3ct-Horse-Battery-Staple"
	v := &fakeVerifier{fn: func(_ context.Context, _, p string) entra.Result {
		if p == weak || p == strong {
			return entra.Result{Verdict: entra.Verified, Reason: "ok", Latency: time.Millisecond}
		}
		return entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: "wrong_password", Latency: time.Millisecond}
	}}
	src := &fakePolicies{pols: defaultPolicy(pwpolicy.Complexity{MinLength: 12, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1,
		ExcludeUsername: true, DictionaryCommon: true}, "ALLOW")}
	s := &fakeSignaler{}
	var logs bytes.Buffer
	h := newTestHandler(t, Config{Policy: PolicyConfig{Source: src}}, v, s,
		slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	waitPolicy(t, h)

	if got := credentialOf(t, post(h, payload("weak", "kim@example.com", weak, "203.0.113.1"))); got != "VERIFIED" {
		t.Fatalf("weak verified password answered %s", got)
	}
	if got := credentialOf(t, post(h, payload("strong", "lee@example.com", strong, "203.0.113.2"))); got != "VERIFIED" {
		t.Fatalf("strong verified password answered %s", got)
	}
	if got := credentialOf(t, post(h, payload("wrong", "max@example.com", "abc", "203.0.113.3"))); got != "UNVERIFIED" {
		t.Fatalf("wrong password answered %s", got)
	}
	sent := s.waitSignals(t, 3)
	want := []string{pwpolicy.RuleMinLength, pwpolicy.RuleMinUpperCase, pwpolicy.RuleCommon}
	if got := signalFor(t, sent, "weak").BelowPolicy; !slices.Equal(got, want) {
		t.Errorf("weak password's signal: BelowPolicy %v, want %v", got, want)
	}
	if got := signalFor(t, sent, "strong").BelowPolicy; got != nil {
		t.Errorf("strong password's signal: BelowPolicy %v", got)
	}
	if got := signalFor(t, sent, "wrong").BelowPolicy; got != nil {
		t.Errorf("rejected password's signal: BelowPolicy %v", got)
	}
	// The signal as Temporal's JSON converter encodes it: rule names, no
	// password, no length.
	b, err := json.Marshal(signalFor(t, sent, "weak"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), weak) || strings.Contains(string(b), `"Length"`) || strings.Contains(logs.String(), weak) {
		t.Errorf("the password leaks: signal %s", b)
	}
	if !strings.Contains(logs.String(), `"below_policy":"minLength,minUpperCase,dictionary.common"`) {
		t.Errorf("the answer's log line does not name the broken rules:\n%s", logs.String())
	}
	if n := src.reads.Load(); n != 1 {
		t.Errorf("%d policy reads for 3 requests, want the one at start", n)
	}
}

// TestPolicyReadNeverOnRequestPath checks that the hook answers at once
// while the first policy read hangs (and then checks nothing), and that a
// failed refresh keeps the last policy read.
func TestPolicyReadNeverOnRequestPath(t *testing.T) {
	src := &fakePolicies{pols: defaultPolicy(pwpolicy.Complexity{MinLength: 64}, "ALLOW"), block: make(chan struct{})}
	s := &fakeSignaler{}
	h := newTestHandler(t, Config{Budget: 200 * time.Millisecond, Policy: PolicyConfig{Source: src, Refresh: 20 * time.Millisecond}},
		passwordVerifier("Pa55-word"), s, nil)
	start := time.Now()
	if got := credentialOf(t, post(h, payload("e1", "kim@example.com", "Pa55-word", ""))); got != "VERIFIED" {
		t.Fatalf("answered %s", got)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("answered after %v while the policy read hung", d)
	}
	if got := signalFor(t, s.waitSignals(t, 1), "e1").BelowPolicy; got != nil {
		t.Errorf("checked against a policy not read yet: %v", got)
	}
	close(src.block)
	waitPolicy(t, h)
	src.fail.Store(true) // refreshes fail from now on
	reads := src.reads.Load()
	for src.reads.Load() < reads+2 {
		time.Sleep(5 * time.Millisecond)
	}
	if got := credentialOf(t, post(h, payload("e2", "lee@example.com", "Pa55-word", ""))); got != "VERIFIED" {
		t.Fatalf("answered %s", got)
	}
	if got := signalFor(t, s.waitSignals(t, 2), "e2").BelowPolicy; !slices.Equal(got, []string{pwpolicy.RuleMinLength}) {
		t.Errorf("after failed refreshes: BelowPolicy %v, want the last policy's minLength", got)
	}
}

// TestPolicyWithoutPasswordChangeFlagsNothing checks that no password is
// flagged when the policy's rule does not let users change their password:
// expiring it would lock them out.
func TestPolicyWithoutPasswordChangeFlagsNothing(t *testing.T) {
	src := &fakePolicies{pols: defaultPolicy(pwpolicy.Complexity{MinLength: 64}, "DENY")}
	s := &fakeSignaler{}
	h := newTestHandler(t, Config{Policy: PolicyConfig{Source: src}}, passwordVerifier("Pa55-word"), s, nil)
	waitPolicy(t, h)
	if got := credentialOf(t, post(h, payload("e1", "kim@example.com", "Pa55-word", ""))); got != "VERIFIED" {
		t.Fatalf("answered %s", got)
	}
	if got := signalFor(t, s.waitSignals(t, 1), "e1").BelowPolicy; got != nil {
		t.Errorf("flagged under a rule that denies password changes: %v", got)
	}
}
