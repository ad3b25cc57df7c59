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
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/temporalconn"
	"entra2okta/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stderr); err != nil {
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
	entra             entra.Config
	hook              hook.Config
	shutdownTimeout   time.Duration
	events            *hook.EventConfig // Okta event hook, nil when off; Client is set by run

	// temporal is the resolved connection; temporalAddress and
	// temporalNamespace are its address and namespace.
	temporal temporalconn.Config
}

// parseConfig reads flags from args, each defaulting to its environment
// variable in getenv, and validates the result.
func parseConfig(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	// Every secret may come from a file named by NAME_FILE.
	getenv, secretErr := secretenv.Getenv(getenv, secretenv.Names()...)
	fs := flag.NewFlagSet("hookserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	str := func(name, key, def, usage string) *string {
		return fs.String(name, env(key, def), usage+" ("+key+")")
	}
	var (
		listen     = str("listen", "HOOK_LISTEN_ADDR", ":8080", "listen address")
		admin      = str("admin-addr", "HOOK_ADMIN_ADDR", "127.0.0.1:9091", "listen address of /metrics and /readyz, plain HTTP (keep it on loopback or a monitoring network; off: none)")
		authHeader = str("auth-header", "HOOK_AUTH_HEADER", "Authorization", "header carrying Okta's shared secret")
		// Not defaulted from the environment like the others: -h prints
		// defaults, and must not print the secret.
		authSecret  = fs.String("auth-secret", "", "the header's whole expected value, required; prefer the environment variable (HOOK_AUTH_SECRET or HOOK_AUTH_SECRET_FILE)")
		budget      = str("budget", "HOOK_BUDGET", "2.5s", "deadline for answering Okta (Okta waits 3 s)")
		tlsCert     = str("tls-cert", "HOOK_TLS_CERT", "", "TLS certificate file (PEM); Okta only calls https URLs")
		tlsKey      = str("tls-key", "HOOK_TLS_KEY", "", "TLS key file (PEM)")
		tAddr       = str("temporal-address", "TEMPORAL_ADDRESS", "", "Temporal frontend host:port (default: the TEMPORAL_PROFILE's, else localhost:7233)")
		tNS         = str("temporal-namespace", "TEMPORAL_NAMESPACE", "", "Temporal namespace (default: the TEMPORAL_PROFILE's, else default)")
		tenant      = str("entra-tenant-id", "ENTRA_TENANT_ID", "", "Entra tenant ID or verified domain")
		clientID    = str("entra-client-id", "ENTRA_CLIENT_ID", "", "Entra app registration (public client flows allowed)")
		authority   = str("entra-authority-host", "ENTRA_AUTHORITY_HOST", entra.DefaultAuthorityHost, "Entra authority host")
		logLevel    = str("log-level", "LOG_LEVEL", "info", "debug, info, warn or error")
		policyMFA   = str("policy-mfa", "HOOK_POLICY_MFA", "true", "MFA required/enrollment/external challenge (AADSTS50076/50079/50074/50072/50158) counts as verified")
		policyExp   = str("policy-expired", "HOOK_POLICY_EXPIRED", "false", "an expired password (AADSTS50055/50144) counts as verified")
		policyCA    = str("policy-ca", "HOOK_POLICY_CA", "false", "blocked by conditional access (AADSTS53003) counts as verified")
		lockout     = str("lockout-threshold", "HOOK_LOCKOUT_THRESHOLD", "10", "the tenant's smart lockout threshold (10 in Azure public clouds, 3 in US Government clouds) and no more than Okta's password policy lockout")
		userTries   = str("user-attempts", "HOOK_USER_ATTEMPTS", "0", "checks per username that Entra may count as failures in any span of the user window (0: 5, or the daily number when lower)")
		userDaily   = str("user-daily-attempts", "HOOK_USER_DAILY_ATTEMPTS", "0", "checks per username that Entra may count as failures in any 24 h until a verified sign-in (0: half the lockout threshold); must stay below the threshold")
		userWindow  = str("user-window", "HOOK_USER_WINDOW", "15m", "per-username sliding window and cool-down")
		ipTries     = str("ip-attempts", "HOOK_IP_ATTEMPTS", "50", "checks per source address reaching Entra per address window (-1: off)")
		ipWindow    = str("ip-window", "HOOK_IP_WINDOW", "15m", "per-address window")
		ipTrusted   = str("ip-trusted", "HOOK_IP_TRUSTED", "", "comma-separated CIDR ranges exempt from the per-address budget (an office NAT, VPN or secure web gateway)")
		globalFails = str("global-failures", "HOOK_GLOBAL_FAILURES", "500", "checks that may fail at Entra across all users per global window before the circuit breaker opens (-1: off)")
		globalWin   = str("global-window", "HOOK_GLOBAL_WINDOW", "1m", "tenant-wide sliding window")
		breakerCool = str("breaker-cooldown", "HOOK_BREAKER_COOLDOWN", "1m", "how long the circuit breaker stays open")
		negTTL      = str("negative-ttl", "HOOK_NEGATIVE_TTL", "5m", "how long a rejected username+password is answered from memory")
		maxConc     = str("max-concurrent", "HOOK_MAX_CONCURRENT", "1024", "checks in flight against Entra; beyond it requests are answered UNVERIFIED at once")
		oIssuer     = str("oauth-issuer", "HOOK_OAUTH_ISSUER", "", "also require an Okta OAuth 2.0 access token from this issuer, e.g. https://{org}/oauth2/default")
		oAudience   = str("oauth-audience", "HOOK_OAUTH_AUDIENCE", "api://default", "expected token audience")
		oClient     = str("oauth-client-id", "HOOK_OAUTH_CLIENT_ID", "", "expected token cid")
		oScope      = str("oauth-scope", "HOOK_OAUTH_SCOPE", "", "scope the token must carry (optional)")
		oJWKS       = str("oauth-jwks-url", "HOOK_OAUTH_JWKS_URL", "", "signing keys (default issuer + /v1/keys)")
		shutdownStr = str("shutdown-timeout", "HOOK_SHUTDOWN_TIMEOUT", "15s", "how long shutdown waits for requests and pending signals")
		evHeader    = str("events-auth-header", "HOOK_EVENTS_AUTH_HEADER", "Authorization", "header carrying the Okta event hook's shared secret")
		// Not defaulted from the environment either (see -auth-secret).
		evSecret   = fs.String("events-auth-secret", "", "the event hook's whole expected header value, its own (not the password hook's); without it "+hook.EventsPath+" is not served; prefer the environment variable (HOOK_EVENTS_AUTH_SECRET or HOOK_EVENTS_AUTH_SECRET_FILE)")
		canaryUser = str("mfa-canary-user", "HOOK_MFA_CANARY_USER", "", "an MFA-enforced Entra account on which a wrong password checks that Entra checks passwords before MFA (the premise of -policy-mfa)")
		// Not defaulted from the environment: -h must not print it.
		canaryPw       = fs.String("mfa-canary-password", "", "a deliberately wrong password for the canary, the same every time; prefer the environment variable (HOOK_MFA_CANARY_PASSWORD or HOOK_MFA_CANARY_PASSWORD_FILE)")
		canaryInterval = str("mfa-canary-interval", "HOOK_MFA_CANARY_INTERVAL", "1h", "how often the canary is checked (each check is one failed sign-in on it; at most half the lockout threshold minus one a day)")
		o365App        = str("o365-app-id", "OKTA_O365_APP_ID", "", "Okta app id (0oa…) of the Office 365 app: assigning a user to it starts the user's migration (event hook on "+hook.EventsPath+")")
		evBatch        = str("events-batch", "OKTA_EVENTS_BATCH", hook.DefaultEventsBatch, "batch label of the migrations that app assignments start")
		evAfter        = str("events-deadline-after", "OKTA_EVENTS_DEADLINE_AFTER", "", "their deadline, after the assignment (default: the workflow's, 60 days)")
		evPolicy       = str("events-policy", "OKTA_EVENTS_POLICY", "none", "their deadline policy: none, expire-password, reset-password or deactivate")
	)
	if err := fs.Parse(args); err != nil {
		return config{}, err
	}
	if *authSecret == "" {
		*authSecret = getenv("HOOK_AUTH_SECRET")
	}
	if *evSecret == "" {
		*evSecret = getenv("HOOK_EVENTS_AUTH_SECRET")
	}
	if *canaryPw == "" {
		*canaryPw = getenv("HOOK_MFA_CANARY_PASSWORD")
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	var errs []error
	if secretErr != nil {
		errs = append(errs, secretErr)
	}
	dur := func(name, v string) time.Duration {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("-%s: %q is not a positive duration", name, v))
		}
		return d
	}
	boolean := func(name, v string) bool {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %q is not a boolean", name, v))
		}
		return b
	}
	integer := func(name, v string) int {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("-%s: %q is not an integer", name, v))
		}
		return n
	}
	c := config{
		listen:            *listen,
		admin:             strings.TrimSpace(*admin),
		tlsCert:           *tlsCert,
		tlsKey:            *tlsKey,
		temporalAddress:   *tAddr,
		temporalNamespace: *tNS,
		shutdownTimeout:   dur("shutdown-timeout", *shutdownStr),
		entra: entra.Config{
			AuthorityHost: *authority,
			TenantID:      *tenant,
			ClientID:      *clientID,
			Policy: entra.Policy{
				MFAVerified:               boolean("policy-mfa", *policyMFA),
				PasswordExpiredVerified:   boolean("policy-expired", *policyExp),
				ConditionalAccessVerified: boolean("policy-ca", *policyCA),
			},
		},
		hook: hook.Config{
			AuthHeader:    *authHeader,
			AuthSecret:    *authSecret,
			Budget:        dur("budget", *budget),
			MaxConcurrent: integer("max-concurrent", *maxConc),
			Shield: hook.ShieldConfig{
				LockoutThreshold:  integer("lockout-threshold", *lockout),
				UserAttempts:      integer("user-attempts", *userTries),
				UserDailyAttempts: integer("user-daily-attempts", *userDaily),
				UserWindow:        dur("user-window", *userWindow),
				IPAttempts:        integer("ip-attempts", *ipTries),
				IPWindow:          dur("ip-window", *ipWindow),
				NegativeTTL:       dur("negative-ttl", *negTTL),
				GlobalFailures:    integer("global-failures", *globalFails),
				GlobalWindow:      dur("global-window", *globalWin),
				BreakerCooldown:   dur("breaker-cooldown", *breakerCool),
			},
		},
	}
	if err := c.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("-log-level: %q is not a level", *logLevel))
	}
	if conn, err := temporalconn.Load(getenv, temporalconn.Overrides{Address: *tAddr, Namespace: *tNS}); err != nil {
		errs = append(errs, err)
	} else {
		c.temporal, c.temporalAddress, c.temporalNamespace = conn, conn.Address(), conn.Namespace()
	}
	c.hook.MFACheck = hook.MFACheckConfig{PolicyMFA: c.entra.Policy.MFAVerified, Username: strings.TrimSpace(*canaryUser), Password: *canaryPw}
	if d := dur("mfa-canary-interval", *canaryInterval); d > 0 && d < time.Minute {
		errs = append(errs, fmt.Errorf("-mfa-canary-interval %v: at least 1m", d))
	} else {
		c.hook.MFACheck.Interval = d
	}
	if mc := c.hook.MFACheck; (mc.Username == "") != (mc.Password == "") {
		errs = append(errs, errors.New("HOOK_MFA_CANARY_USER and HOOK_MFA_CANARY_PASSWORD go together"))
	} else if mc.Password != strings.TrimSpace(mc.Password) {
		errs = append(errs, errors.New("HOOK_MFA_CANARY_PASSWORD: no leading or trailing spaces (ROPC cannot check such a password)"))
	}
	if c.hook.AuthSecret == "" {
		errs = append(errs, errors.New("HOOK_AUTH_SECRET (or -auth-secret) is required: Okta's calls must be authenticated"))
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
	for _, r := range strings.Split(*ipTrusted, ",") {
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
	if *oIssuer != "" {
		c.hook.OAuth = &hook.OAuthConfig{Issuer: *oIssuer, Audience: *oAudience, ClientID: *oClient, Scope: *oScope, JWKSURL: *oJWKS}
	}
	ev := hook.EventConfig{AppID: strings.TrimSpace(*o365App), Batch: *evBatch, Policy: workflows.DeadlinePolicy(*evPolicy),
		AuthHeader: *evHeader, AuthSecret: *evSecret}
	if *evAfter != "" {
		ev.DeadlineAfter = dur("events-deadline-after", *evAfter)
	}
	if !ev.Policy.Valid() {
		errs = append(errs, fmt.Errorf("-events-policy %q: not a deadline policy", *evPolicy))
	}
	// The event hook has a secret of its own: whoever holds the password
	// hook's must not be able to forge events, nor the other way round.
	switch {
	case ev.AuthSecret == "" && ev.AppID != "":
		errs = append(errs, errors.New("OKTA_O365_APP_ID is set but HOOK_EVENTS_AUTH_SECRET (or -events-auth-secret) is not: the event hook needs a secret of its own"))
	case ev.AuthSecret != "" && ev.AuthSecret == c.hook.AuthSecret:
		errs = append(errs, errors.New("HOOK_EVENTS_AUTH_SECRET must differ from HOOK_AUTH_SECRET: the event hook and the password import hook have secrets of their own"))
	case ev.AuthSecret != "":
		c.events = &ev
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

	verifier, err := entra.NewVerifier(cfg.entra)
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
		"mfa_canary_interval", cfg.hook.MFACheck.Interval.String())
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
	logger.Warn("run one replica: the attempt budgets and the circuit breaker live in this process's memory; a second replica doubles every bound, and a restart resets them",
		"lockout_threshold", cfg.hook.Shield.LockoutThreshold)
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
