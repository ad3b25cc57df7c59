package devstack

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"

	"entra2okta/internal/demodata"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
)

// EmulatorOptions configure StartEmulators.
type EmulatorOptions struct {
	// Seed fills the emulators and names the tenant. nil: demodata.Seed
	// with Users users (Directory returns what it seeded; none when Users
	// is 0).
	Seed  func(o *fakeokta.Server, e *fakeentra.Server) (Tenant, error)
	Users int
	// Okta and Entra are the emulators' options. StartEmulators sets
	// Okta.HookRootCAs, and the loggers when nil; Okta.APITokens[0]
	// (default fakeokta.DefaultAPIToken) is the token the product uses.
	Okta  fakeokta.Options
	Entra fakeentra.Options
	// OktaHandler, when set, wraps fakeokta's handler (to observe calls).
	OktaHandler func(http.Handler) http.Handler
	// CA is the certificate authority of both listeners; nil: a new one.
	CA *loopbacktls.Authority
	// Dir receives the CA certificate, ca.pem (required).
	Dir string
	// Logger is given, with a "component" attribute, to both emulators;
	// nil discards their logs.
	Logger *slog.Logger
}

// Emulators are fakeokta and fakeentra served over loopback TLS with
// certificates of one authority, and seeded.
type Emulators struct {
	ca        *loopbacktls.Authority
	caFile    string
	okta      *fakeokta.Server
	entra     *fakeentra.Server
	oktaSrv   *loopbacktls.Server
	entraSrv  *loopbacktls.Server
	oktaURL   string
	entraURL  string
	apiToken  string
	tenant    Tenant
	directory demodata.Directory
}

// StartEmulators serves fakeentra and fakeokta on 127.0.0.1 over TLS and
// seeds them. On error, what started is stopped.
func StartEmulators(opts EmulatorOptions) (_ *Emulators, err error) {
	e := &Emulators{ca: opts.CA}
	defer func() {
		if err != nil {
			e.Close()
		}
	}()
	if e.ca == nil {
		if e.ca, err = loopbacktls.New(); err != nil {
			return nil, err
		}
	}
	e.caFile = filepath.Join(opts.Dir, "ca.pem")
	if err := e.ca.WriteCAFile(e.caFile); err != nil {
		return nil, err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	eopts, oopts := opts.Entra, opts.Okta
	if eopts.Logger == nil {
		eopts.Logger = logger.With("component", "fakeentra")
	}
	if oopts.Logger == nil {
		oopts.Logger = logger.With("component", "fakeokta")
	}
	oopts.HookRootCAs = e.ca.CertPool()
	if len(oopts.APITokens) == 0 {
		oopts.APITokens = []string{fakeokta.DefaultAPIToken}
	}
	e.apiToken = oopts.APITokens[0]
	e.entra, e.okta = fakeentra.New(eopts), fakeokta.New(oopts)
	if e.entraSrv, err = e.ca.Serve("127.0.0.1:0", e.entra); err != nil {
		return nil, err
	}
	e.entraURL = e.entraSrv.URL
	var oh http.Handler = e.okta
	if opts.OktaHandler != nil {
		oh = opts.OktaHandler(oh)
	}
	if e.oktaSrv, err = e.ca.Serve("127.0.0.1:0", oh); err != nil {
		return nil, err
	}
	e.oktaURL = e.oktaSrv.URL
	if err := e.seed(opts); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *Emulators) seed(opts EmulatorOptions) error {
	if opts.Seed != nil {
		t, err := opts.Seed(e.okta, e.entra)
		if err != nil {
			return fmt.Errorf("devstack: seed: %w", err)
		}
		e.tenant = t
		return nil
	}
	if opts.Users <= 0 {
		return nil
	}
	d, err := demodata.Seed(e.okta, e.entra, opts.Users)
	if err != nil {
		return fmt.Errorf("devstack: seed: %w", err)
	}
	e.directory, e.tenant = d, DemoTenant(d)
	return nil
}

// Close stops fakeokta, then releases fakeentra's hung requests and stops
// it. Safe to call twice, and on nil.
func (e *Emulators) Close() {
	if e == nil {
		return
	}
	if e.oktaSrv != nil {
		_ = e.oktaSrv.Close()
		e.oktaSrv = nil
	}
	if e.entraSrv != nil {
		e.entra.Release()
		_ = e.entraSrv.Close()
		e.entraSrv = nil
	}
}

// DemoTenant is the tenant demodata.Seed seeded.
func DemoTenant(d demodata.Directory) Tenant {
	return Tenant{TenantID: d.TenantID, GraphClientID: d.GraphClientID, GraphClientSecret: d.GraphClientSecret,
		PublicClientID: d.PublicClientID}
}

// CA is the certificate authority of the emulators' listeners (and of
// every other TLS listener of a Stack).
func (e *Emulators) CA() *loopbacktls.Authority { return e.ca }

// CAFile is the CA certificate's PEM file (for SSL_CERT_FILE).
func (e *Emulators) CAFile() string { return e.caFile }

// Okta is the Okta emulator.
func (e *Emulators) Okta() *fakeokta.Server { return e.okta }

// Entra is the Entra ID and Graph emulator.
func (e *Emulators) Entra() *fakeentra.Server { return e.entra }

// OktaURL is fakeokta's org URL.
func (e *Emulators) OktaURL() string { return e.oktaURL }

// EntraURL is fakeentra's authority host and Graph base URL.
func (e *Emulators) EntraURL() string { return e.entraURL }

// OktaAPIToken is the API token the product's Okta clients use.
func (e *Emulators) OktaAPIToken() string { return e.apiToken }

// Tenant names the seeded tenant and its app registrations.
func (e *Emulators) Tenant() Tenant { return e.tenant }

// Directory is what demodata.Seed seeded (zero with a Seed function).
func (e *Emulators) Directory() demodata.Directory { return e.directory }
