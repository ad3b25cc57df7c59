package worker

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"

	"entra2okta/internal/buildinfo"
	"entra2okta/internal/settings"
)

// Main is the worker binary: it parses args and the environment
// (ParseConfig), then runs the workers (Run) until ctx is done, and returns
// the process's exit code. -h prints the help to stderr and returns 0;
// -version prints "worker <version>" to stdout and returns 0; a bad setting
// prints "worker: <error>" to stderr and returns 2. Missing search
// attributes print the commands that add them to stderr and return 1; any
// other error of Run is logged with slog's default logger and returns 1.
func Main(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg, err := parseConfig(args, getenv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, settings.ErrVersion) {
		fmt.Fprintln(stdout, "worker", buildinfo.Version())
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "worker:", err)
		return 2
	}
	if err := Run(ctx, cfg); err != nil {
		// Missing search attributes: the commands that add them, readable.
		var missing *MissingSearchAttributesError
		if errors.As(err, &missing) {
			fmt.Fprintln(stderr, "worker:", missing)
			return 1
		}
		slog.Error("worker exited", "err", err)
		return 1
	}
	return 0
}
