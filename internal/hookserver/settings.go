package hookserver

// The hook server's settings (flags, environment variables, defaults, help,
// secrets) are declared through internal/settings, so that ParseConfig
// parses them and docs/configuration.md's table is generated from the
// same declarations; ParseConfig validates the values and turns them into
// Config.

import (
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/settings"
	"entra2okta/internal/temporalconn"
)

// Values are the hook server's settings as given, before validation.
type Values struct {
	Listen, Admin                        string
	AuthHeader, AuthSecret               string // AuthSecret: secret
	Budget                               time.Duration
	TLSCert, TLSKey                      string
	TemporalAddress, TemporalNamespace   string
	TenantID, ClientID, AuthorityHost    string
	LogLevel                             string
	PolicyMFA, PolicyExpired, PolicyCA   bool
	LockoutThreshold                     int
	UserAttempts, UserDailyAttempts      int
	UserWindow                           time.Duration
	IPAttempts                           int
	IPWindow                             time.Duration
	IPTrusted                            string
	GlobalFailures                       int
	GlobalWindow, BreakerCooldown        time.Duration
	NegativeTTL                          time.Duration
	Store                                string // secret: may carry a password
	MaxConcurrent                        int
	OAuthIssuer, OAuthAudience           string
	OAuthClientID, OAuthScope, JWKSURL   string
	ShutdownTimeout                      time.Duration
	EventsAuthHeader, EventsAuthSecret   string // EventsAuthSecret: secret
	CanaryUser, CanaryPassword           string // CanaryPassword: secret
	CanaryInterval                       time.Duration
	O365AppID, EventsBatch, EventsPolicy string
	EventsDeadlineAfter                  time.Duration
	OktaOrgURL, OktaAPIToken             string // OktaAPIToken: secret
	PolicyGroups                         string
	PolicyRefresh                        time.Duration
}

// Defaults returns the values before the environment and the flags.
func Defaults() Values {
	return Values{
		Listen: ":8080", Admin: "127.0.0.1:9091", AuthHeader: "Authorization", Budget: 2500 * time.Millisecond,
		AuthorityHost: entra.DefaultAuthorityHost, LogLevel: "info", PolicyMFA: true,
		LockoutThreshold: 10, UserWindow: 15 * time.Minute, IPAttempts: 50, IPWindow: 15 * time.Minute,
		GlobalFailures: 500, GlobalWindow: time.Minute, BreakerCooldown: time.Minute, NegativeTTL: 5 * time.Minute,
		MaxConcurrent: 1024, OAuthAudience: "api://default", ShutdownTimeout: 15 * time.Second,
		EventsAuthHeader: "Authorization", CanaryInterval: time.Hour, EventsBatch: eventhook.DefaultEventsBatch, EventsPolicy: "none",
		PolicyRefresh: 10 * time.Minute,
	}
}

// Declare declares the hook server's settings bound to v, whose values are
// the defaults.
func Declare(v *Values) *settings.Set {
	s := settings.New("hookserver")
	type S = settings.Setting
	s.String(&v.Listen, S{Flag: "listen", Env: "HOOK_LISTEN_ADDR", Help: "listen address (Okta's calls and /healthz)"})
	s.String(&v.Admin, S{Flag: "admin-addr", Env: "HOOK_ADMIN_ADDR",
		Help: "listen address of /metrics and /readyz, plain HTTP (keep it on loopback or a monitoring network; off: none)"})
	s.String(&v.AuthHeader, S{Flag: "auth-header", Env: "HOOK_AUTH_HEADER", Help: "header carrying Okta's shared secret"})
	s.String(&v.AuthSecret, S{FormerFlag: "auth-secret", Env: "HOOK_AUTH_SECRET", Secret: true, Help: "the header's whole expected value, required"})
	s.Duration(&v.Budget, S{Flag: "budget", Env: "HOOK_BUDGET", Help: "deadline for answering Okta (Okta waits 3 s)"})
	s.String(&v.TLSCert, S{Flag: "tls-cert", Env: "HOOK_TLS_CERT", Help: "TLS certificate file (PEM); Okta only calls https URLs"})
	s.String(&v.TLSKey, S{Flag: "tls-key", Env: "HOOK_TLS_KEY", Help: "TLS key file (PEM)"})
	s.Temporal(&v.TemporalAddress, &v.TemporalNamespace, temporalconn.DefaultAddress, temporalconn.DefaultNamespace)
	s.EntraTenant(&v.TenantID, &v.AuthorityHost)
	s.String(&v.ClientID, S{Flag: "entra-client-id", Env: "ENTRA_CLIENT_ID", Help: "Entra app registration (public client flows allowed)"})
	s.LogLevel(&v.LogLevel)
	s.Bool(&v.PolicyMFA, S{Flag: "policy-mfa", Env: "HOOK_POLICY_MFA",
		Help: "MFA required/enrollment/external challenge (AADSTS50076/50079/50074/50072/50158) counts as verified"})
	s.Bool(&v.PolicyExpired, S{Flag: "policy-expired", Env: "HOOK_POLICY_EXPIRED", Help: "an expired password (AADSTS50055/50144) counts as verified"})
	s.Bool(&v.PolicyCA, S{Flag: "policy-ca", Env: "HOOK_POLICY_CA", Help: "blocked by conditional access (AADSTS53003) counts as verified"})
	declareShield(s, v)
	declareEvents(s, v)
	declarePolicyCheck(s, v)
	return s
}

