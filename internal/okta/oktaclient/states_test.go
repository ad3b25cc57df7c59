package oktaclient_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
)

// testClock is a settable clock for the emulator.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func wantKind(t *testing.T, err error, kind apierr.Kind, status int, code string) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want an *apierr.Error of kind %s", err, err, kind)
	}
	if e.Kind != kind || e.Status != status || e.Code != code {
		t.Errorf("error = kind %s, HTTP %d %q; want %s, %d %q (%v)", e.Kind, e.Status, e.Code, kind, status, code, err)
	}
}

// TestAsyncActivation: while Okta activates a user asynchronously the user
// carries transitioningToStatus, and a change to it is 409 E0000112, which
// the adapter classifies Busy (retry after a short wait), not Invalid.
func TestAsyncActivation(t *testing.T) {
	clk := &testClock{t: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	o := startOAPIOrg(t, fakeokta.Options{ActivationDelay: 10 * time.Second, Now: clk.Now})
	c := o.adapter(t, fakeokta.DefaultAPIToken)
	ctx := t.Context()

	u, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("async@example.com"), PasswordHook: true, Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != okta.StatusStaged || u.TransitioningToStatus != okta.StatusActive {
		t.Fatalf("created user: status %q, transitioning to %q; want STAGED on its way to ACTIVE", u.Status, u.TransitioningToStatus)
	}
	wantKind(t, c.ActivateUser(ctx, u.ID, false), apierr.Busy, http.StatusConflict, "E0000112")
	wantKind(t, c.ReactivateUser(ctx, u.ID, false), apierr.Busy, http.StatusConflict, "E0000112")
	_, err = c.UpdateUser(ctx, u.ID, okta.UserUpdate{Profile: okta.Profile{"nickName": "A"}})
	wantKind(t, err, apierr.Busy, http.StatusConflict, "E0000112")

	clk.Add(10 * time.Second)
	got, err := c.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != okta.StatusActive || got.TransitioningToStatus != "" {
		t.Fatalf("after the activation: status %q, transitioning to %q; want ACTIVE, none", got.Status, got.TransitioningToStatus)
	}
	wantKind(t, c.ActivateUser(ctx, u.ID, false), apierr.Invalid, http.StatusForbidden, "E0000016")

	// An activate call is asynchronous too.
	st, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("later@example.com"), PasswordHook: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ActivateUser(ctx, st.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetUser(ctx, st.ID); got.Status != okta.StatusStaged || got.TransitioningToStatus != okta.StatusActive {
		t.Errorf("after activate: status %q, transitioning to %q", got.Status, got.TransitioningToStatus)
	}

	o.rep.AssertClean(t)
	for _, op := range []string{"activateUser", "reactivateUser", "updateUser"} {
		o.rep.AssertSeen(t, op, http.StatusConflict)
	}
}

// TestProvisionedUserIsReactivated: under an enrollment policy that leaves
// a user created with a password PROVISIONED, the user cannot sign in and
// cannot be activated; reactivating it, which the adapter exposes, makes a
// user on the import hook ACTIVE, after which its sign-in fires the hook.
func TestProvisionedUserIsReactivated(t *testing.T) {
	o := startOAPIOrg(t, fakeokta.Options{ProvisionOnActivate: true})
	if _, err := o.fake.SetPasswordImportHook(o.hookTS.URL+"/okta/password-import", "Authorization", "hook-secret"); err != nil {
		t.Fatal(err)
	}
	c := o.adapter(t, fakeokta.DefaultAPIToken)
	ctx := t.Context()

	u, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("prov@example.com"), PasswordHook: true, Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != okta.StatusProvisioned || !u.HasPassword || u.ProviderType != okta.ProviderImport {
		t.Fatalf("created user = %+v, want PROVISIONED on the import hook", u)
	}
	if st := o.signIn(t, "prov@example.com", "right"); st != http.StatusUnauthorized {
		t.Errorf("sign-in of a PROVISIONED user: status %d, want 401", st)
	}
	if n := o.hook.count(); n != 0 {
		t.Errorf("hook called %d times for a PROVISIONED user", n)
	}
	wantKind(t, c.ActivateUser(ctx, u.ID, false), apierr.Invalid, http.StatusForbidden, "E0000038")

	if err := c.ReactivateUser(ctx, u.ID, false); err != nil {
		t.Fatalf("ReactivateUser: %v", err)
	}
	if got, _ := c.GetUser(ctx, u.ID); got.Status != okta.StatusActive || got.ProviderType != okta.ProviderImport {
		t.Fatalf("after reactivate: %+v, want ACTIVE on the import hook", got)
	}
	if st := o.signIn(t, "prov@example.com", "right"); st != http.StatusOK {
		t.Errorf("sign-in after reactivation: status %d, want 200", st)
	}
	wantKind(t, c.ReactivateUser(ctx, u.ID, false), apierr.Invalid, http.StatusForbidden, "E0000038")

	// Without a password, reactivation restarts Okta's activation flow: the
	// user stays PROVISIONED until they complete it.
	bare, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("bare@example.com"), Activate: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ReactivateUser(ctx, bare.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetUser(ctx, bare.ID); got.Status != okta.StatusProvisioned {
		t.Errorf("user without a password after reactivate: %s, want PROVISIONED", got.Status)
	}

	o.rep.AssertClean(t)
	o.rep.AssertSeen(t, "reactivateUser", http.StatusOK)
	o.rep.AssertSeen(t, "reactivateUser", http.StatusForbidden)
}

// TestIdentityProviderUsersHoldNoPassword: Okta supports no password on
// FEDERATION or SOCIAL users; putting one on the import hook is refused and
// leaves the user as it was.
func TestIdentityProviderUsersHoldNoPassword(t *testing.T) {
	o := startOAPIOrg(t, fakeokta.Options{})
	c := o.adapter(t, fakeokta.DefaultAPIToken)
	ctx := t.Context()
	for _, provider := range []string{"FEDERATION", "SOCIAL"} {
		login := "idp-" + provider + "@example.com"
		if _, err := o.fake.SeedUser(fakeokta.SeedUser{Profile: oapiProfile(login), Status: okta.StatusActive, ProviderType: provider}); err != nil {
			t.Fatal(err)
		}
		u, err := c.GetUser(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		if u.ProviderType != provider || u.HasPassword {
			t.Fatalf("%s user = %+v", provider, u)
		}
		_, err = c.UpdateUser(ctx, u.ID, okta.UserUpdate{SetPasswordHook: true})
		wantKind(t, err, apierr.Invalid, http.StatusBadRequest, "E0000001")
		if got, _ := c.GetUser(ctx, u.ID); got.ProviderType != provider || got.HasPassword {
			t.Errorf("%s user after the refused update = %+v", provider, got)
		}
	}
	if _, err := o.fake.SeedUser(fakeokta.SeedUser{Profile: oapiProfile("fedhook@example.com"), ProviderType: "FEDERATION", ImportHook: true}); err == nil {
		t.Error("seeding a FEDERATION user on the import hook succeeded")
	}
	o.rep.AssertClean(t)
}
