package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/settings"
	"entra2okta/workflows"
)

// campaignBatch is the campaign's batch name (each run has a dev server of
// its own, so one name never meets an earlier batch).
const campaignBatch = "campaign"

// campaignOptions configure campaign (the flags of bench campaign).
type campaignOptions struct {
	Users int
	// HistoryLimit is MigrateBatchInput.HistoryLimit (0: autoHistoryLimit).
	HistoryLimit int
	// SweepEvery, DeadlineAfter (0: autoDeadlineAfter), DeadlineSpread and
	// Policy go to the batch's input.
	SweepEvery     time.Duration
	DeadlineAfter  time.Duration
	DeadlineSpread time.Duration
	Policy         workflows.DeadlinePolicy
	Window, Page   int
	// Source is csv, logins or all.
	Source string
	// FailPct, TerminatePct and SkipPct are percentages of the users made to
	// end abnormally; SignInPct is the percentage of the others who sign in
	// (the rest wait for the deadline).
	FailPct, TerminatePct, SkipPct, SignInPct float64
	// Baseline is how many trivial workflows the baseline runs (0:
	// min(Users, 2,000); negative: no baseline).
	Baseline int
	// HistorySample is how many users' histories are measured.
	HistorySample int
	// Actors is how many users the bench acts on at once (sign-ins, skips, terminations).
	Actors int
	// Timeout bounds the whole run (0: autoTimeout); Stall stops it when
	// nothing moved for that long after the deadline.
	Timeout, Stall time.Duration
	WorkerLog      string
	LogEvery       time.Duration
	Seed           uint64
}

// defaultCampaignOptions are the flags' defaults.
func defaultCampaignOptions() campaignOptions {
	return campaignOptions{Users: 20_000, SweepEvery: 5 * time.Second, DeadlineSpread: 10 * time.Second,
		Policy: workflows.PolicyExpirePassword, Window: 300, Page: 250, Source: "csv",
		FailPct: 2, TerminatePct: 2, SkipPct: 2, SignInPct: 70, HistorySample: 100, Actors: 32,
		Stall: 3 * time.Minute, LogEvery: 15 * time.Second, Seed: 1}
}

// autoHistoryLimit is the default HistoryLimit: low enough that the batch
// continues as new dozens of times in both phases. The batch spends about
// 8.6 events per user over the whole campaign (measured at 300 users: the
// child's start, its reports, the workflow tasks, the sweeps), so N/10 gives
// about 86 runs at any N, split between the listing and the waiting. The
// floor keeps a run long enough for a window's work.
func autoHistoryLimit(users int) int { return max(300, users/10) }

// autoDeadlineAfter is the default deadline: the import at 10 users/s (about
// half of what the stack reaches on 2 cores) plus a minute, so that most users
// are imported before it and the chosen ones have signed in.
func autoDeadlineAfter(users int) time.Duration {
	return time.Minute + time.Duration(users)*time.Second/10
}

