// Package preflight checks, before a batch starts, everything a migration
// campaign needs: Temporal (namespace, search attributes, retention), Okta
// (credentials, rate limit, OAuth scopes, the password import inline hook and
// whether Okta reaches it, the event hook, the password and sign-on
// policies), Entra ID (what the Graph app may read, federated domains, the
// verifier app's public client flow) and the hook server's readiness. Each
// check yields one Check line: ok, warn, FAIL (with the fix) or skip.
//
// The package talks to the systems through small interfaces of its own
// (Temporal, OktaAccess, InlineHooks, EventHooks, Policies, Directory,
// PasswordVerifier), with its own types, so that every check is tested with
// fakes and the package imports no SDK; internal/cli adapts the real clients.
package preflight

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"entra2okta/internal/redact"
)

// Status is a check's verdict.
type Status string

// The verdicts. Only StatusFail makes the preflight fail.
const (
	StatusOK   Status = "ok"
	StatusWarn Status = "warn"
	StatusFail Status = "FAIL"
	// StatusSkip: the check did not run (not configured, or it depends on
	// one that failed); the detail says why.
	StatusSkip Status = "skip"
)

// Check is the outcome of one check. Its JSON field names are stable.
type Check struct {
	// Name is "system: what", e.g. "okta: password import hook".
	Name   string `json:"name"`
	Status Status `json:"status"`
	// Detail says what was found.
	Detail string `json:"detail"`
	// Fix says what to do about a warn or a FAIL; "" otherwise.
	Fix string `json:"fix,omitempty"`
}

func ok(name, detail string) Check { return Check{Name: name, Status: StatusOK, Detail: detail} }
func skip(name, detail string) Check {
	return Check{Name: name, Status: StatusSkip, Detail: detail}
}
func warn(name, detail, fix string) Check {
	return Check{Name: name, Status: StatusWarn, Detail: detail, Fix: fix}
}
func failed(name, detail, fix string) Check {
	return Check{Name: name, Status: StatusFail, Detail: detail, Fix: fix}
}

// Failed reports whether any check is a FAIL.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == StatusFail {
			return true
		}
	}
	return false
}

// WriteText writes one aligned line per check: status, name, detail and,
// for a warn or a FAIL, the fix after "fix:".
func WriteText(w io.Writer, checks []Check) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, c := range checks {
		line := c.Detail
		if c.Fix != "" {
			line += " — fix: " + c.Fix
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", c.Status, c.Name, oneLine(line))
	}
	return tw.Flush()
}

// WriteJSON writes the checks as one JSON array.
func WriteJSON(w io.Writer, checks []Check) error {
	if checks == nil {
		checks = []Check{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(checks)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.NewReplacer("\t", " ", "\r", " ", "\n", " ").Replace(s)), " ")
}

// Defaults of Config.
const (
	// DefaultTimeout bounds each group of checks (every call in it).
	DefaultTimeout = 20 * time.Second
	// DefaultRetentionMargin is added to the campaign's deadline (and the
	// spread of the deadlines of a batch's users) to get the
	// shortest acceptable retention: a week to report on and roll back a
	// campaign after its deadline.
	DefaultRetentionMargin = 7 * 24 * time.Hour
	// DefaultDeadlineSpread is how far after the batch's deadline its last
	// user's deadline may fall (the workflows' DefaultDeadlineSpread).
	DefaultDeadlineSpread = 24 * time.Hour
	// DefaultHookLockoutThreshold is the hook server's HOOK_LOCKOUT_THRESHOLD
	// default.
	DefaultHookLockoutThreshold = 10
	// OktaHookTimeout is how long Okta waits for an inline hook's answer
	// before it gives up on the attempt
	// (https://developer.okta.com/docs/concepts/inline-hooks/).
	OktaHookTimeout = 3 * time.Second
	// DefaultHookBudget is the hook server's default answer deadline
	// (HOOK_BUDGET).
	DefaultHookBudget = 2500 * time.Millisecond
)

