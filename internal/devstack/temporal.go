package devstack

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/temporalconn"
	"entra2okta/workflows"
)

// startTemporal dials the existing server, or starts the dev server and
// makes a lazy client for it.
func (s *Stack) startTemporal(ctx context.Context) error {
	base := client.Options{Logger: tlog.NewStructuredLogger(s.logger.With("component", "temporal-client"))}
	if s.opts.Temporal != nil {
		s.conn = *s.opts.Temporal
		tc, err := s.conn.Dial(ctx, 10*time.Second, base)
		if err != nil {
			return err
		}
		s.tc = tc
		return nil
	}
	s.devStart = s.opts.DevServer
	if s.devStart.SearchAttributes.Size() == 0 {
		s.devStart.SearchAttributes = workflows.SearchAttributes()
	}
	if s.devStart.Output == nil {
		s.devStart.Output = s.opts.Output
	}
	if s.devStart.Logger == nil {
		s.devStart.Logger = s.logger.With("component", "devtemporal")
	}
	if err := s.StartTemporal(ctx); err != nil {
		return err
	}
	// A client of our own, not the dev server's: it survives a restart of
	// the server on the same address (the dev server's closes with it).
	tc, err := s.conn.NewLazyClient(base)
	if err != nil {
		return err
	}
	s.tc = tc
	return nil
}

// StartTemporal starts the dev server again after StopTemporal, on the same
// address (with Options.DevServer.DBFile, on the same state). It starts it
// the first time too, from Start.
func (s *Stack) StartTemporal(ctx context.Context) error {
	srv, err := devtemporal.Start(ctx, s.devStart)
	if err != nil {
		return err
	}
	s.dev = srv
	s.devStart.HostPort, s.devStart.Namespace = srv.HostPort(), srv.Namespace()
	s.conn = temporalconn.Plain(srv.HostPort(), srv.Namespace())
	return nil
}

// StopTemporal stops the dev server (no-op against an existing server).
func (s *Stack) StopTemporal() error {
	if s.dev == nil {
		return nil
	}
	err := s.dev.Stop()
	s.dev = nil
	return err
}
