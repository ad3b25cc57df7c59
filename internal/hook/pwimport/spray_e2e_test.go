package pwimport_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
)

// sprayStack is fakeokta → hook server (TLS) → MSAL → fakeentra, with n
// plain Entra users active in Okta on the import hook.
type sprayStack struct {
	hookStack
	fe    *fakeentra.Server
	fo    *fakeokta.Server
	users []fakeentra.DemoUser
}

func newSprayStack(t *testing.T, n int, shield pwimport.ShieldConfig) *sprayStack {
	t.Helper()
	var dir fakeentra.DemoDirectory
	hs := startHookStack(t, devstack.Options{Seed: seedDemo(n*2, &dir),
		Okta: fakeokta.Options{HookTimeout: 3 * time.Second, ConcurrencyLimit: 1000},
		Hook: &devstack.HookOptions{Secret: "Basic c3ByYXk6c3ByYXktc2VjcmV0LXZhbHVl", Signaler: &recordingSignaler{},
			Configure: func(_ *devstack.Stack, cfg *hookserver.ServerConfig) error {
				cfg.Hook.Budget, cfg.Hook.Shield = 2*time.Second, shield
				return nil
			}}})
	st := &sprayStack{hookStack: hs, fe: hs.Entra(), fo: hs.Okta()}
	for _, u := range dir.Users {
		if u.State == fakeentra.StateNormal && !u.Disabled && !u.Guest && !u.Federated && len(st.users) < n {
			st.users = append(st.users, u)
		}
	}
	if len(st.users) < n {
		t.Fatalf("%d plain users, want %d", len(st.users), n)
	}
	for _, u := range st.users {
		seedImportHookUsers(t, st.fo, u.UserPrincipalName)
	}
	return st
}

// signIn signs user in at fakeokta from ip and returns the HTTP status (0
// after an error, reported with t.Error: it runs on the test's goroutines).
func (st *sprayStack) signIn(t *testing.T, user, password, ip string) int {
	code, err := st.SignIn(t.Context(), st.hc, user, password, ip)
	if err != nil {
		t.Error(err)
	}
	return code
}

// metrics is the hook server's /metrics page.
func (st *sprayStack) metrics(t *testing.T) string {
	return httpGet(t, st.HookServer().AdminHandler(), "/metrics")
}

func httpGet(t *testing.T, h http.Handler, path string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, path, nil)
	w := &bufferedWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	return w.buf.String()
}

type bufferedWriter struct {
	header http.Header
	buf    bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header         { return b.header }
func (b *bufferedWriter) Write(p []byte) (int, error) { return b.buf.Write(p) }
func (b *bufferedWriter) WriteHeader(int)             {}

// TestSprayThroughOkta is the spray defence's end-to-end test: an attacker sprays 25
// passwords at each of 200 users through Okta while those users sign in with
// their right passwords. Every right password is verified (a user whose
// sign-in the shield kept from Entra retries, as people do); Entra locks no
// account; Okta locks no account; the circuit breaker's metric moves. Each
// user signs in after the attacker's guesses at that user: once migrated, a
// user's Okta password and Okta's own lockout govern further guesses.
func TestSprayThroughOkta(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const users, guesses = 200, 25
	// About 1,000 failures reach Entra (five per user before the user's
	// budget stops the guesses); 60 in any 4 s trips the breaker even when a
	// loaded machine slows the spray to a fifth of its usual pace.
	st := newSprayStack(t, users, pwimport.ShieldConfig{GlobalFailures: 60, GlobalWindow: 4 * time.Second, BreakerCooldown: 500 * time.Millisecond})
	var wg sync.WaitGroup
	sem := make(chan struct{}, 32)
	verified := make([]bool, users)
	for i, u := range st.users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for g := range guesses {
				sem <- struct{}{}
				st.signIn(t, u.UserPrincipalName, fmt.Sprintf("Spray%02d!", g), fmt.Sprintf("198.18.%d.%d", g, i%250))
				<-sem
			}
			deadline := time.Now().Add(90 * time.Second)
			for time.Now().Before(deadline) {
				sem <- struct{}{}
				code := st.signIn(t, u.UserPrincipalName, u.Password, fmt.Sprintf("203.0.113.%d", i%250))
				<-sem
				if code == http.StatusOK {
					verified[i] = true
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}()
	}
	wg.Wait()
	for i, u := range st.users {
		if !verified[i] {
			t.Errorf("%s: the right password was never verified", u.UserPrincipalName)
		}
		if l := st.fe.Lockout(u.UserPrincipalName); l.Lockouts > 0 || l.Locked {
			t.Errorf("%s: locked out of Entra: %+v", u.UserPrincipalName, l)
		}
		if s, _ := st.fo.User(u.UserPrincipalName); s.Status == fakeokta.StatusLockedOut {
			t.Errorf("%s: locked out of Okta", u.UserPrincipalName)
		}
	}
	if m := st.metrics(t); !bytes.Contains([]byte(m), []byte("entra2okta_hook_breaker_trips_total")) || bytes.Contains([]byte(m), []byte("entra2okta_hook_breaker_trips_total 0\n")) {
		t.Error("the circuit breaker's metric did not move")
	}
}

// TestEntraOutageLocksNobodyOutOfOkta: while Entra answers 503 to every
// sign-in, a wave of users sign in again and again; the hook answers
// undecided, which Okta does not count, so no user ends LOCKED_OUT, and
// everyone is verified once Entra is back.
func TestEntraOutageLocksNobodyOutOfOkta(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	st := newSprayStack(t, 20, pwimport.ShieldConfig{MaxBackoff: 300 * time.Millisecond})
	st.fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Status: 503})
	for round := range 15 {
		for i, u := range st.users {
			if code := st.signIn(t, u.UserPrincipalName, u.Password, fmt.Sprintf("203.0.113.%d", i)); code == http.StatusOK {
				t.Fatalf("round %d: signed in while Entra is down", round)
			}
		}
	}
	for _, u := range st.users {
		if s, _ := st.fo.User(u.UserPrincipalName); s.Status == fakeokta.StatusLockedOut {
			t.Fatalf("%s: locked out of Okta by an Entra outage", u.UserPrincipalName)
		}
	}
	st.fe.ClearFaults()
	time.Sleep(400 * time.Millisecond) // the hook's pause after Entra's Retry-After
	for i, u := range st.users {
		if code := st.signIn(t, u.UserPrincipalName, u.Password, fmt.Sprintf("203.0.113.%d", i)); code != http.StatusOK {
			t.Fatalf("%s after the outage: HTTP %d", u.UserPrincipalName, code)
		}
	}
}
