package fakeokta_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
)

// Keys are generated once: RSA generation is slow under -race.
var (
	keysOnce         sync.Once
	rsaKey, otherRSA *rsa.PrivateKey
	ecKey            *ecdsa.PrivateKey
)

func testKeys(t *testing.T) {
	t.Helper()
	keysOnce.Do(func() {
		var err error
		if rsaKey, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if otherRSA, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			panic(err)
		}
		if ecKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			panic(err)
		}
	})
}

const svcClient = "0oasvc1234567890abcd"

// oauthEnv is an emulator with one service app (RSA key "k1", EC key
// "k2") granted okta.users.read and okta.users.manage, on a clock the test
// moves.
type oauthEnv struct {
	*env
	mu  sync.Mutex
	now time.Time
}

func newOAuthEnv(t *testing.T, mod func(*fakeokta.OAuthClient)) *oauthEnv {
	t.Helper()
	testKeys(t)
	c := fakeokta.OAuthClient{ClientID: svcClient,
		Keys:   []fakeokta.OAuthKey{{KID: "k1", Public: &rsaKey.PublicKey}, {KID: "k2", Public: &ecKey.PublicKey}},
		Scopes: []string{"okta.users.read", "okta.users.manage"}}
	if mod != nil {
		mod(&c)
	}
	o := &oauthEnv{now: time.Now()}
	o.env = newEnv(t, fakeokta.Options{OAuthClients: []fakeokta.OAuthClient{c}, Now: o.clock})
	return o
}

func (o *oauthEnv) clock() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.now
}

func (o *oauthEnv) advance(d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.now = o.now.Add(d)
}

// claims of a client assertion; zero fields are left out.
type claims struct {
	Iss string `json:"iss,omitempty"`
	Sub string `json:"sub,omitempty"`
	Aud string `json:"aud,omitempty"`
	Exp int64  `json:"exp,omitempty"`
	Iat int64  `json:"iat,omitempty"`
	Jti string `json:"jti,omitempty"`
}

// goodClaims are what Okta asks for: iss = sub = client ID, aud = the token
// endpoint, exp within the hour, a unique jti.
func (o *oauthEnv) goodClaims() claims {
	now := o.clock()
	return claims{Iss: svcClient, Sub: svcClient, Aud: o.url + fakeokta.TokenPath,
		Exp: now.Add(5 * time.Minute).Unix(), Iat: now.Unix(), Jti: randomJTI()}
}

