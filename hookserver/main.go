// Command hookserver serves Okta's password import inline hook: it checks the
// password a not-yet-migrated user typed at Okta against Entra ID and answers
// VERIFIED or UNVERIFIED, then signals the user's MigrateUser workflow with
// the outcome. Everything but configuration lives in internal/hook.
//
// Configuration comes from flags, each defaulting to an environment variable
// (run -h for the list). HOOK_AUTH_SECRET is required; prefer the variable to
// the flag, which other users can read in the process list. Every secret may
// instead be a file named by NAME_FILE (HOOK_AUTH_SECRET_FILE: Docker
// secrets), and the Temporal connection follows Temporal's environment
// configuration (TEMPORAL_ADDRESS, TEMPORAL_API_KEY, TEMPORAL_TLS_*,
// TEMPORAL_PROFILE), as for the temporal CLI.
package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook"
	"entra2okta/internal/hookconf"
	"entra2okta/internal/hookstore"
	"entra2okta/internal/okta/oktapolicy"
	"entra2okta/internal/redact"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/settings"
	"entra2okta/internal/temporalconn"
	"entra2okta/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, settings.ErrVersion) {
		fmt.Println("hookserver", buildinfo.Version())
		return
	}
	if err != nil {
		slog.Error("hookserver exited", "err", err)
		os.Exit(1)
	}
}

// config is everything run needs, after flags and environment.
type config struct {
	listen            string
	admin             string // admin listener (/metrics, /readyz), "off" for none
	logLevel          slog.Level
	tlsCert, tlsKey   string
	temporalAddress   string
	temporalNamespace string
	entra             ropc.Config
	hook              hook.Config
	shutdownTimeout   time.Duration
	events            *hook.EventConfig  // Okta event hook, nil when off; Client is set by run
	okta              *oktapolicy.Config // the password policy's reader, nil when off
	store             string             // HOOK_STORE: PostgreSQL URL of the shared shield, "" for memory (secret)

	// temporal is the resolved connection; temporalAddress and
	// temporalNamespace are its address and namespace.
	temporal temporalconn.Config
}