// campaignFigures is the campaign benchmark's JSON line.
type campaignFigures struct {
	Bench string `json:"bench"`
	Users int    `json:"users"`
	// BatchCompleted: the batch workflow completed. BatchCountsMatchVisibility:
	// every state's count in the batch equals the users' own search
	// attributes (see countsCheck), and LostReports is the total absolute
	// difference.
	BatchCompleted             bool   `json:"batch_completed"`
	BatchStatus                string `json:"batch_status"`
	BatchCountsMatchVisibility bool   `json:"batch_counts_match_visibility"`
	LostReports                int    `json:"lost_reports"`
	// PendingChildrenMax is the most pending child workflows a batch run had
	// (DescribeWorkflowExecution, sampled every second).
	PendingChildrenMax   int            `json:"pending_children_max"`
	HistoryEventsPerUser historyFigures `json:"history_events_per_user"`
	// UsersPerS: users that reached AwaitingSignIn or ended, per second, from
	// the batch's start to the last of them (visibility, sampled every second).
	UsersPerS float64 `json:"users_per_s"`
	// BaselineWfPerS: trivial workflows (three no-op activities) per second
	// at the batch's window concurrency, on the same dev server: the faster
	// of two baselines, one before the batch and one after it, so that a
	// disturbance of either (other work on the machine) cannot flatter
	// StackEfficiency.
	BaselineWfPerS  float64 `json:"baseline_wf_per_s"`
	StackEfficiency float64 `json:"stack_efficiency"`
	BatchRuns       int     `json:"batch_runs"`
	// BatchRunsListing is how many runs the listing took (the run that
	// finished it included); BatchRunsWaiting the runs from that one on.
	BatchRunsListing int `json:"batch_runs_listing"`
	BatchRunsWaiting int `json:"batch_runs_waiting"`
	// The users' ends, from visibility.
	FailedUsers int     `json:"failed_users"`
	Terminated  int     `json:"terminated"`
	Skipped     int     `json:"skipped"`
	SignedIn    int     `json:"signed_in"`
	Expired     int     `json:"expired"`
	WallS       float64 `json:"wall_s"`

	Counts       []stateCount   `json:"counts"`
	Unreported   map[string]int `json:"batch_unreported,omitempty"`
	UnreportedVS int            `json:"visibility_unreported"`
	Sweeps       int            `json:"batch_sweeps"`
	Foreign      int            `json:"batch_foreign_reports"`
	Started      int            `json:"batch_started"`
	StartFailed  int            `json:"batch_start_failures"`
	BatchError   string         `json:"batch_error,omitempty"`
	Injected     injected       `json:"injected"`
	ImportS      float64        `json:"import_s"`
	ListingDoneS float64        `json:"listing_done_s"`
	DeadlineS    float64        `json:"deadline_s"`
	Imported     int            `json:"imported"`
	Baseline     baselineResult `json:"baseline"`
	BaselineEnd  baselineResult `json:"baseline_after_batch"`
	Config       campaignConfig `json:"config"`
	WorkerRSSMB  float64        `json:"worker_peak_rss_mb"`
	Stopped      string         `json:"stopped"`
	GOMAXPROCS   int            `json:"gomaxprocs"`
	LoadBefore   string         `json:"loadavg_before"`
	LoadAfter    string         `json:"loadavg_after"`
	Note         string         `json:"note"`
}

// historyFigures are the events of both workflows per user.
type historyFigures struct {
	// Batch is the sum of the events of all the batch's runs / users.
	Batch       float64 `json:"batch"`
	BatchEvents int64   `json:"batch_events"`
	// User is the mean, over a sample of users, of the events of all of a
	// user's runs.
	User       float64 `json:"user"`
	UserSample int     `json:"user_sample"`
	UserMax    int64   `json:"user_max"`
}

// stateCount is one state's count in the batch and in visibility.
type stateCount struct {
	State      string `json:"state"`
	Batch      int    `json:"batch"`
	Visibility int    `json:"visibility"`
}

// injected is what the bench did to the users, and what came of it.
type injected struct {
	// CreateFaults: creates fakeokta was told to fail with a non-retryable
	// 400; CreateFaultsServed: creates that got one.
	CreateFaults       int `json:"create_faults"`
	CreateFaultsServed int `json:"create_faults_served"`
	// Planned and Done per action; Missed: the user had already ended (or
	// its create failed) when the action was due; Errors: the action failed.
	Planned  map[string]int `json:"planned"`
	Done     map[string]int `json:"done"`
	Missed   map[string]int `json:"missed,omitempty"`
	Errors   map[string]int `json:"errors,omitempty"`
	FirstErr string         `json:"first_error,omitempty"`
}

type campaignConfig struct {
	HistoryLimit    int     `json:"history_limit"`
	SweepEveryS     float64 `json:"sweep_every_s"`
	DeadlineAfterS  float64 `json:"deadline_after_s"`
	DeadlineSpreadS float64 `json:"deadline_spread_s"`
	Policy          string  `json:"policy"`
	Window          int     `json:"window"`
	Page            int     `json:"page"`
	Source          string  `json:"source"`
}

