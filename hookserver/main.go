// Command hookserver serves Okta's password import inline hook and, when
// configured, Okta's event hook: it checks the password a not-yet-migrated
// user typed at Okta against Entra ID, answers VERIFIED or UNVERIFIED, then
// signals the user's MigrateUser workflow with the outcome. Configuration
// comes from flags and the environment (hookserver -h; secrets may be files
// named by NAME_FILE); internal/hookserver holds the server and its wiring.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/settings"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := hookserver.Main(ctx, os.Args[1:], os.Getenv, os.Stderr)
	if errors.Is(err, settings.ErrVersion) {
		fmt.Println("hookserver", buildinfo.Version())
		return
	}
	if err != nil {
		slog.Error("hookserver exited", "err", err)
		os.Exit(1)
	}
}
