//go:build live

package oktaclient_test

import (
	"net/http"
	"os"
	"testing"

	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/testkit/oktatest"
)

// TestConformanceLiveOAuth runs the API part of the suite against a real
// Okta org as an OAuth 2.0 service app: go test -tags live -run LiveOAuth
// ./internal/okta/oktaclient/ with OKTA_ORG_URL, OKTA_CLIENT_ID, OKTA_PRIVATE_KEY (PEM
// or JWK), OKTA_PRIVATE_KEY_ID if the app has several keys, and
// OKTA_TEST_LOGIN_DOMAIN. The app needs the default scopes granted, an admin
// role that manages users, and DPoP not required. The suite's bad-token test
// uses an SSWS token Okta refuses.
func TestConformanceLiveOAuth(t *testing.T) {
	org, clientID, key := os.Getenv("OKTA_ORG_URL"), os.Getenv("OKTA_CLIENT_ID"), os.Getenv("OKTA_PRIVATE_KEY")
	if org == "" || clientID == "" || key == "" {
		t.Skip("set OKTA_ORG_URL, OKTA_CLIENT_ID and OKTA_PRIVATE_KEY to run against a real org")
	}
	oauth := oktaclient.OAuthConfig{ClientID: clientID, PrivateKey: key, KeyID: os.Getenv("OKTA_PRIVATE_KEY_ID"),
		Scopes: oktaclient.ParseScopes(os.Getenv("OKTA_SCOPES"))}
	oktatest.RunAPI(t, oktatest.Target{
		NewClient: func(t *testing.T, tok string) *oktaclient.Client {
			cfg := oktaclient.Config{OrgURL: org, OAuth: oauth}
			if tok != "" {
				cfg = oktaclient.Config{OrgURL: org, APIToken: tok}
			}
			c, err := oktaclient.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			return c
		},
		LoginDomain: os.Getenv("OKTA_TEST_LOGIN_DOMAIN"),
		OrgURL:      org,
		HTTPClient:  http.DefaultClient,
	})
}
