package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entra2okta/internal/control"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/settings"
	"entra2okta/workflows"
)

// bulkFigures is the bulk benchmark's JSON line.
type bulkFigures struct {
	Bench string `json:"bench"`
	// Topology is what the bench ran on: "dev" or "cluster" (-topology).
	Topology    string `json:"topology"`
	Users       int    `json:"users"`
	LimitPerMin int    `json:"limit_per_min"`
	// WritesPerMin is the steady-state rate of successful creates (POST
	// /api/v1/users): see SteadyState; LimitRatio is WritesPerMin / L.
	WritesPerMin float64 `json:"writes_per_min"`
	LimitRatio   float64 `json:"limit_ratio"`
	SteadyState  string  `json:"steady_state"`
	// TokenSharePct is the share of each bucket the worker's API token may
	// use (fakeokta's TokenRateShare); ShareLimitPerMin is the token's
	// create limit (what Okta's X-Rate-Limit-Limit shows it), ShareRatio is
	// WritesPerMin / ShareLimitPerMin.
	TokenSharePct    int     `json:"token_share_pct"`
	ShareLimitPerMin int     `json:"share_limit_per_min"`
	ShareRatio       float64 `json:"share_ratio"`
	// DefaultRates: the worker ran with its default OKTA_RPS, OKTA_CREATE_RPS,
	// GRAPH_RPS and OKTA_CONCURRENCY (and its rate tuner).
	DefaultRates bool `json:"default_rates"`
	// CreateQueue is the create queue's rate in force at the end and where it
	// came from; TunedAfter when the workers' tuner first set it (seconds
	// after the batch started, -1: never).
	CreateQueue bulkQueueRate `json:"create_queue"`
	// WritesPerMinOverall is first to last create; PeakWrites60s the most
	// creates in any 60 s span (fakeokta's window length).
	WritesPerMinOverall float64 `json:"writes_per_min_overall"`
	PeakWrites60s       int     `json:"peak_writes_60s"`
	OktaCallsPerUser    float64 `json:"okta_calls_per_user"`
	HTTP429             int     `json:"http_429"`
	// HTTP429ByRoute splits the 429s by route; the timeline says when
	// they came: seconds after the batch started.
	HTTP429ByRoute map[string]int `json:"http_429_by_route,omitempty"`
	Timeline       bulkTimeline   `json:"timeline_s"`
	// FailedUsers is Failed + never left Pending/Importing (per the users'
	// own MigrationState in visibility) + start failures.
	FailedUsers     int     `json:"failed_users"`
	WorkerPeakRSSMB float64 `json:"worker_peak_rss_mb"`

	Created        int              `json:"created"`
	NotCreated     int              `json:"not_created"`
	States         map[string]int64 `json:"states"`
	StuckExamples  []string         `json:"stuck_examples,omitempty"`
	BatchImporting int              `json:"batch_importing"`
	BatchLastError string           `json:"batch_last_error,omitempty"`
	// BatchUnreported are users whose start the batch's current run
	// initiated but from whom it received no report of leaving Importing:
	// candidates for a window slot never freed (only when BatchImporting > 0).
	BatchUnreported []string `json:"batch_unreported,omitempty"`
	// BatchRuns is how many runs the batch went through (continue-as-new).
	BatchRuns       int            `json:"batch_runs"`
	OktaCalls       int            `json:"okta_calls"`
	CallsPerRoute   map[string]int `json:"calls_per_route"`
	UsersPerSec     float64        `json:"users_per_sec"`
	OktaRPS         float64        `json:"okta_rps"`
	OktaCreateRPS   float64        `json:"okta_create_rps"`
	GetLimitPerMin  int            `json:"get_limit_per_min"`
	OktaConcurrency int            `json:"okta_concurrency"`
	WindowSize      int            `json:"window_size"`
	ImportSeconds   float64        `json:"import_seconds"`
	WallSeconds     float64        `json:"wall_seconds"`
	Stopped         string         `json:"stopped"`
	GOMAXPROCS      int            `json:"gomaxprocs"`
	LoadAvgBefore   string         `json:"loadavg_before"`
	LoadAvgAfter    string         `json:"loadavg_after"`
	Note            string         `json:"note"`
}