// runCampaign is bench campaign: flags, campaign, one JSON line.
func runCampaign(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := defaultCampaignOptions()
	if err := parseCampaignOptions(&o, args, stderr); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	fig, err := campaign(ctx, o, log)
	if err != nil {
		return err
	}
	out, err := json.Marshal(fig)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, string(out)); err != nil {
		return err
	}
	if !fig.BatchCompleted || !fig.BatchCountsMatchVisibility {
		return fmt.Errorf("campaign: batch %s (completed: %t), counts match visibility: %t, lost reports: %d (stopped: %s)",
			fig.BatchStatus, fig.BatchCompleted, fig.BatchCountsMatchVisibility, fig.LostReports, fig.Stopped)
	}
	return nil
}

// parseCampaignOptions declares bench campaign's settings over o, whose
// values are their defaults, and parses args.
func parseCampaignOptions(o *campaignOptions, args []string, stderr io.Writer) error {
	s := newSettings("bench campaign", stderr)
	s.Int(&o.Users, settings.Setting{Flag: "users", Help: "users in the campaign (all new to Okta, all eligible)"})
	s.Int(&o.HistoryLimit, settings.Setting{Flag: "history-limit", Help: "the batch's continue-as-new threshold, MigrateBatchInput.HistoryLimit (0: max(300, users/10))"})
	s.Duration(&o.SweepEvery, settings.Setting{Flag: "sweep-every", Help: "MigrateBatchInput.SweepEvery"})
	s.Duration(&o.DeadlineAfter, settings.Setting{Flag: "deadline-after", Help: "MigrateBatchInput.DeadlineAfter (0: 1 min + users/10 s)"})
	s.Duration(&o.DeadlineSpread, settings.Setting{Flag: "deadline-spread", Help: "MigrateBatchInput.DeadlineSpread"})
	s.String((*string)(&o.Policy), settings.Setting{Flag: "policy", Help: "deadline policy: none, expire-password, reset-password, deactivate"})
	s.Int(&o.Window, settings.Setting{Flag: "window", Help: "MigrateBatch window size (and the baseline's concurrency)"})
	s.Int(&o.Page, settings.Setting{Flag: "page", Help: "page size of the source"})
	s.String(&o.Source, settings.Setting{Flag: "source", Help: "csv (a CSV of the logins), logins (inline, at most 5,000) or all (every user of the tenant)"})
	s.Float(&o.FailPct, settings.Setting{Flag: "fail-pct", Help: "percent of users whose Okta create fails non-retryably (fakeokta fault injection)"})
	s.Float(&o.TerminatePct, settings.Setting{Flag: "terminate-pct", Help: "percent of users whose MigrateUser is terminated (half while importing, half while waiting)"})
	s.Float(&o.SkipPct, settings.Setting{Flag: "skip-pct", Help: "percent of users skipped (half while importing, half while waiting)"})
	s.Float(&o.SignInPct, settings.Setting{Flag: "signin-pct", Help: "percent of the other users who sign in; the rest reach the deadline"})
	s.Int(&o.Baseline, settings.Setting{Flag: "baseline", Help: "trivial workflows in the baseline (0: min(users, 2000); negative: none)"})
	s.Int(&o.HistorySample, settings.Setting{Flag: "history-sample", Help: "users whose histories are measured"})
	s.Int(&o.Actors, settings.Setting{Flag: "actors", Help: "users acted on at once (sign-ins, skips, terminations)"})
	s.Duration(&o.Timeout, settings.Setting{Flag: "timeout", Help: "give up after this long (0: deadline + spread + 10 min + users/2 s)"})
	s.Duration(&o.Stall, settings.Setting{Flag: "stall", Help: "stop when the batch's counts did not move for this long after the deadline"})
	s.String(&o.WorkerLog, settings.Setting{Flag: "worker-log", Help: "file for the worker's log (default: discarded)"})
	s.Duration(&o.LogEvery, settings.Setting{Flag: "log-every", Help: "progress line interval on stderr"})
	s.Uint64(&o.Seed, settings.Setting{Flag: "seed", Help: "seed of the choice of users to act on"})
	return parseFlags(s, args)
}

