package devcluster

import (
	"context"
	"io"
	"log/slog"

	"entra2okta/internal/devpostgres"
)

// startTemporal starts the topology's Temporal server: the CLI dev server
// with its state in SQLite under dir (db is unused until the server on
// PostgreSQL is available).
func startTemporal(ctx context.Context, _ *devpostgres.Cluster, dir, hostPort string, out io.Writer, logger *slog.Logger) (Temporal, error) {
	return startDevServer(ctx, dir, hostPort, out, logger)
}
