package pwimport

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook"
)

// oktaAuthServer is a minimal Okta authorization server: it publishes a JWKS
// and mints RS256 access tokens shaped like Okta's (iss, aud, cid, scp, sub:
// https://developer.okta.com/docs/concepts/oauth-claims/).
type oktaAuthServer struct {
	srv     *httptest.Server
	key     *rsa.PrivateKey
	kid     string
	fetches atomic.Int64
}

func newOktaAuthServer(t *testing.T) *oktaAuthServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	a := &oktaAuthServer{key: key, kid: "k1"}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/oauth2/default/v1/keys" {
			http.NotFound(w, r)
			return
		}
		a.fetches.Add(1)
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"keys": []map[string]string{{
			"kty": "RSA", "alg": "RS256", "use": "sig", "kid": a.kid,
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func (a *oktaAuthServer) issuer() string { return a.srv.URL + "/oauth2/default" }

func (a *oktaAuthServer) claims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"ver": 1, "jti": "AT.x", "iss": a.issuer(), "aud": "api://default", "cid": "0oahookclient",
		"sub": "0oahookclient", "scp": []string{"okta.inlinehooks"}, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func (a *oktaAuthServer) token(t *testing.T, c jwt.MapClaims, kid string) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(a.key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOAuthBearer(t *testing.T) {
	a := newOktaAuthServer(t)
	otherKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	cases := []struct {
		name   string
		bearer func() string
		secret string
		ok     bool
	}{
		{"valid", func() string { return a.token(t, a.claims(), a.kid) }, testSecret, true},
		{"valid but no secret header", func() string { return a.token(t, a.claims(), a.kid) }, "", false},
		{"no bearer", func() string { return "" }, testSecret, false},
		{"wrong issuer", func() string {
			c := a.claims()
			c["iss"] = "https://evil.example.com/oauth2/default"
			return a.token(t, c, a.kid)
		}, testSecret, false},
		{"wrong audience", func() string { c := a.claims(); c["aud"] = "api://other"; return a.token(t, c, a.kid) }, testSecret, false},
		{"wrong client", func() string { c := a.claims(); c["cid"] = "0oaother"; return a.token(t, c, a.kid) }, testSecret, false},
		{"missing scope", func() string { c := a.claims(); c["scp"] = []string{"openid"}; return a.token(t, c, a.kid) }, testSecret, false},
		{"expired", func() string {
			c := a.claims()
			c["exp"] = time.Now().Add(-time.Hour).Unix()
			return a.token(t, c, a.kid)
		}, testSecret, false},
		{"no expiry", func() string { c := a.claims(); delete(c, "exp"); return a.token(t, c, a.kid) }, testSecret, false},
		{"unknown kid", func() string { return a.token(t, a.claims(), "k2") }, testSecret, false},
		{"signed by another key", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodRS256, a.claims())
			tok.Header["kid"] = a.kid
			s, _ := tok.SignedString(otherKey)
			return s
		}, testSecret, false},
		{"HS256 with the public key as secret", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodHS256, a.claims())
			tok.Header["kid"] = a.kid
			s, _ := tok.SignedString(a.key.N.Bytes())
			return s
		}, testSecret, false},
		{"alg none", func() string {
			tok := jwt.NewWithClaims(jwt.SigningMethodNone, a.claims())
			tok.Header["kid"] = a.kid
			s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}, testSecret, false},
	}
	v := verifierReturning(entra.Result{Verdict: entra.Verified})
	h := newTestHandler(t, Config{
		AuthHeader: "X-Hook-Secret",
		AuthSecret: testSecret,
		OAuth:      &hook.OAuthConfig{Issuer: a.issuer(), Audience: "api://default", ClientID: "0oahookclient", Scope: "okta.inlinehooks"},
	}, v, &fakeSignaler{}, nil)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := v.calls.Load()
			bearer := tc.bearer()
			w := post(h, fixture(t, "classic.json"), func(r *http.Request) {
				r.Header.Del("Authorization")
				if bearer != "" {
					r.Header.Set("Authorization", "Bearer "+bearer)
				}
				if tc.secret != "" {
					r.Header.Set("X-Hook-Secret", tc.secret)
				}
			})
			if tc.ok {
				if got := credentialOf(t, w); got != "VERIFIED" {
					t.Fatalf("%q", got)
				}
				return
			}
			if w.Code != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401", w.Code)
			}
			if v.calls.Load() != before {
				t.Fatal("an unauthenticated request reached the verifier")
			}
		})
	}
	// Keys are cached: one fetch for the valid token, at most one more for
	// the unknown kid (refetches are rate limited).
	if n := a.fetches.Load(); n < 1 || n > 2 {
		t.Fatalf("%d JWKS fetches", n)
	}
}
