package hookserver

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/okta/oktapolicy"
	"entra2okta/internal/redact"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/temporalconn"
	"entra2okta/workflows"
)

// Config is everything Run needs, after flags and environment; ParseConfig
// builds and validates it.
type Config struct {
	Listen          string // Okta's calls and /healthz
	Admin           string // admin listener (/metrics, /readyz), "off" for none
	LogLevel        slog.Level
	TLSCert, TLSKey string // PEM files; both empty serves plain HTTP
	// TemporalAddress and TemporalNamespace are Temporal's resolved
	// connection's address and namespace.
	TemporalAddress, TemporalNamespace string
	Entra                              ropc.Config
	Hook                               pwimport.Config
	ShutdownTimeout                    time.Duration
	Events                             *eventhook.EventConfig // Okta event hook, nil when off; Client is set by Run
	Okta                               *oktapolicy.Config     // the password policy's reader, nil when off
	Store                              string                 // HOOK_STORE: PostgreSQL URL of the shared shield, "" for memory (secret)
	// Temporal is the resolved connection.
	Temporal temporalconn.Config
}

// ParseConfig reads the settings (flag > environment in getenv > default,
// declared in Declare) and validates the result, reporting every problem at
// once. Help and usage errors go to stderr; -h returns flag.ErrHelp and
// -version settings.ErrVersion.
func ParseConfig(args []string, getenv func(string) string, stderr io.Writer) (Config, error) {
	// Every secret may come from a file named by NAME_FILE.
	getenv, secretErr := secretenv.Getenv(getenv, secretenv.Names()...)
	v := Defaults()
	set := Declare(&v).WithVersion()
	set.FlagSet().SetOutput(stderr)
	if err := set.Parse(args, getenv, true); err != nil {
		return Config{}, errors.Join(secretErr, err)
	}
	errs := []error{secretErr}
	errs = append(errs, checkDurations(v)...)
	c := baseConfig(v)
	if err := c.LogLevel.UnmarshalText([]byte(v.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %q is not a level", v.LogLevel))
	}
	if conn, err := temporalconn.Load(getenv, temporalconn.Overrides{Address: v.TemporalAddress, Namespace: v.TemporalNamespace}); err != nil {
		errs = append(errs, err)
	} else {
		c.Temporal, c.TemporalAddress, c.TemporalNamespace = conn, conn.Address(), conn.Namespace()
	}
	errs = append(errs, c.setMFACheck(v)...)
	errs = append(errs, c.check()...)
	errs = append(errs, c.setIPTrusted(v.IPTrusted)...)
	if v.OAuthIssuer != "" {
		c.Hook.OAuth = &hook.OAuthConfig{Issuer: v.OAuthIssuer, Audience: v.OAuthAudience, ClientID: v.OAuthClientID, Scope: v.OAuthScope, JWKSURL: v.JWKSURL}
	}
	errs = append(errs, c.setEvents(v)...)
	errs = append(errs, c.setPasswordPolicy(v)...)
	return c, errors.Join(errs...)
}

// checkDurations reports the durations that must be positive and are not.
func checkDurations(v Values) []error {
	var errs []error
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"budget", v.Budget}, {"shutdown-timeout", v.ShutdownTimeout}, {"user-window", v.UserWindow}, {"ip-window", v.IPWindow},
		{"negative-ttl", v.NegativeTTL}, {"global-window", v.GlobalWindow}, {"breaker-cooldown", v.BreakerCooldown},
		{"mfa-canary-interval", v.CanaryInterval}} {
		if d.d <= 0 {
			errs = append(errs, fmt.Errorf("-%s: %v is not a positive duration", d.name, d.d))
		}
	}
	if v.EventsDeadlineAfter < 0 {
		errs = append(errs, fmt.Errorf("-events-deadline-after: %v is negative", v.EventsDeadlineAfter))
	}
	return errs
}

// baseConfig copies the values that need no parsing into a Config.
func baseConfig(v Values) Config {
	return Config{
		Listen:            v.Listen,
		Admin:             strings.TrimSpace(v.Admin),
		TLSCert:           v.TLSCert,
		TLSKey:            v.TLSKey,
		TemporalAddress:   v.TemporalAddress,
		TemporalNamespace: v.TemporalNamespace,
		ShutdownTimeout:   v.ShutdownTimeout,
		Store:             strings.TrimSpace(v.Store),
		Entra: ropc.Config{
			AuthorityHost: v.AuthorityHost,
			TenantID:      v.TenantID,
			ClientID:      v.ClientID,
			Policy: entra.Policy{
				MFAVerified:               v.PolicyMFA,
				PasswordExpiredVerified:   v.PolicyExpired,
				ConditionalAccessVerified: v.PolicyCA,
			},
		},
		Hook: pwimport.Config{
			AuthHeader:    v.AuthHeader,
			AuthSecret:    v.AuthSecret,
			Budget:        v.Budget,
			MaxConcurrent: v.MaxConcurrent,
			Shield: pwimport.ShieldConfig{
				LockoutThreshold:  v.LockoutThreshold,
				UserAttempts:      v.UserAttempts,
				UserDailyAttempts: v.UserDailyAttempts,
				UserWindow:        v.UserWindow,
				IPAttempts:        v.IPAttempts,
				IPWindow:          v.IPWindow,
				NegativeTTL:       v.NegativeTTL,
				GlobalFailures:    v.GlobalFailures,
				GlobalWindow:      v.GlobalWindow,
				BreakerCooldown:   v.BreakerCooldown,
			},
		},
	}
}

