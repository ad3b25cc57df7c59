//go:build live

package oktaclient_test

import (
	"net/http"
	"os"
	"testing"

	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/testkit/oktatest"
)

// TestConformanceLive runs the API part of the suite against a real Okta
// org: go test -tags live -run Live ./internal/okta/oktaclient/ with OKTA_ORG_URL,
// OKTA_API_TOKEN and OKTA_TEST_LOGIN_DOMAIN (a domain of the org's login
// policy, default example.com) set. It creates users with random logins
// and deletes them afterwards.
func TestConformanceLive(t *testing.T) {
	org, token := os.Getenv("OKTA_ORG_URL"), os.Getenv("OKTA_API_TOKEN")
	if org == "" || token == "" {
		t.Skip("set OKTA_ORG_URL and OKTA_API_TOKEN to run against a real org")
	}
	oktatest.RunConformance(t, oktatest.Target{
		NewClient: func(t *testing.T, tok string) *oktaclient.Client {
			if tok == "" {
				tok = token
			}
			c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: org, APIToken: tok})
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
