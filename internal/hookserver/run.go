package hookserver

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
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookstore"
	"entra2okta/internal/okta/oktapolicy"
	"entra2okta/internal/settings"
)

// Main is the hookserver binary, as worker.Main is the worker's: it runs
// ParseAndRun and returns the process's exit code. -h prints the help to
// stderr (0); -version prints "hookserver <version>" to stdout (0); a bad
// setting or a failed run is logged with slog's default logger (1).
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	err := ParseAndRun(ctx, args, getenv, stderr)
	switch {
	case errors.Is(err, settings.ErrVersion):
		fmt.Fprintln(stdout, "hookserver", buildinfo.Version())
	case err != nil:
		slog.Error("hookserver exited", "err", err)
		return 1
	}
	return 0
}

// ParseAndRun parses args and the environment (ParseConfig), then runs the
// server (Run) until ctx is done. -h prints the help to stderr and returns
// nil; -version returns settings.ErrVersion.
func ParseAndRun(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	cfg, err := ParseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	return Run(ctx, cfg, stderr)
}

// Run starts the hook server, logging JSON to stderr, and blocks until ctx is
// done, then shuts it down gracefully within cfg.ShutdownTimeout.
func Run(ctx context.Context, cfg Config, stderr io.Writer) error {
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	verifier, err := newVerifier(cfg.Entra, cfg.Hook.Budget, logger)
	if err != nil {
		return err
	}
	// Lazy: the server starts and answers Okta while Temporal is down; only
	// the admin listener's /readyz and the signal metrics show it.
	tc, err := cfg.Temporal.NewLazyClient(client.Options{Logger: tlog.NewStructuredLogger(logger)})
	if err != nil {
		return err
	}
	defer tc.Close()
	tlsConf, err := loadTLS(cfg, logger)
	if err != nil {
		return err
	}
	// Identity binding: the user's migration says which
	// Entra object the Okta user came from; Temporal down answers undecided.
	cfg.Hook.Binding = pwimport.BindingConfig{Source: tc, TenantID: cfg.Entra.TenantID}
	if cfg.Hook.Policy.Source, err = newPolicyReader(ctx, cfg.Okta, logger); err != nil {
		return err
	}
	closeStore, err := openStore(ctx, &cfg, logger)
	if err != nil {
		return err
	}
	defer closeStore()
	var events *eventhook.EventConfig
	if cfg.Events != nil {
		ev := *cfg.Events
		ev.Client = tc
		events = &ev
	}
	srv, err := NewServer(ServerConfig{
		Hook: cfg.Hook,
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
	return serve(ctx, srv, cfg, tlsConf != nil, logger)
}

// newVerifier builds the Entra ID password verifier (MSAL's ROPC flow) with
// an HTTP client sized for the hook's load.
func newVerifier(ec ropc.Config, budget time.Duration, logger *slog.Logger) (pwimport.Verifier, error) {
	ec.Logger = logger
	// Go's default transport keeps 2 idle connections per host: at hundreds
	// of sign-ins per second most Entra calls would then pay a new TLS
	// handshake. Deadlines come from each check's context (HOOK_BUDGET).
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = 1024
	tr.MaxIdleConnsPerHost = 1024
	tr.TLSHandshakeTimeout = budget
	ec.HTTPClient = &http.Client{Transport: tr}
	return ropc.NewVerifier(ec)
}

// newPolicyReader returns the Okta password policy reader, or nil (the check
// off) when oc is nil.
func newPolicyReader(ctx context.Context, oc *oktapolicy.Config, logger *slog.Logger) (pwimport.PasswordPolicies, error) {
	if oc == nil {
		logger.Warn("password policy check off: OKTA_ORG_URL and OKTA_API_TOKEN are not set, so a verified legacy password below the Okta password policy is stored as it is")
		return nil, nil
	}
	c := *oc
	c.Logger = logger
	oktaClient, err := oktapolicy.New(c)
	if err != nil {
		return nil, fmt.Errorf("okta: %w", err)
	}
	return oktaClient, nil
}

// loadTLS returns the TLS configuration of the public listener, nil for plain
// HTTP.
func loadTLS(cfg Config, logger *slog.Logger) (*tls.Config, error) {
	if cfg.TLSCert == "" {
		logger.Warn("serving plain HTTP: Okta only calls https URLs, so terminate TLS in front of this server")
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("tls: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// openStore opens the shared shield store when HOOK_STORE is set and puts it
// in cfg.Hook.Store; the returned function closes it.
func openStore(ctx context.Context, cfg *Config, logger *slog.Logger) (func(), error) {
	if cfg.Store == "" {
		return func() {}, nil
	}
	// Replicas share the shield: open it before serving, so that a wrong
	// URL or an unreachable database stops the start (its errors never
	// hold the URL or its password).
	octx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	st, err := hookstore.Open(octx, cfg.Store, hookstore.Options{Shield: cfg.Hook.Shield, Logger: logger})
	if err != nil {
		return nil, fmt.Errorf("hook store (HOOK_STORE): %w", err)
	}
	cfg.Hook.Store = st
	return st.Close, nil
}

// serve listens on cfg.Listen (and cfg.Admin unless off) and serves until ctx
// is done or a listener fails, then shuts srv down.
func serve(ctx context.Context, srv *Server, cfg Config, tlsOn bool, logger *slog.Logger) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	served := make(chan error, 2)
	listeners := 1
	if cfg.Admin != "off" {
		aln, err := listenAdmin(cfg.Admin, logger)
		if err != nil {
			_ = ln.Close()
			return err
		}
		listeners++
		go func() { served <- srv.ServeAdmin(aln) }()
	} else {
		logger.Info("no admin listener (HOOK_ADMIN_ADDR=off): no /metrics or /readyz")
	}
	logStart(cfg, ln.Addr().String(), tlsOn, logger)
	go func() { served <- srv.Serve(ln) }()
	var serveErr error
	select {
	case serveErr = <-served:
		listeners--
	case <-ctx.Done():
	}
	logger.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err = errors.Join(serveErr, srv.Shutdown(sctx))
	for range listeners {
		if serr := <-served; serr != nil {
			err = errors.Join(err, serr)
		}
	}
	return err
}

// listenAdmin opens the admin listener, warning when it is not on loopback.
func listenAdmin(addr string, logger *slog.Logger) (net.Listener, error) {
	aln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("admin listener: %w", err)
	}
	logger.Info("admin listening", "addr", aln.Addr().String(), "paths", "/metrics /readyz /healthz")
	if ip, perr := netip.ParseAddrPort(aln.Addr().String()); perr != nil || !ip.Addr().IsLoopback() {
		logger.Warn("the admin listener is not on loopback: its metrics (outcomes by reason) tell a password guesser which guess was right; expose it to the monitoring network only",
			"addr", aln.Addr().String())
	}
	return aln, nil
}

// logStart logs what the server serves and warns about risky settings.
func logStart(cfg Config, addr string, tlsOn bool, logger *slog.Logger) {
	logger.Info("hookserver listening", "addr", addr, "path", pwimport.PasswordImportPath, "tls", tlsOn,
		"temporal", cfg.TemporalAddress, "namespace", cfg.TemporalNamespace, "temporal_tls", cfg.Temporal.TLS(), "budget", cfg.Hook.Budget.String(),
		"auth_header", cfg.Hook.AuthHeader, "oauth", cfg.Hook.OAuth != nil,
		"policy_mfa", cfg.Entra.Policy.MFAVerified, "policy_expired", cfg.Entra.Policy.PasswordExpiredVerified,
		"policy_ca", cfg.Entra.Policy.ConditionalAccessVerified, "mfa_canary", cfg.Hook.MFACheck.Username,
		"mfa_canary_interval", cfg.Hook.MFACheck.Interval.String(), "password_policy_check", cfg.Okta != nil)
	if ev := cfg.Events; ev != nil {
		logger.Info("okta event hook", "path", eventhook.EventsPath, "recent", eventhook.RecentEventsPath, "o365_app_id", ev.AppID,
			"auth_header", ev.AuthHeader, "batch", ev.Batch, "policy", string(ev.Policy), "deadline_after", ev.DeadlineAfter.String())
		if ev.AppID == "" {
			logger.Warn("OKTA_O365_APP_ID is not set: Office 365 assignment events are ignored (user.import.password events are still relayed)")
		}
		if len(strings.TrimSpace(ev.AuthSecret)) < 16 {
			logger.Warn("the event hook's auth secret is shorter than 16 characters")
		}
	} else {
		logger.Warn("okta event hook off: HOOK_EVENTS_AUTH_SECRET is not set, so " + eventhook.EventsPath + " is not served")
	}
	if cfg.Hook.Store != nil {
		logger.Info("shared hook store: replicas using this HOOK_STORE share the attempt budgets, the circuit breaker and the negative cache",
			"lockout_threshold", cfg.Hook.Shield.LockoutThreshold)
	} else {
		logger.Warn("run one replica: the attempt budgets and the circuit breaker live in this process's memory; a second replica doubles every bound, and a restart resets them (HOOK_STORE shares them)",
			"lockout_threshold", cfg.Hook.Shield.LockoutThreshold)
	}
	if len(strings.TrimSpace(cfg.Hook.AuthSecret)) < 16 {
		logger.Warn("the auth secret is shorter than 16 characters")
	}
}
