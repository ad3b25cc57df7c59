package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"strings"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/settings"
	"entra2okta/workflows"
)

func runExtend(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("extend", "extend --batch NAME --deadline (+14d | 2027-03-01T00:00:00Z)", io)
	var tf temporalFlags
	tf.register(fs, env)
	batch := fs.String("batch", "", "batch name (required)")
	deadline := fs.String("deadline", "", "+DURATION to push every deadline back (e.g. +14d), or a new RFC 3339 deadline")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if err := checkBatchName(*batch); err != nil {
		return usageErr(io, "%v", err)
	}
	var req workflows.ExtendDeadlineRequest
	rel, isRel := strings.CutPrefix(*deadline, "+")
	after, at, err := ParseDeadline(rel)
	if err != nil {
		return usageErr(io, "--deadline: %v", err)
	}
	switch {
	case isRel && at.IsZero():
		req.By = after
	case !isRel && !at.IsZero():
		req.Deadline = at
	default:
		return usageErr(io, "--deadline: use +DURATION (e.g. +14d) or an absolute RFC 3339 time")
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	moved, errs := control.ExtendBatch(ctx, c, tf.namespace, *batch, req)
	fmt.Fprintf(io.Out, "moved the deadline of %d waiting users of batch %s\n", moved, *batch)
	for _, e := range errs {
		fmt.Fprintf(io.Err, "  %v\n", e)
	}
	if len(errs) > 0 {
		return ExitError
	}
	return ExitOK
}

func runSkip(ctx context.Context, args []string, env Env, io IO) int {
	return runUserUpdate(ctx, args, env, io, "skip", "why the user is skipped (required; shown in the status and report)", control.SkipUser)
}

func runRelease(ctx context.Context, args []string, env Env, io IO) int {
	return runUserUpdate(ctx, args, env, io, "release", "why the hold is lifted: what was checked (required; shown in the status)", control.ReleaseHold)
}

// runUserUpdate runs a command that sends one user's migration an update
// with a required reason: NAME --reason TEXT USER@DOMAIN.
func runUserUpdate(ctx context.Context, args []string, env Env, io IO, name, reasonHelp string,
	update func(context.Context, client.Client, string, string) (workflows.UserStatus, error)) int {
	fs := newFlagSet(name, name+" --reason TEXT USER@DOMAIN", io)
	var tf temporalFlags
	tf.register(fs, env)
	reason := fs.String("reason", "", reasonHelp)
	if err := fs.Parse(settings.Interleave(fs, args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitOK
		}
		return ExitUsage
	}
	if fs.NArg() != 1 {
		return usageErr(io, "%s takes exactly one user principal name", name)
	}
	if strings.TrimSpace(*reason) == "" {
		return usageErr(io, "--reason is required")
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	st, err := update(ctx, c, fs.Arg(0), *reason)
	if err != nil {
		return fail(io, "%v", err)
	}
	fmt.Fprintf(io.Out, "%s: %s (%s)\n", fs.Arg(0), st.State, st.Reason)
	return ExitOK
}
