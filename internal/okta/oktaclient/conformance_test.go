package oktaclient_test

import (
	"net/http"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/testkit/oktaspec"
	"entra2okta/internal/testkit/oktatest"
)

// startFake serves fakeokta over TLS with a CA for the suite's hooks.
func startFake(t *testing.T) (*fakeokta.Running, *loopbacktls.Authority) {
	t.Helper()
	hookCA, err := loopbacktls.New()
	if err != nil {
		t.Fatal(err)
	}
	// The suite's calls add up within a minute's window past half a bucket:
	// the token may use the whole bucket (a share of 100 %), as the suite
	// was written for; TestRateObserverSeesTheTokensShare covers Okta's
	// default 50 %.
	fk, err := fakeokta.Start(fakeokta.Options{HookRootCAs: hookCA.CertPool(), HookTimeout: 400 * time.Millisecond, TokenRateShare: 100})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = fk.Close() })
	return fk, hookCA
}

func target(fk *fakeokta.Running, hookCA *loopbacktls.Authority, hc *http.Client) oktatest.Target {
	return oktatest.Target{
		NewClient: func(t *testing.T, token string) *oktaclient.Client {
			if token == "" {
				token = fakeokta.DefaultAPIToken
			}
			c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL + "/", APIToken: token, HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		Fake:       fk.Server,
		OrgURL:     fk.URL,
		HTTPClient: fk.HTTPClient(0),
		HookCA:     hookCA,
	}
}

// TestConformance runs the whole suite, through the real okta-sdk-golang,
// against fakeokta over TLS.
func TestConformance(t *testing.T) {
	fk, hookCA := startFake(t)
	oktatest.RunConformance(t, target(fk, hookCA, fk.HTTPClient(0)))
}

// TestTrafficMatchesOpenAPI runs the API part of the suite with every
// exchange validated against Okta's published OpenAPI description.
func TestTrafficMatchesOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	fk, hookCA := startFake(t)
	rep := oktaspec.NewReport()
	hc := fk.HTTPClient(0)
	hc.Transport = spec.Transport(hc.Transport, rep)
	oktatest.RunAPI(t, target(fk, hookCA, hc))
	rep.AssertClean(t)
	for _, op := range []string{"createUser", "getUser", "updateUser", "activateUser", "deactivateUser",
		"deleteUser", "listUsers", "expirePassword", "resetPassword"} {
		rep.AssertSeen(t, op, 0)
	}
}
