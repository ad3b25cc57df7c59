package pwimport_test

import (
	"context"
	"entra2okta/internal/testkit/logbuf"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/workflows"
)

// recordingSignaler stands in for Temporal and records what the hook sends.
type recordingSignaler struct {
	mu   sync.Mutex
	sent map[string][]workflows.PasswordVerifiedSignal // by workflow ID
}

func (r *recordingSignaler) SignalWorkflow(_ context.Context, workflowID, _, name string, arg any) error {
	sig, ok := arg.(workflows.PasswordVerifiedSignal)
	if !ok || name != workflows.SignalPasswordVerified {
		panic("unexpected signal")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sent == nil {
		r.sent = map[string][]workflows.PasswordVerifiedSignal{}
	}
	r.sent[workflowID] = append(r.sent[workflowID], sig)
	return nil
}

func (r *recordingSignaler) wait(t *testing.T, login string, n int) []workflows.PasswordVerifiedSignal {
	t.Helper()
	id := workflows.UserWorkflowID(login)
	deadline := time.Now().Add(5 * time.Second)
	for {
		r.mu.Lock()
		got := append([]workflows.PasswordVerifiedSignal(nil), r.sent[id]...)
		r.mu.Unlock()
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%s: %d signals, want %d", id, len(got), n)
			}
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// hookStack is fakeokta → the hook server (TLS) → MSAL → fakeentra,
// started by devstack without Temporal, with an HTTP client of its CA.
type hookStack struct {
	*devstack.Stack
	hc *http.Client
}

// startHookStack starts opts (NoTemporal; opts.Hook is required) and stops
// it at the end of the test.
func startHookStack(t *testing.T, opts devstack.Options) hookStack {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	opts.NoTemporal, opts.Dir = true, t.TempDir()
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return hookStack{Stack: st, hc: st.CA().HTTPClient(30 * time.Second)}
}

// signIn signs login in at fakeokta from the connection's address and
// returns the HTTP status.
func (h hookStack) signIn(t *testing.T, login, password string) int {
	t.Helper()
	code, err := h.SignIn(t.Context(), h.hc, login, password, "")
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// seedDemo is a devstack seed: fakeentra's demo directory of n users (Okta
// empty), stored in *dir.
func seedDemo(n int, dir *fakeentra.DemoDirectory) func(*fakeokta.Server, *fakeentra.Server) (devstack.Tenant, error) {
	return func(_ *fakeokta.Server, e *fakeentra.Server) (devstack.Tenant, error) {
		d, err := e.SeedDemo(n)
		*dir = d
		return devstack.Tenant{TenantID: d.TenantID, GraphClientID: d.GraphClientID, GraphClientSecret: d.GraphClientSecret,
			PublicClientID: d.PublicClientID}, err
	}
}

// seedImportHookUsers creates active Okta users whose credential is the
// password import hook, as the worker does.
func seedImportHookUsers(t *testing.T, o *fakeokta.Server, logins ...string) {
	t.Helper()
	for _, login := range logins {
		if _, err := o.SeedUser(fakeokta.SeedUser{Status: fakeokta.StatusActive, ImportHook: true, Profile: map[string]any{
			"login": login, "email": login, "firstName": "Demo", "lastName": "User"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// lastCall is fakeokta's last hook call for the name typed at sign-in.
func lastCall(o *fakeokta.Server, typed string, match func(a, b string) bool) fakeokta.HookCall {
	var last fakeokta.HookCall
	for _, c := range o.HookCalls() {
		if match(c.Username, typed) {
			last = c
		}
	}
	return last
}

// TestEndToEndThroughEmulators: fakeokta's POST /api/v1/authn fires the
// password import hook → our hook server over TLS → the real MSAL verifier
// → fakeentra; on VERIFIED fakeokta stores the password, and the next
// sign-in needs no hook.
func TestEndToEndThroughEmulators(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const secret = "Basic b2t0YTplMmUtaG9vay1zZWNyZXQ="
	const budget = 600 * time.Millisecond
	var logs logbuf.Buffer
	signals := &recordingSignaler{}
	var dir fakeentra.DemoDirectory
	st := startHookStack(t, devstack.Options{Seed: seedDemo(40, &dir), Okta: fakeokta.Options{HookTimeout: 3 * time.Second},
		Hook: &devstack.HookOptions{Secret: secret, Signaler: signals,
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Configure: func(_ *devstack.Stack, cfg *hookserver.ServerConfig) error {
				cfg.Hook.Budget = budget
				return nil
			}}})
	fe, fo := st.Entra(), st.Okta()
	var plain []fakeentra.DemoUser
	var disabled fakeentra.DemoUser
	for _, u := range dir.Users {
		switch {
		case u.Disabled && !u.Guest && !u.Federated:
			disabled = u
		case u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated:
			plain = append(plain, u)
		}
	}
	if len(plain) < 3 || disabled.UserPrincipalName == "" {
		t.Fatalf("demo directory lacks users: %d plain", len(plain))
	}
	alice, bob, carol := plain[0], plain[1], plain[2]
	seedImportHookUsers(t, fo, alice.UserPrincipalName, bob.UserPrincipalName, carol.UserPrincipalName, disabled.UserPrincipalName)
	signIn := func(user, password string) int { return st.signIn(t, user, password) }
	lastHookCall := func(login string) fakeokta.HookCall { return lastCall(fo, login, strings.EqualFold) }

	// 1. Alice's first sign-in: verified by Entra, stored by Okta.
	if code := signIn(alice.UserPrincipalName, alice.Password); code != http.StatusOK {
		t.Fatalf("alice's first sign-in: HTTP %d", code)
	}
	call := lastHookCall(alice.UserPrincipalName)
	if call.Outcome != fakeokta.HookVerified || !call.Stored || len(call.Attempts) != 1 {
		t.Fatalf("alice's hook call %+v", call)
	}
	if st, ok := fo.User(alice.UserPrincipalName); !ok || st.ProviderType != fakeokta.ProviderOkta {
		t.Fatalf("alice in Okta after VERIFIED: %+v", st)
	}
	if !fo.CheckPassword(alice.UserPrincipalName, alice.Password) {
		t.Fatal("Okta did not store alice's password")
	}
	sig := signals.wait(t, alice.UserPrincipalName, 1)[0]
	if sig.Outcome != workflows.OutcomeVerified || sig.EventID != call.EventID || sig.Latency <= 0 {
		t.Fatalf("alice's signal %+v (hook event %s)", sig, call.EventID)
	}
	// 2. Her next sign-in needs neither the hook nor Entra.
	hooksBefore, entraBefore := len(fo.HookCalls()), fe.TokenRequests(alice.UserPrincipalName)
	if code := signIn(alice.UserPrincipalName, alice.Password); code != http.StatusOK {
		t.Fatalf("alice's second sign-in: HTTP %d", code)
	}
	if len(fo.HookCalls()) != hooksBefore || fe.TokenRequests(alice.UserPrincipalName) != entraBefore {
		t.Fatal("the second sign-in called the hook or Entra")
	}

	// 3. Bob types a wrong password: UNVERIFIED, one attempt (no Okta retry),
	// nothing stored; a repeat is answered from the negative cache, as a
	// failed hook call (403, not retried) rather than another failed
	// sign-in towards Okta's lockout.
	for i, want := range []string{fakeokta.HookUnverified, fakeokta.HookFailed} {
		if code := signIn(bob.UserPrincipalName, "not-"+bob.Password); code != http.StatusUnauthorized {
			t.Fatalf("bob's wrong password: HTTP %d", code)
		}
		call = lastHookCall(bob.UserPrincipalName)
		if call.Outcome != want || call.Stored || len(call.Attempts) != 1 {
			t.Fatalf("bob's hook call %d %+v, want %s", i, call, want)
		}
	}
	if n := fe.TokenRequests(bob.UserPrincipalName); n != 1 {
		t.Fatalf("%d Entra token requests for a repeated wrong password, want 1", n)
	}
	if st, _ := fo.User(bob.UserPrincipalName); st.ProviderType != fakeokta.ProviderImport {
		t.Fatalf("bob's provider %q after UNVERIFIED", st.ProviderType)
	}
	bobSigs := signals.wait(t, bob.UserPrincipalName, 2)
	if bobSigs[0].Outcome != workflows.OutcomeUnverified || bobSigs[0].Code != 50126 {
		t.Fatalf("bob's signal %+v", bobSigs[0])
	}
	// Then the right password still migrates him.
	if code := signIn(bob.UserPrincipalName, bob.Password); code != http.StatusOK {
		t.Fatalf("bob's right password: HTTP %d", code)
	}

	// 4. A disabled Entra account is not migrated.
	if code := signIn(disabled.UserPrincipalName, disabled.Password); code != http.StatusUnauthorized {
		t.Fatalf("disabled user: HTTP %d", code)
	}
	if s := signals.wait(t, disabled.UserPrincipalName, 1)[0]; s.Outcome != workflows.OutcomeUnverified || s.Code != 50057 {
		t.Fatalf("disabled user's signal %+v", s)
	}

	// 5. Entra hangs for carol: the hook answers undecided (403) within its
	// budget, so Okta neither times out nor retries against Entra, and does
	// not count a failed sign-in.
	fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Hang: true, User: carol.UserPrincipalName})
	start := time.Now()
	if code := signIn(carol.UserPrincipalName, carol.Password); code != http.StatusUnauthorized {
		t.Fatalf("carol while Entra hangs: HTTP %d", code)
	}
	call = lastHookCall(carol.UserPrincipalName)
	if call.Outcome != fakeokta.HookFailed || len(call.Attempts) != 1 || call.Attempts[0].Status != pwimport.StatusUndecided ||
		call.Attempts[0].Duration > budget+200*time.Millisecond {
		t.Fatalf("carol's hook call %+v (took %v)", call, time.Since(start))
	}
	if s := signals.wait(t, carol.UserPrincipalName, 1)[0]; s.Outcome != workflows.OutcomeIndeterminate || s.Reason != "timeout" {
		t.Fatalf("carol's signal %+v", s)
	}
	fe.ClearFaults()
	fe.Release()

	for _, u := range []fakeentra.DemoUser{alice, bob, carol, disabled} {
		if strings.Contains(logs.String(), u.Password) {
			t.Fatal("a password appears in the hook server's log")
		}
	}
}