// parseConfig reads the settings (flag > environment in getenv > default,
// declared in hookconf) and validates the result.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	// Every secret may come from a file named by NAME_FILE.
	getenv, secretErr := secretenv.Getenv(getenv, secretenv.Names()...)
	v := hookconf.Defaults()
	set := hookconf.Declare(&v).WithVersion()
	set.FlagSet().SetOutput(stderr)
	if err := set.Parse(args, getenv, true); err != nil {
		return config{}, errors.Join(secretErr, err)
	}
	var errs []error
	if secretErr != nil {
		errs = append(errs, secretErr)
	}
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
	c := config{
		listen:            v.Listen,
		admin:             strings.TrimSpace(v.Admin),
		tlsCert:           v.TLSCert,
		tlsKey:            v.TLSKey,
		temporalAddress:   v.TemporalAddress,
		temporalNamespace: v.TemporalNamespace,
		shutdownTimeout:   v.ShutdownTimeout,
		store:             strings.TrimSpace(v.Store),
		entra: ropc.Config{
			AuthorityHost: v.AuthorityHost,
			TenantID:      v.TenantID,
			ClientID:      v.ClientID,
			Policy: entra.Policy{
				MFAVerified:               v.PolicyMFA,
				PasswordExpiredVerified:   v.PolicyExpired,
				ConditionalAccessVerified: v.PolicyCA,
			},
		},
		hook: hook.Config{
			AuthHeader:    v.AuthHeader,
			AuthSecret:    v.AuthSecret,
			Budget:        v.Budget,
			MaxConcurrent: v.MaxConcurrent,
			Shield: hook.ShieldConfig{
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
	if err := c.logLevel.UnmarshalText([]byte(v.LogLevel)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %q is not a level", v.LogLevel))
	}
	if conn, err := temporalconn.Load(getenv, temporalconn.Overrides{Address: v.TemporalAddress, Namespace: v.TemporalNamespace}); err != nil {
		errs = append(errs, err)
	} else {
		c.temporal, c.temporalAddress, c.temporalNamespace = conn, conn.Address(), conn.Namespace()
	}
	c.hook.MFACheck = hook.MFACheckConfig{PolicyMFA: c.entra.Policy.MFAVerified, Username: strings.TrimSpace(v.CanaryUser), Password: redact.New(v.CanaryPassword)}
	if d := v.CanaryInterval; d > 0 && d < time.Minute {
		errs = append(errs, fmt.Errorf("-mfa-canary-interval %v: at least 1m", d))
	} else {
		c.hook.MFACheck.Interval = d
	}
	if mc := c.hook.MFACheck; (mc.Username == "") != mc.Password.Empty() {
		errs = append(errs, errors.New("HOOK_MFA_CANARY_USER and HOOK_MFA_CANARY_PASSWORD go together"))
	} else if pw := mc.Password.Reveal(); pw != strings.TrimSpace(pw) {
		errs = append(errs, errors.New("HOOK_MFA_CANARY_PASSWORD: no leading or trailing spaces (ROPC cannot check such a password)"))
	}
	if c.hook.AuthSecret == "" {
		errs = append(errs, errors.New("HOOK_AUTH_SECRET (or HOOK_AUTH_SECRET_FILE) is required: Okta's calls must be authenticated"))
	}
	if c.entra.TenantID == "" || c.entra.ClientID == "" {
		errs = append(errs, errors.New("ENTRA_TENANT_ID and ENTRA_CLIENT_ID are required"))
	}
	if c.admin != "off" {
		if _, _, err := net.SplitHostPort(c.admin); err != nil {
			errs = append(errs, fmt.Errorf("-admin-addr %q: not host:port (or off)", c.admin))
		} else if c.admin == c.listen {
			errs = append(errs, fmt.Errorf("-admin-addr %q: must differ from -listen: metrics and readiness are not for Okta's side", c.admin))
		}
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		errs = append(errs, errors.New("HOOK_TLS_CERT and HOOK_TLS_KEY go together"))
	}
	if c.hook.Budget >= 3*time.Second {
		errs = append(errs, fmt.Errorf("-budget %v: Okta stops waiting after 3 s and retries; use less", c.hook.Budget))
	}
	if c.hook.MaxConcurrent < 1 {
		errs = append(errs, fmt.Errorf("-max-concurrent %d: must be positive", c.hook.MaxConcurrent))
	}
	if c.hook.Shield.LockoutThreshold < 2 || c.hook.Shield.UserAttempts < 0 || c.hook.Shield.UserDailyAttempts < 0 {
		errs = append(errs, fmt.Errorf("-lockout-threshold %d, -user-attempts %d, -user-daily-attempts %d: the threshold must be at least 2 and the attempts not negative",
			c.hook.Shield.LockoutThreshold, c.hook.Shield.UserAttempts, c.hook.Shield.UserDailyAttempts))
	} else if err := c.hook.Shield.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("-user-attempts, -user-daily-attempts, -lockout-threshold: %w", err))
	}
	for _, r := range strings.Split(v.IPTrusted, ",") {
		if r = strings.TrimSpace(r); r == "" {
			continue
		}
		p, err := netip.ParsePrefix(r)
		if err != nil {
			errs = append(errs, fmt.Errorf("-ip-trusted: %q is not a CIDR range", r))
			continue
		}
		c.hook.Shield.IPTrusted = append(c.hook.Shield.IPTrusted, p.Masked())
	}
	if v.OAuthIssuer != "" {
		c.hook.OAuth = &hook.OAuthConfig{Issuer: v.OAuthIssuer, Audience: v.OAuthAudience, ClientID: v.OAuthClientID, Scope: v.OAuthScope, JWKSURL: v.JWKSURL}
	}
	ev := hook.EventConfig{AppID: strings.TrimSpace(v.O365AppID), Batch: v.EventsBatch, Policy: workflows.DeadlinePolicy(v.EventsPolicy),
		AuthHeader: v.EventsAuthHeader, AuthSecret: v.EventsAuthSecret, DeadlineAfter: v.EventsDeadlineAfter}
	if !ev.Policy.Valid() {
		errs = append(errs, fmt.Errorf("-events-policy %q: not a deadline policy", v.EventsPolicy))
	}
	// The event hook has a secret of its own: whoever holds the password
	// hook's must not be able to forge events, nor the other way round.
	switch {
	case ev.AuthSecret == "" && ev.AppID != "":
		errs = append(errs, errors.New("OKTA_O365_APP_ID is set but HOOK_EVENTS_AUTH_SECRET (or HOOK_EVENTS_AUTH_SECRET_FILE) is not: the event hook needs a secret of its own"))
	case ev.AuthSecret != "" && ev.AuthSecret == c.hook.AuthSecret:
		errs = append(errs, errors.New("HOOK_EVENTS_AUTH_SECRET must differ from HOOK_AUTH_SECRET: the event hook and the password import hook have secrets of their own"))
	case ev.AuthSecret != "":
		c.events = &ev
	}
	switch {
	case (v.OktaOrgURL == "") != (v.OktaAPIToken == ""):
		errs = append(errs, errors.New("OKTA_ORG_URL and OKTA_API_TOKEN go together (the password policy check)"))
	case v.OktaOrgURL != "":
		c.okta = &oktapolicy.Config{OrgURL: v.OktaOrgURL, APIToken: v.OktaAPIToken}
	}
	if v.PolicyRefresh < time.Minute {
		errs = append(errs, fmt.Errorf("-password-policy-refresh %v: at least 1m", v.PolicyRefresh))
	}
	c.hook.Policy.Refresh = v.PolicyRefresh
	for _, g := range strings.Split(v.PolicyGroups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			c.hook.Policy.Groups = append(c.hook.Policy.Groups, g)
		}
	}
	return c, errors.Join(errs...)
}

