package worker

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/workflows"
)

// How the workers keep the Okta queues under this token's rate limit.
//
// Okta lets one API token (or OAuth 2.0 app) use only a share of each
// bucket's org-wide limit, 50 % unless an admin changes it
// (https://developer.okta.com/docs/reference/rl2-token-oauth), and the share
// and the org's limits differ from org to org (the Workforce licence
// multiplier of https://developer.okta.com/docs/reference/rl-additional-limits/).
// So OKTA_CREATE_RPS and OKTA_RPS are upper bounds, not guesses: every answer
// from Okta carries X-Rate-Limit-Limit, "the rate limit ceiling that is
// applicable for the current request" (https://developer.okta.com/docs/reference/rl-best-practices/),
// and the tuner lowers each Okta task queue's server-enforced rate to
// OKTA_RATE_TARGET (by default 100 %) of what that ceiling allows a minute:
//
//   - the create queue (workflows.OktaCreateTaskQueue) from the bucket of
//     POST /api/v1/users;
//   - the Okta queue (workflows.OktaTaskQueue) from the smallest of the
//     buckets its calls fall in (lookups, profile writes, lifecycle), as
//     DefaultOktaRPS does with Okta's published limits. The System Log reads
//     are left out: a few per user, paced by the users' sign-ins, their
//     bucket is far smaller than the others, and binding every lookup to it
//     would slow the import for nothing; their rare 429 is retried by
//     Temporal at X-Rate-Limit-Reset.
//
// The rate is set as an override (control.SetTunedActivityRate), the one rate
// the Temporal server enforces across every worker, recorded with the bucket
// and limit it comes from. It never exceeds the workers' own rates, and never
// replaces a rate an operator pinned with starter throttle; starter throttle
// --reset removes either, and the tuner sets its rate again at its next check.
//
// Several workers do not fight: they read the same headers, so they compute
// the same rate. A worker lowers the rate when it knows of a tighter limit,
// but raises it only when it has seen, itself, that the limit recorded with
// the override has changed (the admin raised the token's share): a worker that
// has not yet called the bucket that binds the queue leaves the rate alone.
// Writes to the server are bounded: at most one per queue per tuneMinGap per
// worker, and only when the rate must move by more than tuneTolerance.

// DefaultOktaRateTarget is the fraction of the per-minute limit Okta reports
// that the Okta queues aim at: all of it. Okta counts in fixed one-minute
// windows, and a constant rate drifts against them, so the server-side
// limiter's bursts can fall at a window's end; the worker's Okta adapter
// holds back a request whose window Okta said is spent until it resets
// (oktaclient.Config.WaitForWindow), so those bursts wait a moment instead of
// meeting a 429, and the queues need no margin under the limit. A lower
// target leaves room for the token's other users.
const DefaultOktaRateTarget = 1.0

const (
	tuneEvery     = 5 * time.Second  // how often the tuner checks the queues
	tuneMinGap    = 20 * time.Second // least time between two writes to one queue
	tuneTolerance = 0.02             // relative change below which the rate stays
	tuneTimeout   = 10 * time.Second // deadline of each call to the Temporal server
)

// tunedQueue is an Okta task queue the tuner keeps under the token's limit.
type tunedQueue struct {
	taskQueue string
	env       string  // the workers' variable for its rate
	bound     float64 // this worker's rate for it: the upper bound
	buckets   []oktaclient.RateBucket
}

// seenLimit is the latest rate-limit headers of one bucket.
type seenLimit struct {
	limit, remaining int
	reset, at        time.Time
}

// rateTuner learns the token's limits from Okta's answers (Observe, called by
// the Okta adapter's transport) and keeps the Okta queues' rates under them
// (run). It is safe for concurrent use.
type rateTuner struct {
	target float64
	queues []tunedQueue
	every  time.Duration // tuneEvery (shorter in tests)
	minGap time.Duration // tuneMinGap (shorter in tests)
	writes atomic.Int64  // overrides set or removed, for tests and logs

	mu   sync.Mutex
	seen map[oktaclient.RateBucket]seenLimit
	wake chan struct{}
}

