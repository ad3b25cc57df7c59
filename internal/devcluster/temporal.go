package devcluster

import (
	"context"
	"io"
	"log/slog"

	"entra2okta/internal/devpostgres"
	"entra2okta/internal/devtemporal"
	"entra2okta/workflows"
)

// Temporal is the Temporal server of the topology, as the cluster uses it.
// *devtemporal.SQLServer implements it.
type Temporal interface {
	// HostPort is the frontend's gRPC address; it stays the same across
	// restarts.
	HostPort() string
	// Namespace is the namespace the server registered.
	Namespace() string
	// Stop stops the server gracefully for good; Kill ends it abruptly, as
	// a crash would.
	Stop() error
	Kill() error
	// Restart starts the killed server again on the same address and state.
	Restart(ctx context.Context) error
}

// startTemporal starts the topology's Temporal server on PostgreSQL (its
// stores in db), registering the namespace "default" with the workflows'
// search attributes.
func startTemporal(ctx context.Context, db *devpostgres.Cluster, hostPort string, out io.Writer, logger *slog.Logger) (Temporal, error) {
	return devtemporal.StartSQL(ctx, devtemporal.SQLOptions{DB: db, HostPort: hostPort, Namespace: "default",
		SearchAttributes: workflows.SearchAttributes(), Output: out, Logger: logger})
}