func randomJTI() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sign builds a compact JWT signed RS256 (RSA key) or ES256 (EC key).
func sign(t *testing.T, key crypto.Signer, kid string, c claims) string {
	t.Helper()
	alg := "RS256"
	if _, ok := key.(*ecdsa.PrivateKey); ok {
		alg = "ES256"
	}
	hdr := map[string]string{"alg": alg, "typ": "JWT"}
	if kid != "" {
		hdr["kid"] = kid
	}
	h, _ := json.Marshal(hdr)
	p, _ := json.Marshal(c)
	input := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(p)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	switch k := key.(type) {
	case *rsa.PrivateKey:
		var err error
		if sig, err = rsa.SignPKCS1v15(rand.Reader, k, crypto.SHA256, digest[:]); err != nil {
			t.Fatal(err)
		}
	case *ecdsa.PrivateKey:
		r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		sig = make([]byte, 64)
		r.FillBytes(sig[:32])
		s.FillBytes(sig[32:])
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// token posts a client credentials request, with the parameters in the form
// body (inQuery: in the query string, as okta-sdk-golang v2 sends them).
func (o *oauthEnv) token(assertion, scope string, inQuery bool, hdr ...string) resp {
	o.t.Helper()
	v := url.Values{"grant_type": {"client_credentials"}, "scope": {scope},
		"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}, "client_assertion": {assertion}}
	path, body := fakeokta.TokenPath, v.Encode()
	if inQuery {
		path, body = path+"?"+body, ""
	}
	return o.do(http.MethodPost, path, body, append([]string{"Authorization", "", "Content-Type", "application/x-www-form-urlencoded"}, hdr...)...)
}

func oauthErr(t *testing.T, r resp, status int, code, descPart string) {
	t.Helper()
	desc, _ := r.obj["error_description"].(string)
	if r.status != status || r.obj["error"] != code || !strings.Contains(desc, descPart) {
		t.Fatalf("got %d %s, want %d %s (%q)", r.status, r.raw, status, code, descPart)
	}
}

func TestOAuthToken_GoodAssertionGrantsScopedAccess(t *testing.T) {
	o := newOAuthEnv(t, nil)
	for _, tc := range []struct {
		name    string
		key     crypto.Signer
		kid     string
		inQuery bool
	}{{"RS256 form body", rsaKey, "k1", false}, {"ES256 query string", ecKey, "k2", true}} {
		t.Run(tc.name, func(t *testing.T) {
			r := o.token(sign(t, tc.key, tc.kid, o.goodClaims()), "okta.users.read", tc.inQuery)
			if r.status != http.StatusOK || r.obj["token_type"] != "Bearer" || r.obj["expires_in"] != 3600.0 ||
				r.obj["scope"] != "okta.users.read" || r.obj["access_token"] == "" {
				t.Fatalf("token: %d %s", r.status, r.raw)
			}
			if cc := r.header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("Cache-Control %q", cc)
			}
			bearer := "Bearer " + r.obj["access_token"].(string)
			if g := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", bearer); g.status != http.StatusOK {
				t.Fatalf("list users with the access token: %d %s", g.status, g.raw)
			}
			// okta.users.read does not allow a create.
			c := o.do(http.MethodPost, "/api/v1/users?activate=false", map[string]any{"profile": map[string]any{
				"login": "a@example.com", "email": "a@example.com", "firstName": "A", "lastName": "B"}}, "Authorization", bearer)
			wa := c.header.Get("WWW-Authenticate")
			if c.status != http.StatusForbidden || !strings.Contains(wa, `error="insufficient_scope"`) ||
				!strings.Contains(wa, `scope="okta.users.manage"`) || !strings.Contains(wa, `resource="/api/v1/users"`) {
				t.Fatalf("create with a read-only token: %d %q %s", c.status, wa, c.raw)
			}
		})
	}
	if n := o.srv.OAuthTokenRequests(); n != 2 {
		t.Errorf("TokenRequests = %d, want 2", n)
	}
	for _, rr := range o.srv.RequestLog() {
		if strings.Contains(rr.RawQuery, "client_assertion") || strings.Contains(rr.Path, "oauth2") {
			t.Errorf("a token request was recorded: %+v", rr)
		}
	}
}

func TestOAuthToken_ManageScopeAllowsReadsButNotOtherAPIs(t *testing.T) {
	o := newOAuthEnv(t, func(c *fakeokta.OAuthClient) { c.Scopes = []string{"okta.users.manage"} })
	r := o.token(sign(t, rsaKey, "k1", o.goodClaims()), "okta.users.manage", false)
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	bearer := "Bearer " + r.obj["access_token"].(string)
	if g := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", bearer); g.status != http.StatusOK {
		t.Errorf("okta.users.manage should read users: %d %s", g.status, g.raw)
	}
	l := o.do(http.MethodGet, "/api/v1/logs", nil, "Authorization", bearer)
	if l.status != http.StatusForbidden || !strings.Contains(l.header.Get("WWW-Authenticate"), `scope="okta.logs.read"`) {
		t.Errorf("System Log without okta.logs.read: %d %q", l.status, l.header.Get("WWW-Authenticate"))
	}
	h := o.do(http.MethodGet, "/api/v1/inlineHooks", nil, "Authorization", bearer)
	if h.status != http.StatusForbidden || !strings.Contains(h.header.Get("WWW-Authenticate"), `scope="okta.inlineHooks.read"`) {
		t.Errorf("inline hooks without okta.inlineHooks.read: %d %q", h.status, h.header.Get("WWW-Authenticate"))
	}
	// The API token keeps working beside the service app.
	if g := o.do(http.MethodGet, "/api/v1/logs", nil); g.status != http.StatusOK {
		t.Errorf("SSWS token on the System Log: %d %s", g.status, g.raw)
	}
}

