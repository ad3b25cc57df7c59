package cli_test

import (
	"context"
	"testing"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/worker"
)

// startStack starts a dev stack (internal/devstack) on the test binary's CA
// (ca), stopped when the test ends.
func startStack(ctx context.Context, t *testing.T, opts devstack.Options) *devstack.Stack {
	t.Helper()
	opts.CA = ca
	if opts.Dir == "" {
		opts.Dir = t.TempDir()
	}
	st, err := devstack.Start(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	return st
}

// workerAt100 runs the in-process worker's Okta queues at 100 calls/s.
func workerAt100(cfg *worker.Config) { cfg.OktaRPS, cfg.OktaCreateRPS = 100, 100 }

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
