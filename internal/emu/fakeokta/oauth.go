package fakeokta

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// This file emulates OAuth 2.0 for Okta with a service app: the org
// authorization server's token endpoint for the client credentials grant
// with private_key_jwt client authentication, and the management API's
// "Authorization: Bearer" access tokens with their scopes
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/).

// TokenPath is the org authorization server's token endpoint.
const TokenPath = "/oauth2/v1/token"

// DefaultAccessTokenLifetime is how long an access token is accepted:
// Okta's org authorization server answers expires_in 3600.
const DefaultAccessTokenLifetime = time.Hour

// maxAssertionLifetime is how far in the future a client assertion's exp may
// be: "a maximum of only an hour in the future"
// (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/#create-and-sign-the-jwt).
const maxAssertionLifetime = time.Hour

// OAuthKey is a public key registered on a service app (its JWKS).
type OAuthKey struct {
	// KID is the key's id; "" for a key registered without one.
	KID string
	// Public is an *rsa.PublicKey or an *ecdsa.PublicKey (P-256, P-384 or
	// P-521).
	Public crypto.PublicKey
}

// OAuthClient is an OAuth 2.0 service app ("API Services" app integration)
// that authenticates with private_key_jwt.
type OAuthClient struct {
	ClientID string
	// Keys are the app's public keys. An assertion without a kid is
	// accepted only when the app has a single key, as Okta does.
	Keys []OAuthKey
	// Scopes are the Okta API scopes granted to the app (its "Okta API
	// Scopes" tab). A token request for any other scope is refused.
	Scopes []string
	// RequireDPoP models "Require Demonstrating Proof of Possession (DPoP)
	// header in token requests", which Okta turns on for new service apps:
	// a token request without a DPoP header is refused. DPoP proofs
	// themselves are not verified: a request with one is refused too.
	RequireDPoP bool
}

// oauthState is the service apps, the access tokens issued and the client
// assertion ids already used. Its own lock: the token endpoint does not
// touch users.
type oauthState struct {
	mu       sync.Mutex
	clients  map[string]OAuthClient
	tokens   map[string]accessToken
	jtis     map[string]time.Time // client ID + " " + jti -> the assertion's exp
	lifetime time.Duration
	requests int
}

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
}

func (o *oauthState) init(opts Options) {
	o.clients = map[string]OAuthClient{}
	o.tokens = map[string]accessToken{}
	o.jtis = map[string]time.Time{}
	o.lifetime = opts.AccessTokenLifetime
	if o.lifetime <= 0 {
		o.lifetime = DefaultAccessTokenLifetime
	}
	for _, c := range opts.OAuthClients {
		o.clients[c.ClientID] = c
	}
}

// AddOAuthClient registers (or replaces) a service app.
func (s *Server) AddOAuthClient(c OAuthClient) {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	s.oauth.clients[c.ClientID] = c
}

// OAuthTokenRequests returns how many requests the OAuth 2.0 token endpoint answered,
// granted or not.
func (s *Server) OAuthTokenRequests() int {
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	return s.oauth.requests
}

// oauthError is the OAuth 2.0 error body of the token endpoint (RFC 6749
// section 5.2), which Okta answers as {"error": ..., "error_description": ...}.
type oauthError struct {
	status      int
	code        string
	description string
}

func (e *oauthError) Error() string { return e.code + ": " + e.description }

// invalidClient is a failed client authentication: 401 invalid_client.
func invalidClient(description string) *oauthError {
	return &oauthError{status: http.StatusUnauthorized, code: "invalid_client", description: description}
}

// errClientUnknown is Okta's answer to a client it cannot authenticate
// (https://support.okta.com/help/s/article/invalid-client-error-returned-during-client-authentication-failure).
var errClientUnknown = invalidClient("Client authentication failed. Either the client or the client credentials are invalid.")

