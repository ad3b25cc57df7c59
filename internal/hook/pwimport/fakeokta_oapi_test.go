package pwimport_test

import (
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/testkit/oktaspec"
)

// TestHookBehindFakeOktaMatchesOpenAPI puts the real hook handler behind
// fakeokta, as Okta would call it, with oktaspec.HookMiddleware between
// them: both the request the emulator sends and every answer the hook gives
// are checked against the published hook operation, over TLS, for a wrong
// password, a right one, and a hook caller with the wrong secret.
func TestHookBehindFakeOktaMatchesOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	h, err := pwimport.NewHandler(pwimport.Config{AuthSecret: oapiSecret, Budget: time.Second}, oapiVerifier{}, oapiSignaler{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	rep := oktaspec.NewReport()
	hookTS := httptest.NewTLSServer(spec.HookMiddleware(h, rep))
	defer hookTS.Close()
	pool := x509.NewCertPool()
	pool.AddCert(hookTS.Certificate())
	fake, err := fakeokta.Start(fakeokta.Options{HookRootCAs: pool})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = fake.Close() }()
	const login = "isaac.brock@example.com"
	if _, err := fake.SeedUser(fakeokta.SeedUser{
		Profile: map[string]any{"login": login, "email": login, "firstName": "Isaac", "lastName": "Brock"},
		Status:  "ACTIVE", ImportHook: true,
	}); err != nil {
		t.Fatal(err)
	}
	signIn := func(password string) int {
		t.Helper()
		b, _ := json.Marshal(map[string]string{"username": login, "password": password})
		req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, fake.URL+"/api/v1/authn", strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json")
		resp, err := fake.HTTPClient(0).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		return resp.StatusCode
	}

	// A hook registered with the wrong secret: the hook answers 401.
	if _, err := fake.SetPasswordImportHook(hookTS.URL+pwimport.PasswordImportPath, "Authorization", "Basic d3Jvbmc="); err != nil {
		t.Fatal(err)
	}
	if st := signIn("right"); st != http.StatusUnauthorized {
		t.Errorf("sign-in through a hook refusing Okta: status %d, want 401", st)
	}

	if _, err := fake.SetPasswordImportHook(hookTS.URL+pwimport.PasswordImportPath, "Authorization", oapiSecret); err != nil {
		t.Fatal(err)
	}
	if st := signIn("wrong"); st != http.StatusUnauthorized {
		t.Errorf("sign-in with a wrong password: status %d, want 401", st)
	}
	if st := signIn("right"); st != http.StatusOK {
		t.Errorf("sign-in with the right password: status %d, want 200", st)
	}
	if u, ok := fake.User(login); !ok || u.ProviderType != "OKTA" {
		t.Errorf("after a verified sign-in the user is %+v, want provider OKTA", u)
	}

	for _, v := range rep.Violations() {
		t.Errorf("OpenAPI violation: %s", v)
	}
	for _, e := range rep.Excused() {
		t.Logf("excused by oktaspec exception: %s", e)
	}
	// One 401 (fakeokta retries only timeouts and 5xx), then 200 twice.
	if rep.Seen(oktaspec.HookOperation, http.StatusUnauthorized) != 1 || rep.Seen(oktaspec.HookOperation, http.StatusOK) != 2 {
		t.Errorf("hook exchanges seen: %v, want one 401 and two 200", rep.Operations())
	}
}
