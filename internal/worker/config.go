// Package worker wires the migration's Temporal workers: configuration from
// flags and the environment, the three workers (workflows, Okta activities,
// Graph activities), search-attribute registration, Prometheus metrics and
// graceful shutdown. worker/main.go is a thin main over Main; tests and the demo
// call Run or Serve in-process, so they run the binary's own wiring.
package worker

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/settings"
	"entra2okta/internal/temporalconn"
)

// Defaults of the settings that have one.
const (
	DefaultTemporalAddress   = "localhost:7233"
	DefaultTemporalNamespace = "default"
	DefaultAuthorityHost     = "https://login.microsoftonline.com"
	DefaultGraphBaseURL      = "https://graph.microsoft.com"
	// DefaultOktaRPS paces the Okta calls other than creates (lookups,
	// updates, activations, System Log): 600 a minute, the smallest of the
	// buckets they fall in (https://developer.okta.com/docs/reference/rate-limits/).
	DefaultOktaRPS = 10.0
	// DefaultOktaCreateRPS paces the creates alone (their own task queue):
	// 97 % of Okta's 600-a-minute create bucket, leaving the server-side
	// limiter's burst room under the limit. Like DefaultOktaRPS it is an
	// upper bound: an API token may use only its share of the bucket (50 %
	// by default), and the worker lowers the queue's rate to what Okta's
	// rate-limit headers say the token may use (OKTA_RATE_TARGET).
	DefaultOktaCreateRPS = 9.7
	// DefaultGraphRPS stays well under Graph's per-app throttling.
	DefaultGraphRPS = 20.0
	// DefaultOktaConcurrency leaves headroom under Okta's 75 concurrent
	// requests for the org's other API clients
	// (https://developer.okta.com/docs/reference/rl-best-practices/).
	DefaultOktaConcurrency = 50
	// MaxOktaConcurrency is Okta's concurrency limit, which we stay under.
	MaxOktaConcurrency = 75
	// DefaultGraphConcurrency bounds concurrent Graph calls per worker.
	DefaultGraphConcurrency = 20
	DefaultMetricsAddr      = ":9464"
	// DefaultWorkflowCacheSize bounds the workflows the worker keeps in
	// memory between tasks (the SDK's default is 10,000). Users waiting for
	// their first sign-in wake once a day, so evicting them costs a short
	// replay, while keeping a whole batch cached costs tens of KB per user.
	DefaultWorkflowCacheSize = 2000
	DefaultShutdownTimeout   = 30 * time.Second
)

