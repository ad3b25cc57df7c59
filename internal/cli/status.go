package cli

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/settings"

	"entra2okta/workflows"
)

// printCounts writes a per-state table, with the import rate and an ETA when
// a previous snapshot is given.
func printCounts(w io.Writer, batch string, now control.StateCounts, prev *control.StateCounts, oktaRPS float64) {
	title := "all batches"
	if batch != "" {
		title = "batch " + batch
	}
	fmt.Fprintf(w, "%s — %d users (%s)\n", title, now.Total, now.At.Format(time.RFC3339))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	for _, st := range workflows.States() {
		n := now.States[st]
		pct := 0.0
		if now.Total > 0 {
			pct = 100 * float64(n) / float64(now.Total)
		}
		fmt.Fprintf(tw, "%s\t%d\t%5.1f%%\t%s\t\n", st, n, pct, bar(pct, 30))
	}
	_ = tw.Flush()
	remaining := now.States[workflows.StatePending] + now.States[workflows.StateImporting]
	if prev != nil && now.At.After(prev.At) {
		rate := float64(now.Imported()-prev.Imported()) / now.At.Sub(prev.At).Minutes()
		fmt.Fprintf(w, "import rate: %.0f users/min", rate)
		if rate > 0 && remaining > 0 {
			fmt.Fprintf(w, ", imports done in ~%s", (time.Duration(float64(remaining) / rate * float64(time.Minute))).Round(time.Second))
		}
		fmt.Fprintln(w)
	} else if remaining > 0 && oktaRPS > 0 {
		// ≤ 2 Okta writes per new user: the configured rate bounds the ETA.
		eta := time.Duration(float64(remaining) * 2 / oktaRPS * float64(time.Second))
		fmt.Fprintf(w, "%d users still to import; at %.1f Okta requests/s: ~%s\n", remaining, oktaRPS, eta.Round(time.Second))
	}
}

func bar(pct float64, width int) string {
	n := int(pct / 100 * float64(width))
	if n > width {
		n = width
	}
	return strings.Repeat("█", n) + strings.Repeat("·", width-n)
}

func runStatus(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("status", "status [--batch NAME] [--watch] [--interval 5s]\n\n"+
		"Counts of users per state, then the rate limit in force on each task queue and where it\n"+
		"comes from: pinned by starter throttle (with its reason and time), learned by the workers\n"+
		"from Okta's rate-limit headers (the Okta queues), or the workers' configured rate.", io)
	var tf temporalFlags
	tf.register(fs, env)
	batch := fs.String("batch", "", "batch name (default: all batches)")
	uiURL := new(string)
	ui := settings.Attach(fs)
	declareUIURL(ui, uiURL)
	if err := ui.ApplyEnv(env); err != nil {
		return usageErr(io, "%v", err)
	}
	watch := fs.Bool("watch", false, "refresh until every user is in a final state or Ctrl-C")
	interval := fs.Duration("interval", 5*time.Second, "refresh interval with --watch")
	asJSON := fs.Bool("json", false, "one JSON document on stdout: counts per state, the Web UI link and each queue's rate (not with --watch)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *asJSON && *watch {
		return usageErr(io, "--json writes one document: not with --watch")
	}
	if *batch != "" {
		if err := checkBatchName(*batch); err != nil {
			return usageErr(io, "%v", err)
		}
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	var prev *control.StateCounts
	for {
		sc, err := control.CountStates(ctx, c, tf.namespace, *batch)
		if err != nil {
			return fail(io, "%v", err)
		}
		if *asJSON {
			rates, err := ratesJSON(ctx, c, tf.namespace)
			if err != nil {
				return fail(io, "%v", err)
			}
			if code := writeJSON(io, newStatusJSON(tf.namespace, *batch, *uiURL, sc, rates)); code != ExitOK {
				return code
			}
			if sc.States[workflows.StateFailed] > 0 {
				return ExitFailures
			}
			return ExitOK
		}
		// The rate the server enforces now on the Okta queue: starter
		// throttle's or the workers' tuner's override if one is set, else
		// the workers' OKTA_RPS.
		var rps float64
		if r, err := control.DescribeActivityRate(ctx, c, tf.namespace, workflows.OktaTaskQueue); err == nil && r.Source != control.RateFromServer {
			rps = r.Effective
		}
		printCounts(io.Out, *batch, sc, prev, rps)
		if prev == nil {
			printWebUILinks(io.Out, *uiURL, tf.namespace, *batch, sc)
		}
		if *batch != "" {
			printBatchProgress(ctx, io.Out, c, *batch)
		}
		fmt.Fprintln(io.Out, "rate limits (server-enforced, all workers):")
		if err := printRates(ctx, io.Out, c, tf.namespace); err != nil {
			return fail(io, "%v", err)
		}
		if !*watch || (sc.Total > 0 && sc.Done() == sc.Total) {
			if sc.States[workflows.StateFailed] > 0 {
				return ExitFailures
			}
			return ExitOK
		}
		prev = &sc
		select {
		case <-ctx.Done():
			return ExitOK
		case <-time.After(*interval):
		}
		fmt.Fprintln(io.Out)
	}
}

// printWebUILinks prints links to the Temporal Web UI's list of the batch's
// users, all of them and those of each state that has any: each user's page
// there shows its state, the reason and its deadline (the workflow's current
// details).
func printWebUILinks(w io.Writer, base, namespace, batch string, sc control.StateCounts) {
	if base == "" || base == "off" {
		return
	}
	who := "every batch"
	if batch != "" {
		who = "batch " + batch
	}
	fmt.Fprintf(w, "Web UI, users of %s: %s\n", who, control.WebUIUsersURL(base, namespace, batch, ""))
	for _, st := range workflows.States() {
		if n := sc.States[st]; n > 0 {
			fmt.Fprintf(w, "  %s (%d): %s\n", st, n, control.WebUIUsersURL(base, namespace, batch, st))
		}
	}
}

// printBatchProgress prints the batch workflow's own view: what it listed and
// started, its window, its runs, and the users it counts as ended without a
// report. Nothing when the batch has no workflow (users started by events).
func printBatchProgress(ctx context.Context, w io.Writer, c client.Client, batch string) {
	p, err := control.BatchProgress(ctx, c, batch)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "batch workflow: listed %d, started %d, importing %d, %d runs", p.Listed, p.Started, p.Importing, p.Runs)
	for _, st := range workflows.ClosedStatuses() {
		if n := p.Unreported[st]; n > 0 {
			fmt.Fprintf(w, ", %s without report %d", strings.ToLower(st), n)
		}
	}
	for _, x := range []struct {
		n    int
		what string
	}{{p.AlreadyRunning, "already migrating elsewhere"}, {p.StartFailures, "not started"}, {p.NotInEntra, "not in Entra"},
		{p.ForeignReports, "reports from another run ignored"}} {
		if x.n > 0 {
			fmt.Fprintf(w, ", %s %d", x.what, x.n)
		}
	}
	fmt.Fprintln(w)
	if p.LastError != "" {
		fmt.Fprintf(w, "batch workflow's last error: %s\n", p.LastError)
	}
}