// serveToken answers POST /oauth2/v1/token. Parameters may come in the form
// body or, as okta-sdk-golang v2 sends them, in the query string. Neither the
// request nor the access token is recorded or logged.
func (s *Server) serveToken(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	h.Set("X-Okta-Request-Id", randomID("", 27, idAlphabet+"-_"))
	s.oauth.mu.Lock()
	s.oauth.requests++
	s.oauth.mu.Unlock()

	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	tok, err := s.grant(r)
	if err != nil {
		s.log.Debug("fakeokta token request refused", "error", err.code, "description", err.description)
		writeJSON(w, err.status, map[string]string{"error": err.code, "error_description": err.description})
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	TokenType   string `json:"token_type"`
	ExpiresIn   int    `json:"expires_in"`
	AccessToken string `json:"access_token"`
	Scope       string `json:"scope"`
}

// grant checks a client credentials request with a client assertion and
// issues an access token. The error descriptions Okta documents are used
// verbatim; the others are the emulator's wording.
func (s *Server) grant(r *http.Request) (*tokenResponse, *oauthError) {
	if err := r.ParseForm(); err != nil {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_request", description: "The request could not be parsed."}
	}
	f := r.Form
	if gt := f.Get("grant_type"); gt != "client_credentials" {
		return nil, &oauthError{status: http.StatusBadRequest, code: "unsupported_grant_type",
			description: fmt.Sprintf("The authorization grant type %q is not supported: a service app uses client_credentials.", gt)}
	}
	assertion := f.Get("client_assertion")
	if assertion == "" {
		return nil, errClientUnknown
	}
	if f.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" {
		return nil, invalidClient("The client_assertion_type is invalid.")
	}
	now := s.now()
	a, err := parseAssertion(assertion)
	if err != nil {
		return nil, invalidClient("The client_assertion is not a well-formed JWT.")
	}
	if a.claims.Iss == "" || a.claims.Sub != a.claims.Iss || (f.Get("client_id") != "" && f.Get("client_id") != a.claims.Iss) {
		return nil, invalidClient("The iss and sub claims of the client_assertion must both be the client_id.")
	}

	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	c, ok := s.oauth.clients[a.claims.Iss]
	if !ok {
		return nil, errClientUnknown
	}
	key, ok := c.key(a.header.Kid)
	if !ok {
		// https://support.okta.com/help/s/article/okta-client-assertion-error-invalid-key-id
		return nil, invalidClient("The client_assertion JWT kid is invalid.")
	}
	if !a.verify(key) {
		return nil, invalidClient("The client_assertion signature is invalid.")
	}
	if want := info(r).base + TokenPath; !a.claims.Aud.has(want) {
		return nil, invalidClient("The audience claim for client_assertion must be the endpoint invoked for the request.")
	}
	switch {
	case a.claims.Exp == 0 || !now.Before(time.Unix(a.claims.Exp, 0)):
		return nil, invalidClient("The client_assertion token is expired.")
	case time.Unix(a.claims.Exp, 0).After(now.Add(maxAssertionLifetime)):
		return nil, invalidClient("The client_assertion token has an expiration too far into the future.")
	case a.claims.Nbf != 0 && now.Before(time.Unix(a.claims.Nbf, 0)):
		return nil, invalidClient("The client_assertion token is not yet valid.")
	}
	// A jti is optional; when present, an assertion is accepted once.
	if a.claims.Jti != "" {
		k := c.ClientID + " " + a.claims.Jti
		if _, used := s.oauth.jtis[k]; used {
			return nil, invalidClient("The client_assertion token has already been used.")
		}
		for j, exp := range s.oauth.jtis {
			if now.After(exp) {
				delete(s.oauth.jtis, j)
			}
		}
		s.oauth.jtis[k] = time.Unix(a.claims.Exp, 0)
	}
	if c.RequireDPoP {
		if r.Header.Get("DPoP") == "" {
			// https://support.okta.com/help/s/article/the-dpop-proof-jwt-header-is-missing
			return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_dpop_proof", description: "The DPoP proof JWT header is missing."}
		}
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_dpop_proof", description: "fakeokta does not verify DPoP proofs."}
	}
	scopes := strings.Fields(f.Get("scope"))
	if len(scopes) == 0 {
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope", description: "The scope parameter is required: name the Okta API scopes."}
	}
	var refused []string
	for _, sc := range scopes {
		if !slices.Contains(c.Scopes, sc) {
			refused = append(refused, sc)
		}
	}
	if len(refused) > 0 {
		// Okta mints no token when any requested scope is not granted to
		// the app (https://developer.okta.com/docs/guides/implement-oauth-for-okta/main/#scopes-and-supported-endpoints).
		return nil, &oauthError{status: http.StatusBadRequest, code: "invalid_scope",
			description: "The following scopes are not granted to the client: " + strings.Join(refused, " ")}
	}

	for t, at := range s.oauth.tokens {
		if !now.Before(at.expires) {
			delete(s.oauth.tokens, t)
		}
	}
	t := "fakeokta-at." + randomID("", 43, idAlphabet+"-_")
	s.oauth.tokens[t] = accessToken{clientID: c.ClientID, scopes: scopes, expires: now.Add(s.oauth.lifetime)}
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: int(s.oauth.lifetime / time.Second), AccessToken: t,
		Scope: strings.Join(scopes, " ")}, nil
}

