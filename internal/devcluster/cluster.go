// Package devcluster starts entra2okta's production topology on one machine,
// for the end-to-end tests and the bench: a private PostgreSQL cluster
// (devpostgres), the Temporal server on it (devtemporal.StartSQL), fakeokta and fakeentra over loopback TLS,
// two worker processes and two hook server processes (the real binaries,
// built with go build), each hook replica on its own TLS listener behind an
// in-process round-robin proxy whose URL fakeokta calls as the password
// import inline hook: an HTTPS load balancer (HTTPProxy, per request; the
// default) or a TLS-passthrough TCP proxy (Proxy, per connection). It can kill and restart any part, and keeps every
// process's output for the tests' secret checks. Close leaves nothing
// running.
package devcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/devpostgres"
	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/pwimport"
)

// HookStoreDB is the database of the hook replicas' shared budgets
// (HOOK_STORE), created on the cluster's PostgreSQL.
const HookStoreDB = "hookstore"

// Proxy modes (Options.ProxyMode).
const (
	// ProxyHTTP terminates TLS and balances each request (HTTPProxy).
	ProxyHTTP = "http"
	// ProxyTCP passes TLS through and balances each connection (Proxy).
	ProxyTCP = "tcp"
)

// DefaultProxyMode is the proxy Start puts in front of the hook replicas
// when Options.ProxyMode is "": per request, as docker-compose.yml's
// hookproxy balances (hookserver's compose tests compare the two).
const DefaultProxyMode = ProxyHTTP

// hookProxy is the proxy in front of the hook replicas.
type hookProxy interface {
	Addr() string
	Close() error
}

// Tenant is what the binaries need to know of the seeded Entra tenant: the
// worker's Graph reader app and the hook's public client (ROPC).
type Tenant = devstack.Tenant

// Options configure Start.
type Options struct {
	// DB is the PostgreSQL cluster to use; nil: Start starts one and Close
	// stops it.
	DB *devpostgres.Cluster
	// Workers and Hooks are the numbers of worker and hook server processes
	// (0: 2 each).
	Workers, Hooks int
	// Seed fills the emulators (required) and describes the tenant.
	Seed func(o *fakeokta.Server, e *fakeentra.Server) (Tenant, error)
	// Okta and Entra are the emulators' options; Start sets Okta.HookRootCAs
	// and, when nil, the loggers.
	Okta  fakeokta.Options
	Entra fakeentra.Options
	// OktaHandler, when set, wraps fakeokta's handler (the bench counts
	// calls with it).
	OktaHandler func(http.Handler) http.Handler
	// WorkerEnv and HookEnv are added to the processes' environments.
	WorkerEnv, HookEnv []string
	// LogLevel of the processes (LOG_LEVEL; "" is "info").
	LogLevel string
	// Output receives every process's output and the Temporal server's; nil
	// discards it (Logs still returns it).
	Output io.Writer
	// Logger is for the cluster's own lines and the SDK client; nil
	// discards them.
	Logger *slog.Logger
	// ProxyMode is ProxyHTTP or ProxyTCP ("": DefaultProxyMode).
	ProxyMode string
	// BinDir holds the worker and hookserver binaries (Build); "" builds
	// them into a temporary directory.
	BinDir string
}

// Cluster is a running topology.
type Cluster struct {
	opts    Options
	logger  *slog.Logger
	dir     string
	closers []func() error

	db       *devpostgres.Cluster
	temporal Temporal
	tempLogs *sink
	tc       client.Client

	// Emulators are fakeokta and fakeentra; their accessors (CA, Okta,
	// OktaURL, Tenant, ...) are the cluster's.
	*devstack.Emulators

	workers []*process
	hooks   []*process
	proxy   hookProxy
	traffic func() []int64
}