// campaign runs the baseline, then one batch of o.Users users through the
// real worker process against fakeokta (no rate limit) with the abnormal
// ends injected, until the batch completes (or stalls, or the time is up),
// and measures it. An error means the campaign could not be run; a batch
// that did not complete or whose counts are wrong is in the figures.
func campaign(ctx context.Context, o campaignOptions, log *slog.Logger) (campaignFigures, error) {
	var fig campaignFigures
	if err := o.complete(); err != nil {
		return fig, err
	}
	r := &campaignRun{o: o, log: log, began: time.Now(), fig: &fig}
	fig = campaignFigures{Bench: "campaign", Users: o.Users, GOMAXPROCS: runtime.GOMAXPROCS(0), LoadBefore: loadAvg(),
		Config: campaignConfig{HistoryLimit: o.HistoryLimit, SweepEveryS: o.SweepEvery.Seconds(), DeadlineAfterS: o.DeadlineAfter.Seconds(),
			DeadlineSpreadS: o.DeadlineSpread.Seconds(), Policy: string(o.Policy), Window: o.Window, Page: o.Page, Source: o.Source},
		Note: "dev server (in memory), emulators, hook server and bench share the machine's CPUs; the worker runs as its own process"}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()

	plan := planCampaign(o)
	watch := newCreateWatch(plan.actions)
	key := make([]byte, 12)
	_, _ = rand.Read(key)
	password := func(i int) string { return fmt.Sprintf("Cmp-%x-%d!", key, i) }
	st, err := startStack(ctx, log, stackOptions{
		Users: o.Users, Password: password, NoOktaLimits: true, OnCreate: watch.observe, WorkerLog: o.WorkerLog,
		// fakeokta has no limit; neither has the worker, beyond its own
		// concurrency (Okta allows 75 concurrent calls per org).
		WorkerEnv: []string{"OKTA_RPS=100000", "OKTA_CREATE_RPS=100000", "GRAPH_RPS=100000", "OKTA_CONCURRENCY=50"},
	})
	if err != nil {
		return fig, err
	}
	defer st.Close()
	r.st, r.c = st, st.client()
	if err := r.baseline(ctx, "bench-baseline-", "", &fig.Baseline); err != nil {
		return fig, err
	}
	fig.BaselineWfPerS = fig.Baseline.PerS
	cleanup, err := r.startBatch(ctx)
	if err != nil {
		return fig, err
	}
	defer cleanup()

	r.actors = newActors(st, o, watch, password)
	r.actors.deadline = r.batchStart.Add(o.DeadlineAfter)
	actx, stopActors := context.WithCancel(ctx)
	actorsDone := r.actors.run(actx, plan.actions)
	defer func() { stopActors(); <-actorsDone }()
	r.s = &campaignSampler{c: r.c, ns: st.srv.Namespace(), batchStart: r.batchStart, faults: plan.faultTranches(o.Users)}
	r.watch(ctx)
	stopActors()
	<-actorsDone
	fig.LoadAfter = loadAvg()

	if err := r.measure(ctx); err != nil {
		return fig, err
	}
	fig.Injected = r.actors.report()
	fig.Injected.CreateFaults = plan.failures
	fig.Injected.CreateFaultsServed = watch.faultsServed()
	fig.WallS = time.Since(r.began).Seconds()
	return fig, nil
}

// campaignRun is one campaign under way: its stack, batch, actors and
// sampler, and the batch's result once it ended.
type campaignRun struct {
	o                 campaignOptions
	log               *slog.Logger
	fig               *campaignFigures
	began, batchStart time.Time
	st                *benchStack
	c                 client.Client
	actors            *campaignActors
	s                 *campaignSampler
	result            workflows.MigrateBatchResult
	batchErr          error
}