// Config is the worker's configuration. Flags override the environment,
// which overrides the defaults.
type Config struct {
	TemporalAddress   string // TEMPORAL_ADDRESS
	TemporalNamespace string // TEMPORAL_NAMESPACE
	// Temporal is the connection ParseConfig resolved from Temporal's
	// environment configuration (profile file, TEMPORAL_* variables, flags:
	// TLS, client certificate, API key). nil: TemporalAddress and
	// TemporalNamespace, plaintext (tests, the demo's dev server).
	Temporal *temporalconn.Config

	OktaOrgURL string // OKTA_ORG_URL
	// Okta credentials: an SSWS API token, or (recommended by Okta) an
	// OAuth 2.0 service app with a private key. Exactly one is set.
	OktaAPIToken     string // OKTA_API_TOKEN (secret)
	OktaClientID     string // OKTA_CLIENT_ID
	OktaPrivateKey   string // OKTA_PRIVATE_KEY (secret): PEM or JWK
	OktaPrivateKeyID string // OKTA_PRIVATE_KEY_ID: the key's kid
	// OktaScopes are the Okta API scopes the service app asks for, separated
	// by spaces or commas; "" means oktaclient.DefaultScopes().
	OktaScopes string // OKTA_SCOPES

	EntraTenantID      string // ENTRA_TENANT_ID
	EntraClientID      string // ENTRA_CLIENT_ID
	EntraClientSecret  string // ENTRA_CLIENT_SECRET (secret)
	EntraAuthorityHost string // ENTRA_AUTHORITY_HOST
	GraphBaseURL       string // GRAPH_BASE_URL

	// OktaRPS and GraphRPS are the task queues' TaskQueueActivitiesPerSecond:
	// enforced by the server across every worker. A rate set by starter
	// throttle wins over them until starter throttle --reset; workers asking
	// for different rates get the one of the latest poll (see checkRates).
	OktaRPS float64 // OKTA_RPS
	// OktaCreateRPS is the create queue's TaskQueueActivitiesPerSecond: the
	// writes that fill Okta's create bucket, paced on their own.
	OktaCreateRPS float64 // OKTA_CREATE_RPS
	GraphRPS      float64 // GRAPH_RPS
	// OktaRateTarget is the fraction of the per-minute limit Okta's
	// X-Rate-Limit-Limit reports for this token that the Okta queues aim at
	// (DefaultOktaRateTarget, all of it): the worker lowers their rates
	// (never above OktaRPS and OktaCreateRPS) to it, unless starter throttle
	// pinned one (see ratetune.go). 0 turns the tuning off.
	OktaRateTarget float64 // OKTA_RATE_TARGET
	// OktaConcurrency is the Okta worker's MaxConcurrentActivityExecutionSize,
	// under Okta's 75 concurrent requests.
	OktaConcurrency  int // OKTA_CONCURRENCY
	GraphConcurrency int // GRAPH_CONCURRENCY

	// WorkflowCacheSize is the process-wide sticky workflow cache size; Run
	// sets it before starting the workers (Serve does not: it is global).
	WorkflowCacheSize int // WORKFLOW_CACHE_SIZE

	// MetricsAddr serves Prometheus /metrics; "" or "off" disables it.
	MetricsAddr string // METRICS_ADDR
	LogLevel    string // LOG_LEVEL: debug, info, warn, error

	// RegisterSearchAttributes adds missing search attributes at start-up.
	RegisterSearchAttributes bool // REGISTER_SEARCH_ATTRIBUTES
	ShutdownTimeout          time.Duration

	// HTTPClient, when set, carries every Okta and Graph call (the demo and
	// the end-to-end tests use it to trust the emulators' CA). Not settable
	// from flags or the environment.
	HTTPClient *http.Client
	// Logger, when set, replaces the logger built from LogLevel.
	Logger *slog.Logger
}

// DefaultConfig returns the configuration before the environment and flags.
func DefaultConfig() Config {
	return Config{
		TemporalAddress:          DefaultTemporalAddress,
		TemporalNamespace:        DefaultTemporalNamespace,
		EntraAuthorityHost:       DefaultAuthorityHost,
		GraphBaseURL:             DefaultGraphBaseURL,
		OktaRPS:                  DefaultOktaRPS,
		OktaCreateRPS:            DefaultOktaCreateRPS,
		OktaRateTarget:           DefaultOktaRateTarget,
		GraphRPS:                 DefaultGraphRPS,
		OktaConcurrency:          DefaultOktaConcurrency,
		GraphConcurrency:         DefaultGraphConcurrency,
		MetricsAddr:              DefaultMetricsAddr,
		WorkflowCacheSize:        DefaultWorkflowCacheSize,
		LogLevel:                 "info",
		RegisterSearchAttributes: true,
		ShutdownTimeout:          DefaultShutdownTimeout,
	}
}

// ParseConfig builds the configuration from the defaults, the environment
// (read through getenv) and the command-line flags, and validates it.
func ParseConfig(args []string, getenv func(string) string) (Config, error) {
	return parseConfig(args, getenv, nil)
}