// bulkQueueRate is a task queue's rate as the Temporal server reports it.
type bulkQueueRate struct {
	RPS        float64 `json:"rps"`
	Source     string  `json:"source"`
	TunedAfter float64 `json:"tuned_after_s"`
}

// describeQueueRate renders q for the figures.
func describeQueueRate(q control.QueueRate) bulkQueueRate {
	r := bulkQueueRate{RPS: math.Round(q.Effective*1000) / 1000, Source: q.Source, TunedAfter: -1}
	switch {
	case q.Tuned != nil:
		r.Source = fmt.Sprintf("learned from Okta's headers: %s bucket, %d/min for this token, %s%%", q.Tuned.Bucket, q.Tuned.LimitPerMin, q.Tuned.TargetPercent())
	case q.Override != nil:
		r.Source = "pinned by starter throttle"
	case q.Source == control.RateFromWorkers:
		r.Source = "the workers' configured rate"
	}
	return r
}

// bulkTimeline is when things happened, in seconds after the batch started
// (-1: never).
type bulkTimeline struct {
	FirstCreate float64 `json:"first_create"`
	ListingDone float64 `json:"listing_done"`
	LastCreate  float64 `json:"last_create"`
	First429    float64 `json:"first_429"`
	Last429     float64 `json:"last_429"`
}

// The steady state is the middle of the run: from the create that completed
// 10% of the creates to the one that completed 90%. It leaves out the ramp-up
// (dev server warm-up, the first window of lookups) and the drain (the last
// users trickling through), which say nothing about pacing.
const (
	steadyLo = 0.10
	steadyHi = 0.90
)

// Topologies bench bulk runs on.
const (
	topologyDev     = "dev"
	topologyCluster = "cluster"
	// topologyBoth runs dev, then cluster, with the same flags.
	topologyBoth = "both"
)

// bulkFlags are bench bulk's settings, after defaults and validation.
type bulkFlags struct {
	users, limit, share, getLimit, window, page, concurrency int
	defaultRates                                             bool
	oktaRPS, target                                          float64
	timeout, stall, logEvery                                 time.Duration
	workerLog, topology                                      string
	// shareLimit is the token's create limit: fakeokta's share of L (at
	// least one call).
	shareLimit int
}