// key returns the app's key for kid.
func (c OAuthClient) key(kid string) (crypto.PublicKey, bool) {
	if kid == "" {
		if len(c.Keys) == 1 {
			return c.Keys[0].Public, true
		}
		return nil, false
	}
	for _, k := range c.Keys {
		if k.KID == kid {
			return k.Public, true
		}
	}
	return nil, false
}

// assertion is a parsed client assertion JWT.
type assertion struct {
	header struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	claims struct {
		Iss string   `json:"iss"`
		Sub string   `json:"sub"`
		Aud audience `json:"aud"`
		Exp int64    `json:"exp"`
		Nbf int64    `json:"nbf"`
		Jti string   `json:"jti"`
	}
	signingInput []byte
	signature    []byte
}

// audience is the aud claim: a string or an array of strings (RFC 7519).
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return err
	}
	*a = many
	return nil
}

func (a audience) has(s string) bool { return slices.Contains(a, s) }

func parseAssertion(jwt string) (*assertion, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%d parts", len(parts))
	}
	a := &assertion{signingInput: []byte(parts[0] + "." + parts[1])}
	for i, dst := range []any{&a.header, &a.claims} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return nil, err
		}
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, err
	}
	a.signature = sig
	return a, nil
}

// verify checks the signature with key for the header's algorithm: RS256,
// RS384, RS512 with an RSA key, ES256, ES384, ES512 with an EC key on the
// matching curve. "none" and HMAC algorithms never verify.
func (a *assertion) verify(key crypto.PublicKey) bool {
	var (
		h     hash.Hash
		ch    crypto.Hash
		curve elliptic.Curve
	)
	switch a.header.Alg {
	case "RS256", "ES256":
		h, ch, curve = sha256.New(), crypto.SHA256, elliptic.P256()
	case "RS384", "ES384":
		h, ch, curve = sha512.New384(), crypto.SHA384, elliptic.P384()
	case "RS512", "ES512":
		h, ch, curve = sha512.New(), crypto.SHA512, elliptic.P521()
	default:
		return false
	}
	h.Write(a.signingInput)
	digest := h.Sum(nil)
	switch k := key.(type) {
	case *rsa.PublicKey:
		return a.header.Alg[0] == 'R' && rsa.VerifyPKCS1v15(k, ch, digest, a.signature) == nil
	case *ecdsa.PublicKey:
		if a.header.Alg[0] != 'E' || k.Curve != curve {
			return false
		}
		n := (curve.Params().BitSize + 7) / 8
		if len(a.signature) != 2*n {
			return false
		}
		r := new(big.Int).SetBytes(a.signature[:n])
		s := new(big.Int).SetBytes(a.signature[n:])
		return ecdsa.Verify(k, digest, r, s)
	}
	return false
}

// bearerToken returns the access token of "Authorization: Bearer <token>"
// if it is one the token endpoint issued and it has not expired.
func (s *Server) bearerToken(r *http.Request) (accessToken, bool) {
	t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok {
		return accessToken{}, false
	}
	s.oauth.mu.Lock()
	defer s.oauth.mu.Unlock()
	at, ok := s.oauth.tokens[strings.TrimSpace(t)]
	if !ok || !s.now().Before(at.expires) {
		return accessToken{}, false
	}
	return at, true
}

