package oktaclient

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v3"
	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"golang.org/x/sync/singleflight"
)

// OAuthConfig authenticates the Client as an Okta OAuth 2.0 service app
// ("API Services" app integration) with the client credentials grant and
// private_key_jwt client authentication, which Okta recommends over SSWS API
// tokens: an API token acts with its creator's admin rights and dies with
// that admin account, a service app has its own admin role and scoped,
// hour-long access tokens
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/).
//
// The SDK signs a client assertion (iss = sub = ClientID, aud =
// {org}/oauth2/v1/token, exp one hour ahead), exchanges it at the org
// authorization server's token endpoint for an access token, caches the token
// until two seconds before expires_in runs out and sends it as
// "Authorization: Bearer". The Client adds a unique jti to every assertion so
// that Okta refuses a replayed one
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/#create-and-sign-the-jwt).
type OAuthConfig struct {
	// ClientID is the service app's client ID.
	ClientID string
	// PrivateKey is the private key whose public half is registered on the
	// app, as PEM (PKCS #1 "RSA PRIVATE KEY", PKCS #8 "PRIVATE KEY" or SEC 1
	// "EC PRIVATE KEY") or as a private JWK (the JSON the Admin Console's
	// "Generate new key" shows). RSA keys sign RS256; EC keys ES256, ES384 or
	// ES512 by curve. Literal \n sequences are read as newlines, so a PEM
	// fits in one environment variable. Secret: never logged or printed.
	PrivateKey string
	// KeyID is the key's kid, sent in the assertion's header. Okta needs it
	// when the app has several public keys; a JWK's own kid is used when
	// this is empty.
	KeyID string
	// Scopes are the Okta API scopes to request; empty means DefaultScopes.
	// Every scope must be granted to the app, or Okta refuses the token
	// request (invalid_scope).
	Scopes []string
}

// enabled reports whether the OAuth settings were given at all.
func (o OAuthConfig) enabled() bool {
	return o.ClientID != "" || o.PrivateKey != "" || o.KeyID != "" || len(o.Scopes) > 0
}

// DefaultScopes are the Okta API scopes of the calls this package makes,
// one per operation as Okta's management API description lists them
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/):
//
//   - okta.users.read: GetUser and ListUsers (GET /api/v1/users, GET /api/v1/users/{id});
//   - okta.users.manage: CreateUser, UpdateUser, DeleteUser and the lifecycle
//     calls (ActivateUser, ReactivateUser, DeactivateUser, ExpirePassword,
//     ResetPassword: POST /api/v1/users/{id}/lifecycle/*);
//   - okta.logs.read: PasswordImportEvents (GET /api/v1/logs);
//   - okta.schemas.read: GetUserSchema (GET /api/v1/meta/schemas/user/default),
//     which starter migrate reads to check attribute mappings
//     (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Schema/).
func DefaultScopes() []string {
	return []string{"okta.users.read", "okta.users.manage", "okta.logs.read", "okta.schemas.read"}
}

// ParseScopes splits a list of scopes separated by spaces or commas.
func ParseScopes(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' })
}

// validate checks the settings without saying anything about the key's
// content.
func (o OAuthConfig) validate() error {
	var errs []error
	if strings.TrimSpace(o.ClientID) == "" {
		errs = append(errs, errors.New("okta: OAuth client ID is required"))
	}
	if strings.TrimSpace(o.PrivateKey) == "" {
		errs = append(errs, errors.New("okta: OAuth private key is required"))
	}
	for _, s := range o.Scopes {
		if !strings.HasPrefix(s, "okta.") {
			errs = append(errs, fmt.Errorf("okta: scope %q is not an Okta API scope (okta.*)", s))
		}
	}
	return errors.Join(errs...)
}

