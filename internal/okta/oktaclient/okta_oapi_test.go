package oktaclient_test

// OpenAPI fidelity on the wire: the adapter drives the real okta-sdk-golang
// against fakeokta over loopback TLS, with every exchange validated against
// the operation Okta publishes for it (internal/testkit/oktaspec). The password
// import request fakeokta sends to a hook is validated against
// PasswordImportRequest. An emulator that agrees with our adapter but not
// with Okta's description fails here.

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/testkit/oktaspec"
	"entra2okta/internal/testkit/oktatest"
)

// oapiHook is a password import hook that validates every request it gets
// and answers VERIFIED for the password "right", UNVERIFIED otherwise.
type oapiHook struct {
	spec *oktaspec.Spec
	t    *testing.T

	mu       sync.Mutex
	requests int
}

func (h *oapiHook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		h.t.Errorf("hook: reading request: %v", err)
	}
	for _, v := range h.spec.CheckHookRequest(r.Context(), r, body) {
		h.t.Errorf("OpenAPI violation in fakeokta's hook request: %s", v)
	}
	if got := r.Header.Get("Authorization"); got != "hook-secret" {
		h.t.Errorf("hook: Authorization = %q, want the registered authScheme value", got)
	}
	var p struct {
		Data struct {
			Context struct {
				Credential struct{ Password string } `json:"credential"`
			} `json:"context"`
		} `json:"data"`
	}
	_ = json.Unmarshal(body, &p)
	h.mu.Lock()
	h.requests++
	h.mu.Unlock()
	cred := "UNVERIFIED"
	if p.Data.Context.Credential.Password == "right" {
		cred = "VERIFIED"
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = fmt.Fprintf(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":%q}}]}`, cred)
}

func (h *oapiHook) count() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests
}

// oapiOrg is fakeokta over TLS, a validated HTTP client for it, and the hook.
type oapiOrg struct {
	spec   *oktaspec.Spec
	rep    *oktaspec.Report
	fake   *fakeokta.Running
	client *http.Client // validates every exchange into rep
	hook   *oapiHook
	hookTS *httptest.Server
}

func startOAPIOrg(t *testing.T, opts fakeokta.Options) *oapiOrg {
	t.Helper()
	spec := oktaspec.Skip(t)
	o := &oapiOrg{spec: spec, rep: oktaspec.NewReport(), hook: &oapiHook{spec: spec, t: t}}
	o.hookTS = httptest.NewTLSServer(o.hook)
	t.Cleanup(o.hookTS.Close)
	pool := x509.NewCertPool()
	pool.AddCert(o.hookTS.Certificate())
	opts.HookRootCAs = pool
	fake, err := fakeokta.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fake.Close() })
	o.fake = fake
	o.client = fake.HTTPClient(0)
	o.client.Transport = spec.Transport(o.client.Transport, o.rep)
	return o
}

func (o *oapiOrg) adapter(t *testing.T, token string) *oktaclient.Client {
	t.Helper()
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: o.fake.URL, APIToken: token, HTTPClient: o.client})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sdk is a bare SDK client on the validated transport, for the inline hook
// management calls the adapter does not make.
func (o *oapiOrg) sdk(t *testing.T) *oktasdk.Client {
	t.Helper()
	_, c, err := oktasdk.NewClient(t.Context(),
		oktasdk.WithOrgUrl(o.fake.URL), oktasdk.WithToken(fakeokta.DefaultAPIToken),
		oktasdk.WithHttpClientPtr(o.client), oktasdk.WithCache(false), oktasdk.WithRateLimitMaxRetries(0))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// signIn posts to /api/v1/authn as a browser would, which makes fakeokta
// call the password import hook for a user on provider IMPORT.
func (o *oapiOrg) signIn(t *testing.T, username, password string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"username": username, "password": password})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, o.fake.URL+"/api/v1/authn", strings.NewReader(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := o.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	_ = resp.Body.Close()
	return resp.StatusCode
}

func oapiProfile(login string) okta.Profile {
	name, _, _ := strings.Cut(login, "@")
	return okta.Profile{"login": login, "email": login, "firstName": name, "lastName": "Oapi"}
}