func newRateTuner(cfg Config) *rateTuner {
	return &rateTuner{
		target: cfg.OktaRateTarget,
		queues: []tunedQueue{
			{workflows.OktaCreateTaskQueue, "OKTA_CREATE_RPS", cfg.OktaCreateRPS, []oktaclient.RateBucket{oktaclient.RateBucketUsers}},
			{workflows.OktaTaskQueue, "OKTA_RPS", cfg.OktaRPS,
				[]oktaclient.RateBucket{oktaclient.RateBucketUserGet, oktaclient.RateBucketUserWrite, oktaclient.RateBucketOther}},
		},
		every:  tuneEvery,
		minGap: tuneMinGap,
		seen:   map[oktaclient.RateBucket]seenLimit{},
		wake:   make(chan struct{}, 1),
	}
}

// Observe records what an answer from Okta said about its bucket. It never
// blocks: a new or changed limit wakes the tuner's loop, at most one wake-up
// pending at a time.
func (t *rateTuner) Observe(o oktaclient.RateObservation) {
	t.mu.Lock()
	prev, had := t.seen[o.Bucket]
	t.seen[o.Bucket] = seenLimit{limit: o.Limit, remaining: o.Remaining, reset: o.Reset, at: o.At}
	t.mu.Unlock()
	if !had || prev.limit != o.Limit {
		select {
		case t.wake <- struct{}{}:
		default:
		}
	}
}

// limitOf returns the latest limit seen for bucket b.
func (t *rateTuner) limitOf(b string) (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	s, ok := t.seen[oktaclient.RateBucket(b)]
	return s.limit, ok
}

// learned returns the smallest limit seen among q's buckets, with its bucket
// and what Okta said was left of it.
func (t *rateTuner) learned(q tunedQueue) (control.TunedRate, seenLimit, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var (
		best control.TunedRate
		at   seenLimit
		ok   bool
	)
	for _, b := range q.buckets {
		if s, seen := t.seen[b]; seen && (!ok || s.limit < best.LimitPerMin) {
			best, at, ok = control.TunedRate{Bucket: string(b), LimitPerMin: s.limit, Target: t.target}, s, true
		}
	}
	return best, at, ok
}

// tunedRPS is the rate that uses target of limitPerMin, rounded down to a
// hundredth of a request per second (at least that).
func tunedRPS(limitPerMin int, target float64) float64 {
	return max(0.01, math.Floor(float64(limitPerMin)*target/60*100+1e-9)/100)
}

// tuneAction is what the tuner does to a queue's rate.
type tuneAction int

const (
	tuneKeep  tuneAction = iota
	tuneSet              // set the override to rps, recorded with tuned
	tuneReset            // remove the tuner's override: the workers' rate applies
)

type tuneDecision struct {
	action tuneAction
	rps    float64
	tuned  control.TunedRate
	why    string
}

