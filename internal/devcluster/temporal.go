package devcluster

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"

	"entra2okta/internal/devtemporal"
	"entra2okta/workflows"
)

// Temporal is the Temporal server of the topology, as the cluster uses it.
type Temporal interface {
	// HostPort is the frontend's gRPC address; it stays the same across
	// restarts.
	HostPort() string
	// Namespace is the namespace the server registered.
	Namespace() string
	// Stop stops the server gracefully; Kill stops it abruptly.
	Stop() error
	Kill() error
	// Restart starts the stopped or killed server again on the same address
	// and the same persisted state.
	Restart(ctx context.Context) error
}

// devServer is the CLI dev server with its state in SQLite, restartable on
// the same address.
type devServer struct {
	opts devtemporal.Options
	mu   sync.Mutex
	srv  *devtemporal.Server
}

// startDevServer starts the dev server persisting in dir/temporal.db.
func startDevServer(ctx context.Context, dir, hostPort string, out io.Writer, logger *slog.Logger) (*devServer, error) {
	d := &devServer{opts: devtemporal.Options{HostPort: hostPort, DBFile: filepath.Join(dir, "temporal.db"),
		SearchAttributes: workflows.SearchAttributes(), Output: out, Logger: logger}}
	if err := d.Restart(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *devServer) HostPort() string  { return d.opts.HostPort }
func (d *devServer) Namespace() string { return "default" }

func (d *devServer) Stop() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv == nil {
		return nil
	}
	err := d.srv.Stop()
	d.srv = nil
	return err
}

// Kill is Stop: the SDK's dev server has no abrupt stop.
func (d *devServer) Kill() error { return d.Stop() }

func (d *devServer) Restart(ctx context.Context) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.srv != nil {
		return errors.New("devcluster: the Temporal dev server is running")
	}
	srv, err := devtemporal.Start(ctx, d.opts)
	if err != nil {
		return err
	}
	d.srv = srv
	return nil
}