// parseBulkFlags parses and validates bench bulk's flags and fills in the
// defaults that depend on others.
func parseBulkFlags(args []string, stderr io.Writer) (*bulkFlags, error) {
	// The worker's Okta client waits for X-Rate-Limit-Reset when a window is
	// spent instead of meeting a 429, so, like the worker's OKTA_RATE_TARGET
	// default, the creates aim at all of L (target 1).
	f := &bulkFlags{users: 10_000, limit: 900, share: 100, target: 1, window: 300, page: 500, concurrency: 50,
		stall: 90 * time.Second, logEvery: 15 * time.Second, topology: topologyDev}
	s := newSettings("bench bulk", stderr)
	s.Int(&f.users, settings.Setting{Flag: "users", Help: "users to migrate (all new to Okta, all eligible)"})
	s.Int(&f.limit, settings.Setting{Flag: "limit", Help: "fakeokta's create limit L, calls per minute (POST /api/v1/users bucket)"})
	s.Int(&f.share, settings.Setting{Flag: "token-share", Help: "percentage of each bucket the worker's API token may use (Okta's default is 50; " +
		"100, the whole bucket, is how the figures of BULK.md's first sections were measured)"})
	s.Bool(&f.defaultRates, settings.Setting{Flag: "default-rates", Help: "run the worker with its default settings (OKTA_RPS, OKTA_CREATE_RPS, " +
		"GRAPH_RPS, OKTA_CONCURRENCY and its rate tuner) instead of rates derived from -limit and -target"})
	s.Int(&f.getLimit, settings.Setting{Flag: "get-limit", Help: "fakeokta's GET /api/v1/users/{id} limit per minute (0: L×2000/600, Okta Workforce's ratio)"})
	s.Float(&f.oktaRPS, settings.Setting{Flag: "okta-rps", Help: "worker's OKTA_RPS for the lookups (0: 2 × target × L / 60; the creates are paced by OKTA_CREATE_RPS = target × L / 60)"})
	s.Float(&f.target, settings.Setting{Flag: "target", Help: "fraction of L the worker's OKTA_CREATE_RPS aims at (the worker's OKTA_RATE_TARGET default is 1)"})
	s.Int(&f.window, settings.Setting{Flag: "window", Help: "MigrateBatch window size"})
	s.Int(&f.page, settings.Setting{Flag: "page", Help: "Graph page size"})
	s.Int(&f.concurrency, settings.Setting{Flag: "okta-concurrency", Help: "worker's OKTA_CONCURRENCY"})
	s.Duration(&f.timeout, settings.Setting{Flag: "timeout", Help: "give up after this long (0: 3× the time L allows for -users, plus 5 min)"})
	s.Duration(&f.stall, settings.Setting{Flag: "stall", Help: "stop when no create came for this long after the listing ended"})
	s.String(&f.workerLog, settings.Setting{Flag: "worker-log", Help: "file for the worker's log (default: discarded)"})
	s.Duration(&f.logEvery, settings.Setting{Flag: "log-every", Help: "progress line interval on stderr"})
	s.String(&f.topology, settings.Setting{Flag: "topology", Help: "what the bench runs on: " + topologyDev + " (the dev server in memory and one worker) or " +
		topologyCluster + " (PostgreSQL, the Temporal server, two workers and two hook servers behind a proxy: internal/devcluster) or " +
		topologyBoth + " (one, then the other, and a line comparing them)"})
	if err := parseFlags(s, args); err != nil {
		return nil, err
	}
	if f.topology != topologyDev && f.topology != topologyCluster && f.topology != topologyBoth {
		return nil, fmt.Errorf("-topology %q: %s, %s or %s", f.topology, topologyDev, topologyCluster, topologyBoth)
	}
	if f.users < 1 || f.limit < 1 || f.target <= 0 || f.target > 1 || f.window < 1 || f.stall <= 0 || f.share < 1 || f.share > 100 {
		return nil, errors.New("users, limit, window and stall must be positive, target in (0, 1], token-share in 1-100")
	}
	f.shareLimit = max(1, f.limit*f.share/100)
	if f.getLimit == 0 {
		f.getLimit = int(math.Ceil(float64(f.limit) * 2000 / 600))
	}
	if f.timeout == 0 {
		f.timeout = 5*time.Minute + time.Duration(3*float64(f.users)/float64(f.shareLimit)*float64(time.Minute))
	}
	return f, nil
}

