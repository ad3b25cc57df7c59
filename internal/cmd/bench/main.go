// Command bench measures entra2okta's moving parts under load and prints one
// JSON object of figures as its last line:
//
//	go run ./internal/cmd/bench hook [flags]   # the password import hook server
//	go run ./internal/cmd/bench bulk [flags]   # a batch's import against Okta's rate limit
//	go run ./internal/cmd/bench campaign [flags] # a whole campaign: import, abnormal ends, sign-ins, deadline
//
// Each subcommand starts what it measures in-process against the loopback
// emulators, so it needs no network; bulk and campaign also start the pinned
// Temporal dev server and the worker binary.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// run dispatches to a subcommand.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return usage(stderr)
	}
	switch args[0] {
	case "hook":
		return runHook(ctx, args[1:], stdout, stderr)
	case "bulk":
		return runBulk(ctx, args[1:], stdout, stderr)
	case "campaign":
		return runCampaign(ctx, args[1:], stdout, stderr)
	}
	return usage(stderr)
}

func usage(stderr io.Writer) error {
	fmt.Fprintln(stderr, "usage: bench <subcommand> [flags]; subcommands: hook, bulk, campaign (run bench <subcommand> -h for flags)")
	return fmt.Errorf("no such subcommand")
}
