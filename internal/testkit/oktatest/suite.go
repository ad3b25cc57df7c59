// Package oktatest is the conformance suite of the Okta adapter
// (internal/okta/oktaclient): it drives the adapter, and through it the real
// okta-sdk-golang, against an org and checks what comes back, and, when the
// org is our emulator (internal/emu/fakeokta), what went over the wire.
//
// RunConformance runs the API part against any org (a real tenant with
// `go test -tags live`, see internal/okta/oktaclient/live_test.go) and the emulator part (faults,
// rate limits, recorded requests, sign-ins that fire the password import
// hook) only when Target.Fake is set.
package oktatest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
)

// Target is the org the suite runs against.
type Target struct {
	// NewClient returns an adapter for the org using token, or the valid
	// API token when token is "".
	NewClient func(t *testing.T, token string) *oktaclient.Client
	// LoginDomain is the domain of the logins the suite creates; default
	// example.com. Every login also carries a random tag, and every user
	// created is deleted when its test ends.
	LoginDomain string

	// Fake is the emulator behind NewClient; nil for a real tenant, where
	// the emulator-only tests are skipped.
	Fake *fakeokta.Server
	// OrgURL and HTTPClient reach the org directly, to sign users in
	// (POST /api/v1/authn) as a browser would.
	OrgURL     string
	HTTPClient *http.Client
	// HookCA serves the suite's password import hooks over TLS; the
	// emulator must trust it (fakeokta.Options.HookRootCAs).
	HookCA *loopbacktls.Authority
}

// RunConformance runs every test of the suite against tgt.
func RunConformance(t *testing.T, tgt Target) {
	if tgt.LoginDomain == "" {
		tgt.LoginDomain = "example.com"
	}
	s := &suite{Target: tgt}
	t.Run("API", s.runAPI)
	t.Run("Emulator", func(t *testing.T) {
		if tgt.Fake == nil {
			t.Skip("needs the emulator: fault injection, recorded requests and hook-firing sign-ins")
		}
		s.runEmulated(t)
	})
}

// RunAPI runs only the part of the suite that any org supports.
func RunAPI(t *testing.T, tgt Target) {
	if tgt.LoginDomain == "" {
		tgt.LoginDomain = "example.com"
	}
	(&suite{Target: tgt}).runAPI(t)
}

type suite struct {
	Target
}

func (s *suite) client(t *testing.T) *oktaclient.Client { return s.NewClient(t, "") }

// login returns a fresh login: name, a random tag, the domain.
func (s *suite) login(name string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return name + "." + hex.EncodeToString(b[:]) + "@" + s.LoginDomain
}

func profileFor(login string) okta.Profile {
	first, _, _ := strings.Cut(login, ".")
	return okta.Profile{"login": login, "email": login, "firstName": first, "lastName": "Conformance"}
}

// create creates a user and deletes it when the test ends.
func (s *suite) create(t *testing.T, c *oktaclient.Client, nu okta.NewUser) okta.User {
	t.Helper()
	u, err := c.CreateUser(t.Context(), nu)
	if err != nil {
		t.Fatalf("CreateUser(%v): %v", nu.Profile["login"], err)
	}
	t.Cleanup(func() { s.remove(c, u.ID) })
	return u
}

// remove deactivates then deletes a user, ignoring errors (best effort).
func (s *suite) remove(c *oktaclient.Client, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	u, err := c.GetUser(ctx, id)
	if err != nil {
		return
	}
	if u.Status != okta.StatusDeprovisioned {
		_ = c.DeactivateUser(ctx, id)
	}
	_ = c.DeleteUser(ctx, id)
}

// wantErr checks that err is an *apierr.Error of kind with the given HTTP
// status and Okta code (0 and "" skip those checks).
func wantErr(t *testing.T, err error, kind apierr.Kind, status int, code string) *apierr.Error {
	t.Helper()
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		t.Fatalf("error = %v (%T), want *apierr.Error of kind %s", err, err, kind)
	}
	if ae.Kind != kind || ae.Service != "okta" || ae.Op == "" {
		t.Fatalf("error = %+v, want kind %s from service okta with an op", ae, kind)
	}
	if status != 0 && ae.Status != status {
		t.Errorf("status = %d, want %d (%v)", ae.Status, status, err)
	}
	if code != "" && ae.Code != code {
		t.Errorf("code = %q, want %q (%v)", ae.Code, code, err)
	}
	return ae
}

func (s *suite) runAPI(t *testing.T) {
	t.Run("CreateWithHookStagedThenActivate", s.testCreateWithHook)
	t.Run("GetByEscapedLogin", s.testEscapedLogin)
	t.Run("DuplicateLoginIsConflict", s.testDuplicateLogin)
	t.Run("UnknownUserIsNotFound", s.testNotFound)
	t.Run("PartialUpdateKeepsOtherFields", s.testPartialUpdate)
	t.Run("PutExistingUserOnHook", s.testSetHook)
	t.Run("ListUsersByFilter", s.testListFilter)
	t.Run("Lifecycle", s.testLifecycle)
	t.Run("BadTokenIsUnauthorized", s.testUnauthorized)
}