// runBulk migrates -users new users through the real worker binary (a
// separate process, so its RSS is its own) and a Temporal dev server (with
// -topology cluster: the production topology, two workers on the Temporal
// server) into fakeokta, whose create bucket allows -limit calls a minute, and reports how
// close the writes came to the limit, the Okta calls per user, the 429s, the
// users that failed or got stuck, and the worker's peak RSS.
func runBulk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseBulkFlags(args, stderr)
	if err != nil {
		return err
	}
	if f.topology == topologyBoth {
		return runBulkBoth(ctx, args, stdout, stderr)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	began := time.Now()
	fig := newBulkFigures(f)
	sopts := stackOptions{
		Users:          f.users,
		OktaLimits:     map[fakeokta.Bucket]int{fakeokta.BucketUsers: f.limit, fakeokta.BucketUserGet: f.getLimit},
		TokenRateShare: f.share,
		WorkerEnv:      bulkRates(f, &fig),
		WorkerLog:      f.workerLog,
	}
	var st bulkStack
	if f.topology == topologyCluster {
		fig.Note = "PostgreSQL, the Temporal server, emulators, proxy and bench share the machine's CPUs with two workers and two hook servers (processes of their own); worker_peak_rss_mb is the higher worker's"
		st, err = startClusterStack(ctx, log, sopts)
	} else {
		st, err = startStack(ctx, log, sopts)
	}
	if err != nil {
		return err
	}
	defer st.Close()

	in := workflows.MigrateBatchInput{Batch: "bench", Source: entra.Source{All: true}, WindowSize: f.window, PageSize: f.page,
		Policy: workflows.PolicyNone}
	if _, err := startBatchWhenReady(ctx, st.client(), in); err != nil {
		return err
	}
	r := &bulkRun{st: st, f: f, fig: &fig, log: log, began: began, batchStart: time.Now()}
	log.Info("migrating", "users", f.users, "limit_per_min", f.limit, "token_share_pct", f.share, "get_limit_per_min", f.getLimit,
		"okta_rps", fig.OktaRPS, "default_rates", f.defaultRates, "window", f.window, "timeout", f.timeout)
	r.watch(ctx)
	r.finish()
	out, err := json.Marshal(fig)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, string(out)); err != nil {
		return err
	}
	if fig.Stopped != "done" {
		return fmt.Errorf("bulk: stopped (%s) after %s with %d of %d users created", fig.Stopped,
			time.Since(began).Round(time.Second), fig.Created, f.users)
	}
	return nil
}

// newBulkFigures are the figures known before the run.
func newBulkFigures(f *bulkFlags) bulkFigures {
	return bulkFigures{Bench: "bulk", Topology: f.topology, Users: f.users, LimitPerMin: f.limit, GetLimitPerMin: f.getLimit, WindowSize: f.window,
		TokenSharePct: f.share, ShareLimitPerMin: f.shareLimit, DefaultRates: f.defaultRates,
		OktaConcurrency: f.concurrency, GOMAXPROCS: runtime.GOMAXPROCS(0), LoadAvgBefore: loadAvg(),
		SteadyState: fmt.Sprintf("successful creates between the %.0fth and %.0fth percentile of create completion times", steadyLo*100, steadyHi*100),
		Note:        "dev server (in memory), emulators and bench share the machine's CPUs; the worker runs as its own process"}
}

// bulkRates sets the worker's rates in fig and returns the worker's
// environment that sets them (nil with -default-rates).
//
// A new user costs two Okta activities: FindOktaUser (GET
// /api/v1/users/{login}, its own bucket) on the Okta task queue, and
// CreateOktaUser (one POST /api/v1/users?activate=true with the hook and the
// profile: the only write) on the create queue. The worker's
// OKTA_CREATE_RPS, the create queue's TaskQueueActivitiesPerSecond (enforced
// by the Temporal server), paces the writes at target × L / 60; OKTA_RPS
// lets the lookups run a little ahead (2 × that) so they never starve the
// creates. The target defaults to 1: fakeokta (like Okta) counts in fixed
// 60 s windows, and when the server's limiter lets a burst spend a window
// early, the worker's Okta client waits for X-Rate-Limit-Reset instead of
// meeting a 429. The GET bucket must hold the lookups (get-limit ≥ L).
func bulkRates(f *bulkFlags, fig *bulkFigures) []string {
	fig.OktaCreateRPS = f.target * float64(f.limit) / 60
	fig.OktaRPS = 2 * fig.OktaCreateRPS
	if f.oktaRPS > 0 {
		fig.OktaRPS = f.oktaRPS
	}
	if f.defaultRates {
		// What an operator who sets nothing gets: the worker's defaults, sized
		// for a whole 600-a-minute bucket, and its tuner, which lowers the
		// Okta queues to what fakeokta's headers say the token may use.
		fig.OktaRPS, fig.OktaCreateRPS, fig.OktaConcurrency = 0, 0, 0
		return nil
	}
	return []string{
		"OKTA_RPS=" + strconv.FormatFloat(fig.OktaRPS, 'f', 3, 64), "OKTA_CREATE_RPS=" + strconv.FormatFloat(fig.OktaCreateRPS, 'f', 3, 64),
		"GRAPH_RPS=200", "OKTA_CONCURRENCY=" + strconv.Itoa(f.concurrency)}
}