// baseline runs -baseline trivial workflows (none when it is not positive)
// into *res; when names a moment other than the first ("after the batch").
func (r *campaignRun) baseline(ctx context.Context, idPrefix, when string, res *baselineResult) error {
	if r.o.Baseline <= 0 {
		return nil
	}
	if when == "" {
		r.log.Info("baseline: trivial workflows of three no-op activities", "workflows", r.o.Baseline, "concurrency", r.o.Window)
	} else {
		r.log.Info("baseline "+when, "workflows", r.o.Baseline)
	}
	var err error
	if *res, err = runBaseline(ctx, r.c, idPrefix, r.o.Baseline, r.o.Window); err != nil {
		if when != "" {
			return fmt.Errorf("baseline %s: %w", when, err)
		}
		return fmt.Errorf("baseline: %w", err)
	}
	r.log.Info("baseline done", "wf_per_s", fmt.Sprintf("%.1f", res.PerS))
	return nil
}

// startBatch writes the source and starts the batch; cleanup removes the
// source's file.
func (r *campaignRun) startBatch(ctx context.Context) (cleanup func(), err error) {
	o := r.o
	source, err := campaignSource(o)
	if err != nil {
		return nil, err
	}
	cleanup = func() {}
	if source.CSV != nil {
		cleanup = func() { os.Remove(source.CSV.Path) }
	}
	in := workflows.MigrateBatchInput{Batch: campaignBatch, Source: source, DeadlineAfter: o.DeadlineAfter, Policy: o.Policy,
		WindowSize: o.Window, PageSize: o.Page, HistoryLimit: o.HistoryLimit, SweepEvery: o.SweepEvery, DeadlineSpread: o.DeadlineSpread}
	if _, err := startBatchWhenReady(ctx, r.c, in); err != nil {
		cleanup()
		return nil, err
	}
	r.batchStart = time.Now()
	r.log.Info("campaign started", "users", o.Users, "history_limit", o.HistoryLimit, "deadline_after", o.DeadlineAfter,
		"window", o.Window, "page", o.Page, "source", o.Source, "timeout", o.Timeout)
	return cleanup, nil
}

// watch samples the batch every second until it ends, or its counts did not
// move for -stall after the deadline, or the time is up, and sets
// fig.Stopped.
func (r *campaignRun) watch(ctx context.Context) {
	o, s, fig := r.o, r.s, r.fig
	done := make(chan error, 1)
	go func() { done <- r.c.GetWorkflow(ctx, workflows.BatchWorkflowID(campaignBatch), "").Get(ctx, &r.result) }()
	deadlineAt := r.batchStart.Add(o.DeadlineAfter + o.DeadlineSpread)
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastLog, lastMove, lastSig := time.Now(), time.Now(), ""
	fig.Stopped = "completed"
	for {
		select {
		case r.batchErr = <-done:
			if r.batchErr != nil {
				fig.Stopped = "batch failed"
			}
			return
		case <-ctx.Done():
			fig.Stopped = "timeout"
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				fig.Stopped = "interrupted"
			}
			return
		case <-tick.C:
		}
		r.st.samplePeak()
		s.sample(ctx, r.st)
		r.actors.listed.Store(int64(s.progress.Listed))
		if sig := progressSignature(s.progress); sig != lastSig {
			lastSig, lastMove = sig, time.Now()
		}
		if time.Since(lastLog) >= o.LogEvery {
			lastLog = time.Now()
			p := s.progress
			r.log.Info("progress", "elapsed", time.Since(r.began).Round(time.Second), "listed", p.Listed, "started", p.Started,
				"imported", s.imported, "states", statesString(p.States), "unreported", p.Unreported, "runs", p.Runs,
				"pending_children", s.pendingNow, "acted", r.actors.finished.Load(), "load", loadAvg())
		}
		if s.progress.ListingDone && time.Now().After(deadlineAt.Add(2*o.SweepEvery)) && time.Since(lastMove) >= o.Stall {
			fig.Stopped = "stalled"
			r.log.Warn("the batch's counts did not move", "for", o.Stall)
			return
		}
	}
}