// Start starts the topology: PostgreSQL, Temporal, the emulators, the hook
// replicas and their proxy (registered in fakeokta), then the workers.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Seed == nil {
		return nil, errors.New("devcluster: Options.Seed is required")
	}
	if opts.Workers == 0 {
		opts.Workers = 2
	}
	if opts.Hooks == 0 {
		opts.Hooks = 2
	}
	switch opts.ProxyMode {
	case "":
		opts.ProxyMode = DefaultProxyMode
	case ProxyHTTP, ProxyTCP:
	default:
		return nil, fmt.Errorf("devcluster: proxy mode %q: %s or %s", opts.ProxyMode, ProxyHTTP, ProxyTCP)
	}
	if opts.LogLevel == "" {
		opts.LogLevel = "info"
	}
	c := &Cluster{opts: opts, logger: opts.Logger}
	if c.logger == nil {
		c.logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			_ = c.Close()
		}
	}()
	if c.dir, err = os.MkdirTemp("", "devcluster-"); err != nil {
		return nil, err
	}
	c.onClose(func() error { return os.RemoveAll(c.dir) })

	binDir := opts.BinDir
	if binDir == "" {
		binDir = filepath.Join(c.dir, "bin")
		c.logger.Info("building the worker and the hook server")
		if err := Build(ctx, binDir); err != nil {
			return nil, err
		}
	}
	for _, b := range []string{"worker", "hookserver"} {
		if !fileExists(filepath.Join(binDir, b)) {
			return nil, fmt.Errorf("devcluster: no %s binary in %s", b, binDir)
		}
	}

	c.db = opts.DB
	if c.db == nil {
		c.logger.Info("starting PostgreSQL")
		if c.db, err = devpostgres.Start(ctx, devpostgres.Options{}); err != nil {
			return nil, err
		}
		c.onClose(c.db.Stop)
	}
	if err := c.db.CreateDatabase(ctx, HookStoreDB); err != nil {
		return nil, err
	}

	c.logger.Info("starting Temporal")
	c.tempLogs = &sink{out: opts.Output}
	hostPort, err := freeAddr()
	if err != nil {
		return nil, err
	}
	if c.temporal, err = startTemporal(ctx, c.db, hostPort, c.tempLogs, c.logger.With("component", "temporal")); err != nil {
		return nil, err
	}
	c.onClose(c.temporal.Stop)
	// A lazy client of our own survives restarts of the server.
	if c.tc, err = client.NewLazyClient(client.Options{HostPort: c.temporal.HostPort(), Namespace: c.temporal.Namespace(),
		Logger: tlog.NewStructuredLogger(c.logger.With("component", "client"))}); err != nil {
		return nil, err
	}
	c.onClose(func() error { c.tc.Close(); return nil })

	if err := c.startEmulators(); err != nil {
		return nil, err
	}
	if err := c.startHooks(ctx, binDir); err != nil {
		return nil, err
	}
	// Registered first, so that a worker failing to start does not leave the
	// ones started before it running.
	c.onClose(func() error { return stopAll(c.workers) })
	for i := range opts.Workers {
		p := &process{name: "worker-" + strconv.Itoa(i), bin: filepath.Join(binDir, "worker"), logs: &sink{out: opts.Output},
			env: append(c.baseEnv(),
				"OKTA_ORG_URL="+c.OktaURL(), "OKTA_API_TOKEN="+c.OktaAPIToken(),
				"ENTRA_CLIENT_ID="+c.Tenant().GraphClientID, "ENTRA_CLIENT_SECRET="+c.Tenant().GraphClientSecret,
				"GRAPH_BASE_URL="+c.EntraURL(), "METRICS_ADDR=off")}
		p.env = append(p.env, opts.WorkerEnv...)
		c.workers = append(c.workers, p)
		if err := p.start(); err != nil {
			return nil, err
		}
	}
	c.logger.Info("topology up", "temporal", c.temporal.HostPort(), "hook", c.HookURL(), "workers", len(c.workers), "hooks", len(c.hooks))
	return c, nil
}

