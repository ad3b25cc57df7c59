// Package oktapolicy reads an Okta org's password policies and their rules
// over the management API with net/http alone: GET
// /api/v1/policies?type=PASSWORD, then each policy's GET
// /api/v1/policies/{id}/rules
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
// It imports no SDK, so the hook server, which needs nothing else from Okta's
// management API, links none. Every failure is an *apierr.Error that never
// holds the API token.
package oktapolicy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"entra2okta/internal/pwpolicy"
)

// Defaults of Config.
const (
	DefaultTimeout          = 10 * time.Second
	DefaultMaxRateLimitWait = 10 * time.Second
)

// Config configures a Reader.
type Config struct {
	// OrgURL is the org's base URL, e.g. https://example.okta.com (a trailing
	// slash is removed). http:// is accepted for local emulators only.
	OrgURL string
	// APIToken is the SSWS API token of an admin who may read policies.
	APIToken string
	// HTTPClient is used for every call; nil means a client with dial and
	// TLS handshake timeouts that trusts the system pool (which honours
	// SSL_CERT_FILE).
	HTTPClient *http.Client
	// Timeout bounds each HTTP call (request and answer); default
	// DefaultTimeout. The caller's context may end a call sooner.
	Timeout time.Duration
	// MaxRateLimitWait is the longest a read waits, in all, for Okta's
	// rate-limit window to reset after a 429 (X-Rate-Limit-Reset) before it
	// fails as rate-limited; default DefaultMaxRateLimitWait, negative: never
	// wait.
	MaxRateLimitWait time.Duration
	// Logger receives a debug line for each wait for a rate-limit reset;
	// default discards.
	Logger *slog.Logger
}

// Reader reads password policies. It is safe for concurrent use.
type Reader struct {
	base    *url.URL
	token   string
	hc      *http.Client
	timeout time.Duration
	maxWait time.Duration
	log     *slog.Logger
}

// New validates cfg and returns a Reader. It makes no call.
func New(cfg Config) (*Reader, error) {
	org := strings.TrimRight(strings.TrimSpace(cfg.OrgURL), "/")
	u, err := url.Parse(org)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("okta: org URL %q must be an absolute https URL", cfg.OrgURL)
	}
	if strings.TrimSpace(cfg.APIToken) == "" {
		return nil, errors.New("okta: the password policy reader needs an API token")
	}
	r := &Reader{base: u, token: strings.TrimSpace(cfg.APIToken), hc: cfg.HTTPClient, timeout: cfg.Timeout,
		maxWait: cfg.MaxRateLimitWait, log: cfg.Logger}
	if r.hc == nil {
		r.hc = defaultHTTPClient()
	}
	if r.timeout <= 0 {
		r.timeout = DefaultTimeout
	}
	if r.maxWait == 0 {
		r.maxWait = DefaultMaxRateLimitWait
	}
	if r.log == nil {
		r.log = slog.New(slog.DiscardHandler)
	}
	return r, nil
}

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	tr.TLSHandshakeTimeout = 10 * time.Second
	return &http.Client{Transport: tr}
}

// PasswordPolicies lists the org's password policies with their complexity
// settings and rules, in Okta's order (priority).
func (r *Reader) PasswordPolicies(ctx context.Context) ([]pwpolicy.Policy, error) {
	var raw []passwordPolicyJSON
	if err := getAll(ctx, r, "list password policies", "/api/v1/policies?type=PASSWORD", &raw); err != nil {
		return nil, err
	}
	out := make([]pwpolicy.Policy, 0, len(raw))
	for _, p := range raw {
		pol := p.policy()
		var rules []passwordRuleJSON
		if err := getAll(ctx, r, "list password policy rules", "/api/v1/policies/"+url.PathEscape(p.ID)+"/rules", &rules); err != nil {
			return nil, err
		}
		for _, rj := range rules {
			pol.Rules = append(pol.Rules, rj.rule())
		}
		out = append(out, pol)
	}
	return out, nil
}

// policy converts p, without its rules. Absent settings take the API's
// defaults; a policy without an authProvider condition is Okta's (OKTA).
func (p passwordPolicyJSON) policy() pwpolicy.Policy {
	pol := pwpolicy.Policy{ID: p.ID, Name: p.Name, Status: p.Status, Priority: p.Priority, System: p.System,
		AuthProvider: "OKTA", Groups: p.Conditions.People.Groups.list(), Complexity: p.Settings.Password.Complexity.complexity()}
	if pr := p.Conditions.AuthProvider.Provider; pr != "" {
		pol.AuthProvider = pr
	}
	return pol
}

// rule converts a password policy rule.
func (r passwordRuleJSON) rule() pwpolicy.Rule {
	return pwpolicy.Rule{Name: r.Name, Status: r.Status, Priority: r.Priority, Users: r.Conditions.People.Users.list(),
		Groups: r.Conditions.People.Groups.list(), PasswordChange: r.Actions.PasswordChange.Access}
}
