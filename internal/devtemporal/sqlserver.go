package devtemporal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/template"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/types/known/durationpb"

	"entra2okta/internal/devpostgres"
	"entra2okta/internal/procgroup"
)

// What a Temporal cluster on PostgreSQL is made of. docker-compose.yml sets up
// the same (its test compares them).
const (
	// SQLPlugin is the server's and temporal-sql-tool's persistence plugin
	// for PostgreSQL 12 and later.
	SQLPlugin = "postgres12"
	// DatabaseDefault holds the server's default store: histories,
	// executions, task queues, namespaces, cluster metadata.
	DatabaseDefault = "temporal"
	// DatabaseVisibility holds the visibility store: what ListWorkflow and
	// search attributes query.
	DatabaseVisibility = "temporal_visibility"
	// SchemaDefault and SchemaVisibility name the versioned schemas embedded
	// in temporal-sql-tool (its --schema-name) for the two databases.
	SchemaDefault    = "postgresql/v12/temporal"
	SchemaVisibility = "postgresql/v12/visibility"
	// HistoryShards is the test cluster's numHistoryShards. A cluster's shard
	// count is fixed when its databases are first used and cannot change
	// afterwards (https://docs.temporal.io/self-hosted-guide/defaults).
	HistoryShards = 4
)

// SchemaSteps returns, in order, the temporal-sql-tool invocations that
// create both databases and bring them to the schema versions embedded in
// the tool, without the connection flags (endpoint, port, user, password,
// plugin). Each step is idempotent: re-running them on existing databases
// only applies the versions they lack
// (https://github.com/temporalio/temporal/blob/v1.29.1/tools/sql/README.md).
func SchemaSteps() [][]string {
	var steps [][]string
	for _, db := range []struct{ name, schema string }{{DatabaseDefault, SchemaDefault}, {DatabaseVisibility, SchemaVisibility}} {
		steps = append(steps,
			[]string{"--db", db.name, "create"},
			[]string{"--db", db.name, "setup-schema", "-v", "0.0"},
			[]string{"--db", db.name, "update-schema", "--schema-name", db.schema},
		)
	}
	return steps
}

// DynamicConfig is the dynamic configuration StartSQL gives the server, by
// key (https://github.com/temporalio/temporal/blob/v1.29.1/common/dynamicconfig/constants.go).
func DynamicConfig() map[string]any {
	return map[string]any{
		// The product answers operators through workflow updates.
		"frontend.enableUpdateWorkflowExecution":              true,
		"frontend.enableUpdateWorkflowExecutionAsyncAccepted": true,
		// A search attribute added at start is usable at once, as on the
		// CLI's dev server, instead of after the cache's refresh interval.
		"system.forceSearchAttributesCacheRefreshOnRead": true,
		// With that cache bypassed, persistence sees more reads: the CLI's
		// dev server raises these limits for the same reason.
		"frontend.persistenceMaxQPS": 10000,
		"history.persistenceMaxQPS":  45000,
		// Visibility queries of tests and the starter's reports.
		"frontend.namespaceRPS.visibility": 100,
	}
}

// SQLOptions configure StartSQL.
type SQLOptions struct {
	// DB is the PostgreSQL cluster that holds both stores; required.
	DB *devpostgres.Cluster
	// HostPort of the frontend's gRPC listener; "" picks a free port on 127.0.0.1.
	HostPort string
	// Namespace to register and use; "" means "default".
	Namespace string
	// Retention of closed workflows in the namespace; 0 means 24 h.
	Retention time.Duration
	// SearchAttributes are registered on the namespace (visibility on PostgreSQL).
	SearchAttributes temporal.SearchAttributes
	// EnableUI also starts the Web UI server (tools.mod's ui-server) on a
	// free loopback port; see UIURL.
	EnableUI bool
	// LogLevel of the server process ("error" by default).
	LogLevel string
	// Output receives the server's (and UI's) stdout and stderr; nil discards them.
	Output io.Writer
	// Logger is the SDK client's and this package's logger; nil discards.
	Logger *slog.Logger
}

