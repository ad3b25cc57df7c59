// Command starter launches and steers entra2okta migration batches, and runs
// the demo. Run "go run ./starter" for its commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"entra2okta/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx, os.Args[1:], os.Getenv, cli.IO{Out: os.Stdout, Err: os.Stderr})
	stop()
	os.Exit(code)
}