func TestOAuthToken_RefusedAssertions(t *testing.T) {
	o := newOAuthEnv(t, nil)
	good := o.goodClaims
	for _, tc := range []struct {
		name      string
		assertion func(t *testing.T) string
		status    int
		code      string
		desc      string
	}{
		{"signed by a key the app does not have", func(t *testing.T) string { return sign(t, otherRSA, "k1", good()) },
			401, "invalid_client", "The client_assertion signature is invalid."},
		{"EC key named as the RSA one", func(t *testing.T) string { return sign(t, ecKey, "k1", good()) },
			401, "invalid_client", "The client_assertion signature is invalid."},
		{"unknown kid", func(t *testing.T) string { return sign(t, rsaKey, "k9", good()) },
			401, "invalid_client", "The client_assertion JWT kid is invalid."},
		{"no kid while the app has two keys", func(t *testing.T) string { return sign(t, rsaKey, "", good()) },
			401, "invalid_client", "The client_assertion JWT kid is invalid."},
		{"audience is the org, not the token endpoint", func(t *testing.T) string {
			c := good()
			c.Aud = o.url
			return sign(t, rsaKey, "k1", c)
		}, 401, "invalid_client", "The audience claim for client_assertion must be the endpoint invoked for the request."},
		{"expired", func(t *testing.T) string {
			c := good()
			c.Exp = o.clock().Add(-time.Second).Unix()
			return sign(t, rsaKey, "k1", c)
		}, 401, "invalid_client", "The client_assertion token is expired."},
		{"no exp", func(t *testing.T) string {
			c := good()
			c.Exp = 0
			return sign(t, rsaKey, "k1", c)
		}, 401, "invalid_client", "expired"},
		{"exp more than an hour ahead", func(t *testing.T) string {
			c := good()
			c.Exp = o.clock().Add(time.Hour + time.Minute).Unix()
			return sign(t, rsaKey, "k1", c)
		}, 401, "invalid_client", "too far into the future"},
		{"unknown client", func(t *testing.T) string {
			c := good()
			c.Iss, c.Sub = "0oaunknown", "0oaunknown"
			return sign(t, rsaKey, "k1", c)
		}, 401, "invalid_client", "Client authentication failed."},
		{"sub is not the client", func(t *testing.T) string {
			c := good()
			c.Sub = "someone"
			return sign(t, rsaKey, "k1", c)
		}, 401, "invalid_client", "iss and sub"},
		{"not a JWT", func(*testing.T) string { return "not.a.jwt" }, 401, "invalid_client", "well-formed"},
		{"unsigned", func(t *testing.T) string {
			j := sign(t, rsaKey, "k1", good())
			h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"k1"}`))
			return h + j[strings.Index(j, "."):strings.LastIndex(j, ".")+1]
		}, 401, "invalid_client", "The client_assertion signature is invalid."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			oauthErr(t, o.token(tc.assertion(t), "okta.users.read", false), tc.status, tc.code, tc.desc)
		})
	}
}

func TestOAuthToken_ReplayedJTIRefused(t *testing.T) {
	o := newOAuthEnv(t, nil)
	a := sign(t, rsaKey, "k1", o.goodClaims())
	if r := o.token(a, "okta.users.read", false); r.status != http.StatusOK {
		t.Fatalf("first use: %d %s", r.status, r.raw)
	}
	oauthErr(t, o.token(a, "okta.users.read", false), 401, "invalid_client", "already been used")
	// Without a jti (it is optional) the same assertion is accepted twice.
	c := o.goodClaims()
	c.Jti = ""
	b := sign(t, rsaKey, "k1", c)
	for i := 0; i < 2; i++ {
		if r := o.token(b, "okta.users.read", false); r.status != http.StatusOK {
			t.Fatalf("assertion without jti, use %d: %d %s", i+1, r.status, r.raw)
		}
	}
}

func TestOAuthToken_ScopeGrantTypeAndDPoP(t *testing.T) {
	o := newOAuthEnv(t, nil)
	oauthErr(t, o.token(sign(t, rsaKey, "k1", o.goodClaims()), "okta.users.read okta.logs.read", false),
		400, "invalid_scope", "okta.logs.read")
	oauthErr(t, o.token(sign(t, rsaKey, "k1", o.goodClaims()), "", false), 400, "invalid_scope", "scope")

	v := url.Values{"grant_type": {"password"}, "username": {"u"}, "password": {"p"}}
	r := o.do(http.MethodPost, fakeokta.TokenPath, v.Encode(), "Authorization", "", "Content-Type", "application/x-www-form-urlencoded")
	oauthErr(t, r, 400, "unsupported_grant_type", "client_credentials")
	v = url.Values{"grant_type": {"client_credentials"}, "scope": {"okta.users.read"}, "client_id": {svcClient}, "client_secret": {"x"}}
	r = o.do(http.MethodPost, fakeokta.TokenPath, v.Encode(), "Authorization", "", "Content-Type", "application/x-www-form-urlencoded")
	oauthErr(t, r, 401, "invalid_client", "Client authentication failed.")

	d := newOAuthEnv(t, func(c *fakeokta.OAuthClient) { c.RequireDPoP = true })
	oauthErr(t, d.token(sign(t, rsaKey, "k1", d.goodClaims()), "okta.users.read", false),
		400, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
}

func TestOAuthToken_AccessTokenExpires(t *testing.T) {
	o := newOAuthEnv(t, nil)
	r := o.token(sign(t, rsaKey, "k1", o.goodClaims()), "okta.users.read", false)
	if r.status != http.StatusOK {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	bearer := "Bearer " + r.obj["access_token"].(string)
	o.advance(time.Hour - time.Second)
	if g := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", bearer); g.status != http.StatusOK {
		t.Fatalf("a second before expiry: %d %s", g.status, g.raw)
	}
	o.advance(time.Second)
	g := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", bearer)
	if g.status != http.StatusUnauthorized || g.obj["errorCode"] != "E0000011" {
		t.Fatalf("after expires_in: %d %s", g.status, g.raw)
	}
	if g := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", "Bearer made-up"); g.status != http.StatusUnauthorized {
		t.Fatalf("an access token never issued: %d %s", g.status, g.raw)
	}
}

// TestOAuthTokenRateShareIsTheApps: Okta's per-token share belongs to the
// OAuth 2.0 app, so two access tokens of one app (two workers, or the next
// hour's token) draw on one quota, not one each.
func TestOAuthTokenRateShareIsTheApps(t *testing.T) {
	o := newOAuthEnv(t, nil)
	o.srv.SetRateLimit(fakeokta.BucketUsers, 10) // the app's share: 5 a minute
	bearer := func() string {
		r := o.token(sign(t, rsaKey, "k1", o.goodClaims()), "okta.users.read", false)
		if r.status != http.StatusOK {
			t.Fatalf("token: %d %s", r.status, r.raw)
		}
		return "Bearer " + r.obj["access_token"].(string)
	}
	first, second := bearer(), bearer()
	if first == second {
		t.Fatal("the token endpoint issued one access token twice")
	}
	for i := range 5 {
		tok := first
		if i%2 == 1 {
			tok = second
		}
		if r := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", tok); r.status != http.StatusOK ||
			r.header.Get("X-Rate-Limit-Limit") != "5" || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(4-i) {
			t.Fatalf("call %d: %d, limit %s remaining %s", i, r.status, r.header.Get("X-Rate-Limit-Limit"), r.header.Get("X-Rate-Limit-Remaining"))
		}
	}
	if r := o.do(http.MethodGet, "/api/v1/users", nil, "Authorization", second); r.status != http.StatusTooManyRequests {
		t.Fatalf("the app's sixth call of the minute, on its other token: %d, want 429", r.status)
	}
}