// SQLServer is a Temporal server process (all four services in one process)
// on a PostgreSQL cluster, optionally with the Web UI.
type SQLServer struct {
	opts     SQLOptions
	bin, ui  string // binaries
	dir      string // config directories
	hostPort string
	uiURL    string
	ns       string
	logger   *slog.Logger
	out      *tailWriter
	client   client.Client

	mu      sync.Mutex
	proc    *process // nil when not running
	uiProc  *process
	stopped bool
}

// process is one started binary in its own process group.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed when Wait returned
	err  error         // Wait's result, set before done closes
}

// StartSQL builds the pinned server and temporal-sql-tool if needed, creates
// and migrates the databases on opts.DB, starts the server, waits until its
// frontend serves, and registers the namespace and its search attributes.
// Stop (or Kill) ends it; the databases stay on the cluster.
func StartSQL(ctx context.Context, opts SQLOptions) (_ *SQLServer, err error) {
	if opts.DB == nil {
		return nil, errors.New("devtemporal: StartSQL: SQLOptions.DB is required")
	}
	s := &SQLServer{opts: opts, hostPort: opts.HostPort, ns: opts.Namespace, logger: opts.Logger}
	if s.ns == "" {
		s.ns = "default"
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	out := opts.Output
	if out == nil {
		out = io.Discard
	}
	s.out = &tailWriter{w: out, max: 16 << 10}
	if s.bin, err = ToolPath(ctx, ToolServer); err != nil {
		return nil, err
	}
	sqlTool, err := ToolPath(ctx, ToolSQL)
	if err != nil {
		return nil, err
	}
	if opts.EnableUI {
		if s.ui, err = ToolPath(ctx, ToolUI); err != nil {
			return nil, err
		}
	}
	if err := s.applySchema(ctx, sqlTool); err != nil {
		return nil, err
	}
	if s.dir, err = os.MkdirTemp("", "devtemporal-sql-"); err != nil {
		return nil, fmt.Errorf("devtemporal: temp dir: %w", err)
	}
	defer func() {
		if err != nil {
			_ = s.Stop()
		}
	}()
	if err := s.writeConfig(); err != nil {
		return nil, err
	}
	s.client, err = client.NewLazyClient(client.Options{
		HostPort: s.hostPort, Namespace: s.ns, Logger: tlog.NewStructuredLogger(s.logger),
	})
	if err != nil {
		return nil, fmt.Errorf("devtemporal: client: %w", err)
	}
	if err := s.start(ctx); err != nil {
		return nil, err
	}
	if err := s.registerNamespace(ctx); err != nil {
		return nil, err
	}
	if err := s.waitNamespace(ctx); err != nil {
		return nil, err
	}
	if opts.EnableUI {
		if err := s.startUI(ctx); err != nil {
			return nil, err
		}
	}
	s.logger.Info("devtemporal: server on PostgreSQL ready", "hostPort", s.hostPort, "namespace", s.ns, "db", opts.DB.Addr())
	return s, nil
}

// HostPort is the frontend's gRPC address.
func (s *SQLServer) HostPort() string { return s.hostPort }

// Namespace is the namespace the server registered.
func (s *SQLServer) Namespace() string { return s.ns }

// UIURL is the Web UI's address, "" when the UI is off.
func (s *SQLServer) UIURL() string { return s.uiURL }

// Client returns a client of the namespace. It outlives Kill and Restart
// (it reconnects) and is closed by Stop.
func (s *SQLServer) Client() client.Client { return s.client }

// Stop stops the server (and the UI) gracefully, killing what has not exited
// after 30 s, closes the client and removes the configuration. The databases
// stay on the cluster. Safe to call twice.
func (s *SQLServer) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stopped {
		return nil
	}
	s.stopped = true
	if s.client != nil {
		s.client.Close()
	}
	var errs []error
	for _, p := range []**process{&s.uiProc, &s.proc} {
		if *p != nil {
			errs = append(errs, (*p).stop(30*time.Second))
			*p = nil
		}
	}
	if s.dir != "" {
		errs = append(errs, os.RemoveAll(s.dir))
	}
	return errors.Join(errs...)
}

