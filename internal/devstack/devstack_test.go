package devstack_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/workflows"
)

// signals records the hook's signals by workflow ID.
type signals struct {
	mu   sync.Mutex
	sent map[string]int
}

func (s *signals) SignalWorkflow(_ context.Context, workflowID, _, name string, _ any) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if name == workflows.SignalPasswordVerified {
		s.sent[workflowID]++
	}
	return nil
}

func (s *signals) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent[id]
}

// TestHookStackWithoutTemporal starts the emulators and the hook server
// without Temporal: a first sign-in at fakeokta with the Entra password goes
// through the registered hook to fakeentra and is stored, a wrong password is
// refused, and the hook server answers again on its address after a
// restart.
func TestHookStackWithoutTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the emulators and the hook server over TLS")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sig := &signals{sent: map[string]int{}}
	st, err := devstack.Start(ctx, devstack.Options{NoTemporal: true, Users: 12, Dir: t.TempDir(),
		Hook: &devstack.HookOptions{Signaler: sig}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	if st.Client() != nil || st.HookURL() == "" || st.Tenant().PublicClientID == "" {
		t.Fatalf("client %v, hook URL %q, tenant %+v", st.Client(), st.HookURL(), st.Tenant())
	}
	if inline, event := st.HookIDs(); inline == "" || event != "" {
		t.Fatalf("hook ids %q %q: want the inline hook only", inline, event)
	}
	// Two plain users, created in Okta as the worker does: active, with the
	// password import hook as their credential.
	inOkta := map[string]bool{}
	for _, l := range append(append([]string{}, st.Directory().Staged...), st.Directory().AlreadyInOkta...) {
		inOkta[l] = true
	}
	var users []fakeentra.DemoUser
	for _, u := range st.Directory().Users {
		if len(users) < 2 && !inOkta[u.UserPrincipalName] && u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated {
			users = append(users, u)
			if _, err := st.Okta().SeedUser(fakeokta.SeedUser{Status: fakeokta.StatusActive, ImportHook: true, Profile: map[string]any{
				"login": u.UserPrincipalName, "email": u.UserPrincipalName, "firstName": "F", "lastName": "L"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(users) < 2 {
		t.Fatalf("%d plain users", len(users))
	}
	addr := st.HookURL()
	signIn(ctx, t, st, users[0], "wrong-"+users[0].Password, http.StatusUnauthorized)
	st.StopHook()
	if err := st.StartHook(ctx); err != nil {
		t.Fatal(err)
	}
	if st.HookURL() != addr {
		t.Fatalf("hook restarted on %s, registered at %s", st.HookURL(), addr)
	}
	for _, u := range users[:2] {
		signIn(ctx, t, st, u, u.Password, http.StatusOK)
		if !st.Okta().CheckPassword(u.UserPrincipalName, u.Password) {
			t.Errorf("%s: fakeokta does not hold the verified password", u.UserPrincipalName)
		}
	}
	if n := len(st.Okta().HookCalls()); n != 3 {
		t.Errorf("%d hook calls, want 3", n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for sig.count(workflows.UserWorkflowID(users[1].UserPrincipalName)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if sig.count(workflows.UserWorkflowID(users[1].UserPrincipalName)) == 0 {
		t.Error("no password-verified signal for the verified user")
	}
}

func signIn(ctx context.Context, t *testing.T, st *devstack.Stack, u fakeentra.DemoUser, password string, want int) {
	t.Helper()
	code, err := st.SignIn(ctx, st.CA().HTTPClient(15*time.Second), u.UserPrincipalName, password, "198.51.100.7")
	if err != nil || code != want {
		t.Fatalf("%s: sign-in answered %d (%v), want %d", u.UserPrincipalName, code, err, want)
	}
}