// measure reads the figures after the run, on a context of its own: the
// batch's end, its counts against visibility, the rates, the baseline
// after the batch and the histories.
func (r *campaignRun) measure(ctx context.Context) error {
	fig, s, o := r.fig, r.s, r.o
	qctx, qcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer qcancel()
	final := r.batchEnd(qctx)
	r.st.stopWorker()
	fig.WorkerRSSMB = r.st.workerPeakRSSMB()

	vis, err := settledVisibility(qctx, r.c, r.st.srv.Namespace(), campaignBatch, final.Started)
	if err != nil {
		return err
	}
	fig.Counts, fig.LostReports = compareCounts(final, vis)
	fig.BatchCountsMatchVisibility = fig.LostReports == 0
	fig.Unreported, fig.UnreportedVS = final.Unreported, vis.unreported
	fig.FailedUsers, fig.Terminated = vis.states[workflows.StateFailed], vis.terminated
	fig.Skipped, fig.SignedIn, fig.Expired = vis.states[workflows.StateSkipped], vis.states[workflows.StateMigrated], vis.states[workflows.StateExpired]
	fig.Sweeps, fig.Foreign, fig.Started, fig.StartFailed = final.Sweeps, final.ForeignReports, final.Started, final.StartFailures
	fig.BatchRuns = final.Runs
	if s.runsListing > 0 {
		fig.BatchRunsListing = s.runsListing
		fig.BatchRunsWaiting = final.Runs - s.runsListing + 1
	}
	fig.PendingChildrenMax = s.pendingMax
	fig.DeadlineS = o.DeadlineAfter.Seconds()
	fig.ListingDoneS = -1
	if !s.listingDone.IsZero() {
		fig.ListingDoneS = s.listingDone.Sub(r.batchStart).Seconds()
	}
	fig.Imported, fig.ImportS = s.importedAt()
	if fig.ImportS > 0 {
		fig.UsersPerS = float64(fig.Imported) / fig.ImportS
	}
	if o.Baseline > 0 && fig.BatchCompleted {
		if err := r.baseline(ctx, "bench-baseline-after-", "after the batch", &fig.BaselineEnd); err != nil {
			return err
		}
		fig.BaselineWfPerS = max(fig.BaselineWfPerS, fig.BaselineEnd.PerS)
	}
	if fig.BaselineWfPerS > 0 {
		fig.StackEfficiency = fig.UsersPerS / fig.BaselineWfPerS
	}
	fig.HistoryEventsPerUser, err = measureHistories(qctx, r.c, r.st.srv.Namespace(), o)
	return err
}

// batchEnd records how the batch ended and returns its final progress: its
// result's when it completed, else what it answers now (else the last
// sample).
func (r *campaignRun) batchEnd(qctx context.Context) workflows.BatchProgress {
	fig := r.fig
	final := r.s.progress
	if r.batchErr == nil && fig.Stopped == "completed" {
		final = r.result.Progress
	} else if p, err := control.BatchProgress(qctx, r.c, campaignBatch); err == nil {
		final = p
	}
	if r.batchErr != nil {
		fig.BatchError = r.batchErr.Error()
	}
	if d, err := r.c.DescribeWorkflowExecution(qctx, workflows.BatchWorkflowID(campaignBatch), ""); err == nil {
		status := d.GetWorkflowExecutionInfo().GetStatus()
		fig.BatchStatus = strings.TrimPrefix(status.String(), "WORKFLOW_EXECUTION_STATUS_")
		fig.BatchCompleted = status == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED
	}
	return final
}