// declareShield declares the bounds of the checks reaching Entra (the shield) and of those in flight.
func declareShield(s *settings.Set, v *Values) {
	type S = settings.Setting
	s.Int(&v.LockoutThreshold, S{Flag: "lockout-threshold", Env: "HOOK_LOCKOUT_THRESHOLD", Help: "the tenant's smart lockout threshold (10 in Azure public clouds, 3 in US Government clouds) and no more than Okta's password policy lockout"})
	s.Int(&v.UserAttempts, S{Flag: "user-attempts", Env: "HOOK_USER_ATTEMPTS", Help: "checks per username that Entra may count as failures in any span of the user window (0: 5, or the daily number when lower)"})
	s.Int(&v.UserDailyAttempts, S{Flag: "user-daily-attempts", Env: "HOOK_USER_DAILY_ATTEMPTS", Help: "checks per username that Entra may count as failures in any 24 h until a verified sign-in (0: half the lockout threshold); must stay below the threshold"})
	s.Duration(&v.UserWindow, S{Flag: "user-window", Env: "HOOK_USER_WINDOW", Help: "per-username sliding window and cool-down"})
	s.Int(&v.IPAttempts, S{Flag: "ip-attempts", Env: "HOOK_IP_ATTEMPTS", Help: "checks per source address reaching Entra per address window (-1: off)"})
	s.Duration(&v.IPWindow, S{Flag: "ip-window", Env: "HOOK_IP_WINDOW", Help: "per-address window"})
	s.String(&v.IPTrusted, S{Flag: "ip-trusted", Env: "HOOK_IP_TRUSTED", Help: "comma-separated CIDR ranges exempt from the per-address budget (an office NAT, VPN or secure web gateway)"})
	s.Int(&v.GlobalFailures, S{Flag: "global-failures", Env: "HOOK_GLOBAL_FAILURES", Help: "checks that may fail at Entra across all users per global window before the circuit breaker opens (-1: off)"})
	s.Duration(&v.GlobalWindow, S{Flag: "global-window", Env: "HOOK_GLOBAL_WINDOW", Help: "tenant-wide sliding window"})
	s.Duration(&v.BreakerCooldown, S{Flag: "breaker-cooldown", Env: "HOOK_BREAKER_COOLDOWN", Help: "how long the circuit breaker stays open"})
	s.Duration(&v.NegativeTTL, S{Flag: "negative-ttl", Env: "HOOK_NEGATIVE_TTL", Help: "how long a rejected username+password is answered from memory"})
	s.String(&v.Store, S{Env: "HOOK_STORE", Secret: true, Help: "PostgreSQL URL (postgres://user:password@host:5432/db) where replicas share the attempt budgets, circuit breaker and negative cache, so N replicas hold the bounds of one (empty: this process's memory, run one replica)"})
	s.Int(&v.MaxConcurrent, S{Flag: "max-concurrent", Env: "HOOK_MAX_CONCURRENT", Help: "checks in flight against Entra; beyond it requests are answered UNVERIFIED at once"})
}

