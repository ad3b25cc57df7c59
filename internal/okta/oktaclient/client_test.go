package oktaclient_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
)

func TestNewValidatesConfig(t *testing.T) {
	for _, cfg := range []oktaclient.Config{
		{OrgURL: "", APIToken: "t"},
		{OrgURL: "example.okta.com", APIToken: "t"},
		{OrgURL: "ftp://example.okta.com", APIToken: "t"},
		{OrgURL: "https://example.okta.com", APIToken: ""},
	} {
		if _, err := oktaclient.New(context.Background(), cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	// The SDK's own checks still apply (https, no -admin domain).
	if _, err := oktaclient.New(context.Background(), oktaclient.Config{OrgURL: "https://acme-admin.okta.com", APIToken: "t"}); err == nil {
		t.Error("an -admin org URL was accepted")
	}
}

// TestEnvironmentCannotOverrideConfig: the SDK reads OKTA_CLIENT_* variables
// (and ~/.okta/okta.yaml); explicit settings must win.
func TestEnvironmentCannotOverrideConfig(t *testing.T) {
	fk, _ := startFake(t)
	t.Setenv("OKTA_CLIENT_ORGURL", "https://elsewhere.okta.com")
	t.Setenv("OKTA_CLIENT_TOKEN", "wrong-token")
	t.Setenv("OKTA_CLIENT_AUTHORIZATIONMODE", "Bearer")
	t.Setenv("OKTA_CLIENT_CACHE_ENABLED", "true")
	t.Setenv("OKTA_CLIENT_RATE_LIMIT_MAX_RETRIES", "5")
	t.Setenv("HOME", t.TempDir())
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(t.Context(), okta.NewUser{Profile: okta.Profile{"login": "env@example.com", "email": "env@example.com",
		"firstName": "E", "lastName": "V"}})
	if err != nil {
		t.Fatal(err)
	}
	// A cached GET would hide the activation (okta-sdk-golang v2 caches GET
	// answers by URL, and the activation is a POST to another URL).
	if _, err := c.GetUser(t.Context(), u.ID); err != nil {
		t.Fatal(err)
	}
	if err := c.ActivateUser(t.Context(), u.ID, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := c.GetUser(t.Context(), u.ID); got.Status != okta.StatusProvisioned {
		t.Errorf("status after activation = %q: stale cache?", got.Status)
	}
	fk.FailNext(fakeokta.RouteGetUser, 3, 429)
	before := fk.Calls(fakeokta.RouteGetUser)
	_, err = c.GetUser(t.Context(), u.ID)
	if !apierr.Is(err, apierr.RateLimited) || fk.Calls(fakeokta.RouteGetUser)-before != 1 {
		t.Errorf("429: err %v after %d requests; want RateLimited after 1", err, fk.Calls(fakeokta.RouteGetUser)-before)
	}
	for _, rr := range fk.RequestLog() {
		if got := rr.Header.Get("Authorization"); got != "SSWS "+fakeokta.DefaultAPIToken {
			t.Fatalf("Authorization = %q", got)
		}
	}
}

// TestDefaultClientTrustsSSLCertFile: with no HTTPClient the adapter trusts
// the system pool, which honours SSL_CERT_FILE (how the worker trusts the
// emulator's CA in the demo). The system pool is loaded once per process,
// so the check runs in a child process.
func TestDefaultClientTrustsSSLCertFile(t *testing.T) {
	if url := os.Getenv("FAKEOKTA_CHILD_URL"); url != "" {
		c, err := oktaclient.New(context.Background(), oktaclient.Config{OrgURL: url, APIToken: fakeokta.DefaultAPIToken})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.GetUser(context.Background(), "nobody@example.com")
		if !apierr.Is(err, apierr.NotFound) {
			t.Fatalf("GetUser through SSL_CERT_FILE trust: %v", err)
		}
		return
	}
	fk, _ := startFake(t)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := fk.WriteCAFile(ca); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDefaultClientTrustsSSLCertFile$", "-test.count=1")
	cmd.Env = append(os.Environ(), "FAKEOKTA_CHILD_URL="+fk.URL, "SSL_CERT_FILE="+ca, "SSL_CERT_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "PASS") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
