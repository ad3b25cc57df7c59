package oktaclient_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v3"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/testkit/oktatest"
)

// RSA generation is slow under -race: one key for the whole package.
var serviceKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func pemOf(t *testing.T, typ string, der []byte) string {
	t.Helper()
	return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}))
}

func pkcs8(t *testing.T, k any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf(t, "PRIVATE KEY", der)
}

const serviceApp = "0oaentra2okta0000001"

// oauthFake is fakeokta with the service app registered: key "k1", the
// given scopes granted.
func oauthFake(t *testing.T, scopes ...string) *fakeokta.Running {
	t.Helper()
	fk, _ := startFake(t)
	fk.AddOAuthClient(fakeokta.OAuthClient{ClientID: serviceApp, Scopes: scopes,
		Keys: []fakeokta.OAuthKey{{KID: "k1", Public: &serviceKey().PublicKey}}})
	return fk
}

func oauthClient(t *testing.T, fk *fakeokta.Running, o oktaclient.OAuthConfig) *oktaclient.Client {
	t.Helper()
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, OAuth: o, HTTPClient: fk.HTTPClient(0)})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestOAuthServiceAppRunsTheAPISuite runs the adapter's API conformance
// tests through okta-sdk-golang in PrivateKey mode: every client fetches an
// access token once from fakeokta's token endpoint with a signed client
// assertion and sends it as a Bearer token, within the default scopes.
func TestOAuthServiceAppRunsTheAPISuite(t *testing.T) {
	fk, hookCA := startFake(t)
	fk.AddOAuthClient(fakeokta.OAuthClient{ClientID: serviceApp, Scopes: oktaclient.DefaultScopes(),
		Keys: []fakeokta.OAuthKey{{KID: "k1", Public: &serviceKey().PublicKey}}})
	key := pkcs8(t, serviceKey())
	var (
		mu      sync.Mutex
		clients int
	)
	tgt := target(fk, hookCA, fk.HTTPClient(0))
	tgt.Fake = nil // its checks expect the SSWS header
	tgt.NewClient = func(t *testing.T, token string) *oktaclient.Client {
		if token != "" { // the suite's bad-token test: an SSWS token Okta refuses
			c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: token, HTTPClient: fk.HTTPClient(0)})
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		mu.Lock()
		clients++
		mu.Unlock()
		return oauthClient(t, fk, oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: key, KeyID: "k1"})
	}
	oktatest.RunAPI(t, tgt)

	bearer, sswsBad := 0, 0
	for _, rr := range fk.RequestLog() {
		switch auth := rr.Header.Get("Authorization"); {
		case strings.HasPrefix(auth, "Bearer fakeokta-at."):
			bearer++
		case auth == "SSWS not-a-valid-token":
			sswsBad++
		default:
			t.Errorf("%s %s sent Authorization %q", rr.Method, rr.Path, auth)
		}
	}
	if sswsBad == 0 {
		t.Error("the suite's bad-token test sent nothing")
	}
	tokens := fk.OAuthTokenRequests()
	t.Logf("%d clients, %d token requests, %d API calls with an access token", clients, tokens, bearer)
	if tokens == 0 || tokens > clients || bearer <= tokens {
		t.Errorf("%d token requests for %d clients and %d API calls: each client should fetch one token and reuse it",
			tokens, clients, bearer)
	}
}

// TestOAuthKeyFormats: the private key may be PKCS #1, PKCS #8 or SEC 1
// PEM (also with literal \n, as in an environment variable) or a private
// JWK; RSA keys sign RS256, P-256 keys ES256. Each is checked by fakeokta.
func TestOAuthKeyFormats(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	jwk, err := (&jose.JSONWebKey{Key: serviceKey(), KeyID: "jwk-1", Algorithm: "RS256", Use: "sig"}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	fk, _ := startFake(t)
	fk.AddOAuthClient(fakeokta.OAuthClient{ClientID: serviceApp, Scopes: oktaclient.DefaultScopes(), Keys: []fakeokta.OAuthKey{
		{KID: "rsa", Public: &serviceKey().PublicKey}, {KID: "ec", Public: &ec.PublicKey}, {KID: "jwk-1", Public: &serviceKey().PublicKey}}})
	for _, tc := range []struct{ name, key, kid string }{
		{"PKCS #1", pemOf(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(serviceKey())), "rsa"},
		{"PKCS #8 RSA", pkcs8(t, serviceKey()), "rsa"},
		{"PKCS #8 RSA with literal newlines", strings.ReplaceAll(pkcs8(t, serviceKey()), "\n", `\n`), "rsa"},
		{"PKCS #8 EC", pkcs8(t, ec), "ec"},
		{"SEC 1 EC", pemOf(t, "EC PRIVATE KEY", ecDER), "ec"},
		{"JWK with its own kid", string(jwk), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := oauthClient(t, fk, oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: tc.key, KeyID: tc.kid})
			if _, err := c.GetUser(t.Context(), "nobody@example.com"); !apierr.Is(err, apierr.NotFound) {
				t.Fatalf("GetUser: %v, want NotFound (authenticated)", err)
			}
		})
	}
}

