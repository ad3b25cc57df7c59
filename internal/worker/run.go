package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"entra2okta/activities"
	"entra2okta/internal/graph"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/temporalconn"
)

// Run validates cfg, builds the Okta and Graph adapters, dials Temporal,
// serves /metrics and runs the workers until ctx is done (see Serve). This
// package is the only one that imports internal/graph (and so msgraph-sdk-go).
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration: %w", err)
	}
	logger := cfg.Logger
	if logger == nil {
		level, _ := ParseLevel(cfg.LogLevel) // validated
		logger = slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	}
	conn := temporalconn.Plain(cfg.TemporalAddress, cfg.TemporalNamespace)
	if cfg.Temporal != nil {
		conn = *cfg.Temporal
	}
	// Serve, the rate checks and the search attributes use the namespace
	// and address in use.
	cfg.TemporalAddress, cfg.TemporalNamespace = conn.Address(), conn.Namespace()
	logger.Info("worker starting", "config", cfg, "temporal", conn)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	stopMetrics, err := serveMetrics(cfg.MetricsAddr, reg, logger)
	if err != nil {
		return err
	}
	defer stopMetrics()

	// The rate tuner learns this token's limits from Okta's answers.
	var tuner *rateTuner
	var observeRates func(oktaclient.RateObservation)
	if cfg.OktaRateTarget > 0 {
		tuner = newRateTuner(cfg)
		observeRates = tuner.Observe
	}
	oktaClient, err := oktaclient.New(ctx, oktaclient.Config{OrgURL: cfg.OktaOrgURL, APIToken: cfg.OktaAPIToken, OAuth: cfg.OktaOAuth(),
		HTTPClient: cfg.HTTPClient, RequestTimeout: 20 * time.Second, Logger: logger.With("service", "okta"),
		RateObserver: observeRates, WaitForWindow: true})
	if err != nil {
		return fmt.Errorf("okta client: %w", err)
	}
	graphClient, err := graph.New(graph.Config{BaseURL: cfg.GraphBaseURL, AuthorityHost: cfg.EntraAuthorityHost,
		TenantID: cfg.EntraTenantID, ClientID: cfg.EntraClientID, ClientSecret: cfg.EntraClientSecret,
		HTTPClient: cfg.HTTPClient, Logger: logger.With("service", "graph")})
	if err != nil {
		return fmt.Errorf("graph client: %w", err)
	}

	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize)
	c, err := conn.Dial(ctx, 30*time.Second, client.Options{
		Logger:         tlog.NewStructuredLogger(logger),
		MetricsHandler: NewMetricsHandler(reg, logger),
	})
	if err != nil {
		return err
	}
	defer c.Close()
	// Once the workers poll, warn if the rates in force are not the
	// configured ones (see checkRates).
	checkCtx, stopCheck := context.WithCancel(ctx)
	checked := make(chan struct{})
	go func() { defer close(checked); checkRates(checkCtx, c, cfg, logger, rateCheckDelay) }()
	defer func() { stopCheck(); <-checked }()
	if tuner != nil {
		tuneCtx, stopTune := context.WithCancel(ctx)
		tuned := make(chan struct{})
		go func() { defer close(tuned); tuner.run(tuneCtx, c, cfg.TemporalNamespace, logger) }()
		defer func() { stopTune(); <-tuned }()
	}
	return Serve(ctx, c, &activities.Activities{Okta: oktaClient, Entra: graphClient}, cfg, logger)
}

// serveMetrics serves reg on addr's /metrics until the returned stop is
// called; addr "" or "off" serves nothing. It listens before returning, so a
// taken port fails the start-up.
func serveMetrics(addr string, reg *prometheus.Registry, logger *slog.Logger) (stop func(), err error) {
	if addr == "" || strings.EqualFold(addr, "off") {
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics listener: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error("metrics server", "err", err)
		}
	}()
	logger.Info("serving metrics", "addr", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
	}, nil
}
