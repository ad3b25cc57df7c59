package cli_test

import (
	"context"
	"testing"

	"entra2okta/internal/demodata"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/workflows"
)

// startDevServer starts a Temporal dev server with the workflows' search
// attributes, stopped when the test ends.
func startDevServer(ctx context.Context, t *testing.T) *devtemporal.Server {
	t.Helper()
	tsrv, err := devtemporal.Start(ctx, devtemporal.Options{SearchAttributes: workflows.SearchAttributes()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tsrv.Stop() })
	return tsrv
}

// serveOkta serves a fakeokta over loopback TLS until the test ends.
func serveOkta(t *testing.T, opts fakeokta.Options) (*fakeokta.Server, *loopbacktls.Server) {
	t.Helper()
	o := fakeokta.New(opts)
	srv, err := ca.Serve("127.0.0.1:0", o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return o, srv
}

// emulators are both emulators over loopback TLS, seeded with demo users.
type emulators struct {
	o      *fakeokta.Server
	e      *fakeentra.Server
	os, es *loopbacktls.Server
	dir    demodata.Directory
}

// serveEmulators serves fakeokta (with oktaOpts) and fakeentra until the
// test ends, seeded with users demo users (demodata.Seed).
func serveEmulators(t *testing.T, oktaOpts fakeokta.Options, users int) emulators {
	t.Helper()
	var em emulators
	em.o, em.os = serveOkta(t, oktaOpts)
	em.e = fakeentra.New(fakeentra.Options{})
	es, err := ca.Serve("127.0.0.1:0", em.e)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { em.e.Release(); _ = es.Close() })
	em.es = es
	if em.dir, err = demodata.Seed(em.o, em.e, users); err != nil {
		t.Fatal(err)
	}
	return em
}
