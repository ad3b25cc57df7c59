package devstack_test

import (
	"context"
	"net/http"
	"os"
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

// TestEmulatorsStartSeedAndClose starts the emulators alone: the CA file is
// written, the demo seed names the tenant, fakeokta answers the product's API
// token (and refuses another) over TLS of the CA, and after Close (twice)
// nothing answers while the URLs stay known.
func TestEmulatorsStartSeedAndClose(t *testing.T) {
	e, err := devstack.StartEmulators(devstack.EmulatorOptions{Users: 6, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if _, err := os.Stat(e.CAFile()); err != nil {
		t.Fatal(err)
	}
	if e.Tenant().TenantID == "" || e.Tenant() != devstack.DemoTenant(e.Directory()) || len(e.Directory().Users) != 6 {
		t.Fatalf("tenant %+v, %d users seeded", e.Tenant(), len(e.Directory().Users))
	}
	if e.OktaAPIToken() != fakeokta.DefaultAPIToken {
		t.Fatalf("API token %q", e.OktaAPIToken())
	}
	hc := e.CA().HTTPClient(10 * time.Second)
	get := func(token string) (int, error) {
		req, err := http.NewRequest(http.MethodGet, e.OktaURL()+"/api/v1/users", nil)
		if err != nil {
			return 0, err
		}
		req.Header.Set("Authorization", "SSWS "+token)
		resp, err := hc.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}
	if code, err := get(e.OktaAPIToken()); err != nil || code != http.StatusOK {
		t.Fatalf("fakeokta with the API token: %d %v", code, err)
	}
	if code, err := get("not-the-token"); err != nil || code != http.StatusUnauthorized {
		t.Fatalf("fakeokta with another token: %d %v", code, err)
	}
	oktaURL := e.OktaURL()
	e.Close()
	e.Close()
	hc.CloseIdleConnections()
	if e.OktaURL() != oktaURL {
		t.Fatalf("OktaURL after Close: %q", e.OktaURL())
	}
	if _, err := get(e.OktaAPIToken()); err == nil {
		t.Fatal("fakeokta still answers after Close")
	}
}
