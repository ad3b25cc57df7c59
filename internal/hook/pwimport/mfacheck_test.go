package pwimport

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/redact"
)

// TestMFACheckStates: the canary check's answers and what they do: 50126
// passes, an MFA interrupt fails and stays failed until a restart (a later
// 50126 may only mean the canary lost its MFA), other answers are
// inconclusive and leave an earlier pass standing, the canary's real password
// is reported; at most MaxPerDay checks reach Entra in any 24 h; an MFA
// interrupt is undecided only after the tenant answered MFA first.
func TestMFACheckStates(t *testing.T) {
	var code int
	var verdict entra.Verdict
	v := &fakeVerifier{fn: func(context.Context, string, string) entra.Result {
		r, reason := entra.Classify(code, entra.DefaultPolicy())
		if verdict != "" {
			r = verdict
		}
		return entra.Result{Verdict: r, Code: code, Reason: reason}
	}}
	var logs bytes.Buffer
	c := newMFACheck(MFACheckConfig{PolicyMFA: true, Username: "canary@example.com", Password: redact.New("wrong-canary-pw")}, 10, v,
		slog.New(slog.NewJSONHandler(&logs, nil)))
	now := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return now }
	ctx := context.Background()
	mfa := entra.Result{Verdict: entra.Verified, Code: 50076, Reason: entra.ReasonMFARequired}

	step := func(c0 int, want string) {
		t.Helper()
		code = c0
		if got := c.checkOnce(ctx); got != want {
			t.Fatalf("after %d: %s, want %s", c0, got, want)
		}
		now = now.Add(time.Hour)
	}
	step(50053, MFAOrderInconclusive) // locked canary
	if c.adjust(mfa) != mfa {
		t.Fatal("an MFA interrupt adjusted before the tenant answered MFA first")
	}
	step(50126, MFAOrderPasswordFirst)
	step(0, MFAOrderPasswordFirst) // a timeout-like answer leaves the pass
	if !strings.Contains(logs.String(), "real password") {
		t.Fatalf("the canary's real password is not reported:\n%s", logs.String())
	}
	// The daily cap (4 at a threshold of 10): the 5th check within 24 h is skipped.
	calls := v.calls.Load()
	step(50079, MFAOrderMFAFirst)
	if v.calls.Load() != calls+1 {
		t.Fatal("the fourth check did not reach Entra")
	}
	code = 50126
	if got := c.checkOnce(ctx); got != MFAOrderMFAFirst || v.calls.Load() != calls+1 {
		t.Fatalf("a fifth check within 24 h: %s, %d calls", got, v.calls.Load()-calls)
	}
	now = now.Add(24 * time.Hour)
	step(50126, MFAOrderMFAFirst) // sticky
	if got := c.adjust(mfa); got.Verdict != entra.Indeterminate || got.Reason != reasonMFAFirst || got.Code != 50076 {
		t.Fatalf("MFA first: an MFA interrupt adjusted to %+v", got)
	}
	for _, r := range []entra.Result{{Verdict: entra.Verified, Reason: entra.ReasonOK}, {Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword}} {
		if c.adjust(r) != r {
			t.Fatalf("MFA first: %+v adjusted", r)
		}
	}
	if strings.Contains(logs.String(), "wrong-canary-pw") {
		t.Fatal("the canary's password is in the log")
	}
}

// TestMFACheckConfig: without a canary, HOOK_POLICY_MFA logs a warning at
// start and stays unsafe; a half-configured canary or a cap at the lockout
// threshold is refused; an MFA interrupt stays VERIFIED (today's behaviour)
// until the tenant is seen answering MFA first.
func TestMFACheckConfig(t *testing.T) {
	var logs bytes.Buffer
	v := verifierReturning(entra.Result{Verdict: entra.Verified, Code: 50076, Reason: entra.ReasonMFARequired})
	h, err := NewHandler(Config{AuthSecret: testSecret, MFACheck: MFACheckConfig{PolicyMFA: true}}, v, &fakeSignaler{},
		slog.New(slog.NewJSONHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = h.Shutdown(context.Background()) }()
	if !strings.Contains(logs.String(), `"level":"WARN","msg":"HOOK_POLICY_MFA=true`) {
		t.Fatalf("no warning at start:\n%s", logs.String())
	}
	if h.mfa.current() != MFAOrderUnchecked || v.calls.Load() != 0 {
		t.Fatal("a check without a canary")
	}
	if out := h.check(importRequest{Username: "u@example.com", Password: redact.New("pw"), RequestID: "r1"}, time.Now().Add(time.Second)); out.answer != answerVerified {
		t.Fatalf("an MFA interrupt before any MFA-first answer: %+v", out)
	}
	const pw = "Canary-Pw-9917"
	for name, mc := range map[string]MFACheckConfig{
		"no password":      {Username: "canary@example.com"},
		"no username":      {Password: redact.New(pw)},
		"cap at threshold": {Username: "canary@example.com", Password: redact.New(pw), MaxPerDay: 10},
	} {
		if _, err := NewHandler(Config{AuthSecret: testSecret, MFACheck: mc}, v, &fakeSignaler{}, nil); err == nil {
			t.Errorf("%s: accepted", name)
		} else if strings.Contains(err.Error(), pw) {
			t.Errorf("%s: the error quotes the password: %v", name, err)
		}
	}
}