// Check validates the settings and parses the private key, as New does,
// without building a client: configuration code reports a bad key before
// start-up. The error never holds the key.
func (o OAuthConfig) Check() error {
	if err := o.validate(); err != nil {
		return err
	}
	_, err := newAssertionSigner(o.PrivateKey, o.KeyID)
	return err
}

// newAssertionSigner parses the private key and returns a signer that adds a
// fresh jti to each client assertion. Errors name the problem, never the
// key's content.
func newAssertionSigner(privateKey, keyID string) (jose.Signer, error) {
	key, alg, kid, err := parsePrivateKey(privateKey)
	if err != nil {
		return nil, err
	}
	if keyID != "" {
		kid = keyID
	}
	opts := &jose.SignerOptions{}
	if kid != "" {
		opts = opts.WithHeader("kid", kid)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return nil, fmt.Errorf("okta: OAuth private key: %w", err)
	}
	return jtiSigner{s}, nil
}

// parsePrivateKey reads a PEM or JWK private key and picks its algorithm.
func parsePrivateKey(s string) (key crypto.Signer, alg jose.SignatureAlgorithm, kid string, err error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, `\n`, "\n"))
	if strings.HasPrefix(s, "{") {
		var jwk jose.JSONWebKey
		if err := jwk.UnmarshalJSON([]byte(s)); err != nil {
			return nil, "", "", errors.New("okta: OAuth private key: not a valid JWK")
		}
		if jwk.IsPublic() {
			return nil, "", "", errors.New("okta: OAuth private key: the JWK is a public key; the private one is needed")
		}
		signer, ok := jwk.Key.(crypto.Signer)
		if !ok {
			return nil, "", "", errors.New("okta: OAuth private key: the JWK is not an RSA or EC key")
		}
		alg, err := algorithmFor(signer)
		return signer, alg, jwk.KeyID, err
	}
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, "", "", errors.New("okta: OAuth private key: neither PEM nor JWK")
	}
	var parsed any
	switch block.Type {
	case "RSA PRIVATE KEY":
		parsed, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		parsed, err = x509.ParseECPrivateKey(block.Bytes)
	case "PRIVATE KEY":
		parsed, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	default:
		return nil, "", "", fmt.Errorf("okta: OAuth private key: PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, "", "", fmt.Errorf("okta: OAuth private key: unreadable %s", block.Type)
	}
	signer, ok := parsed.(crypto.Signer)
	if !ok {
		return nil, "", "", errors.New("okta: OAuth private key: not an RSA or EC key")
	}
	alg, err = algorithmFor(signer)
	return signer, alg, "", err
}

// algorithmFor returns the signing algorithm of a key: Okta verifies
// private_key_jwt assertions signed with RSA or EC keys
// (https://developer.okta.com/docs/api/openapi/okta-oauth/guides/client-auth/).
func algorithmFor(k crypto.Signer) (jose.SignatureAlgorithm, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return "", fmt.Errorf("okta: OAuth private key: RSA keys must have at least 2048 bits, this one has %d", k.N.BitLen())
		}
		return jose.RS256, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return jose.ES256, nil
		case elliptic.P384():
			return jose.ES384, nil
		case elliptic.P521():
			return jose.ES512, nil
		}
		return "", errors.New("okta: OAuth private key: EC keys must be on P-256, P-384 or P-521")
	}
	return "", errors.New("okta: OAuth private key: not an RSA or EC key")
}

// jtiSigner adds a random jti claim to the payload it signs. The SDK builds
// the client assertion's claims without one; with a jti, Okta accepts the
// assertion once only, so an assertion seen in transit (the SDK sends it in
// the token request's URL) cannot be replayed.
type jtiSigner struct{ jose.Signer }

func (s jtiSigner) Sign(payload []byte) (*jose.JSONWebSignature, error) {
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber() // keep exp and iat as the integers they are
	var claims map[string]any
	if err := dec.Decode(&claims); err != nil {
		return nil, fmt.Errorf("okta: client assertion claims: %w", err)
	}
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	claims["jti"] = base64.RawURLEncoding.EncodeToString(b[:])
	p, err := json.Marshal(claims)
	if err != nil {
		return nil, err
	}
	return s.Signer.Sign(p)
}