// Config says what to check and through what. A nil interface skips its
// checks with a line that says what is not configured.
type Config struct {
	// Temporal and Namespace: the namespace the workers and the starter use.
	Temporal  Temporal
	Namespace string
	// SearchAttributes the workers register and the workflows set: name to
	// type ("Keyword", "Datetime", ...).
	SearchAttributes map[string]string
	// Deadline is the campaign's planned deadline, from the start of the
	// batch; RetentionMargin is added to it (default DefaultRetentionMargin).
	Deadline        time.Duration
	RetentionMargin time.Duration
	// DeadlineSpread is how far after the batch's deadline its users'
	// deadlines may fall (default DefaultDeadlineSpread).
	DeadlineSpread time.Duration

	// OktaConfigError, when set, says why no Okta client could be built
	// (missing settings): every Okta check fails with it.
	OktaConfigError string
	// OktaOrgURL is the org's URL, for the sample hook payload's source.
	OktaOrgURL  string
	OktaAccess  OktaAccess
	InlineHooks InlineHooks
	EventHooks  EventHooks
	Policies    Policies
	// Scopes, when the Okta client is an OAuth service app, reports which
	// scopes Okta grants it; nil when an API token is used.
	Scopes ScopeProber
	// RequiredScopes are the scopes the workers request; PreflightScopes
	// those of this command's own reads.
	RequiredScopes, PreflightScopes []string
	// OktaCreateRPS is the workers' planned create rate (OKTA_CREATE_RPS);
	// 0 when unknown.
	OktaCreateRPS float64
	// HookLockoutThreshold is the hook server's HOOK_LOCKOUT_THRESHOLD
	// (default DefaultHookLockoutThreshold).
	HookLockoutThreshold int
	// HookBudget is the hook server's HOOK_BUDGET (default
	// DefaultHookBudget).
	HookBudget time.Duration

	// EntraConfigError, when set, says why no Graph client could be built.
	EntraConfigError string
	Directory        Directory
	// GroupID is a group whose members the Graph app must be able to read
	// ("" skips that check).
	GroupID string
	// Verifier checks CanaryUser's CanaryPassword; nil or no CanaryUser
	// skips the check. The password is never printed.
	Verifier       PasswordVerifier
	CanaryUser     string
	CanaryPassword redact.String

	// HookAdminURL is the hook server's admin listener (http://host:port,
	// HOOK_ADMIN_ADDR); "" skips its check. HTTPClient calls it (default: a
	// client without proxy).
	HookAdminURL string
	HTTPClient   *http.Client
	// Version is this build's version, compared with the hook server's.
	Version string

	// Timeout bounds each group of checks (default DefaultTimeout).
	Timeout time.Duration
	// Secrets are values that must never be printed (tokens, client
	// secrets, keys, passwords): every check's text is scrubbed of them.
	Secrets []string
	// Logger receives a debug line per check group; default discards.
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() {
	if c.DeadlineSpread <= 0 {
		c.DeadlineSpread = DefaultDeadlineSpread
	}
	if c.RetentionMargin <= 0 {
		c.RetentionMargin = DefaultRetentionMargin
	}
	if c.HookLockoutThreshold <= 0 {
		c.HookLockoutThreshold = DefaultHookLockoutThreshold
	}
	if c.HookBudget <= 0 {
		c.HookBudget = DefaultHookBudget
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Transport: &http.Transport{Proxy: nil}}
	}
}

// group is one independent set of checks, run under its own deadline.
type group func(ctx context.Context, c *Config) []Check

// Run runs every check and returns them in a fixed order. Independent
// groups run concurrently, each under Config.Timeout.
func Run(ctx context.Context, cfg Config) []Check {
	cfg.setDefaults()
	groups := []struct {
		name string
		run  group
	}{
		{"temporal", checkTemporal},
		{"okta access", checkOktaAccess},
		{"okta scopes", checkScopes},
		{"okta inline hook", checkInlineHook},
		{"okta event hook", checkEventHook},
		{"okta policies", checkPolicies},
		{"entra", checkEntra},
		{"hook server", checkHookServer},
	}
	results := make([][]Check, len(groups))
	var wg sync.WaitGroup
	for i, g := range groups {
		wg.Add(1)
		go func() {
			defer wg.Done()
			gctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			defer cancel()
			start := time.Now()
			results[i] = g.run(gctx, &cfg)
			cfg.Logger.Debug("preflight group done", "group", g.name, "checks", len(results[i]), "duration", time.Since(start))
		}()
	}
	wg.Wait()
	var out []Check
	for _, r := range results {
		out = append(out, r...)
	}
	return scrub(out, cfg.Secrets)
}

// scrub replaces every secret value in the checks' texts.
func scrub(checks []Check, secrets []string) []Check {
	var pairs []string
	for _, s := range secrets {
		if len(s) >= 4 { // shorter values would redact ordinary words
			pairs = append(pairs, s, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return checks
	}
	r := strings.NewReplacer(pairs...)
	for i := range checks {
		checks[i].Name = r.Replace(checks[i].Name)
		checks[i].Detail = r.Replace(checks[i].Detail)
		checks[i].Fix = r.Replace(checks[i].Fix)
	}
	return checks
}

// errText is an error's text for a check's detail, on one line.
func errText(err error) string { return oneLine(err.Error()) }
