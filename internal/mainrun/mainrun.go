// Package mainrun is what the product's binaries (worker, hookserver,
// starter) share in their main: each runs its Main under a context that
// SIGINT or SIGTERM cancels, with the process's arguments, environment and
// standard streams, and exits with the code Main returns.
package mainrun

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Main is a binary's entry point: it returns the process's exit code.
type Main func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int

// Exit runs m with os.Args[1:], os.Getenv, os.Stdout and os.Stderr under a
// context that SIGINT or SIGTERM cancels, then exits with m's code.
func Exit(m Main) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := m(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
