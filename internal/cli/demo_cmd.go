package cli

import (
	"context"
	"fmt"
	"time"

	"entra2okta/internal/demo"
	"entra2okta/internal/temporalconn"
)

func runDemo(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("demo", "demo [--users N] [--deadline 90s] [--keep]", io)
	users := fs.Int("users", 300, "users in the emulated Entra ID directory")
	deadline := fs.Duration("deadline", 90*time.Second, "the batch's deadline after its start; then stragglers get expire-password")
	keep := fs.Bool("keep", false, "leave everything running after the summary, until Ctrl-C")
	uiPort := fs.Int("ui-port", 8233, "port of the Temporal Web UI (a free one if taken)")
	dir := fs.String("dir", "", "directory for the demo's log file and CA certificate (default: a new temp dir)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *users < 20 || *users > 20000 {
		return usageErr(io, "--users must be between 20 and 20000")
	}
	if *deadline < 30*time.Second {
		return usageErr(io, "--deadline must be at least 30s (imports and sign-ins come first)")
	}
	opts := demo.Options{Users: *users, Deadline: *deadline, Keep: *keep, UIPort: *uiPort, Dir: *dir, Out: io.Out,
		Namespace: envOr(env, "TEMPORAL_NAMESPACE", "default")}
	// An existing Temporal server when TEMPORAL_ADDRESS or TEMPORAL_PROFILE
	// names one (with its TLS and credentials); the dev server otherwise.
	if env("TEMPORAL_ADDRESS") != "" || env("TEMPORAL_PROFILE") != "" {
		conn, err := temporalconn.Load(env, temporalconn.Overrides{})
		if err != nil {
			return usageErr(io, "demo: %v", err)
		}
		opts.Temporal = &conn
	}
	err := demo.Run(ctx, opts)
	if err != nil {
		fmt.Fprintf(io.Err, "starter demo: %v\n", err)
		return ExitError
	}
	return ExitOK
}
