package cli

import (
	"context"
	"fmt"

	"entra2okta/internal/control"

	"entra2okta/workflows"
)

func runThrottle(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("throttle", "throttle [--okta-rps N] [--okta-create-rps N] [--graph-rps N]", io)
	var tf temporalFlags
	tf.register(fs, env)
	okta := fs.Float64("okta-rps", -1, "Okta lookups and updates per second, for all workers (server-enforced)")
	oktaCreate := fs.Float64("okta-create-rps", -1, "Okta user creates per second, for all workers (server-enforced; Okta's create limit ÷ 60)")
	graph := fs.Float64("graph-rps", -1, "Microsoft Graph requests per second, for all workers (server-enforced)")
	reason := fs.String("reason", "set by starter throttle", "reason recorded with the change")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	changed := false
	for _, q := range []struct {
		name string
		rps  float64
		tq   string
	}{{"okta", *okta, workflows.OktaTaskQueue}, {"okta create", *oktaCreate, workflows.OktaCreateTaskQueue},
		{"graph", *graph, workflows.GraphTaskQueue}} {
		if q.rps >= 0 {
			if err := control.SetActivityRateLimit(ctx, c, tf.namespace, q.tq, q.rps, *reason); err != nil {
				return fail(io, "%v", err)
			}
			changed = true
		}
		rps, set, err := control.ActivityRateLimit(ctx, c, tf.namespace, q.tq)
		if err != nil {
			return fail(io, "%v", err)
		}
		if set {
			fmt.Fprintf(io.Out, "%-11s %s: %.2f requests/s (%.0f/min)\n", q.name, q.tq, rps, rps*60)
		} else {
			fmt.Fprintf(io.Out, "%-11s %s: no server-side limit set (workers' own limit applies)\n", q.name, q.tq)
		}
	}
	if !changed {
		fmt.Fprintln(io.Err, "(no change: pass --okta-rps, --okta-create-rps or --graph-rps to set a limit)")
	}
	return ExitOK
}