func (s *suite) testCreateWithHook(t *testing.T) {
	c := s.client(t)
	login := s.login("isaac")
	u := s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true, Activate: false})
	if u.Status != okta.StatusStaged || u.ProviderType != okta.ProviderImport || u.ProviderName != okta.ProviderImport ||
		u.Login != login || u.ID == "" || u.Created.IsZero() || !u.Activated.IsZero() {
		t.Errorf("created = %+v", u)
	}
	if s.Fake != nil {
		rr := lastRequest(t, s.Fake, fakeokta.RouteCreateUser)
		want := `{"credentials":{"password":{"hook":{"type":"default"}}},"profile":{"email":"` + login +
			`","firstName":"isaac","lastName":"Conformance","login":"` + login + `"}}` + "\n"
		if string(rr.Body) != want {
			t.Errorf("create body =\n%s\nwant\n%s", rr.Body, want)
		}
		if rr.RawQuery != "activate=false" {
			t.Errorf("query = %q, want activate=false", rr.RawQuery)
		}
		if got := rr.Header.Get("Authorization"); got != "SSWS "+fakeokta.DefaultAPIToken {
			t.Errorf("Authorization = %q", got)
		}
		if rr.Header.Get("Content-Type") != "application/json" || rr.Header.Get("Accept") != "application/json" {
			t.Errorf("content headers = %v", rr.Header)
		}
	}

	if err := c.ActivateUser(t.Context(), u.ID, false); err != nil {
		t.Fatalf("ActivateUser: %v", err)
	}
	if s.Fake != nil {
		rr := lastRequest(t, s.Fake, fakeokta.RouteActivateUser)
		if rr.RawQuery != "sendEmail=false" || len(rr.Body) != 0 {
			t.Errorf("activate request: query %q body %q", rr.RawQuery, rr.Body)
		}
	}
	got, err := c.GetUser(t.Context(), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != okta.StatusActive || got.ProviderType != okta.ProviderImport || got.Activated.IsZero() {
		t.Errorf("after activation = %+v", got)
	}
	err = c.ActivateUser(t.Context(), u.ID, false)
	wantErr(t, err, apierr.Invalid, http.StatusForbidden, "E0000016")
}

func (s *suite) testEscapedLogin(t *testing.T) {
	c := s.client(t)
	// '+' stays literal in a path; '\'', '#', '%' and 'é' must be escaped.
	login := s.login("o'neil+tag#1%x.é")
	u := s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true})
	got, err := c.GetUser(t.Context(), login)
	if err != nil {
		t.Fatalf("GetUser(%q): %v", login, err)
	}
	if got.ID != u.ID || got.Login != login {
		t.Errorf("got %+v, want id %s", got, u.ID)
	}
	if s.Fake != nil {
		rr := lastRequest(t, s.Fake, fakeokta.RouteGetUser)
		if !strings.HasPrefix(rr.Path, "/api/v1/users/o%27neil+tag%231%25x.%C3%A9.") {
			t.Errorf("request path = %q, want the login path-escaped", rr.Path)
		}
	}
	if got, err := c.GetUser(t.Context(), strings.ToUpper(login[:1])+login[1:]); err != nil || got.ID != u.ID {
		t.Errorf("login lookup is case-insensitive in Okta: %+v, %v", got, err)
	}
}

func (s *suite) testDuplicateLogin(t *testing.T) {
	c := s.client(t)
	login := s.login("dup")
	s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true})
	_, err := c.CreateUser(t.Context(), okta.NewUser{Profile: profileFor(strings.ToUpper(login)), PasswordHook: true})
	wantErr(t, err, apierr.Conflict, http.StatusBadRequest, "E0000001")

	// Other validation failures are Invalid, not Conflict.
	bad := profileFor(s.login("bad"))
	bad["login"] = "not-an-email"
	_, err = c.CreateUser(t.Context(), okta.NewUser{Profile: bad})
	wantErr(t, err, apierr.Invalid, http.StatusBadRequest, "E0000001")
}

func (s *suite) testNotFound(t *testing.T) {
	c := s.client(t)
	_, err := c.GetUser(t.Context(), s.login("nobody"))
	wantErr(t, err, apierr.NotFound, http.StatusNotFound, "E0000007")
	_, err = c.UpdateUser(t.Context(), "00u0000000000000none", okta.UserUpdate{Profile: okta.Profile{"nickName": "x"}})
	wantErr(t, err, apierr.NotFound, http.StatusNotFound, "E0000007")
	err = c.ActivateUser(t.Context(), "00u0000000000000none", false)
	wantErr(t, err, apierr.NotFound, http.StatusNotFound, "E0000007")
}