// baseEnv is the environment every binary shares.
func (c *Cluster) baseEnv() []string {
	return append(os.Environ(), "TEMPORAL_ADDRESS="+c.temporal.HostPort(), "TEMPORAL_NAMESPACE="+c.temporal.Namespace(),
		"ENTRA_TENANT_ID="+c.Tenant().TenantID, "ENTRA_AUTHORITY_HOST="+c.EntraURL(), "SSL_CERT_FILE="+c.CAFile(),
		"LOG_LEVEL="+c.opts.LogLevel)
}

// startEmulators serves fakeentra and fakeokta on a new CA and seeds them
// (Options.Seed).
func (c *Cluster) startEmulators() (err error) {
	c.Emulators, err = devstack.StartEmulators(devstack.EmulatorOptions{Seed: c.opts.Seed, Okta: c.opts.Okta,
		Entra: c.opts.Entra, OktaHandler: c.opts.OktaHandler, Dir: c.dir, Logger: c.logger})
	if err != nil {
		return err
	}
	c.onClose(func() error { c.Emulators.Close(); return nil })
	return nil
}

// startHooks starts the hook replicas, each on a TLS listener of its own,
// waits until each answers /healthz, and registers the proxy in fakeokta.
func (c *Cluster) startHooks(ctx context.Context, binDir string) error {
	cert, key := filepath.Join(c.dir, "hook-cert.pem"), filepath.Join(c.dir, "hook-key.pem")
	if err := c.CA().WriteServerCert(cert, key); err != nil {
		return err
	}
	secret := "Basic " + randomHex(24)
	var addrs []string
	for i := range c.opts.Hooks {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		addrs = append(addrs, addr)
		p := &process{name: "hook-" + strconv.Itoa(i), bin: filepath.Join(binDir, "hookserver"), logs: &sink{out: c.opts.Output},
			env: append(c.baseEnv(), "HOOK_LISTEN_ADDR="+addr, "HOOK_ADMIN_ADDR=off", "HOOK_AUTH_SECRET="+secret,
				"HOOK_TLS_CERT="+cert, "HOOK_TLS_KEY="+key, "ENTRA_CLIENT_ID="+c.Tenant().PublicClientID,
				"HOOK_STORE="+c.db.DSN(HookStoreDB), "HOOK_SHUTDOWN_TIMEOUT=5s")}
		p.env = append(p.env, c.opts.HookEnv...)
		c.hooks = append(c.hooks, p)
	}
	c.onClose(func() error { return stopAll(c.hooks) })
	for i := range c.hooks {
		if err := c.StartHook(ctx, i); err != nil {
			return err
		}
	}
	plog := c.logger.With("component", "proxy")
	if c.opts.ProxyMode == ProxyTCP {
		p, err := NewProxy(addrs, plog)
		if err != nil {
			return err
		}
		c.proxy, c.traffic = p, p.Conns
	} else {
		p, err := NewHTTPProxy(addrs, c.CA().ServerTLSConfig(), c.CA().CertPool(), plog)
		if err != nil {
			return err
		}
		c.proxy, c.traffic = p, p.Requests
	}
	c.onClose(c.proxy.Close)
	_, err := c.Okta().SetPasswordImportHook(c.HookURL(), "Authorization", secret)
	return err
}