func wantAPIErr(t *testing.T, err error, status int, code string) {
	t.Helper()
	var e *apierr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *apierr.Error", err, err)
	}
	if e.Status != status || e.Code != code {
		t.Errorf("error status %d code %q, want %d %q (%v)", e.Status, e.Code, status, code, err)
	}
}

// TestAdapterOnTheWireMatchesOpenAPI walks every route the product uses,
// success and error, and the hook round trip; then asserts that no exchange
// departed from the published description and that each route was seen.
func TestAdapterOnTheWireMatchesOpenAPI(t *testing.T) {
	o := startOAPIOrg(t, fakeokta.Options{RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketLogs: 1000}})
	ctx := t.Context()
	c := o.adapter(t, fakeokta.DefaultAPIToken)

	// Inline hook registration (POST /api/v1/inlineHooks with an HTTP header
	// authScheme), through the SDK.
	sdk := o.sdk(t)
	hook, _, err := sdk.InlineHook.CreateInlineHook(ctx, oktasdk.InlineHook{
		Name: "Entra password import", Type: "com.okta.user.credential.password.import", Version: "1.0.0",
		Channel: &oktasdk.InlineHookChannel{Type: "HTTP", Version: "1.0.0", Config: &oktasdk.InlineHookChannelConfig{
			Uri: o.hookTS.URL + "/okta/password-import", Method: "POST",
			Headers:    []*oktasdk.InlineHookChannelConfigHeaders{{Key: "x-any-key", Value: "my-header-value"}},
			AuthScheme: &oktasdk.InlineHookChannelConfigAuthScheme{Type: "HEADER", Key: "Authorization", Value: "hook-secret"},
		}},
	})
	if err != nil {
		t.Fatalf("CreateInlineHook: %v", err)
	}
	if _, _, err := sdk.InlineHook.GetInlineHook(ctx, hook.Id); err != nil {
		t.Fatalf("GetInlineHook: %v", err)
	}
	if _, _, err := sdk.InlineHook.ListInlineHooks(ctx, query.NewQueryParams(query.WithType("com.okta.user.credential.password.import"))); err != nil {
		t.Fatalf("ListInlineHooks: %v", err)
	}
	hook.Name = "Entra password import (renamed)"
	hook.Channel.Config.AuthScheme.Value = "hook-secret" // Okta's answers never echo authScheme.value
	if _, _, err := sdk.InlineHook.UpdateInlineHook(ctx, hook.Id, oktasdk.InlineHook{
		Name: hook.Name, Version: hook.Version, Channel: hook.Channel, // type is immutable: InlineHookReplace has none
	}); err != nil {
		t.Fatalf("UpdateInlineHook: %v", err)
	}
	if _, _, err := sdk.InlineHook.DeactivateInlineHook(ctx, hook.Id); err != nil {
		t.Fatalf("DeactivateInlineHook: %v", err)
	}
	if _, _, err := sdk.InlineHook.ActivateInlineHook(ctx, hook.Id); err != nil {
		t.Fatalf("ActivateInlineHook: %v", err)
	}

	// Create on the hook, staged, then activate; a second create with the
	// same login is 400 E0000001.
	staged, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("isaac.brock@example.com"), PasswordHook: true, Activate: false})
	if err != nil {
		t.Fatalf("CreateUser(activate=false): %v", err)
	}
	_, err = c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("isaac.brock@example.com"), PasswordHook: true})
	wantAPIErr(t, err, http.StatusBadRequest, "E0000001")
	if err := c.ActivateUser(ctx, staged.ID, false); err != nil {
		t.Fatalf("ActivateUser: %v", err)
	}
	wantAPIErr(t, c.ActivateUser(ctx, staged.ID, false), http.StatusForbidden, "E0000016")

	// Created active on the hook.
	active, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("ada.lovelace@example.com"), PasswordHook: true, Activate: true})
	if err != nil {
		t.Fatalf("CreateUser(activate=true): %v", err)
	}

	// Get by id and by login; an unknown user is 404 E0000007.
	if _, err := c.GetUser(ctx, staged.ID); err != nil {
		t.Fatalf("GetUser(id): %v", err)
	}
	if _, err := c.GetUser(ctx, "isaac.brock@example.com"); err != nil {
		t.Fatalf("GetUser(login): %v", err)
	}
	_, err = c.GetUser(ctx, "nobody@example.com")
	wantAPIErr(t, err, http.StatusNotFound, "E0000007")

	// Partial updates: profile, then back onto the hook.
	if _, err := c.UpdateUser(ctx, staged.ID, okta.UserUpdate{Profile: okta.Profile{"nickName": "Ike"}}); err != nil {
		t.Fatalf("UpdateUser(profile): %v", err)
	}
	if _, err := c.UpdateUser(ctx, active.ID, okta.UserUpdate{SetPasswordHook: true}); err != nil {
		t.Fatalf("UpdateUser(hook): %v", err)
	}

	// Sign-ins fire the hook: a wrong password (UNVERIFIED), then the right
	// one (VERIFIED, stored); then the System Log tells the outcome.
	since := time.Now().Add(-time.Minute)
	if st := o.signIn(t, "isaac.brock@example.com", "wrong"); st != http.StatusUnauthorized {
		t.Errorf("sign-in with a wrong password: status %d, want 401", st)
	}
	if st := o.signIn(t, "isaac.brock@example.com", "right"); st != http.StatusOK {
		t.Errorf("sign-in with the right password: status %d, want 200", st)
	}
	if n := o.hook.count(); n != 2 {
		t.Errorf("hook called %d times, want 2", n)
	}
	events, err := c.PasswordImportEvents(ctx, staged.ID, since)
	if err != nil {
		t.Fatalf("PasswordImportEvents: %v", err)
	}
	if len(events) == 0 || events[len(events)-1].Outcome != "SUCCESS" {
		t.Errorf("password import events = %+v, want the last one SUCCESS", events)
	}

	// Lists: by login, and the whole org over several Link pages.
	n := 0
	if err := c.ListUsers(ctx, `profile.login eq "ada.lovelace@example.com"`, func(okta.User) error { n++; return nil }); err != nil || n != 1 {
		t.Fatalf("ListUsers(filter) = %d users, %v; want 1", n, err)
	}
	for i := range 205 {
		login := fmt.Sprintf("seed%03d@example.com", i)
		if _, err := o.fake.SeedUser(fakeokta.SeedUser{Profile: oapiProfile(login), Status: okta.StatusActive, ImportHook: true}); err != nil {
			t.Fatal(err)
		}
	}
	n = 0
	if err := c.ListUsers(ctx, "", func(okta.User) error { n++; return nil }); err != nil || n < 205 {
		t.Fatalf("ListUsers() = %d users, %v; want all of them", n, err)
	}

	// Lifecycle to the end: expire, reset, deactivate, delete.
	if err := c.ExpirePassword(ctx, staged.ID); err != nil {
		t.Fatalf("ExpirePassword: %v", err)
	}
	if err := c.ResetPassword(ctx, active.ID, false); err != nil {
		t.Fatalf("ResetPassword: %v", err)
	}
	for _, id := range []string{staged.ID, active.ID} {
		if err := c.DeactivateUser(ctx, id); err != nil {
			t.Fatalf("DeactivateUser: %v", err)
		}
		if err := c.DeleteUser(ctx, id); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
	}

	// Unregister the hook: deactivate, then delete.
	if _, _, err := sdk.InlineHook.DeactivateInlineHook(ctx, hook.Id); err != nil {
		t.Fatalf("DeactivateInlineHook: %v", err)
	}
	if _, err := sdk.InlineHook.DeleteInlineHook(ctx, hook.Id); err != nil {
		t.Fatalf("DeleteInlineHook: %v", err)
	}

	// A bad token is 401 E0000011.
	_, err = o.adapter(t, "not-the-token").GetUser(ctx, staged.ID)
	wantAPIErr(t, err, http.StatusUnauthorized, "E0000011")

	o.rep.AssertClean(t)
	for _, want := range []struct {
		op     string
		status int
	}{
		{"createInlineHook", 200}, {"getInlineHook", 200}, {"listInlineHooks", 200},
		{"activateInlineHook", 200}, {"deactivateInlineHook", 200}, {"replaceInlineHook", 200}, {"deleteInlineHook", 204},
		{"createUser", 200}, {"createUser", 400}, {"activateUser", 200}, {"activateUser", 403},
		{"getUser", 200}, {"getUser", 404}, {"getUser", 401}, {"updateUser", 200},
		{"listUsers", 200}, {"listLogEvents", 200},
		{"expirePassword", 200}, {"resetPassword", 200}, {"deactivateUser", 200}, {"deleteUser", 204},
	} {
		o.rep.AssertSeen(t, want.op, want.status)
	}
	if o.rep.Seen("listUsers", 200) < 3 {
		t.Errorf("listUsers seen %d times, want a filtered list and at least two pages", o.rep.Seen("listUsers", 200))
	}
}

