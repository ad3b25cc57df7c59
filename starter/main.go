// Command starter launches and steers entra2okta migration batches, and runs
// the demo. Run "go run ./starter" for its commands.
package main

import (
	"context"
	"io"

	"entra2okta/internal/cli"
	"entra2okta/internal/mainrun"
)

func main() {
	mainrun.Exit(func(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
		return cli.Main(ctx, args, getenv, cli.IO{Out: stdout, Err: stderr})
	})
}