// parseConfig is ParseConfig writing -h's help and flag errors' usage to
// output (nil: os.Stderr).
func parseConfig(args []string, getenv func(string) string, output io.Writer) (Config, error) {
	// Every secret may come from a file named by NAME_FILE.
	getenv, secretErr := secretenv.Getenv(getenv, secretenv.Names()...)
	cfg := DefaultConfig()
	// The address and namespace take their defaults from Temporal's
	// environment configuration below, so only the environment and the
	// flags set them here.
	cfg.TemporalAddress, cfg.TemporalNamespace = "", ""
	// -version answers before the rest is validated (settings.ErrVersion).
	set := Settings(&cfg).WithVersion()
	set.FlagSet().SetOutput(output)
	if err := set.Parse(args, getenv, false); err != nil {
		return cfg, errors.Join(secretErr, err)
	}
	if secretErr != nil {
		return cfg, secretErr
	}
	conn, err := temporalconn.Load(getenv, temporalconn.Overrides{Address: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace})
	if err != nil {
		return cfg, err
	}
	cfg.Temporal = &conn
	cfg.TemporalAddress, cfg.TemporalNamespace = conn.Address(), conn.Namespace()
	return cfg, cfg.Validate()
}

// bindFlags applies the environment to cfg and returns the flags that
// override it.
func bindFlags(cfg *Config, getenv func(string) string) (*flag.FlagSet, error) {
	s := Settings(cfg)
	return s.FlagSet(), s.ApplyEnv(getenv)
}