// Kill ends the server process and its process group with SIGKILL, as a
// crash would: nothing is flushed. The UI keeps running. Restart brings the
// server back.
func (s *SQLServer) Kill() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.proc == nil {
		return nil
	}
	err := s.proc.kill()
	s.proc = nil
	return err
}

// Restart starts the server again (after Kill, or on top of a running one,
// which it stops gracefully first) on the same ports and databases, and
// waits until the namespace serves.
func (s *SQLServer) Restart(ctx context.Context) error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return errors.New("devtemporal: Restart after Stop")
	}
	if s.proc != nil {
		err := s.proc.stop(30 * time.Second)
		s.proc = nil
		if err != nil {
			s.mu.Unlock()
			return err
		}
	}
	s.mu.Unlock()
	if err := s.start(ctx); err != nil {
		return err
	}
	return s.waitNamespace(ctx)
}

// applySchema creates both databases and applies their schemas with
// temporal-sql-tool, as SchemaSteps lists.
func (s *SQLServer) applySchema(ctx context.Context, tool string) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	conn := []string{
		"--endpoint", "127.0.0.1", "--port", strconv.Itoa(s.opts.DB.Port()),
		"--user", s.opts.DB.User(), "--plugin", SQLPlugin,
	}
	for _, step := range SchemaSteps() {
		cmd := exec.CommandContext(ctx, tool, append(append([]string{}, conn...), step...)...)
		// Only what the tool needs: its flags also read SQL_* variables,
		// which must not leak in from the caller's environment.
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.TempDir()}
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.WaitDelay = 5 * time.Second
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("devtemporal: temporal-sql-tool %s: %w: %s", strings.Join(step, " "), err, strings.TrimSpace(out.String()))
		}
	}
	return nil
}

// serverConfig is the server's static configuration: both stores on the
// cluster, all four services in one process on loopback ports, no metrics
// listener, no pprof.
var serverConfig = template.Must(template.New("development.yaml").Parse(`log:
  stdout: true
  level: {{.LogLevel}}
  format: json
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: {{.Shards}}
  datastores:
{{- range .Stores}}
    {{.Name}}:
      sql:
        pluginName: {{$.Plugin}}
        databaseName: {{.Database}}
        connectAddr: "{{$.DBAddr}}"
        connectProtocol: tcp
        user: "{{$.DBUser}}"
        maxConns: {{.MaxConns}}
        maxIdleConns: {{.MaxConns}}
        maxConnLifetime: 1h
{{- end}}
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: "{{.Host}}"
services:
{{- range .Services}}
  {{.Name}}:
    rpc:
      grpcPort: {{.GRPC}}
      membershipPort: {{.Membership}}
      bindOnIP: "{{$.Host}}"
{{- if .HTTP}}
      httpPort: {{.HTTP}}
{{- end}}
{{- end}}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: "{{.HostPort}}"
dcRedirectionPolicy:
  policy: noop
dynamicConfigClient:
  filepath: "{{.DynamicConfigFile}}"
  pollInterval: 10s
`))

var uiConfig = template.Must(template.New("development.yaml").Parse(`temporalGrpcAddress: "{{.HostPort}}"
host: "{{.Host}}"
port: {{.Port}}
enableUi: true
defaultNamespace: "{{.Namespace}}"
notifyOnNewVersion: false
cors:
  allowOrigins:
    - "{{.Origin}}"
`))

type svcPorts struct {
	Name                   string
	GRPC, Membership, HTTP int
}