// bulkRun is one bulk batch being watched and measured.
type bulkRun struct {
	st    bulkStack
	f     *bulkFlags
	fig   *bulkFigures
	log   *slog.Logger
	began time.Time
	// When the batch started, its listing ended, and the workers' tuner
	// first set the create queue's rate (zero: not yet).
	batchStart, listingDone, tunedAt time.Time
	progress                         workflows.BatchProgress
}

// watch follows the batch until it says every user left the import phase,
// or nothing moved for -stall after the last create, or the time is up,
// and sets fig.Stopped.
func (r *bulkRun) watch(ctx context.Context) {
	c, ns, counter := r.st.client(), r.st.namespace(), r.st.calls()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastLog, lastMove, lastCreated := time.Now(), time.Now(), -1
	r.fig.Stopped = "done"
	for {
		select {
		case <-ctx.Done():
			r.fig.Stopped = "timeout"
			if !errors.Is(ctx.Err(), context.DeadlineExceeded) {
				r.fig.Stopped = "interrupted"
			}
			return
		case <-tick.C:
		}
		r.st.samplePeak()
		if r.tunedAt.IsZero() {
			if q, err := control.DescribeActivityRate(ctx, c, ns, workflows.OktaCreateTaskQueue); err == nil && q.Tuned != nil {
				r.tunedAt = time.Now()
			}
		}
		if p, err := control.BatchProgress(ctx, c, "bench"); err == nil {
			r.progress = p
		}
		progress := r.progress
		if progress.ListingDone && r.listingDone.IsZero() {
			r.listingDone = time.Now()
		}
		created := counter.created()
		if created != lastCreated {
			lastCreated, lastMove = created, time.Now()
		}
		if time.Since(lastLog) >= r.f.logEvery {
			lastLog = time.Now()
			r.log.Info("progress", "elapsed", time.Since(r.began).Round(time.Second), "listed", progress.Listed,
				"created", created, "importing", progress.Importing, "http_429", counter.tooMany(), "load", loadAvg())
		}
		switch {
		case progress.ListingDone && progress.Listed >= r.f.users && progress.Importing == 0:
			return
		case progress.ListingDone && time.Since(lastMove) >= r.f.stall:
			r.fig.Stopped = "stalled"
			r.log.Warn("nothing moved", "for", r.f.stall, "created", created, "batch_importing", progress.Importing)
			return
		}
	}
}

// finish reads the create queue's rate, stops the workers and fills in the
// figures of the run.
func (r *bulkRun) finish() {
	qctx0, qcancel0 := context.WithTimeout(context.Background(), 10*time.Second)
	if q, err := control.DescribeActivityRate(qctx0, r.st.client(), r.st.namespace(), workflows.OktaCreateTaskQueue); err == nil {
		r.fig.CreateQueue = describeQueueRate(q)
	}
	qcancel0()
	r.st.stopWorkers()
	r.fig.LoadAvgAfter = loadAvg()
	r.states()
	r.creates()
	r.fig.WorkerPeakRSSMB = r.st.workerPeakRSSMB()
	r.fig.WallSeconds = time.Since(r.began).Seconds()
}