// complete validates the options and fills in the automatic values.
func (o *campaignOptions) complete() error {
	if o.Users < 1 || o.Window < 1 || o.Page < 1 || o.Actors < 1 || o.HistorySample < 1 {
		return errors.New("users, window, page, actors and history-sample must be positive")
	}
	for _, p := range []float64{o.FailPct, o.TerminatePct, o.SkipPct, o.SignInPct} {
		if p < 0 || p > 100 {
			return errors.New("percentages must be within 0-100")
		}
	}
	if o.FailPct+o.TerminatePct+o.SkipPct > 50 {
		return errors.New("fail, terminate and skip percentages add up to more than 50")
	}
	if !o.Policy.Valid() {
		return fmt.Errorf("unknown policy %q", o.Policy)
	}
	switch o.Source {
	case "csv", "all":
	case "logins":
		if o.Users > entra.MaxInlineLogins {
			return fmt.Errorf("-source logins holds at most %d users; use csv", entra.MaxInlineLogins)
		}
	default:
		return fmt.Errorf("unknown source %q (csv, logins, all)", o.Source)
	}
	if o.HistoryLimit == 0 {
		o.HistoryLimit = autoHistoryLimit(o.Users)
	}
	if o.DeadlineAfter == 0 {
		o.DeadlineAfter = autoDeadlineAfter(o.Users)
	}
	if o.Baseline == 0 {
		o.Baseline = min(o.Users, 2000)
	}
	if o.Timeout == 0 {
		o.Timeout = o.DeadlineAfter + max(o.DeadlineSpread, 0) + 10*time.Minute + time.Duration(o.Users)*time.Second/2
	}
	return nil
}

