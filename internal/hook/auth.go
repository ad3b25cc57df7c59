package hook

import (
	"context"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// OAuthConfig enables checking the OAuth 2.0 access token Okta sends when the
// hook's channel type is OAUTH (https://developer.okta.com/docs/concepts/inline-hooks/): an
// RS256 JWT from the org's authorization server in "Authorization: Bearer".
// The shared-secret header stays required in this mode (send it as one of the
// channel's custom headers), so AuthHeader must then name another header.
type OAuthConfig struct {
	// Issuer is the authorization server, e.g. https://{org}/oauth2/default.
	Issuer string
	// Audience is the expected aud, e.g. api://default.
	Audience string
	// ClientID is the expected cid: the app integration Okta uses for the hook.
	ClientID string
	// Scope, when set, must be among the token's scp.
	Scope string
	// JWKSURL is where the signing keys are (default Issuer + "/v1/keys").
	JWKSURL string
	// HTTPClient fetches the keys (default: a client with a 2 s timeout).
	HTTPClient *http.Client
	// CacheTTL is how long fetched keys are trusted before a refresh
	// (default 1 h). An unknown kid triggers a refresh at most every 30 s.
	CacheTTL time.Duration
}

// Reasons Authenticator.Check refuses a request (metric label values).
const (
	AuthMissing       = "missing_secret"
	AuthMultiple      = "multiple_secrets"
	AuthWrongSecret   = "wrong_secret"
	AuthMissingBearer = "missing_bearer"
	AuthBadToken      = "invalid_token"
)

// Authenticator checks Okta's credentials on a hook request: the shared
// secret header and, when configured, an Okta OAuth 2.0 access token.
type Authenticator struct {
	header     string
	secretHash [sha256.Size]byte
	oauth      *tokenVerifier // nil unless OAuth is configured
}

// NewAuthenticator returns an Authenticator expecting secret as the whole
// value of header (default Authorization) and, when oc is not nil, a valid
// bearer token from oc's issuer.
func NewAuthenticator(header, secret string, oc *OAuthConfig) (*Authenticator, error) {
	if secret == "" {
		return nil, errors.New("hook: an auth secret is required")
	}
	if header == "" {
		header = "Authorization"
	}
	a := &Authenticator{header: http.CanonicalHeaderKey(header), secretHash: sha256.Sum256([]byte(secret))}
	if oc != nil {
		if a.header == "Authorization" {
			return nil, errors.New("hook: with OAuth the shared secret must travel in a custom header, not Authorization")
		}
		tv, err := newTokenVerifier(*oc)
		if err != nil {
			return nil, err
		}
		a.oauth = tv
	}
	return a, nil
}

// Check returns "" when r carries Okta's credentials, else a reason. The
// secret header's whole value must equal the secret (Okta sends the
// configured value verbatim, scheme included: https://developer.okta.com/docs/guides/secure-hooks/nodejs/main/).
// Both sides are
// hashed first so the comparison is constant-time in the secret's length too.
func (a *Authenticator) Check(ctx context.Context, r *http.Request) string {
	vals := r.Header.Values(a.header)
	switch {
	case len(vals) == 0:
		return AuthMissing
	case len(vals) > 1:
		return AuthMultiple
	}
	got := sha256.Sum256([]byte(vals[0]))
	if subtle.ConstantTimeCompare(got[:], a.secretHash[:]) != 1 {
		return AuthWrongSecret
	}
	if a.oauth == nil {
		return ""
	}
	authz := r.Header.Values("Authorization")
	if len(authz) != 1 {
		return AuthMissingBearer
	}
	raw, ok := strings.CutPrefix(authz[0], "Bearer ")
	if !ok || raw == "" {
		return AuthMissingBearer
	}
	if err := a.oauth.verify(ctx, strings.TrimSpace(raw)); err != nil {
		return AuthBadToken
	}
	return ""
}

// UsesOAuth reports whether Check also requires an OAuth access token.
func (a *Authenticator) UsesOAuth() bool { return a.oauth != nil }

// PrefetchKeys fetches the OAuth signing keys in the background (within 5 s)
// rather than during Okta's first call; without OAuth it does nothing.
func (a *Authenticator) PrefetchKeys(logger *slog.Logger) {
	if a.oauth == nil {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := a.oauth.key(ctx, ""); err != nil && !a.oauth.hasKeys() {
			logger.Warn("hook: could not fetch the OAuth signing keys yet", "jwks", a.oauth.cfg.JWKSURL, "err", err)
		}
	}()
}

// tokenVerifier validates Okta access tokens against the issuer's JWKS.
type tokenVerifier struct {
	cfg    OAuthConfig
	parser *jwt.Parser

	fetchMu   sync.Mutex // one fetch at a time
	mu        sync.RWMutex
	keys      map[string]*rsa.PublicKey
	fetchedAt time.Time
	triedAt   time.Time
}

const jwksMinRefetch = 30 * time.Second

func newTokenVerifier(cfg OAuthConfig) (*tokenVerifier, error) {
	if cfg.Issuer == "" || cfg.Audience == "" || cfg.ClientID == "" {
		return nil, errors.New("hook: OAuth needs an issuer, an audience and a client id")
	}
	if cfg.JWKSURL == "" {
		cfg.JWKSURL = strings.TrimSuffix(cfg.Issuer, "/") + "/v1/keys"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 2 * time.Second}
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Hour
	}
	return &tokenVerifier{
		cfg: cfg,
		parser: jwt.NewParser(
			jwt.WithValidMethods([]string{"RS256"}), // Okta signs access tokens with RS256
			jwt.WithIssuer(cfg.Issuer),
			jwt.WithAudience(cfg.Audience),
			jwt.WithExpirationRequired(),
			jwt.WithIssuedAt(),
			jwt.WithLeeway(30*time.Second),
		),
	}, nil
}