// TestRateLimitOnTheWireMatchesOpenAPI: a 429 from the emulator's own rate
// limiter is the documented E0000047 with the headers the SDK needs.
func TestRateLimitOnTheWireMatchesOpenAPI(t *testing.T) {
	o := startOAPIOrg(t, fakeokta.Options{RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 1}})
	c := o.adapter(t, fakeokta.DefaultAPIToken)
	ctx := context.WithoutCancel(t.Context())
	if _, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("first@example.com"), PasswordHook: true}); err != nil {
		t.Fatalf("first create: %v", err)
	}
	_, err := c.CreateUser(ctx, okta.NewUser{Profile: oapiProfile("second@example.com"), PasswordHook: true})
	if err == nil {
		t.Fatal("second create within the quota of 1 succeeded")
	}
	o.rep.AssertClean(t)
	o.rep.AssertSeen(t, "createUser", http.StatusTooManyRequests)
}

// injectedFaults are the departures the conformance suite's emulator part
// provokes on purpose (fault injection), so they are expected on the wire:
// each names the operation, status, field and rule it produces.
var injectedFaults = []struct {
	op     string
	status int
	field  string
	rule   string
	why    string
}{
	{"createUser", 429, "header X-Rate-Limit-Reset", oktaspec.RuleHeader, "Injected429WithAndWithoutReset: a 429 without X-Rate-Limit-Reset"},
	{"getUser", 502, "", oktaspec.RuleStatus, "ServerErrorIsTransient: an injected 502"},
	{"getUser", 503, "", oktaspec.RuleStatus, "ServerErrorIsTransient: an injected 503"},
}

