package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"entra2okta/internal/apierr"
)

// OktaAccess is the cheap authenticated read of the Okta checks.
type OktaAccess interface {
	// ProbeUsers reads one user (GET /api/v1/users?limit=1) and returns
	// the rate limit Okta's answer reported for its bucket, the one user
	// creates use. Failures are *apierr.Error.
	ProbeUsers(ctx context.Context) (RateLimit, error)
}

// RateLimit is what the X-Rate-Limit-* headers of one answer said.
type RateLimit struct {
	// Known is false when the answer carried no usable headers.
	Known bool
	// Limit is X-Rate-Limit-Limit, the requests per minute this client may
	// make in the bucket: for an API token or an OAuth app whose share of
	// the bucket is below 100 %, its share, else the org's limit
	// (https://developer.okta.com/docs/reference/rl2-token-oauth). Which
	// of the two it is, no header says.
	Limit, Remaining int
	Reset            time.Time
}

// ScopeProber asks Okta which scopes it grants the OAuth service app.
type ScopeProber interface {
	// GrantedScopes reports, for each scope, whether Okta issues an access
	// token carrying it.
	GrantedScopes(ctx context.Context, scopes []string) (map[string]bool, error)
}

// Check names of the Okta access group.
const (
	NameOktaCredentials = "okta: credentials"
	NameOktaRateLimit   = "okta: rate limit"
	NameOktaScopes      = "okta: oauth scopes"
)

func checkOktaAccess(ctx context.Context, c *Config) []Check {
	if c.OktaConfigError != "" {
		return []Check{
			failed(NameOktaCredentials, c.OktaConfigError,
				"set OKTA_ORG_URL and OKTA_API_TOKEN, or OKTA_CLIENT_ID and OKTA_PRIVATE_KEY for an OAuth service app"),
			skip(NameOktaRateLimit, "no Okta client"),
		}
	}
	if c.OktaAccess == nil {
		return []Check{skip(NameOktaCredentials, "no Okta client"), skip(NameOktaRateLimit, "no Okta client")}
	}
	rl, err := c.OktaAccess.ProbeUsers(ctx)
	if err != nil {
		fix := "check OKTA_ORG_URL and that Okta is reachable from here"
		switch apierr.KindOf(err) {
		case apierr.Unauthorized:
			fix = "Okta refused the credentials: check OKTA_API_TOKEN (or the OAuth app's client ID, key and granted scopes) " +
				"and that its admin role may read users"
		case apierr.RateLimited:
			fix = "the token's rate limit is exhausted right now: another client is using it; retry after the reset"
		}
		return []Check{failed(NameOktaCredentials, "GET /api/v1/users?limit=1: "+errText(err), fix),
			skip(NameOktaRateLimit, "no answer to read")}
	}
	return []Check{ok(NameOktaCredentials, "GET /api/v1/users?limit=1 answered"), c.rateLimitCheck(rl)}
}

func (c *Config) rateLimitCheck(rl RateLimit) Check {
	if !rl.Known {
		return warn(NameOktaRateLimit, "Okta's answer carried no X-Rate-Limit headers",
			"check that nothing between here and Okta strips them; the workers' rate tuning reads them")
	}
	// X-Rate-Limit-Limit is "the rate limit ceiling that is applicable for
	// the current request" (https://developer.okta.com/docs/reference/rl-best-practices/):
	// for an API token or OAuth app, its share of the bucket, 50 % unless
	// an admin changed it (https://developer.okta.com/docs/reference/rl2-token-oauth).
	// No header says the share or the org's own limit, and an API token's
	// share cannot be looked up (the Principal Rate Limits API names tokens
	// by an ID the token does not reveal), so the org's limit is inferred
	// and said to be.
	detail := fmt.Sprintf("users bucket (creates and lists), read from X-Rate-Limit-Limit: %d requests/min for these credentials, "+
		"%d left in this minute. The org's create limit is not in Okta's headers; inferred: %d/min if these credentials have "+
		"Okta's default 50 %% share of it, %d/min if they have all of it (the share is the token's or app's rate limit setting)",
		rl.Limit, max(rl.Remaining, 0), 2*rl.Limit, rl.Limit)
	planned := c.OktaCreateRPS * 60
	switch {
	case planned > float64(rl.Limit):
		return warn(NameOktaRateLimit, detail+fmt.Sprintf("; the workers' OKTA_CREATE_RPS=%g (%.0f/min) is above it: Okta would answer 429 "+
			"until the workers' rate tuning (OKTA_RATE_TARGET) lowers it", c.OktaCreateRPS, planned),
			fmt.Sprintf("set OKTA_CREATE_RPS to at most %.2f, or raise the token's share of the bucket in the Admin Console "+
				"(Security > API > Tokens, or the app's Rate limits tab)", float64(rl.Limit)/60))
	case rl.Remaining >= 0 && rl.Remaining < rl.Limit/10:
		return warn(NameOktaRateLimit, detail+": another client is using most of this minute's requests",
			"find the other client of these credentials (System Log, actor) before the campaign competes with it")
	}
	return ok(NameOktaRateLimit, detail)
}

func checkScopes(ctx context.Context, c *Config) []Check {
	if c.Scopes == nil {
		return []Check{skip(NameOktaScopes, "oauth: not configured (an API token is used)")}
	}
	want := append(slices.Clone(c.RequiredScopes), c.PreflightScopes...)
	slices.Sort(want)
	want = slices.Compact(want)
	granted, err := c.Scopes.GrantedScopes(ctx, want)
	if err != nil {
		return []Check{failed(NameOktaScopes, "asking Okta for access tokens: "+errText(err),
			"check OKTA_CLIENT_ID, OKTA_PRIVATE_KEY (and OKTA_PRIVATE_KEY_ID) and that the app is an API Services app with client credentials")}
	}
	var missingWork, missingOwn []string
	for _, s := range c.RequiredScopes {
		if !granted[s] {
			missingWork = append(missingWork, s)
		}
	}
	for _, s := range c.PreflightScopes {
		if !granted[s] && !slices.Contains(c.RequiredScopes, s) {
			missingOwn = append(missingOwn, s)
		}
	}
	fix := "grant them on the app's Okta API Scopes tab (Admin Console > Applications > the service app)"
	switch {
	case len(missingWork) > 0:
		return []Check{failed(NameOktaScopes, "not granted, and the workers need them: "+strings.Join(missingWork, ", "), fix)}
	case len(missingOwn) > 0:
		return []Check{warn(NameOktaScopes, "the workers' scopes are granted ("+strings.Join(c.RequiredScopes, ", ")+
			"); not granted, so preflight cannot check what they read: "+strings.Join(missingOwn, ", "), fix)}
	}
	return []Check{ok(NameOktaScopes, "granted: "+strings.Join(want, ", "))}
}