// routeScopes is the scope each management route needs from an access
// token, as Okta's management API description lists them per operation
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/
// and the InlineHook, EventHook, SystemLog and ApplicationUsers tags). A
// route missing here refuses every access token.
var routeScopes = map[Route]string{
	RouteCreateUser:          "okta.users.manage",
	RouteListUsers:           "okta.users.read",
	RouteGetUser:             "okta.users.read",
	RouteUpdateUser:          "okta.users.manage",
	RouteReplaceUser:         "okta.users.manage",
	RouteDeleteUser:          "okta.users.manage",
	RouteActivateUser:        "okta.users.manage",
	RouteDeactivateUser:      "okta.users.manage",
	RouteReactivateUser:      "okta.users.manage",
	RouteResetPassword:       "okta.users.manage",
	RouteExpirePassword:      "okta.users.manage",
	RouteListInlineHooks:     "okta.inlineHooks.read",
	RouteCreateInlineHook:    "okta.inlineHooks.manage",
	RouteGetInlineHook:       "okta.inlineHooks.read",
	RouteUpdateInlineHook:    "okta.inlineHooks.manage",
	RouteReplaceInlineHook:   "okta.inlineHooks.manage",
	RouteDeleteInlineHook:    "okta.inlineHooks.manage",
	RouteActivateHook:        "okta.inlineHooks.manage",
	RouteDeactivateHook:      "okta.inlineHooks.manage",
	RouteExecuteHook:         "okta.inlineHooks.manage",
	RouteLogs:                "okta.logs.read",
	RouteListEventHooks:      "okta.eventHooks.read",
	RouteCreateEventHook:     "okta.eventHooks.manage",
	RouteGetEventHook:        "okta.eventHooks.read",
	RouteReplaceEventHook:    "okta.eventHooks.manage",
	RouteDeleteEventHook:     "okta.eventHooks.manage",
	RouteActivateEventHook:   "okta.eventHooks.manage",
	RouteDeactivateEventHook: "okta.eventHooks.manage",
	RouteVerifyEventHook:     "okta.eventHooks.manage",
	RouteAssignAppUser:       "okta.apps.manage",
	RouteGetUserSchema:       "okta.schemas.read",
	RouteListPolicies:        "okta.policies.read",
	RouteGetPolicy:           "okta.policies.read",
	RouteListPolicyRules:     "okta.policies.read",
	RouteCreateGroup:         "okta.groups.manage",
	RouteListGroups:          "okta.groups.read",
	RouteGetGroup:            "okta.groups.read",
	RouteDeleteGroup:         "okta.groups.manage",
	RouteListGroupUsers:      "okta.groups.read",
	RouteAssignGroupUser:     "okta.groups.manage",
	RouteRemoveGroupUser:     "okta.groups.manage",
	RouteListUserGroups:      "okta.users.read",
}

// scopeAllows reports whether the request may use route: always with an
// API token; with an access token only if it holds the route's scope, where
// a .manage scope also grants the matching .read one ("/api/v1/groups
// requires the okta.groups.read or okta.groups.manage scope",
// https://support.okta.com/help/s/article/insufficient-scope-error-when-making-a-request-to-an-oauth-or-management-endpoint).
// Otherwise it answers 403 with the WWW-Authenticate header Okta sends.
func (s *Server) scopeAllows(w http.ResponseWriter, r *http.Request, route Route) bool {
	at, ok := s.bearerToken(r)
	if !ok {
		return true // an API token (authorized already)
	}
	need, known := routeScopes[route]
	if known {
		for _, have := range at.scopes {
			if have == need || (strings.HasSuffix(need, ".read") && have == strings.TrimSuffix(need, ".read")+".manage") {
				return true
			}
		}
	}
	base := info(r).base
	w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer authorization_uri="%s/oauth2/v1/authorize", realm="%s", scope="%s", `+
		`error="insufficient_scope", error_description="The access token provided does not contain the required scopes.", resource="%s"`,
		base, base, need, r.URL.Path))
	w.WriteHeader(http.StatusForbidden)
	return false
}