// StartHook starts hook replica i (again) and waits up to 30 s until it
// answers /healthz.
func (c *Cluster) StartHook(ctx context.Context, i int) error {
	p := c.hooks[i]
	if err := p.start(); err != nil {
		return err
	}
	addr := ""
	for _, e := range p.env {
		if v, ok := strings.CutPrefix(e, "HOOK_LISTEN_ADDR="); ok {
			addr = v
		}
	}
	hc := c.CA().HTTPClient(2 * time.Second)
	defer hc.CloseIdleConnections()
	end := time.Now().Add(30 * time.Second)
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://"+addr+"/healthz", nil)
		if err != nil {
			return err
		}
		resp, err := hc.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(end) || ctx.Err() != nil {
			return fmt.Errorf("devcluster: %s not healthy within 30 s (see its log)", p.name)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// KillHook SIGKILLs hook replica i.
func (c *Cluster) KillHook(i int) error { return c.hooks[i].kill() }

// StartWorker starts worker i (again).
func (c *Cluster) StartWorker(i int) error { return c.workers[i].start() }

// KillWorker SIGKILLs worker i.
func (c *Cluster) KillWorker(i int) error { return c.workers[i].kill() }

// StopWorkers stops every worker gracefully (SIGTERM; SIGKILL after 20 s).
func (c *Cluster) StopWorkers() error { return stopAll(c.workers) }

// WorkerPIDs returns the running workers' process ids (0: stopped).
func (c *Cluster) WorkerPIDs() []int {
	out := make([]int, len(c.workers))
	for i, w := range c.workers {
		out[i] = w.pid()
	}
	return out
}

// HookPIDs returns the running hook replicas' process ids (0: stopped).
func (c *Cluster) HookPIDs() []int {
	out := make([]int, len(c.hooks))
	for i, h := range c.hooks {
		out[i] = h.pid()
	}
	return out
}

// KillTemporal stops the Temporal server abruptly.
func (c *Cluster) KillTemporal() error { return c.temporal.Kill() }

// RestartTemporal starts the killed or stopped Temporal server again.
func (c *Cluster) RestartTemporal(ctx context.Context) error { return c.temporal.Restart(ctx) }

// HaltDB stops PostgreSQL ("fast" or "immediate", as pg_ctl's modes).
func (c *Cluster) HaltDB(ctx context.Context, mode string) error { return c.db.Halt(ctx, mode) }

// RestartDB starts the halted PostgreSQL again.
func (c *Cluster) RestartDB(ctx context.Context) error { return c.db.Restart(ctx) }

// Client is a Temporal client of the topology's namespace that survives
// restarts of the server. Closed by Close.
func (c *Cluster) Client() client.Client { return c.tc }

// Namespace is the Temporal namespace.
func (c *Cluster) Namespace() string { return c.temporal.Namespace() }

// Temporal is the Temporal server.
func (c *Cluster) Temporal() Temporal { return c.temporal }

// DB is the PostgreSQL cluster.
func (c *Cluster) DB() *devpostgres.Cluster { return c.db }

// HookURL is the inline hook's URL, the proxy's.
func (c *Cluster) HookURL() string { return "https://" + c.proxy.Addr() + pwimport.PasswordImportPath }

// HookTraffic returns what the proxy gave each hook replica: requests
// (ProxyHTTP) or connections (ProxyTCP).
func (c *Cluster) HookTraffic() []int64 { return c.traffic() }

// HookLogs and WorkerLogs return the output of replica or worker i.
func (c *Cluster) HookLogs(i int) string   { return c.hooks[i].logs.String() }
func (c *Cluster) WorkerLogs(i int) string { return c.workers[i].logs.String() }

// Logs returns everything captured: every process's output, the Temporal
// server's and PostgreSQL's server log.
func (c *Cluster) Logs() string {
	var b strings.Builder
	for _, p := range append(append([]*process{}, c.workers...), c.hooks...) {
		b.WriteString(p.logs.String())
	}
	b.WriteString(c.tempLogs.String())
	if pg, err := os.ReadFile(c.db.LogFile()); err == nil {
		b.Write(pg)
	}
	return b.String()
}

func (c *Cluster) onClose(f func() error) { c.closers = append(c.closers, f) }

// Close stops everything Start started, last started first, and reports
// what did not stop (a process group that left a member behind, among
// others). Safe to call twice.
func (c *Cluster) Close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		if err := c.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	c.closers = nil
	return errors.Join(errs...)
}

func stopAll(ps []*process) error {
	var errs []error
	for _, p := range ps {
		errs = append(errs, p.stop())
	}
	return errors.Join(errs...)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("devcluster: free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