// TestOAuthFailuresAreUnauthorized: what a misconfigured service app meets
// is an apierr Unauthorized (a configuration problem, not a retry), with
// Okta's OAuth error as the code.
func TestOAuthFailuresAreUnauthorized(t *testing.T) {
	fk := oauthFake(t, "okta.users.read", "okta.users.manage")
	fk.AddOAuthClient(fakeokta.OAuthClient{ClientID: "0oadpop", Scopes: oktaclient.DefaultScopes(), RequireDPoP: true,
		Keys: []fakeokta.OAuthKey{{KID: "k1", Public: &serviceKey().PublicKey}}})
	key := pkcs8(t, serviceKey())
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		cfg  oktaclient.OAuthConfig
		call func(*oktaclient.Client) error
		code string
	}{
		{"scope left out of the request", oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: key, Scopes: []string{"okta.users.read"}},
			func(c *oktaclient.Client) error {
				_, err := c.CreateUser(t.Context(), okta.NewUser{Profile: okta.Profile{"login": "s@example.com", "email": "s@example.com",
					"firstName": "S", "lastName": "C"}})
				return err
			}, "insufficient_scope"},
		{"scope not granted to the app", oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: key},
			func(c *oktaclient.Client) error { _, err := c.GetUser(t.Context(), "x@example.com"); return err }, "invalid_scope"},
		{"key not registered", oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: pkcs8(t, other), KeyID: "k1",
			Scopes: []string{"okta.users.read"}},
			func(c *oktaclient.Client) error { _, err := c.GetUser(t.Context(), "x@example.com"); return err }, "invalid_client"},
		{"unknown client", oktaclient.OAuthConfig{ClientID: "0oanobody", PrivateKey: key, Scopes: []string{"okta.users.read"}},
			func(c *oktaclient.Client) error {
				return c.ListUsers(t.Context(), "", func(okta.User) error { return nil })
			}, "invalid_client"},
		{"app requires DPoP", oktaclient.OAuthConfig{ClientID: "0oadpop", PrivateKey: key},
			func(c *oktaclient.Client) error { _, err := c.GetUser(t.Context(), "x@example.com"); return err }, "invalid_dpop_proof"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(oauthClient(t, fk, tc.cfg))
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Kind != apierr.Unauthorized || ae.Code != tc.code {
				t.Fatalf("err = %v, want Unauthorized %s", err, tc.code)
			}
		})
	}
	// The System Log needs okta.logs.read, which DefaultScopes has.
	lf := oauthFake(t, oktaclient.DefaultScopes()...)
	c := oauthClient(t, lf, oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: key})
	if _, err := c.PasswordImportEvents(t.Context(), "00unobody", time.Now().Add(-time.Minute)); err != nil {
		t.Fatalf("PasswordImportEvents with okta.logs.read: %v", err)
	}
}

// TestOAuthUnreachableHidesAssertion: okta-sdk-golang sends the signed
// client assertion in the token request's query string; when the token
// endpoint cannot be reached, the error quotes that URL without it.
func TestOAuthUnreachableHidesAssertion(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "https://" + ln.Addr().String()
	ln.Close()
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: closed,
		OAuth: oktaclient.OAuthConfig{ClientID: serviceApp, PrivateKey: pkcs8(t, serviceKey()), Scopes: []string{"okta.users.read"}}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetUser(t.Context(), "x@example.com")
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Transient {
		t.Fatalf("err = %v, want Transient", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "/oauth2/v1/token?client_assertion=redacted") || strings.Contains(msg, "eyJ") {
		t.Fatalf("the error shows the client assertion, or not where it was: %s", msg)
	}
	var ue *url.Error
	if !errors.As(err, &ue) {
		t.Fatalf("the transport error is not reachable: %v", err)
	}
}

// TestOAuthConfigErrors: exactly one of API token and service app, a key
// that parses, Okta scopes; no error repeats the key.
func TestOAuthConfigErrors(t *testing.T) {
	const marker = "S3CRET-KEY-MATERIAL"
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := (&jose.JSONWebKey{Key: &serviceKey().PublicKey, KeyID: "p"}).MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	good := pkcs8(t, serviceKey())
	for _, tc := range []struct {
		name string
		cfg  oktaclient.Config
		want string
	}{
		{"both", oktaclient.Config{APIToken: marker, OAuth: oktaclient.OAuthConfig{ClientID: "c", PrivateKey: good}}, "not both"},
		{"neither", oktaclient.Config{}, "is required"},
		{"no client ID", oktaclient.Config{OAuth: oktaclient.OAuthConfig{PrivateKey: good}}, "client ID is required"},
		{"no key", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c"}}, "private key is required"},
		{"not a key", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c", PrivateKey: marker}}, "neither PEM nor JWK"},
		{"broken PEM", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c",
			PrivateKey: "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----\n"}}, "private key"},
		{"certificate", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c", PrivateKey: pemOf(t, "CERTIFICATE", []byte(marker))}},
			"not a private key"},
		{"1024-bit RSA", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c", PrivateKey: pkcs8(t, small)}}, "at least 2048 bits"},
		{"public JWK", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c", PrivateKey: string(pub)}}, "public key"},
		{"not an Okta scope", oktaclient.Config{OAuth: oktaclient.OAuthConfig{ClientID: "c", PrivateKey: good, Scopes: []string{"openid"}}},
			"not an Okta API scope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.OrgURL = "https://example.okta.com"
			_, err := oktaclient.New(t.Context(), tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "MII") {
				t.Fatalf("the error repeats the secret: %v", err)
			}
			if tc.cfg.APIToken == "" {
				if cerr := tc.cfg.OAuth.Check(); cerr == nil {
					t.Error("Check accepted what New refuses")
				}
			}
		})
	}
	if err := (oktaclient.OAuthConfig{ClientID: "c", PrivateKey: good}).Check(); err != nil {
		t.Errorf("Check(good) = %v", err)
	}
}