// TestConformanceSuiteOnTheWireMatchesOpenAPI runs the adapter's whole
// conformance suite, the emulator part included (paging, rate limits,
// faults, sign-ins firing the hook, read-only mode), with the validating
// layer on the wire. (conformance_test.go already runs the API part so.)
// Only the faults the suite injects on purpose may depart from the
// description, and each of them must actually be seen.
func TestConformanceSuiteOnTheWireMatchesOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	hookCA, err := loopbacktls.New()
	if err != nil {
		t.Fatal(err)
	}
	// The whole bucket for the token, as in startFake.
	fk, err := fakeokta.Start(fakeokta.Options{HookRootCAs: hookCA.CertPool(), HookTimeout: 400 * time.Millisecond, TokenRateShare: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fk.Close() })
	rep := oktaspec.NewReport()
	hc := fk.HTTPClient(0)
	hc.Transport = spec.Transport(hc.Transport, rep)
	oktatest.RunConformance(t, oktatest.Target{
		NewClient: func(t *testing.T, token string) *oktaclient.Client {
			if token == "" {
				token = fakeokta.DefaultAPIToken
			}
			c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: token, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Fake:       fk.Server,
		OrgURL:     fk.URL,
		HTTPClient: hc,
		HookCA:     hookCA,
	})

	seen := make([]bool, len(injectedFaults))
	for _, v := range rep.Violations() {
		expected := false
		for i, f := range injectedFaults {
			if v.Operation == f.op && v.Status == f.status && v.Field == f.field && v.Rule == f.rule {
				expected, seen[i] = true, true
				t.Logf("expected (%s): %s", f.why, v)
			}
		}
		if !expected {
			t.Errorf("OpenAPI violation: %s", v)
		}
	}
	for i, f := range injectedFaults {
		if !seen[i] {
			t.Errorf("the injected fault %q was not seen on the wire; update injectedFaults", f.why)
		}
	}
	for _, e := range rep.Excused() {
		t.Logf("excused: %s", e)
	}
}
