// Package devstack starts the product on one machine for the demo, the
// end-to-end tests, the benchmarks and the CLI tests: a Temporal server (the
// pinned dev server, or an existing one), the Okta and Entra ID emulators on
// one loopback certificate authority, optionally the hook server registered
// in the Okta emulator as the password import inline hook (and event hook),
// and optionally the worker, in-process or as a process of its own.
//
// Every product component the stack constructs (the hook server, the
// password verifier, the Okta client the hook reads the password policy
// through, the worker) is built in one small function of this package
// (components.go), so that a change of the product's wiring changes one
// place.
package devstack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/demodata"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/temporalconn"
	"entra2okta/internal/worker"
)

// Tenant names the seeded Entra ID tenant and the app registrations the
// product signs in with.
type Tenant struct {
	TenantID string
	// GraphClientID and GraphClientSecret are the worker's confidential
	// Graph reader app.
	GraphClientID, GraphClientSecret string
	// PublicClientID is the public client the password verifier signs in
	// through (ROPC).
	PublicClientID string
}

// WorkerMode says which worker Start starts.
type WorkerMode int

const (
	// NoWorker starts none (StartWorker and StartWorkerProcess start one
	// later).
	NoWorker WorkerMode = iota
	// InProcess runs worker.Run in this process (StartWorker).
	InProcess
	// Process builds the worker binary and runs it as a child process
	// (StartWorkerProcess).
	Process
)

// Options configure Start. The zero value starts a dev server and empty
// emulators, with no hook server and no worker.
type Options struct {
	// Temporal, when set, is an existing server to use instead of the dev
	// server (its namespace must allow the workflows' search attributes).
	Temporal *temporalconn.Config
	// NoTemporal starts no Temporal server (Client is nil): for hook server
	// tests with their own HookOptions.Signaler.
	NoTemporal bool
	// DevServer configures the dev server when Temporal is nil. Start sets
	// SearchAttributes to the workflows' when empty, and Output and Logger
	// to the stack's when nil.
	DevServer devtemporal.Options

	// Seed fills the emulators and names the tenant. nil: demodata.Seed
	// with Users users (Directory returns what it seeded).
	Seed  func(o *fakeokta.Server, e *fakeentra.Server) (Tenant, error)
	Users int
	// Okta and Entra are the emulators' options. Start sets
	// Okta.HookRootCAs, and the loggers when nil; Okta.APITokens[0] (default
	// fakeokta.DefaultAPIToken) is the token the product uses.
	Okta  fakeokta.Options
	Entra fakeentra.Options
	// OktaHandler, when set, wraps fakeokta's handler (to observe calls).
	OktaHandler func(http.Handler) http.Handler
	// CA is the certificate authority of every TLS listener; nil: a new one.
	CA *loopbacktls.Authority

	// Hook, when set, starts the hook server and registers it in fakeokta.
	Hook *HookOptions

	// Worker says which worker Start starts.
	Worker WorkerMode
	// WorkerConfig adjusts the in-process worker's configuration
	// (WorkerConfig returns the stack's defaults).
	WorkerConfig func(*worker.Config)
	// WorkerEnv is added to the worker process's environment; WorkerOutput
	// receives its stdout and stderr (nil: discarded).
	WorkerEnv    []string
	WorkerOutput io.Writer

	// Dir receives the CA certificate (ca.pem) and a built worker binary;
	// "": a temporary directory that Close removes.
	Dir string
	// Output receives the dev server's output; nil discards it.
	Output io.Writer
	// Logger is given, with a "component" attribute, to every component;
	// nil discards their logs.
	Logger *slog.Logger
}

// Stack is a running stack. Its methods are safe for one goroutine at a
// time, except the accessors, which may be called from any.
type Stack struct {
	opts    Options
	logger  *slog.Logger
	dir     string
	tempDir bool

	conn     temporalconn.Config
	dev      *devtemporal.Server
	tc       client.Client
	devStart devtemporal.Options

	ca         *loopbacktls.Authority
	caFile     string
	okta       *fakeokta.Server
	entra      *fakeentra.Server
	oktaSrv    *loopbacktls.Server
	entraSrv   *loopbacktls.Server
	apiToken   string
	tenant     Tenant
	directory  demodata.Directory
	hook       *hookState
	workerStop func() error
	procs      []*WorkerProcess
	buildOnce  sync.Once
	binary     string
	buildErr   error
}