func (v *tokenVerifier) verify(ctx context.Context, raw string) error {
	claims := jwt.MapClaims{}
	_, err := v.parser.ParseWithClaims(raw, claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		return v.key(ctx, kid)
	})
	if err != nil {
		return err
	}
	if cid, _ := claims["cid"].(string); cid != v.cfg.ClientID {
		return errors.New("hook: token cid mismatch")
	}
	if v.cfg.Scope != "" && !hasScope(claims["scp"], v.cfg.Scope) {
		return errors.New("hook: token lacks the hook scope")
	}
	return nil
}

func hasScope(scp any, want string) bool {
	switch s := scp.(type) {
	case []any:
		return slices.ContainsFunc(s, func(x any) bool { x2, _ := x.(string); return x2 == want })
	case string:
		return slices.Contains(strings.Fields(s), want)
	}
	return false
}

// key returns the public key kid, fetching the JWKS when the cache is stale
// or does not know kid (at most once per jwksMinRefetch).
func (v *tokenVerifier) key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	v.mu.RLock()
	k, ok := v.keys[kid]
	fresh := time.Since(v.fetchedAt) < v.cfg.CacheTTL
	v.mu.RUnlock()
	if ok && fresh {
		return k, nil
	}
	v.fetchMu.Lock()
	defer v.fetchMu.Unlock()
	v.mu.RLock()
	k, ok = v.keys[kid]
	fresh = time.Since(v.fetchedAt) < v.cfg.CacheTTL
	recent := time.Since(v.triedAt) < jwksMinRefetch
	v.mu.RUnlock()
	if ok && (fresh || recent) {
		return k, nil
	}
	if recent {
		return nil, errors.New("hook: unknown signing key")
	}
	keys, err := v.fetch(ctx)
	v.mu.Lock()
	v.triedAt = time.Now()
	if err == nil {
		v.keys, v.fetchedAt = keys, v.triedAt
	}
	k, ok = v.keys[kid]
	v.mu.Unlock()
	if err != nil && !ok {
		return nil, err
	}
	if !ok {
		return nil, errors.New("hook: unknown signing key")
	}
	return k, nil
}

// hasKeys reports whether signing keys were fetched.
func (v *tokenVerifier) hasKeys() bool {
	v.mu.RLock()
	defer v.mu.RUnlock()
	return len(v.keys) > 0
}

func (v *tokenVerifier) fetch(ctx context.Context) (map[string]*rsa.PublicKey, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.JWKSURL, nil)
	if err != nil {
		return nil, fmt.Errorf("hook: jwks request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("hook: jwks fetch: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("hook: jwks fetch: HTTP %d", resp.StatusCode)
	}
	var doc struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("hook: jwks decode: %w", err)
	}
	keys := make(map[string]*rsa.PublicKey)
	for _, k := range doc.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		e, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			continue
		}
		eInt := 0
		for _, b := range e {
			eInt = eInt<<8 | int(b)
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: eInt}
	}
	return keys, nil
}