// Settings declares the worker's settings, bound to cfg's fields, whose
// values are the defaults: the worker's flags and environment variables,
// and docs/configuration.md's table of them.
func Settings(cfg *Config) *settings.Set {
	s := settings.New("worker")
	type S = settings.Setting
	s.Temporal(&cfg.TemporalAddress, &cfg.TemporalNamespace, DefaultTemporalAddress, DefaultTemporalNamespace)
	s.String(&cfg.OktaOrgURL, S{Flag: "okta-org-url", Env: "OKTA_ORG_URL", Help: "Okta org URL, e.g. https://example.okta.com"})
	s.String(&cfg.OktaAPIToken, S{FormerFlag: "okta-api-token", Env: "OKTA_API_TOKEN", Secret: true,
		Help: "Okta API token (or an OAuth service app: -okta-client-id and OKTA_PRIVATE_KEY)"})
	s.String(&cfg.OktaClientID, S{Flag: "okta-client-id", Env: "OKTA_CLIENT_ID", Help: "Okta OAuth 2.0 service app's client ID (instead of an API token)"})
	s.String(&cfg.OktaPrivateKey, S{FormerFlag: "okta-private-key", Env: "OKTA_PRIVATE_KEY", Secret: true, Help: "the service app's private key, PEM or JWK"})
	s.String(&cfg.OktaPrivateKeyID, S{Flag: "okta-private-key-id", Env: "OKTA_PRIVATE_KEY_ID", Help: "the key's kid, needed when the app has several keys"})
	s.String(&cfg.OktaScopes, S{Flag: "okta-scopes", Env: "OKTA_SCOPES", Default: strings.Join(oktaclient.DefaultScopes(), " "),
		Help: "Okta API scopes the service app asks for (spaces or commas)"})
	s.EntraTenant(&cfg.EntraTenantID, &cfg.EntraAuthorityHost)
	s.String(&cfg.EntraClientID, S{Flag: "entra-client-id", Env: "ENTRA_CLIENT_ID", Help: "app registration's client id (Graph, client credentials)"})
	s.String(&cfg.EntraClientSecret, S{FormerFlag: "entra-client-secret", Env: "ENTRA_CLIENT_SECRET", Secret: true, Help: "app registration's client secret"})
	s.String(&cfg.GraphBaseURL, S{Flag: "graph-base-url", Env: "GRAPH_BASE_URL", Help: "Microsoft Graph base URL"})
	s.Float(&cfg.OktaRPS, S{Flag: "okta-rps", Env: "OKTA_RPS", Help: "Okta lookups and updates per second across all workers (server-enforced)"})
	s.Float(&cfg.OktaCreateRPS, S{Flag: "okta-create-rps", Env: "OKTA_CREATE_RPS",
		Help: "Okta user creates per second across all workers (server-enforced; Okta's create limit ÷ 60)"})
	s.Float(&cfg.OktaRateTarget, S{Flag: "okta-rate-target", Env: "OKTA_RATE_TARGET",
		Help: "fraction of the per-minute limit Okta's headers report for this API token that the Okta queues aim at, under OKTA_RPS and OKTA_CREATE_RPS (0 turns the tuning off)"})
	s.Float(&cfg.GraphRPS, S{Flag: "graph-rps", Env: "GRAPH_RPS", Help: "Graph calls per second across all workers (server-enforced)"})
	s.Int(&cfg.OktaConcurrency, S{Flag: "okta-concurrency", Env: "OKTA_CONCURRENCY", Help: "concurrent Okta calls per worker, under Okta's 75"})
	s.Int(&cfg.GraphConcurrency, S{Flag: "graph-concurrency", Env: "GRAPH_CONCURRENCY", Help: "concurrent Graph calls per worker"})
	s.Int(&cfg.WorkflowCacheSize, S{Flag: "workflow-cache-size", Env: "WORKFLOW_CACHE_SIZE", Help: "workflows kept in memory between tasks"})
	s.String(&cfg.MetricsAddr, S{Flag: "metrics-addr", Env: "METRICS_ADDR", Help: `Prometheus /metrics listen address ("off" disables)`})
	s.LogLevel(&cfg.LogLevel)
	s.Bool(&cfg.RegisterSearchAttributes, S{Flag: "register-search-attributes", Env: "REGISTER_SEARCH_ATTRIBUTES", Help: "add missing search attributes at start-up"})
	s.Duration(&cfg.ShutdownTimeout, S{Flag: "shutdown-timeout", Help: "how long running activities may finish at shutdown"})
	return s
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	required := []struct{ name, value string }{
		{"TEMPORAL_ADDRESS", c.TemporalAddress}, {"TEMPORAL_NAMESPACE", c.TemporalNamespace},
		{"OKTA_ORG_URL", c.OktaOrgURL},
		{"ENTRA_TENANT_ID", c.EntraTenantID}, {"ENTRA_CLIENT_ID", c.EntraClientID}, {"ENTRA_CLIENT_SECRET", c.EntraClientSecret},
		{"ENTRA_AUTHORITY_HOST", c.EntraAuthorityHost}, {"GRAPH_BASE_URL", c.GraphBaseURL},
	}
	for _, r := range required {
		if strings.TrimSpace(r.value) == "" {
			errs = append(errs, fmt.Errorf("%s is required", r.name))
		}
	}
	errs = append(errs, c.validateOktaAuth()...)
	if c.OktaRPS <= 0 || c.OktaCreateRPS <= 0 || c.GraphRPS <= 0 {
		errs = append(errs, errors.New("OKTA_RPS, OKTA_CREATE_RPS and GRAPH_RPS must be positive"))
	}
	if c.OktaRateTarget < 0 || c.OktaRateTarget > 1 {
		errs = append(errs, fmt.Errorf("OKTA_RATE_TARGET must be between 0 (off) and 1, got %v", c.OktaRateTarget))
	}
	if c.OktaConcurrency < 1 || c.OktaConcurrency >= MaxOktaConcurrency {
		errs = append(errs, fmt.Errorf("OKTA_CONCURRENCY must be 1-%d, under Okta's limit of %d concurrent requests", MaxOktaConcurrency-1, MaxOktaConcurrency))
	}
	if c.GraphConcurrency < 1 {
		errs = append(errs, errors.New("GRAPH_CONCURRENCY must be positive"))
	}
	if c.WorkflowCacheSize < 1 {
		errs = append(errs, errors.New("WORKFLOW_CACHE_SIZE must be positive"))
	}
	if _, err := ParseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.ShutdownTimeout <= 0 {
		errs = append(errs, errors.New("the shutdown timeout must be positive"))
	}
	return errors.Join(errs...)
}