// setMFACheck configures the MFA-order canary.
func (c *Config) setMFACheck(v Values) []error {
	var errs []error
	c.Hook.MFACheck = pwimport.MFACheckConfig{PolicyMFA: c.Entra.Policy.MFAVerified, Username: strings.TrimSpace(v.CanaryUser), Password: redact.New(v.CanaryPassword)}
	if d := v.CanaryInterval; d > 0 && d < time.Minute {
		errs = append(errs, fmt.Errorf("-mfa-canary-interval %v: at least 1m", d))
	} else {
		c.Hook.MFACheck.Interval = d
	}
	if mc := c.Hook.MFACheck; (mc.Username == "") != mc.Password.Empty() {
		errs = append(errs, errors.New("HOOK_MFA_CANARY_USER and HOOK_MFA_CANARY_PASSWORD go together"))
	} else if pw := mc.Password.Reveal(); pw != strings.TrimSpace(pw) {
		errs = append(errs, errors.New("HOOK_MFA_CANARY_PASSWORD: no leading or trailing spaces (ROPC cannot check such a password)"))
	}
	return errs
}

// check reports what is missing or inconsistent among the secrets, the
// listeners and the shield's bounds.
func (c *Config) check() []error {
	var errs []error
	if c.Hook.AuthSecret == "" {
		errs = append(errs, errors.New("HOOK_AUTH_SECRET (or HOOK_AUTH_SECRET_FILE) is required: Okta's calls must be authenticated"))
	}
	if c.Entra.TenantID == "" || c.Entra.ClientID == "" {
		errs = append(errs, errors.New("ENTRA_TENANT_ID and ENTRA_CLIENT_ID are required"))
	}
	if c.Admin != "off" {
		if _, _, err := net.SplitHostPort(c.Admin); err != nil {
			errs = append(errs, fmt.Errorf("-admin-addr %q: not host:port (or off)", c.Admin))
		} else if c.Admin == c.Listen {
			errs = append(errs, fmt.Errorf("-admin-addr %q: must differ from -listen: metrics and readiness are not for Okta's side", c.Admin))
		}
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("HOOK_TLS_CERT and HOOK_TLS_KEY go together"))
	}
	if c.Hook.Budget >= 3*time.Second {
		errs = append(errs, fmt.Errorf("-budget %v: Okta stops waiting after 3 s and retries; use less", c.Hook.Budget))
	}
	if c.Hook.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("-max-concurrent %d: must be positive", c.Hook.MaxConcurrent))
	}
	if sh := c.Hook.Shield; sh.LockoutThreshold < 2 || sh.UserAttempts < 0 || sh.UserDailyAttempts < 0 {
		errs = append(errs, fmt.Errorf("-lockout-threshold %d, -user-attempts %d, -user-daily-attempts %d: the threshold must be at least 2 and the attempts not negative",
			sh.LockoutThreshold, sh.UserAttempts, sh.UserDailyAttempts))
	} else if err := sh.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("-user-attempts, -user-daily-attempts, -lockout-threshold: %w", err))
	}
	return errs
}

// setIPTrusted parses the comma-separated CIDR ranges exempt from the
// per-address budget.
func (c *Config) setIPTrusted(list string) []error {
	var errs []error
	for _, r := range strings.Split(list, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		p, err := netip.ParsePrefix(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("-ip-trusted: %q is not a CIDR range", r))
			continue
		}
		c.Hook.Shield.IPTrusted = append(c.Hook.Shield.IPTrusted, p.Masked())
	}
	return errs
}

// setEvents configures the Okta event hook, on when it has a secret.
func (c *Config) setEvents(v Values) []error {
	var errs []error
	ev := eventhook.EventConfig{AppID: strings.TrimSpace(v.O365AppID), Batch: v.EventsBatch, Policy: workflows.DeadlinePolicy(v.EventsPolicy),
		AuthHeader: v.EventsAuthHeader, AuthSecret: v.EventsAuthSecret, DeadlineAfter: v.EventsDeadlineAfter}
	if !ev.Policy.Valid() {
		errs = append(errs, fmt.Errorf("-events-policy %q: not a deadline policy", v.EventsPolicy))
	}
	// The event hook has a secret of its own: whoever holds the password
	// hook's must not be able to forge events, nor the other way round.
	switch {
	case ev.AuthSecret == "" && ev.AppID != "":
		errs = append(errs, errors.New("OKTA_O365_APP_ID is set but HOOK_EVENTS_AUTH_SECRET (or HOOK_EVENTS_AUTH_SECRET_FILE) is not: the event hook needs a secret of its own"))
	case ev.AuthSecret != "" && ev.AuthSecret == c.Hook.AuthSecret:
		errs = append(errs, errors.New("HOOK_EVENTS_AUTH_SECRET must differ from HOOK_AUTH_SECRET: the event hook and the password import hook have secrets of their own"))
	case ev.AuthSecret != "":
		c.Events = &ev
	}
	return errs
}

// setPasswordPolicy configures the Okta password policy check, on when the
// Okta org URL and API token are set.
func (c *Config) setPasswordPolicy(v Values) []error {
	var errs []error
	switch {
	case (v.OktaOrgURL == "") != (v.OktaAPIToken == ""):
		errs = append(errs, errors.New("OKTA_ORG_URL and OKTA_API_TOKEN go together (the password policy check)"))
	case v.OktaOrgURL != "":
		c.Okta = &oktapolicy.Config{OrgURL: v.OktaOrgURL, APIToken: v.OktaAPIToken}
	}
	if v.PolicyRefresh < time.Minute {
		errs = append(errs, fmt.Errorf("-password-policy-refresh %v: at least 1m", v.PolicyRefresh))
	}
	c.Hook.Policy.Refresh = v.PolicyRefresh
	for _, g := range strings.Split(v.PolicyGroups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			c.Hook.Policy.Groups = append(c.Hook.Policy.Groups, g)
		}
	}
	return errs
}
