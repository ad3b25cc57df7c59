// Command worker runs the entra2okta Temporal workers: the MigrateUser and
// MigrateBatch workflows, and the Okta and Microsoft Graph activities on their
// rate-limited task queues. Configuration comes from flags and the
// environment (worker -help); internal/worker holds the wiring.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/settings"
	"entra2okta/internal/worker"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	cfg, err := worker.ParseConfig(os.Args[1:], os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if errors.Is(err, settings.ErrVersion) {
		fmt.Println("worker", buildinfo.Version())
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	if err := worker.Run(ctx, cfg); err != nil {
		// Missing search attributes: the commands that add them, readable.
		var missing *worker.MissingSearchAttributesError
		if errors.As(err, &missing) {
			fmt.Fprintln(os.Stderr, "worker:", missing)
			os.Exit(1)
		}
		slog.Error("worker exited", "err", err)
		os.Exit(1)
	}
}
