package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"

	"entra2okta/workflows"
)

// rateQueue is a rate-limited task queue, with the starter's flag and the
// workers' variable for its rate; tuned when the workers lower its rate to
// what Okta's rate-limit headers allow.
type rateQueue struct {
	name, flag, env, tq string
	tuned               bool
}

var rateQueues = []rateQueue{
	{"okta", "okta-rps", "OKTA_RPS", workflows.OktaTaskQueue, true},
	{"okta create", "okta-create-rps", "OKTA_CREATE_RPS", workflows.OktaCreateTaskQueue, true},
	{"graph", "graph-rps", "GRAPH_RPS", workflows.GraphTaskQueue, false},
}

func runThrottle(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("throttle", "throttle [--okta-rps N] [--okta-create-rps N] [--graph-rps N] [--reset] [--reason TEXT]", io)
	var tf temporalFlags
	tf.register(fs, env)
	rates := map[string]*float64{
		"okta-rps":        fs.Float64("okta-rps", 0, "Okta lookups and updates per second, for all workers (server-enforced; 0 pauses them)"),
		"okta-create-rps": fs.Float64("okta-create-rps", 0, "Okta user creates per second, for all workers (server-enforced; Okta's create limit ÷ 60)"),
		"graph-rps":       fs.Float64("graph-rps", 0, "Microsoft Graph requests per second, for all workers (server-enforced)"),
	}
	reset := fs.Bool("reset", false, "remove the rates set by starter throttle on the queues given no rate here: the workers are in "+
		"charge again, with their OKTA_RPS, OKTA_CREATE_RPS and GRAPH_RPS, lowered on the Okta queues to what Okta's rate-limit "+
		"headers allow this API token")
	reason := fs.String("reason", "", `reason recorded with the change (default "set by starter throttle" or "reset by starter throttle")`)
	asJSON := fs.Bool("json", false, `one JSON document on stdout: {"changed": bool, "rates": [each queue's rate]}`)
	if ok, code := parse(fs, args); !ok {
		return code
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, q := range rateQueues {
		if given[q.flag] && *rates[q.flag] < 0 {
			return usageErr(io, "--%s must be ≥ 0, got %v (use --reset to go back to the workers' %s)", q.flag, *rates[q.flag], q.env)
		}
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	changed := false
	for _, q := range rateQueues {
		switch {
		case given[q.flag]:
			why := orDefault(*reason, "set by starter throttle")
			if err := control.SetActivityRateLimit(ctx, c, tf.namespace, q.tq, *rates[q.flag], why); err != nil {
				return fail(io, "%v", err)
			}
			changed = true
		case *reset:
			why := orDefault(*reason, "reset by starter throttle")
			if err := control.ResetActivityRateLimit(ctx, c, tf.namespace, q.tq, why); err != nil {
				return fail(io, "%v", err)
			}
			changed = true
		}
	}
	if *asJSON {
		rates, err := ratesJSON(ctx, c, tf.namespace)
		if err != nil {
			return fail(io, "%v", err)
		}
		return writeJSON(io, struct {
			Namespace string     `json:"namespace"`
			Changed   bool       `json:"changed"`
			Rates     []rateJSON `json:"rates"`
		}{tf.namespace, changed, rates})
	}
	if err := printRates(ctx, io.Out, c, tf.namespace); err != nil {
		return fail(io, "%v", err)
	}
	if !changed {
		fmt.Fprintln(io.Err, "(no change: pass --okta-rps, --okta-create-rps or --graph-rps to set a rate, --reset to remove one)")
	}
	return ExitOK
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// printRates writes, for each rate-limited task queue, the rate the server
// enforces and where it comes from.
func printRates(ctx context.Context, w io.Writer, c client.Client, namespace string) error {
	for _, q := range rateQueues {
		r, err := control.DescribeActivityRate(ctx, c, namespace, q.tq)
		if err != nil {
			return err
		}
		fmt.Fprintln(w, formatRate(q, r))
	}
	return nil
}

// formatRate renders one queue's rate on one line (two when the workers
// disagree or are overridden).
func formatRate(q rateQueue, r control.QueueRate) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-11s %s: ", q.name, q.tq)
	workers := r.WorkerRates()
	switch {
	case r.Tuned != nil:
		fmt.Fprintf(&b, "%.2f requests/s (%.0f/min), learned from Okta's rate-limit headers: this API token may make %d/min "+
			"in Okta's %s bucket, the workers aim at %s%% of it", r.Override.RPS, r.Override.RPS*60, r.Tuned.LimitPerMin,
			r.Tuned.Bucket, r.Tuned.TargetPercent())
		if len(workers) > 0 {
			fmt.Fprintf(&b, "\n            under the workers' %s (%s); pin another rate with starter throttle --%s", q.env, joinRates(workers), q.flag)
		}
	case r.Override != nil:
		fmt.Fprintf(&b, "%.2f requests/s (%.0f/min), set by starter throttle", r.Override.RPS, r.Override.RPS*60)
		if !r.Override.At.IsZero() {
			fmt.Fprintf(&b, " at %s", r.Override.At.Local().Format(time.RFC3339))
		}
		if r.Override.Reason != "" {
			fmt.Fprintf(&b, " (%q)", r.Override.Reason)
		}
		b.WriteString(", pinned")
		if r.Override.RPS == 0 {
			b.WriteString(": PAUSED")
		}
		if len(workers) > 0 {
			fmt.Fprintf(&b, "\n            the workers' %s (%s) is not applied until starter throttle --reset", q.env, joinRates(workers))
			if q.tuned {
				b.WriteString(", nor the rate they learn from Okta's headers")
			}
		}
	case r.Source == control.RateFromWorkers && len(workers) > 1:
		fmt.Fprintf(&b, "%.2f requests/s (%.0f/min) for now: the workers disagree", r.Effective, r.Effective*60)
		fmt.Fprintf(&b, "\n            workers ask for %s: the server applies the rate of whichever polled last; "+
			"give them the same %s, or pin one with starter throttle --%s", joinRates(workers), q.env, q.flag)
	case r.Source == control.RateFromWorkers:
		fmt.Fprintf(&b, "%.2f requests/s (%.0f/min), the workers' %s (configured)", r.Effective, r.Effective*60, q.env)
	case len(workers) == 0:
		fmt.Fprintf(&b, "no worker polled recently, no rate set by starter throttle")
	default:
		fmt.Fprintf(&b, "%.2f requests/s (%.0f/min), %s", r.Effective, r.Effective*60, r.Source)
	}
	if r.Backlog > 0 {
		fmt.Fprintf(&b, "; %d waiting", r.Backlog)
	}
	return b.String()
}

func joinRates(rates []float64) string {
	s := make([]string, len(rates))
	for i, r := range rates {
		s[i] = fmt.Sprintf("%g/s", r)
	}
	return strings.Join(s, ", ")
}