// Start starts the stack: Temporal, the emulators (seeded), the hook server
// and the worker as opts say. On error, what started is stopped.
func Start(ctx context.Context, opts Options) (_ *Stack, err error) {
	s := &Stack{opts: opts, logger: opts.Logger, dir: opts.Dir}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	if s.dir == "" {
		if s.dir, err = os.MkdirTemp("", "devstack-"); err != nil {
			return nil, err
		}
		s.tempDir = true
	}
	if !opts.NoTemporal {
		if err := s.startTemporal(ctx); err != nil {
			return nil, err
		}
	}
	if err := s.startEmulators(); err != nil {
		return nil, err
	}
	if opts.Hook != nil {
		if err := s.StartHook(ctx); err != nil {
			return nil, err
		}
	}
	switch opts.Worker {
	case InProcess:
		s.StartWorker()
	case Process:
		if _, err := s.StartWorkerProcess(ctx, ""); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Close stops everything: the workers, the hook server, the Temporal client
// and dev server, the emulators, and removes the temporary directory. It
// returns an error when a worker did not stop in time.
func (s *Stack) Close() error {
	var errs []error
	errs = append(errs, s.StopWorker())
	for _, p := range s.procs {
		p.Stop()
	}
	s.procs = nil
	s.StopHook()
	if s.tc != nil {
		s.tc.Close()
		s.tc = nil
	}
	errs = append(errs, s.StopTemporal())
	if s.oktaSrv != nil {
		_ = s.oktaSrv.Close()
		s.oktaSrv = nil
	}
	if s.entraSrv != nil {
		s.entra.Release()
		_ = s.entraSrv.Close()
		s.entraSrv = nil
	}
	if s.tempDir {
		_ = os.RemoveAll(s.dir)
		s.tempDir = false
	}
	return errors.Join(errs...)
}

// startEmulators serves fakeentra and fakeokta on the stack's CA and seeds
// them.
func (s *Stack) startEmulators() error {
	var err error
	if s.ca = s.opts.CA; s.ca == nil {
		if s.ca, err = loopbacktls.New(); err != nil {
			return err
		}
	}
	s.caFile = filepath.Join(s.dir, "ca.pem")
	if err := s.ca.WriteCAFile(s.caFile); err != nil {
		return err
	}
	eopts, oopts := s.opts.Entra, s.opts.Okta
	if eopts.Logger == nil {
		eopts.Logger = s.logger.With("component", "fakeentra")
	}
	if oopts.Logger == nil {
		oopts.Logger = s.logger.With("component", "fakeokta")
	}
	oopts.HookRootCAs = s.ca.CertPool()
	if len(oopts.APITokens) == 0 {
		oopts.APITokens = []string{fakeokta.DefaultAPIToken}
	}
	s.apiToken = oopts.APITokens[0]
	s.entra, s.okta = fakeentra.New(eopts), fakeokta.New(oopts)
	if s.entraSrv, err = s.ca.Serve("127.0.0.1:0", s.entra); err != nil {
		return err
	}
	var oh http.Handler = s.okta
	if s.opts.OktaHandler != nil {
		oh = s.opts.OktaHandler(oh)
	}
	if s.oktaSrv, err = s.ca.Serve("127.0.0.1:0", oh); err != nil {
		return err
	}
	return s.seed()
}

func (s *Stack) seed() error {
	if s.opts.Seed != nil {
		t, err := s.opts.Seed(s.okta, s.entra)
		if err != nil {
			return fmt.Errorf("devstack: seed: %w", err)
		}
		s.tenant = t
		return nil
	}
	if s.opts.Users <= 0 {
		return nil
	}
	d, err := demodata.Seed(s.okta, s.entra, s.opts.Users)
	if err != nil {
		return fmt.Errorf("devstack: seed: %w", err)
	}
	s.directory, s.tenant = d, DemoTenant(d)
	return nil
}

// DemoTenant is the tenant demodata.Seed seeded.
func DemoTenant(d demodata.Directory) Tenant {
	return Tenant{TenantID: d.TenantID, GraphClientID: d.GraphClientID, GraphClientSecret: d.GraphClientSecret,
		PublicClientID: d.PublicClientID}
}

// Client is the stack's Temporal client. Against the dev server it connects
// lazily and survives StopTemporal and StartTemporal.
func (s *Stack) Client() client.Client { return s.tc }

// Temporal is the connection the stack's clients and worker use.
func (s *Stack) Temporal() temporalconn.Config { return s.conn }

// TemporalAddress is the Temporal frontend's host:port.
func (s *Stack) TemporalAddress() string { return s.conn.Address() }

// Namespace is the Temporal namespace the stack uses.
func (s *Stack) Namespace() string { return s.conn.Namespace() }

// DevServer is the running dev server; nil against an existing server or
// while StopTemporal has stopped it.
func (s *Stack) DevServer() *devtemporal.Server { return s.dev }

// CA is the certificate authority every TLS listener of the stack uses.
func (s *Stack) CA() *loopbacktls.Authority { return s.ca }

// CAFile is the CA certificate's PEM file (for SSL_CERT_FILE).
func (s *Stack) CAFile() string { return s.caFile }

// Dir is the directory holding the CA file.
func (s *Stack) Dir() string { return s.dir }

// Okta is the Okta emulator.
func (s *Stack) Okta() *fakeokta.Server { return s.okta }

// Entra is the Entra ID and Graph emulator.
func (s *Stack) Entra() *fakeentra.Server { return s.entra }

// OktaURL is fakeokta's org URL.
func (s *Stack) OktaURL() string { return s.oktaSrv.URL }

// EntraURL is fakeentra's authority host and Graph base URL.
func (s *Stack) EntraURL() string { return s.entraSrv.URL }

// OktaAPIToken is the API token the product's Okta clients use.
func (s *Stack) OktaAPIToken() string { return s.apiToken }

// Tenant names the seeded tenant and its app registrations.
func (s *Stack) Tenant() Tenant { return s.tenant }

// Directory is what demodata.Seed seeded (zero with Options.Seed).
func (s *Stack) Directory() demodata.Directory { return s.directory }

// Logger is the stack's logger.
func (s *Stack) Logger() *slog.Logger { return s.logger }
