// Command worker runs the entra2okta Temporal workers: the MigrateUser and
// MigrateBatch workflows, and the Okta and Microsoft Graph activities on their
// rate-limited task queues. Configuration comes from flags and the
// environment (worker -help); internal/worker holds the wiring.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"entra2okta/internal/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := worker.Main(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
