package pwimport_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/loopbacktls"
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

// TestEndToEndThroughEmulators: fakeokta's POST /api/v1/authn fires the
// password import hook → our hook server over TLS → the real MSAL verifier
// → fakeentra; on VERIFIED fakeokta stores the password, and the next
// sign-in needs no hook.
func TestEndToEndThroughEmulators(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	// Entra.
	fe, err := fakeentra.Start(fakeentra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fe.Close() })
	dir, err := fe.SeedDemo(40)
	if err != nil {
		t.Fatal(err)
	}
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

	// Our hook server, over its own TLS certificate.
	verifier, err := ropc.NewVerifier(ropc.Config{AuthorityHost: fe.URL, TenantID: dir.TenantID, ClientID: dir.PublicClientID,
		HTTPClient: fe.HTTPClient(0), Policy: entra.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	ca, err := loopbacktls.New()
	if err != nil {
		t.Fatal(err)
	}
	const secret = "Basic b2t0YTplMmUtaG9vay1zZWNyZXQ="
	const budget = 600 * time.Millisecond
	var logs syncBuffer
	signals := &recordingSignaler{}
	srv, err := hookserver.NewServer(hookserver.ServerConfig{Hook: pwimport.Config{AuthSecret: secret, Budget: budget}, TLS: ca.ServerTLSConfig()},
		verifier, signals, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})

	// Okta, calling the hook.
	fo, err := fakeokta.Start(fakeokta.Options{HookRootCAs: ca.CertPool(), HookTimeout: 3 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fo.Close() })
	if _, err := fo.SetPasswordImportHook("https://"+ln.Addr().String()+pwimport.PasswordImportPath, "Authorization", secret); err != nil {
		t.Fatal(err)
	}
	for _, u := range []fakeentra.DemoUser{alice, bob, carol, disabled} {
		if _, err := fo.SeedUser(fakeokta.SeedUser{Status: fakeokta.StatusActive, ImportHook: true, Profile: map[string]any{
			"login": u.UserPrincipalName, "email": u.UserPrincipalName, "firstName": "Demo", "lastName": "User",
		}}); err != nil {
			t.Fatal(err)
		}
	}
	oktaClient := fo.HTTPClient()
	signIn := func(user, password string) int {
		body, _ := json.Marshal(map[string]string{"username": user, "password": password})
		req, _ := http.NewRequest(http.MethodPost, fo.URL+"/api/v1/authn", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := oktaClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	lastHookCall := func(login string) fakeokta.HookCall {
		t.Helper()
		var last fakeokta.HookCall
		for _, c := range fo.HookCalls() {
			if strings.EqualFold(c.Username, login) {
				last = c
			}
		}
		return last
	}

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

// syncBuffer is a bytes.Buffer safe for the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