// declareEvents declares the optional OAuth check, the shutdown, the event hook and the MFA-order canary.
func declareEvents(s *settings.Set, v *Values) {
	type S = settings.Setting
	s.String(&v.OAuthIssuer, S{Flag: "oauth-issuer", Env: "HOOK_OAUTH_ISSUER",
		Help: "also require an Okta OAuth 2.0 access token from this issuer, e.g. https://{org}/oauth2/default"})
	s.String(&v.OAuthAudience, S{Flag: "oauth-audience", Env: "HOOK_OAUTH_AUDIENCE", Help: "expected token audience"})
	s.String(&v.OAuthClientID, S{Flag: "oauth-client-id", Env: "HOOK_OAUTH_CLIENT_ID", Help: "expected token cid"})
	s.String(&v.OAuthScope, S{Flag: "oauth-scope", Env: "HOOK_OAUTH_SCOPE", Help: "scope the token must carry (optional)"})
	s.String(&v.JWKSURL, S{Flag: "oauth-jwks-url", Env: "HOOK_OAUTH_JWKS_URL", Default: "the issuer + /v1/keys", Help: "signing keys"})
	s.Duration(&v.ShutdownTimeout, S{Flag: "shutdown-timeout", Env: "HOOK_SHUTDOWN_TIMEOUT", Help: "how long shutdown waits for requests and pending signals"})
	s.String(&v.EventsAuthHeader, S{Flag: "events-auth-header", Env: "HOOK_EVENTS_AUTH_HEADER", Help: "header carrying the Okta event hook's shared secret"})
	s.String(&v.EventsAuthSecret, S{FormerFlag: "events-auth-secret", Env: "HOOK_EVENTS_AUTH_SECRET", Secret: true,
		Help: "the event hook's whole expected header value, its own (not the password hook's); without it " + eventhook.EventsPath + " is not served"})
	s.String(&v.CanaryUser, S{Flag: "mfa-canary-user", Env: "HOOK_MFA_CANARY_USER",
		Help: "an MFA-enforced Entra account on which a wrong password checks that Entra checks passwords before MFA (the premise of -policy-mfa)"})
	s.String(&v.CanaryPassword, S{FormerFlag: "mfa-canary-password", Env: "HOOK_MFA_CANARY_PASSWORD", Secret: true,
		Help: "a deliberately wrong password for the canary, the same every time"})
	s.Duration(&v.CanaryInterval, S{Flag: "mfa-canary-interval", Env: "HOOK_MFA_CANARY_INTERVAL",
		Help: "how often the canary is checked (each check is one failed sign-in on it; at most half the lockout threshold minus one a day)"})
	s.String(&v.O365AppID, S{Flag: "o365-app-id", Env: "OKTA_O365_APP_ID",
		Help: "Okta app id (0oa…) of the Office 365 app: assigning a user to it starts the user's migration (event hook on " + eventhook.EventsPath + ")"})
	s.String(&v.EventsBatch, S{Flag: "events-batch", Env: "OKTA_EVENTS_BATCH", Help: "batch label of the migrations that app assignments start"})
	s.Duration(&v.EventsDeadlineAfter, S{Flag: "events-deadline-after", Env: "OKTA_EVENTS_DEADLINE_AFTER", Default: "the workflow's, 60 days",
		Help: "their deadline, after the assignment"})
	s.String(&v.EventsPolicy, S{Flag: "events-policy", Env: "OKTA_EVENTS_POLICY", Help: "their deadline policy: none, expire-password, reset-password or deactivate"})
}

// declarePolicyCheck declares the Okta password policy check.
func declarePolicyCheck(s *settings.Set, v *Values) {
	type S = settings.Setting
	s.String(&v.OktaOrgURL, S{Flag: "okta-org-url", Env: "OKTA_ORG_URL",
		Help: "with OKTA_API_TOKEN, the hook reads the Okta password policy and flags verified passwords below it, which the migration then expires (empty: no policy check)"})
	s.String(&v.OktaAPIToken, S{Env: "OKTA_API_TOKEN", Secret: true,
		Help: "an Okta API token that can read policies (a read-only administrator's is enough)"})
	s.String(&v.PolicyGroups, S{Flag: "password-policy-groups", Env: "HOOK_PASSWORD_POLICY_GROUPS",
		Help: "Okta group ids (comma-separated) every migrated user is in, for password policies scoped to them"})
	s.Duration(&v.PolicyRefresh, S{Flag: "password-policy-refresh", Env: "HOOK_PASSWORD_POLICY_REFRESH",
		Help: "how often the password policy is read again (in the background)"})
}