// tokenPath is the org authorization server's token endpoint, where the SDK
// exchanges the client assertion for an access token. Only the org
// authorization server mints tokens with Okta API scopes
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta/main/).
const tokenPath = "/oauth2/v1/token"

// maxTokenResponse bounds the token response read into memory.
const maxTokenResponse = 1 << 20

// roundTripToken sends a token request under a deadline. The SDK builds that
// request without a context, inside the call that needs the token, so
// neither the caller's deadline nor its cancellation reaches it; the
// response is read whole before the deadline's context is released.
func roundTripToken(base http.RoundTripper, req *http.Request, timeout time.Duration) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), timeout)
	defer cancel()
	resp, err := base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxTokenResponse))
	_ = resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("okta: read token response: %w", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	return resp, nil
}

// isTokenRequest tells the SDK's token requests from API calls.
func isTokenRequest(req *http.Request) bool {
	return req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, tokenPath)
}

// tokenTransport gives the SDK's token requests a deadline (see
// roundTripToken) and lets concurrent ones share one request: the SDK
// caches the access token, but every call that finds the cache empty (the
// first calls of a busy worker, and again each time the token expires)
// fetches its own. Other requests pass through.
type tokenTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	flight  singleflight.Group
}

// tokenAnswer is a token response read whole, for every waiting caller.
type tokenAnswer struct {
	resp *http.Response
	body []byte
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !isTokenRequest(req) {
		return t.base.RoundTrip(req)
	}
	v, err, _ := t.flight.Do(req.URL.Host+req.URL.Path, func() (any, error) {
		resp, err := roundTripToken(t.base, req, t.timeout) //nolint:bodyclose // the body is in memory; the caller closes the copy
		if err != nil {
			return nil, err
		}
		body, _ := io.ReadAll(resp.Body) // in memory already
		return tokenAnswer{resp: resp, body: body}, nil
	})
	if err != nil {
		return nil, err
	}
	a := v.(tokenAnswer)
	out := *a.resp
	out.Header = a.resp.Header.Clone()
	out.Body = io.NopCloser(bytes.NewReader(a.body))
	out.Request = req
	return &out, nil
}

// authOptions checks that exactly one of the API token and the OAuth service
// app is configured and returns the SDK settings for it. Errors never hold
// the token or the key.
func authOptions(cfg Config) ([]oktasdk.ConfigSetter, error) {
	switch {
	case cfg.APIToken != "" && cfg.OAuth.enabled():
		return nil, errors.New("okta: configure either an API token or an OAuth service app, not both")
	case cfg.APIToken != "":
		return []oktasdk.ConfigSetter{oktasdk.WithAuthorizationMode("SSWS"), oktasdk.WithToken(cfg.APIToken)}, nil
	case !cfg.OAuth.enabled():
		return nil, errors.New("okta: an API token or an OAuth service app (client ID and private key) is required")
	}
	if err := cfg.OAuth.validate(); err != nil {
		return nil, err
	}
	signer, err := newAssertionSigner(cfg.OAuth.PrivateKey, cfg.OAuth.KeyID)
	if err != nil {
		return nil, err
	}
	scopes := cfg.OAuth.Scopes
	if len(scopes) == 0 {
		scopes = DefaultScopes()
	}
	return []oktasdk.ConfigSetter{
		oktasdk.WithAuthorizationMode("PrivateKey"),
		oktasdk.WithClientId(cfg.OAuth.ClientID),
		oktasdk.WithScopes(scopes),
		// The signer wins over a private key the SDK would read from
		// OKTA_CLIENT_PRIVATEKEY or okta.yaml.
		oktasdk.WithPrivateKeySigner(signer),
	}, nil
}