// LogValue keeps the secrets out of logs.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("temporalAddress", c.TemporalAddress),
		slog.String("namespace", c.TemporalNamespace),
		slog.String("oktaOrgURL", c.OktaOrgURL),
		slog.String("oktaAuth", c.oktaAuthMode()),
		slog.String("oktaClientID", c.OktaClientID),
		slog.String("oktaPrivateKeyID", c.OktaPrivateKeyID),
		slog.String("oktaScopes", strings.Join(c.OktaOAuth().Scopes, " ")),
		slog.String("entraTenantID", c.EntraTenantID),
		slog.String("entraClientID", c.EntraClientID),
		slog.String("entraAuthorityHost", c.EntraAuthorityHost),
		slog.String("graphBaseURL", c.GraphBaseURL),
		slog.Float64("oktaRPS", c.OktaRPS),
		slog.Float64("oktaCreateRPS", c.OktaCreateRPS),
		slog.Float64("oktaRateTarget", c.OktaRateTarget),
		slog.Float64("graphRPS", c.GraphRPS),
		slog.Int("oktaConcurrency", c.OktaConcurrency),
		slog.Int("graphConcurrency", c.GraphConcurrency),
		slog.Int("workflowCacheSize", c.WorkflowCacheSize),
		slog.String("metricsAddr", c.MetricsAddr),
	)
}

// ParseLevel parses a LOG_LEVEL value.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("LOG_LEVEL %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// OktaOAuth returns the Okta OAuth 2.0 service app settings; the zero value
// when the worker uses an API token.
func (c Config) OktaOAuth() oktaclient.OAuthConfig {
	if c.OktaClientID == "" && c.OktaPrivateKey == "" {
		return oktaclient.OAuthConfig{}
	}
	o := oktaclient.OAuthConfig{ClientID: c.OktaClientID, PrivateKey: c.OktaPrivateKey, KeyID: c.OktaPrivateKeyID,
		Scopes: oktaclient.ParseScopes(c.OktaScopes)}
	if len(o.Scopes) == 0 {
		o.Scopes = oktaclient.DefaultScopes()
	}
	return o
}

func (c Config) oktaAuthMode() string {
	if c.OktaClientID != "" || c.OktaPrivateKey != "" {
		return "oauth-service-app"
	}
	return "api-token"
}

// validateOktaAuth checks that exactly one kind of Okta credential is
// configured. No message holds a secret.
func (c Config) validateOktaAuth() []error {
	oauth := c.OktaClientID != "" || c.OktaPrivateKey != ""
	switch {
	case c.OktaAPIToken != "" && oauth:
		return []error{errors.New("set either OKTA_API_TOKEN or an OAuth service app (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY), not both")}
	case c.OktaAPIToken != "":
		if c.OktaPrivateKeyID != "" || c.OktaScopes != "" {
			return []error{errors.New("OKTA_PRIVATE_KEY_ID and OKTA_SCOPES apply to an OAuth service app, not to OKTA_API_TOKEN")}
		}
		return nil
	case !oauth:
		return []error{errors.New("OKTA_API_TOKEN is required, or an OAuth service app: OKTA_CLIENT_ID and OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE)")}
	}
	var errs []error
	if c.OktaClientID == "" {
		errs = append(errs, errors.New("OKTA_CLIENT_ID is required with OKTA_PRIVATE_KEY"))
	}
	if c.OktaPrivateKey == "" {
		errs = append(errs, errors.New("OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE) is required with OKTA_CLIENT_ID"))
	}
	if len(errs) > 0 {
		return errs
	}
	if err := c.OktaOAuth().Check(); err != nil {
		errs = append(errs, err)
	}
	return errs
}