// run starts the hook server and blocks until ctx is done, then shuts it
// down gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.logLevel}))
	cfg.entra.Logger = logger
	// Go's default transport keeps 2 idle connections per host: at hundreds
	// of sign-ins per second most Entra calls would then pay a new TLS
	// handshake. Deadlines come from each check's context (HOOK_BUDGET).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 1024
	tr.TLSHandshakeTimeout = cfg.hook.Budget
	cfg.entra.HTTPClient = &http.Client{Transport: tr}

	verifier, err := ropc.NewVerifier(cfg.entra)
	if err != nil {
		return err
	}
	// Lazy: the server starts and answers Okta while Temporal is down; only
	// the admin listener's /readyz and the signal metrics show it.
	tc, err := cfg.temporal.NewLazyClient(client.Options{Logger: tlog.NewStructuredLogger(logger)})
	if err != nil {
		return err
	}
	defer tc.Close()

	var tlsConf *tls.Config
	if cfg.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.tlsCert, cfg.tlsKey)
		if err != nil {
			return fmt.Errorf("tls: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	} else {
		logger.Warn("serving plain HTTP: Okta only calls https URLs, so terminate TLS in front of this server")
	}
	// Identity binding: the user's migration says which
	// Entra object the Okta user came from; Temporal down answers undecided.
	cfg.hook.Binding = hook.BindingConfig{Source: tc, TenantID: cfg.entra.TenantID}
	if cfg.okta != nil {
		oc := *cfg.okta
		oc.Logger = logger
		oktaClient, err := oktapolicy.New(oc)
		if err != nil {
			return fmt.Errorf("okta: %w", err)
		}
		cfg.hook.Policy.Source = oktaClient
	} else {
		logger.Warn("password policy check off: OKTA_ORG_URL and OKTA_API_TOKEN are not set, so a verified legacy password below the Okta password policy is stored as it is")
	}
	if cfg.store != "" {
		// Replicas share the shield: open it before serving, so that a wrong
		// URL or an unreachable database stops the start (its errors never
		// hold the URL or its password).
		octx, cancel := context.WithTimeout(ctx, 30*time.Second)
		st, err := hookstore.Open(octx, cfg.store, hookstore.Options{Shield: cfg.hook.Shield, Logger: logger})
		cancel()
		if err != nil {
			return fmt.Errorf("hook store (HOOK_STORE): %w", err)
		}
		defer st.Close()
		cfg.hook.Store = st
	}
	var events *hook.EventConfig
	if cfg.events != nil {
		ev := *cfg.events
		ev.Client = tc
		events = &ev
	}
	srv, err := hook.NewServer(hook.ServerConfig{
		Hook: cfg.hook,
		TLS:  tlsConf,
		Ready: func(ctx context.Context) error {
			_, err := tc.CheckHealth(ctx, &client.CheckHealthRequest{})
			return err
		},
		Events: events,
	}, verifier, tc, logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	served := make(chan error, 2)
	if cfg.admin != "off" {
		aln, err := net.Listen("tcp", cfg.admin)
		if err != nil {
			_ = ln.Close()
			return fmt.Errorf("admin listener: %w", err)
		}
		logger.Info("admin listening", "addr", aln.Addr().String(), "paths", "/metrics /readyz /healthz")
		if ip, perr := netip.ParseAddrPort(aln.Addr().String()); perr != nil || !ip.Addr().IsLoopback() {
			logger.Warn("the admin listener is not on loopback: its metrics (outcomes by reason) tell a password guesser which guess was right; expose it to the monitoring network only",
				"addr", aln.Addr().String())
		}
		go func() { served <- srv.ServeAdmin(aln) }()
	} else {
		logger.Info("no admin listener (HOOK_ADMIN_ADDR=off): no /metrics or /readyz")
	}
	logger.Info("hookserver listening", "addr", ln.Addr().String(), "path", hook.PasswordImportPath, "tls", tlsConf != nil,
		"temporal", cfg.temporalAddress, "namespace", cfg.temporalNamespace, "temporal_tls", cfg.temporal.TLS(), "budget", cfg.hook.Budget.String(),
		"auth_header", cfg.hook.AuthHeader, "oauth", cfg.hook.OAuth != nil,
		"policy_mfa", cfg.entra.Policy.MFAVerified, "policy_expired", cfg.entra.Policy.PasswordExpiredVerified,
		"policy_ca", cfg.entra.Policy.ConditionalAccessVerified, "mfa_canary", cfg.hook.MFACheck.Username,
		"mfa_canary_interval", cfg.hook.MFACheck.Interval.String(), "password_policy_check", cfg.okta != nil)
	if ev := cfg.events; ev != nil {
		logger.Info("okta event hook", "path", hook.EventsPath, "recent", hook.RecentEventsPath, "o365_app_id", ev.AppID,
			"auth_header", ev.AuthHeader, "batch", ev.Batch, "policy", string(ev.Policy), "deadline_after", ev.DeadlineAfter.String())
		if ev.AppID == "" {
			logger.Warn("OKTA_O365_APP_ID is not set: Office 365 assignment events are ignored (user.import.password events are still relayed)")
		}
		if len(strings.TrimSpace(ev.AuthSecret)) < 16 {
			logger.Warn("the event hook's auth secret is shorter than 16 characters")
		}
	} else {
		logger.Warn("okta event hook off: HOOK_EVENTS_AUTH_SECRET is not set, so " + hook.EventsPath + " is not served")
	}
	if cfg.hook.Store != nil {
		logger.Info("shared hook store: replicas using this HOOK_STORE share the attempt budgets, the circuit breaker and the negative cache",
			"lockout_threshold", cfg.hook.Shield.LockoutThreshold)
	} else {
		logger.Warn("run one replica: the attempt budgets and the circuit breaker live in this process's memory; a second replica doubles every bound, and a restart resets them (HOOK_STORE shares them)",
			"lockout_threshold", cfg.hook.Shield.LockoutThreshold)
	}
	if len(strings.TrimSpace(cfg.hook.AuthSecret)) < 16 {
		logger.Warn("the auth secret is shorter than 16 characters")
	}

	go func() { served <- srv.Serve(ln) }()
	listeners := 1
	if cfg.admin != "off" {
		listeners++
	}
	var serveErr error
	select {
	case serveErr = <-served:
		listeners--
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.shutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.shutdownTimeout)
	defer cancel()
	err = errors.Join(serveErr, srv.Shutdown(sctx))
	for range listeners {
		if serr := <-served; serr != nil {
			err = errors.Join(err, serr)
		}
	}
	return err
}
