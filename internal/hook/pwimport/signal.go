package pwimport

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"

	"entra2okta/internal/hook"
	"entra2okta/workflows"
)

// Signaler delivers a signal to a workflow. Temporal's client.Client
// satisfies it.
type Signaler = hook.Signaler

// SignalConfig bounds the background delivery of outcome signals (defaults:
// 10,000 queued, 4 workers, 5 attempts of 2 s, backoff 200 ms to 5 s). When
// the queue is full, new signals are dropped and counted: the answer to Okta
// never waits for Temporal.
type SignalConfig = hook.QueueConfig

// Signal delivery results (metric label values).
const (
	signalDelivered = "delivered"
	signalNotFound  = "not_found"
	signalFailed    = "failed"
	signalDropped   = "dropped"
)

type signalJob struct {
	workflowID string
	sig        workflows.PasswordVerifiedSignal
}

// dispatcher delivers outcome signals through a hook.Queue.
type dispatcher struct {
	q     *hook.Queue[signalJob]
	s     Signaler
	log   *slog.Logger
	count func(result string)

	dropped    atomic.Int64 // since the last drop log line
	dropLogged atomic.Int64 // unix nanoseconds of the last drop log line
}

func newDispatcher(cfg SignalConfig, s Signaler, log *slog.Logger, count func(string)) *dispatcher {
	d := &dispatcher{s: s, log: log, count: count}
	d.q = hook.NewQueue(cfg, d.deliver, d.drop)
	return d
}

// enqueue queues a signal without blocking; it reports false (and counts a
// drop) when the queue is full or the dispatcher is closed.
func (d *dispatcher) enqueue(j signalJob) bool { return d.q.Enqueue(j) }

func (d *dispatcher) pending() int { return d.q.Len() }

// shutdown stops accepting signals and delivers the queued ones until ctx is
// done; then it abandons the rest (counted as dropped or failed).
func (d *dispatcher) shutdown(ctx context.Context) error { return d.q.Shutdown(ctx) }

// drop counts a signal that will not be delivered. It logs at most one line
// per second (with the number dropped since), so that a flood of sign-ins
// while Temporal is down does not become a flood of log lines.
func (d *dispatcher) drop(j signalJob, why string) {
	d.count(signalDropped)
	n := d.dropped.Add(1)
	now := time.Now().UnixNano()
	last := d.dropLogged.Load()
	if now-last < int64(time.Second) || !d.dropLogged.CompareAndSwap(last, now) {
		return
	}
	d.dropped.Add(-n)
	d.log.Warn("signals dropped", "count", n, "why", why, "last_workflow_id", j.workflowID, "last_event_id", j.sig.EventID)
}

// deliver sends one signal with the queue's bounded, backed-off retries. A
// workflow that does not exist (serviceerror.NotFound: the user is not being
// migrated, or already finished) and other non-retryable errors end the
// attempts at once.
func (d *dispatcher) deliver(j signalJob) {
	var nf *serviceerror.NotFound
	attempts, err := d.q.Retry(func(ctx context.Context) error {
		return d.s.SignalWorkflow(ctx, j.workflowID, "", workflows.SignalPasswordVerified, j.sig)
	}, func(err error) bool { return errors.As(err, &nf) })
	switch {
	case err == nil:
		d.count(signalDelivered)
	case errors.As(err, &nf):
		d.count(signalNotFound)
		d.log.Warn("signal not delivered: no such workflow", "workflow_id", j.workflowID, "event_id", j.sig.EventID)
	case d.q.Abandoned() && attempts < d.q.MaxAttempts():
		d.count(signalFailed)
		d.log.Error("signal abandoned at shutdown", "workflow_id", j.workflowID, "event_id", j.sig.EventID, "attempts", attempts, "err", err)
	default:
		d.count(signalFailed)
		d.log.Error("signal not delivered", "workflow_id", j.workflowID, "event_id", j.sig.EventID, "err", err)
	}
}
