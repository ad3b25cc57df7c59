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
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"

	"go.temporal.io/sdk/client"

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

	// Seed, Users, Okta, Entra and OktaHandler configure the emulators as
	// the fields of EmulatorOptions of the same names do.
	Seed        func(o *fakeokta.Server, e *fakeentra.Server) (Tenant, error)
	Users       int
	Okta        fakeokta.Options
	Entra       fakeentra.Options
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

	// Emulators are the stack's emulators; their accessors (CA, Okta,
	// OktaURL, Tenant, ...) are the stack's.
	*Emulators
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
	s.Emulators.Close()
	if s.tempDir {
		_ = os.RemoveAll(s.dir)
		s.tempDir = false
	}
	return errors.Join(errs...)
}

// startEmulators serves fakeentra and fakeokta on the stack's CA and seeds
// them.
func (s *Stack) startEmulators() (err error) {
	s.Emulators, err = StartEmulators(EmulatorOptions{Seed: s.opts.Seed, Users: s.opts.Users, Okta: s.opts.Okta,
		Entra: s.opts.Entra, OktaHandler: s.opts.OktaHandler, CA: s.opts.CA, Dir: s.dir, Logger: s.logger})
	return err
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

// Dir is the directory holding the CA file.
func (s *Stack) Dir() string { return s.dir }

// Logger is the stack's logger.
func (s *Stack) Logger() *slog.Logger { return s.logger }