// decide chooses what to do with a queue whose state is q, for a worker whose
// own rate is bound, that learned l (ok false: nothing yet) and that saw the
// limits limitOf. It is a pure function of its arguments, so workers that saw
// the same headers decide the same.
func decide(q control.QueueRate, bound float64, l control.TunedRate, ok bool, limitOf func(bucket string) (int, bool)) tuneDecision {
	if q.Pinned() {
		return tuneDecision{why: "pinned by starter throttle"}
	}
	if !ok {
		return tuneDecision{why: "no rate-limit headers seen yet"}
	}
	// Without an override the server applies the rate of whichever worker
	// polled last: any of theirs (hi is the highest). Each is also an upper
	// bound the tuned rate must respect (lo is the lowest).
	hi, lo := bound, bound
	for _, w := range q.Workers {
		if w.RPS > 0 {
			hi, lo = max(hi, w.RPS), min(lo, w.RPS)
		}
	}
	learned := tunedRPS(l.LimitPerMin, l.Target)
	binding := learned < hi*(1-tuneTolerance)
	want := min(learned, lo)
	near := func(a, b float64) bool { return math.Abs(a-b) <= tuneTolerance*b }

	if q.Tuned == nil { // no override
		if binding {
			return tuneDecision{action: tuneSet, rps: want, tuned: l, why: "Okta's limit for this token is under the workers' rate"}
		}
		return tuneDecision{why: "the workers' rate is under Okta's limit for this token"}
	}
	cur := q.Override.RPS
	// Evidence that the limit recorded with the override is out of date:
	// this worker saw that bucket itself, with another limit. (A worker with
	// another OKTA_RATE_TARGET is no evidence: the lower rate stays.)
	seen, saw := limitOf(q.Tuned.Bucket)
	stale := saw && seen != q.Tuned.LimitPerMin
	switch {
	case binding && near(cur, want):
		return tuneDecision{why: "in force"}
	case want < cur && (binding || !near(cur, want)):
		// Lower: a tighter limit, or an override above the workers' rate.
		if binding {
			return tuneDecision{action: tuneSet, rps: want, tuned: l, why: "a tighter limit"}
		}
		return tuneDecision{action: tuneReset, why: "the override is above the workers' rate"}
	case !stale:
		return tuneDecision{why: "another worker learned a tighter limit"}
	case binding:
		return tuneDecision{action: tuneSet, rps: want, tuned: l, why: "Okta's limit for this token rose"}
	case !near(cur, want):
		return tuneDecision{action: tuneReset, why: "Okta's limit for this token rose above the workers' rate"}
	}
	return tuneDecision{why: "in force"}
}

// run checks the queues every tuneEvery, and at once when a new limit is
// seen, until ctx is done. It only informs through logger when the server
// cannot be reached: the queues keep the rate they have.
func (t *rateTuner) run(ctx context.Context, c client.Client, namespace string, logger *slog.Logger) {
	tick := time.NewTicker(t.every)
	defer tick.Stop()
	lastWrite := map[string]time.Time{}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-t.wake:
		}
		for _, q := range t.queues {
			t.tune(ctx, c, namespace, q, lastWrite, logger)
		}
	}
}

// tune applies decide to one queue.
func (t *rateTuner) tune(ctx context.Context, c client.Client, namespace string, q tunedQueue, lastWrite map[string]time.Time, logger *slog.Logger) {
	l, s, ok := t.learned(q)
	if !ok {
		return // nothing to go by: no call to the server either
	}
	dctx, cancel := context.WithTimeout(ctx, tuneTimeout)
	defer cancel()
	cur, err := control.DescribeActivityRate(dctx, c, namespace, q.taskQueue)
	if err != nil {
		logger.Debug("rate tuner: describe", "taskQueue", q.taskQueue, "error", err)
		return
	}
	d := decide(cur, q.bound, l, ok, t.limitOf)
	if d.action == tuneKeep {
		return
	}
	if last, wrote := lastWrite[q.taskQueue]; wrote && time.Since(last) < t.minGap {
		return // the next check after the gap does it
	}
	lastWrite[q.taskQueue] = time.Now()
	switch d.action {
	case tuneSet:
		err = control.SetTunedActivityRate(dctx, c, namespace, q.taskQueue, d.rps, d.tuned)
	case tuneReset:
		err = control.ResetTunedActivityRate(dctx, c, namespace, q.taskQueue, "the workers' "+q.env+" is under Okta's limit for this token")
	}
	t.writes.Add(1)
	if err != nil && ctx.Err() != nil {
		return // shutting down
	}
	if err != nil {
		logger.Warn("rate tuner: cannot change the queue's rate", "taskQueue", q.taskQueue, "error", err)
		return
	}
	logger.Info("Okta queue rate tuned to this token's rate limit", "taskQueue", q.taskQueue, "why", d.why,
		"rps", d.rps, "reset", d.action == tuneReset, "variable", q.env, "configured", q.bound,
		"bucket", l.Bucket, "limitPerMin", l.LimitPerMin, "target", l.Target,
		"remaining", s.remaining, "windowResets", s.reset)
}