// states fills in the users' own states, from visibility (eventually
// consistent: it waits until visibility sees every started user, for at
// most 30 s), and what the batch says of the users left.
func (r *bulkRun) states() {
	c, ns, progress, fig := r.st.client(), r.st.namespace(), r.progress, r.fig
	qctx, qcancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer qcancel()
	var counts control.StateCounts
	var countErr error
	for i := 0; i < 30; i++ {
		counts, countErr = control.CountStates(qctx, c, ns, "bench")
		if countErr == nil && counts.Total >= int64(progress.Started) {
			break
		}
		time.Sleep(time.Second)
	}
	fig.States = map[string]int64{"total": counts.Total}
	for st, n := range counts.States {
		if n > 0 {
			fig.States[string(st)] = n
		}
	}
	stuck := counts.States[workflows.StatePending] + counts.States[workflows.StateImporting]
	if countErr != nil {
		r.log.Warn("cannot count the users' states; using the batch's view", "error", countErr)
		stuck = int64(progress.Importing)
	}
	if stuck > 0 {
		fig.StuckExamples = stuckUsers(qctx, c, ns, 5)
	}
	fig.FailedUsers = int(counts.States[workflows.StateFailed]+stuck) + progress.StartFailures
	fig.BatchImporting = progress.Importing
	fig.BatchLastError = progress.LastError
	fig.BatchRuns = progress.Runs
	if progress.Importing > 0 {
		fig.BatchUnreported = unreportedUsers(qctx, c, 5)
	}
}

// creates fills in the write rates, the Okta calls and the timeline, from
// fakeokta's counts.
func (r *bulkRun) creates() {
	fig, counter, fo := r.fig, r.st.calls(), r.st.oktaServer()
	times := counter.createTimes()
	fig.Created = len(times)
	fig.NotCreated = r.f.users - fig.Created
	if n := len(times); n > 1 && times[n-1].After(times[0]) {
		span := times[n-1].Sub(times[0])
		fig.WritesPerMinOverall = float64(n-1) / span.Minutes()
		fig.ImportSeconds = span.Seconds()
	}
	fig.WritesPerMin = steadyRate(times, steadyLo, steadyHi)
	fig.LimitRatio = fig.WritesPerMin / float64(r.f.limit)
	fig.ShareRatio = fig.WritesPerMin / float64(r.f.shareLimit)
	fig.UsersPerSec = fig.WritesPerMin / 60
	fig.PeakWrites60s = peakInWindow(times, time.Minute)
	fig.CallsPerRoute = map[string]int{}
	for _, route := range bulkRoutes {
		if n := fo.Calls(route); n > 0 {
			fig.CallsPerRoute[string(route)] = n
		}
	}
	fig.OktaCalls = fo.Calls(fakeokta.RouteAny)
	if fig.Created > 0 {
		fig.OktaCallsPerUser = float64(fig.OktaCalls) / float64(fig.Created)
	}
	fig.HTTP429 = counter.tooMany()
	since := func(t time.Time) float64 {
		if t.IsZero() {
			return -1
		}
		return math.Round(t.Sub(r.batchStart).Seconds()*10) / 10
	}
	first429, last429, by429 := counter.rejections()
	fig.HTTP429ByRoute = by429
	fig.Timeline = bulkTimeline{ListingDone: since(r.listingDone), First429: since(first429), Last429: since(last429),
		FirstCreate: -1, LastCreate: -1}
	fig.CreateQueue.TunedAfter = since(r.tunedAt)
	if n := len(times); n > 0 {
		fig.Timeline.FirstCreate, fig.Timeline.LastCreate = since(times[0]), since(times[n-1])
	}
}

// bulkRoutes are the fakeokta routes reported per route.
var bulkRoutes = []fakeokta.Route{
	fakeokta.RouteCreateUser, fakeokta.RouteListUsers, fakeokta.RouteGetUser, fakeokta.RouteUpdateUser,
	fakeokta.RouteReplaceUser, fakeokta.RouteDeleteUser, fakeokta.RouteActivateUser, fakeokta.RouteDeactivateUser,
	fakeokta.RouteResetPassword, fakeokta.RouteExpirePassword, fakeokta.RouteListInlineHooks, fakeokta.RouteLogs,
	fakeokta.RouteUnknown,
}

// stuckUsers returns up to n workflow IDs of the bench's users still in
// Pending or Importing.
func stuckUsers(ctx context.Context, c client.Client, namespace string, n int) []string {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: namespace, PageSize: int32(n),
		Query: "WorkflowType = 'MigrateUser' AND MigrationBatch = 'bench' AND MigrationState IN ('Pending', 'Importing')"})
	if err != nil {
		return []string{"(list failed: " + err.Error() + ")"}
	}
	var ids []string
	for _, e := range resp.GetExecutions() {
		ids = append(ids, e.GetExecution().GetWorkflowId())
	}
	return ids
}