func (s *suite) testPartialUpdate(t *testing.T) {
	c := s.client(t)
	login := s.login("upd")
	p := profileFor(login)
	p["mobilePhone"] = "555-415-1337"
	u := s.create(t, c, okta.NewUser{Profile: p, PasswordHook: true})
	got, err := c.UpdateUser(t.Context(), u.ID, okta.UserUpdate{Profile: okta.Profile{"firstName": "Renamed"}})
	if err != nil {
		t.Fatal(err)
	}
	if got.Profile["firstName"] != "Renamed" || got.Profile["mobilePhone"] != "555-415-1337" || got.Profile["email"] != login {
		t.Errorf("profile after partial update = %v", got.Profile)
	}
	if got.ProviderType != okta.ProviderImport {
		t.Errorf("a profile update changed the provider: %+v", got)
	}
	if s.Fake != nil {
		rr := lastRequest(t, s.Fake, fakeokta.RouteUpdateUser)
		if want := `{"profile":{"firstName":"Renamed"}}` + "\n"; string(rr.Body) != want {
			t.Errorf("update body = %s, want %s", rr.Body, want)
		}
		if s.Fake.Calls(fakeokta.RouteReplaceUser) != 0 {
			t.Error("the adapter sent a PUT (full replace)")
		}
	}
}

func (s *suite) testSetHook(t *testing.T) {
	c := s.client(t)
	u := s.create(t, c, okta.NewUser{Profile: profileFor(s.login("o365"))})
	if u.Status != okta.StatusStaged || u.ProviderType != okta.ProviderOkta {
		t.Fatalf("created = %+v", u)
	}
	got, err := c.UpdateUser(t.Context(), u.ID, okta.UserUpdate{SetPasswordHook: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.ProviderType != okta.ProviderImport || got.Status != okta.StatusStaged {
		t.Errorf("after SetPasswordHook = %+v", got)
	}
	if s.Fake != nil {
		rr := lastRequest(t, s.Fake, fakeokta.RouteUpdateUser)
		if want := `{"credentials":{"password":{"hook":{"type":"default"}}}}` + "\n"; string(rr.Body) != want {
			t.Errorf("update body = %s, want %s", rr.Body, want)
		}
	}
}

func (s *suite) testListFilter(t *testing.T) {
	c := s.client(t)
	login := s.login("list")
	u := s.create(t, c, okta.NewUser{Profile: profileFor(login), PasswordHook: true})
	s.create(t, c, okta.NewUser{Profile: profileFor(s.login("other")), PasswordHook: true})
	var got []okta.User
	err := c.ListUsers(t.Context(), `profile.login eq "`+login+`"`, func(u okta.User) error {
		got = append(got, u)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != u.ID || got[0].ProviderType != okta.ProviderImport {
		t.Errorf("ListUsers = %+v", got)
	}
	stop := errors.New("stop")
	if err := c.ListUsers(t.Context(), "", func(okta.User) error { return stop }); err != stop { //nolint:errorlint // returned as is, not wrapped
		t.Errorf("ListUsers callback error = %v, want it returned as is", err)
	}
}

func (s *suite) testLifecycle(t *testing.T) {
	c := s.client(t)
	u := s.create(t, c, okta.NewUser{Profile: profileFor(s.login("life")), PasswordHook: true, Activate: true})
	if u.Status != okta.StatusActive {
		t.Fatalf("created = %+v", u)
	}
	ctx := t.Context()
	if err := c.ExpirePassword(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetUser(ctx, u.ID); got.Status != okta.StatusPasswordExpired {
		t.Errorf("after ExpirePassword: %+v", got)
	}
	if err := c.ResetPassword(ctx, u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetUser(ctx, u.ID); got.Status != okta.StatusRecovery || got.ProviderType == okta.ProviderImport {
		t.Errorf("after ResetPassword: %+v", got)
	}
	if err := c.DeactivateUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetUser(ctx, u.ID); got.Status != okta.StatusDeprovisioned {
		t.Errorf("after DeactivateUser: %+v", got)
	}
	// A DEPROVISIONED user is not in the default listing.
	err := c.ListUsers(ctx, "", func(l okta.User) error {
		if l.ID == u.ID {
			t.Error("DEPROVISIONED user listed without a filter")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(ctx, u.ID)
	wantErr(t, err, apierr.NotFound, http.StatusNotFound, "E0000007")
}

func (s *suite) testUnauthorized(t *testing.T) {
	c := s.NewClient(t, "not-a-valid-token")
	_, err := c.GetUser(t.Context(), s.login("x"))
	wantErr(t, err, apierr.Unauthorized, http.StatusUnauthorized, "E0000011")
}

// lastRequest returns the emulator's most recent request on route.
func lastRequest(t *testing.T, f *fakeokta.Server, route fakeokta.Route) fakeokta.RecordedRequest {
	t.Helper()
	rs := f.RequestLog()
	for i := len(rs) - 1; i >= 0; i-- {
		if rs[i].Route == route {
			return rs[i]
		}
	}
	t.Fatalf("no %s request recorded", route)
	return fakeokta.RecordedRequest{}
}