// campaignSource writes the logins to a CSV (or lists them inline) as -source says.
func campaignSource(o campaignOptions) (entra.Source, error) {
	logins := make([]string, o.Users)
	for i := range logins {
		logins[i] = benchLogin(i)
	}
	switch o.Source {
	case "all":
		return entra.Source{All: true}, nil
	case "logins":
		return entra.Source{Logins: logins}, nil
	}
	var b strings.Builder
	b.WriteString("login\n")
	for _, l := range logins {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	f, err := os.CreateTemp("", "bench-campaign-*.csv")
	if err != nil {
		return entra.Source{}, err
	}
	if _, err := f.WriteString(b.String()); err != nil {
		_ = f.Close()
		return entra.Source{}, err
	}
	if err := f.Close(); err != nil {
		return entra.Source{}, err
	}
	sum := sha256.Sum256([]byte(b.String()))
	path, err := filepath.Abs(f.Name())
	if err != nil {
		return entra.Source{}, err
	}
	return entra.Source{CSV: &entra.CSVFile{Path: path, SHA256: hex.EncodeToString(sum[:]), Rows: o.Users}}, nil
}

// The actions the bench takes on chosen users.
const (
	actSignIn         = "sign_in"
	actTerminateEarly = "terminate_importing"
	actTerminateLate  = "terminate_waiting"
	actSkipEarly      = "skip_importing"
	actSkipLate       = "skip_waiting"
)

// early reports whether an action is taken as soon as the user's workflow
// runs (before its import), rather than once it awaits the sign-in.
func early(kind string) bool { return kind == actTerminateEarly || kind == actSkipEarly }

type campaignAction struct {
	i     int
	login string
	kind  string
}

type campaignPlan struct {
	actions  []campaignAction // in the order of the source
	failures int
}

// planCampaign chooses, with o.Seed, which users are terminated, skipped or
// sign in. The failures are not chosen by login: fakeokta fails that many
// creates, in four tranches spread over the import (faultTranches).
func planCampaign(o campaignOptions) campaignPlan {
	n := o.Users
	count := func(pct float64) int { return int(float64(n)*pct/100 + 0.5) }
	p := campaignPlan{failures: count(o.FailPct)}
	term, skip := count(o.TerminatePct), count(o.SkipPct)
	perm := mrand.New(mrand.NewPCG(o.Seed, 0x5eed)).Perm(n)
	kinds := make([]string, n)
	k := 0
	assign := func(m int, kind string) {
		for ; m > 0 && k < n; m-- {
			kinds[perm[k]] = kind
			k++
		}
	}
	assign(term/2, actTerminateEarly)
	assign(term-term/2, actTerminateLate)
	assign(skip/2, actSkipEarly)
	assign(skip-skip/2, actSkipLate)
	assign(int(float64(n-k)*o.SignInPct/100+0.5), actSignIn)
	for i, kind := range kinds {
		if kind != "" {
			p.actions = append(p.actions, campaignAction{i: i, login: benchLogin(i), kind: kind})
		}
	}
	return p
}

// faultTranche makes fakeokta fail the next n creates once threshold
// creates have succeeded.
type faultTranche struct{ threshold, n int }

// faultTranches spreads the failures over the import: after 5, 25, 45 and
// 65 % of the users' creates.
func (p campaignPlan) faultTranches(users int) []faultTranche {
	var ts []faultTranche
	left := p.failures
	for j, at := range []float64{0.05, 0.25, 0.45, 0.65} {
		n := p.failures / 4
		if j == 3 {
			n = left
		}
		left -= n
		if n > 0 {
			ts = append(ts, faultTranche{threshold: int(at * float64(users)), n: n})
		}
	}
	return ts
}

// progressSignature changes whenever the batch's counts do.
func progressSignature(p workflows.BatchProgress) string {
	return fmt.Sprintf("%d %d %v %v %d %t", p.Listed, p.Started, p.States, p.Unreported, p.Runs, p.ListingDone)
}

func statesString(m map[workflows.State]int) string {
	var parts []string
	for _, s := range workflows.States() {
		if m[s] != 0 {
			parts = append(parts, string(s)+"="+strconv.Itoa(m[s]))
		}
	}
	return strings.Join(parts, " ")
}

// campaignSampler reads the batch every second: its progress, its pending
// children, and how many users are past the import (visibility); and
// injects fakeokta's create faults as the creates pass their thresholds.
type campaignSampler struct {
	c          client.Client
	ns         string
	batchStart time.Time
	faults     []faultTranche

	progress    workflows.BatchProgress
	runsListing int
	listingDone time.Time
	pendingNow  int
	pendingMax  int
	// imported is the last count of users past the import; importedLast
	// when it last grew; importDone when it reached every started user
	// after the listing.
	imported     int
	importedLast time.Time
	importDone   time.Time
}

// importedQuery counts the users past the import phase: in a state after
// Importing, or closed (a user terminated while importing keeps its state).
func importedQuery(batch string) string {
	return usersQuery(batch, "(MigrationState NOT IN ('Pending', 'Importing') OR ExecutionStatus != 'Running')")
}

func usersQuery(batch string, extra ...string) string {
	q := append([]string{"WorkflowType = 'MigrateUser'", "MigrationBatch = '" + strings.ReplaceAll(batch, "'", "") + "'"}, extra...)
	return strings.Join(q, " AND ")
}

func (s *campaignSampler) sample(ctx context.Context, st *benchStack) {
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if p, err := control.BatchProgress(qctx, s.c, campaignBatch); err == nil {
		s.progress = p
		if p.ListingDone && s.runsListing == 0 {
			s.runsListing, s.listingDone = p.Runs, time.Now()
		}
	}
	if d, err := s.c.DescribeWorkflowExecution(qctx, workflows.BatchWorkflowID(campaignBatch), ""); err == nil {
		s.pendingNow = len(d.GetPendingChildren())
		s.pendingMax = max(s.pendingMax, s.pendingNow)
	}
	if s.importDone.IsZero() {
		resp, err := s.c.CountWorkflow(qctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: s.ns, Query: importedQuery(campaignBatch)})
		if err == nil {
			now := time.Now()
			if n := int(resp.GetCount()); n > s.imported {
				s.imported, s.importedLast = n, now
			}
			if s.progress.ListingDone && s.progress.Started > 0 && s.imported >= s.progress.Started {
				s.importDone = s.importedLast
			}
		}
	}
	for len(s.faults) > 0 && st.counter.created() >= s.faults[0].threshold {
		st.fo.InjectFault(fakeokta.RouteCreateUser, fakeokta.Fault{Status: 400, Code: "E0000001",
			Summary: "Api validation failed: injected by bench campaign", Times: s.faults[0].n})
		s.faults = s.faults[1:]
	}
}

// importedAt returns how many users were past the import and the seconds
// from the batch's start until the last of them (the import's end when it
// was seen, otherwise the last growth).
func (s *campaignSampler) importedAt() (int, float64) {
	end := s.importDone
	if end.IsZero() {
		end = s.importedLast
	}
	if end.IsZero() {
		return s.imported, 0
	}
	return s.imported, end.Sub(s.batchStart).Seconds()
}