// unreportedUsers reads the bench batch's current run and returns up to n
// workflow IDs of users it started but from whom it got no report of leaving
// Pending or Importing.
func unreportedUsers(ctx context.Context, c client.Client, n int) []string {
	started := map[string]bool{}
	var order []string
	it := c.GetWorkflowHistory(ctx, workflows.BatchWorkflowID("bench"), "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	dc := converter.GetDefaultDataConverter()
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			return []string{"(history: " + err.Error() + ")"}
		}
		if a := e.GetStartChildWorkflowExecutionInitiatedEventAttributes(); a != nil {
			if !started[a.GetWorkflowId()] {
				order = append(order, a.GetWorkflowId())
			}
			started[a.GetWorkflowId()] = true
		}
		if a := e.GetWorkflowExecutionSignaledEventAttributes(); a != nil && a.GetSignalName() == workflows.SignalUserReport {
			var r workflows.UserReportSignal
			if dc.FromPayloads(a.GetInput(), &r) == nil && (r.From == workflows.StateImporting || r.From == workflows.StatePending) {
				started[workflows.UserWorkflowID(r.Login)] = false
			}
		}
	}
	var ids []string
	for _, id := range order {
		if started[id] && len(ids) < n {
			ids = append(ids, id)
		}
	}
	return ids
}

// steadyRate returns the rate per minute between the lo and hi quantiles of
// the sorted times ts (0 with fewer than two distinct times there).
func steadyRate(ts []time.Time, lo, hi float64) float64 {
	if len(ts) < 2 {
		return 0
	}
	i := int(math.Round(lo * float64(len(ts)-1)))
	j := int(math.Round(hi * float64(len(ts)-1)))
	if j <= i || !ts[j].After(ts[i]) {
		return 0
	}
	return float64(j-i) / ts[j].Sub(ts[i]).Minutes()
}

// peakInWindow returns the most times of the sorted ts within any span of d
// (half-open: [t, t+d)).
func peakInWindow(ts []time.Time, d time.Duration) int {
	peak, lo := 0, 0
	for hi := range ts {
		for !ts[hi].Before(ts[lo].Add(d)) {
			lo++
		}
		peak = max(peak, hi-lo+1)
	}
	return peak
}

// bulkSide is one topology's figures in the -topology both line.
type bulkSide struct {
	LimitRatio       float64 `json:"limit_ratio"`
	WritesPerMin     float64 `json:"writes_per_min"`
	OktaCallsPerUser float64 `json:"okta_calls_per_user"`
	FailedUsers      int     `json:"failed_users"`
	HTTP429          int     `json:"http_429"`
	UsersPerSec      float64 `json:"users_per_sec"`
	Stopped          string  `json:"stopped"`
}

// runBulkBoth runs the bulk bench on the dev server, then on the production
// topology, with the same flags, prints each run's JSON line, then a last
// line that sets their ratio, calls per user and failed users side by side.
func runBulkBoth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	both := map[string]bulkSide{}
	for _, topo := range []string{topologyDev, topologyCluster} {
		var out bytes.Buffer
		if err := runBulk(ctx, append(slices.Clone(args), "-topology", topo), io.MultiWriter(stdout, &out), stderr); err != nil {
			return fmt.Errorf("-topology %s: %w", topo, err)
		}
		lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
		var side bulkSide
		if err := json.Unmarshal(lines[len(lines)-1], &side); err != nil {
			return fmt.Errorf("-topology %s: read its figures: %w", topo, err)
		}
		both[topo] = side
	}
	return json.NewEncoder(stdout).Encode(map[string]any{"bench": "bulk", "topology": topologyBoth,
		topologyDev: both[topologyDev], topologyCluster: both[topologyCluster]})
}