// writeConfig picks the ports and writes the server's config directory (and
// the UI's), which Restart reuses.
func (s *SQLServer) writeConfig() error {
	if s.hostPort == "" {
		hp, err := freeHostPort()
		if err != nil {
			return err
		}
		s.hostPort = hp
	}
	host, p, err := net.SplitHostPort(s.hostPort)
	if err != nil {
		return fmt.Errorf("devtemporal: HostPort %q: %w", s.hostPort, err)
	}
	frontend, err := strconv.Atoi(p)
	if err != nil {
		return fmt.Errorf("devtemporal: HostPort %q: %w", s.hostPort, err)
	}
	ports, err := freePorts(host, 4)
	if err != nil {
		return err
	}
	// The membership table stores ports as smallint: below 32768, where
	// the kernel does not pick ephemeral ports (Linux: 32768-60999).
	member, err := freeMembershipPorts(host, 4)
	if err != nil {
		return err
	}
	services := []svcPorts{
		{Name: "frontend", GRPC: frontend, Membership: member[0], HTTP: ports[0]},
		{Name: "history", GRPC: ports[1], Membership: member[1]},
		{Name: "matching", GRPC: ports[2], Membership: member[2]},
		{Name: "worker", GRPC: ports[3], Membership: member[3]},
	}
	logLevel := s.opts.LogLevel
	if logLevel == "" {
		logLevel = "error"
	}
	type store struct {
		Name, Database string
		MaxConns       int
	}
	data := map[string]any{
		"LogLevel": logLevel, "Shards": HistoryShards, "Plugin": SQLPlugin,
		"DBAddr": s.opts.DB.Addr(), "DBUser": s.opts.DB.User(),
		"Stores": []store{{"default", DatabaseDefault, 20}, {"visibility", DatabaseVisibility, 10}},
		"Host":   host, "HostPort": s.hostPort, "Services": services,
		"DynamicConfigFile": filepath.Join(s.dir, "dynamicconfig.yaml"),
	}
	if err := writeTemplate(filepath.Join(s.dir, "config", "development.yaml"), serverConfig, data); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(s.dir, "dynamicconfig.yaml"), dynamicConfigYAML(), 0o644); err != nil {
		return fmt.Errorf("devtemporal: write dynamic config: %w", err)
	}
	if s.opts.EnableUI {
		uiPort, err := freePorts(host, 1)
		if err != nil {
			return err
		}
		s.uiURL = "http://" + net.JoinHostPort(host, strconv.Itoa(uiPort[0]))
		if err := writeTemplate(filepath.Join(s.dir, "ui", "development.yaml"), uiConfig, map[string]any{
			"HostPort": s.hostPort, "Host": host, "Port": uiPort[0], "Namespace": s.ns, "Origin": s.uiURL,
		}); err != nil {
			return err
		}
	}
	return nil
}

// dynamicConfigYAML renders DynamicConfig in the server's file format: each
// key holds a list of constrained values; one unconstrained value here.
func dynamicConfigYAML() []byte {
	var b bytes.Buffer
	for _, k := range sortedKeys(DynamicConfig()) {
		fmt.Fprintf(&b, "%s:\n  - value: %v\n", k, DynamicConfig()[k])
	}
	return b.Bytes()
}

func writeTemplate(path string, t *template.Template, data any) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("devtemporal: config dir: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		return fmt.Errorf("devtemporal: render %s: %w", path, err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("devtemporal: write %s: %w", path, err)
	}
	return nil
}

// start starts the server process and waits until its frontend answers a
// health check.
func (s *SQLServer) start(ctx context.Context) error {
	p, err := s.spawn(s.bin, "--root", s.dir, "--config", "config", "--env", "development", "--allow-no-auth", "start")
	if err != nil {
		return fmt.Errorf("devtemporal: start the Temporal server: %w", err)
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	err = s.poll(ctx, p, "frontend health", func(ctx context.Context) error {
		_, err := s.client.CheckHealth(ctx, &client.CheckHealthRequest{})
		return err
	})
	if err != nil {
		s.mu.Lock()
		if s.proc == p {
			_ = p.kill()
			s.proc = nil
		}
		s.mu.Unlock()
	}
	return err
}

// registerNamespace registers the namespace (kept if it exists, as on a
// second start on the same databases) and its search attributes.
func (s *SQLServer) registerNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	retention := s.opts.Retention
	if retention == 0 {
		retention = 24 * time.Hour
	}
	err := s.poll(ctx, s.currentProc(), "register namespace "+s.ns, func(ctx context.Context) error {
		_, err := s.client.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
			Namespace:                        s.ns,
			WorkflowExecutionRetentionPeriod: durationpb.New(retention),
		})
		var exists *serviceerror.NamespaceAlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	attrs := map[string]enumspb.IndexedValueType{}
	for k := range s.opts.SearchAttributes.GetUntypedValues() {
		attrs[k.GetName()] = k.GetValueType()
	}
	if len(attrs) == 0 {
		return nil
	}
	return s.poll(ctx, s.currentProc(), "add search attributes", func(ctx context.Context) error {
		_, err := s.client.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
			Namespace: s.ns, SearchAttributes: attrs,
		})
		var exists *serviceerror.AlreadyExists
		if errors.As(err, &exists) {
			return nil
		}
		return err
	})
}

// waitNamespace waits until the frontend knows the namespace (its namespace
// cache refreshes periodically) and visibility answers for it.
func (s *SQLServer) waitNamespace(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	return s.poll(ctx, s.currentProc(), "namespace "+s.ns+" served", func(ctx context.Context) error {
		_, err := s.client.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: s.ns, PageSize: 1})
		return err
	})
}

// startUI starts the Web UI server and waits until it answers HTTP.
func (s *SQLServer) startUI(ctx context.Context) error {
	p, err := s.spawn(s.ui, "--root", s.dir, "--config", "ui", "--env", "development", "start")
	if err != nil {
		return fmt.Errorf("devtemporal: start the Web UI: %w", err)
	}
	s.mu.Lock()
	s.uiProc = p
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	addr := strings.TrimPrefix(s.uiURL, "http://")
	return s.poll(ctx, p, "Web UI at "+s.uiURL, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			_ = c.Close()
		}
		return err
	})
}

func (s *SQLServer) currentProc() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// poll calls try every 250 ms until it succeeds, ctx ends or p exits. Its
// error names the step and carries the end of the processes' output.
func (s *SQLServer) poll(ctx context.Context, p *process, step string, try func(context.Context) error) error {
	var last error
	for {
		attempt, cancel := context.WithTimeout(ctx, 5*time.Second)
		last = try(attempt)
		cancel()
		if last == nil {
			return nil
		}
		var exited <-chan struct{}
		if p != nil {
			exited = p.done
		}
		select {
		case <-exited:
			return fmt.Errorf("devtemporal: %s: the process exited (%v); last error: %w; output:\n%s", step, p.err, last, s.out.tail()) //nolint:errorlint // p.err is nil after a clean exit
		case <-ctx.Done():
			return fmt.Errorf("devtemporal: %s: %w; last error: %w; output:\n%s", step, ctx.Err(), last, s.out.tail())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// spawn starts bin in its own process group, its output to s.out.
func (s *SQLServer) spawn(bin string, args ...string) (*process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = s.dir
	cmd.Stdout, cmd.Stderr = s.out, s.out
	cmd.SysProcAttr = procgroup.Attr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop sends SIGTERM to the process group and waits up to grace, then kills
// it; every member of the group is gone when it returns nil.
func (p *process) stop(grace time.Duration) error {
	return procgroup.Stop(filepath.Base(p.cmd.Path), p.cmd.Process.Pid, p.done, syscall.SIGTERM, grace)
}

// kill sends SIGKILL to the process group and waits for it to be gone.
func (p *process) kill() error {
	return procgroup.Stop(filepath.Base(p.cmd.Path), p.cmd.Process.Pid, p.done, syscall.SIGKILL, 30*time.Second)
}

// tailWriter forwards to w and keeps the last max bytes for error messages.
type tailWriter struct {
	mu  sync.Mutex
	w   io.Writer
	max int
	buf []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = append(t.buf[:0], t.buf[len(t.buf)-t.max:]...)
	}
	return t.w.Write(b)
}

func (t *tailWriter) tail() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

// freePorts returns n distinct free TCP ports on host.
func freePorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return nil, fmt.Errorf("devtemporal: free port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// freeMembershipPorts returns n distinct TCP ports on host below 32768 that
// are free now, picked at random from 20000-32767.
func freeMembershipPorts(host string, n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for tries := 0; len(ports) < n; tries++ {
		if tries == 1000 {
			return nil, fmt.Errorf("devtemporal: no %d free ports in 20000-32767 on %s", n, host)
		}
		port := 20000 + rand.IntN(32768-20000)
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		ls = append(ls, l)
		ports = append(ports, port)
	}
	return ports, nil
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
