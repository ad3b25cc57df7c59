package hook

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/serviceerror"

	"entra2okta/workflows"
)

// Signaler delivers a signal to a workflow. Temporal's client.Client
// satisfies it.
type Signaler interface {
	SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error
}

// SignalConfig bounds the background delivery of outcome signals.
type SignalConfig struct {
	// QueueSize is how many signals may wait for delivery (default 10,000).
	// When full, new signals are dropped and counted: the answer to Okta
	// never waits for Temporal.
	QueueSize int
	// Workers is how many signals are delivered concurrently (default 4).
	Workers int
	// MaxAttempts bounds deliveries of one signal (default 5).
	MaxAttempts int
	// AttemptTimeout is the deadline of one delivery (default 2 s).
	AttemptTimeout time.Duration
	// InitialBackoff is the wait after the first failure, doubling up to
	// MaxBackoff (defaults 200 ms and 5 s).
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts.
	MaxBackoff time.Duration
}

func (c *SignalConfig) setDefaults() {
	if c.QueueSize <= 0 {
		c.QueueSize = 10_000
	}
	if c.Workers <= 0 {
		c.Workers = 4
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.AttemptTimeout <= 0 {
		c.AttemptTimeout = 2 * time.Second
	}
	if c.InitialBackoff <= 0 {
		c.InitialBackoff = 200 * time.Millisecond
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = 5 * time.Second
	}
}

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

// dispatcher delivers outcome signals in the background with a bounded
// queue and bounded retries.
type dispatcher struct {
	cfg    SignalConfig
	s      Signaler
	log    *slog.Logger
	count  func(result string)
	queue  chan signalJob
	ctx    context.Context // cancelled when a drain runs out of time
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.RWMutex
	closed bool

	dropped    atomic.Int64 // since the last drop log line
	dropLogged atomic.Int64 // unix nanoseconds of the last drop log line
}

func newDispatcher(cfg SignalConfig, s Signaler, log *slog.Logger, count func(string)) *dispatcher {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	d := &dispatcher{cfg: cfg, s: s, log: log, count: count, queue: make(chan signalJob, cfg.QueueSize), ctx: ctx, cancel: cancel}
	for range cfg.Workers {
		d.wg.Add(1)
		go d.work()
	}
	return d
}

// enqueue queues a signal without blocking; it reports false (and counts a
// drop) when the queue is full or the dispatcher is closed.
func (d *dispatcher) enqueue(j signalJob) bool {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		d.drop(j, "closed")
		return false
	}
	select {
	case d.queue <- j:
		return true
	default:
		d.drop(j, "queue_full")
		return false
	}
}

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

func (d *dispatcher) pending() int { return len(d.queue) }

func (d *dispatcher) work() {
	defer d.wg.Done()
	for j := range d.queue {
		if d.ctx.Err() != nil {
			d.drop(j, "shutdown")
			continue
		}
		d.deliver(j)
	}
}

// deliver sends one signal with bounded, backed-off retries. A workflow that
// does not exist (serviceerror.NotFound: the user is not being migrated, or
// already finished) and other non-retryable errors end the attempts at once.
func (d *dispatcher) deliver(j signalJob) {
	backoff := d.cfg.InitialBackoff
	var err error
	for attempt := 1; attempt <= d.cfg.MaxAttempts; attempt++ {
		ctx, cancel := context.WithTimeout(d.ctx, d.cfg.AttemptTimeout)
		err = d.s.SignalWorkflow(ctx, j.workflowID, "", workflows.SignalPasswordVerified, j.sig)
		cancel()
		if err == nil {
			d.count(signalDelivered)
			return
		}
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			d.count(signalNotFound)
			d.log.Warn("signal not delivered: no such workflow", "workflow_id", j.workflowID, "event_id", j.sig.EventID)
			return
		}
		if !retryable(err) || attempt == d.cfg.MaxAttempts {
			break
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-d.ctx.Done():
			t.Stop()
			d.count(signalFailed)
			d.log.Error("signal abandoned at shutdown", "workflow_id", j.workflowID, "event_id", j.sig.EventID, "attempts", attempt, "err", err)
			return
		}
		backoff = min(2*backoff, d.cfg.MaxBackoff)
	}
	d.count(signalFailed)
	d.log.Error("signal not delivered", "workflow_id", j.workflowID, "event_id", j.sig.EventID, "err", err)
}

// retryable reports whether a failed delivery may succeed when repeated.
func retryable(err error) bool {
	var (
		inv  *serviceerror.InvalidArgument
		perm *serviceerror.PermissionDenied
		nsnf *serviceerror.NamespaceNotFound
	)
	return !errors.As(err, &inv) && !errors.As(err, &perm) && !errors.As(err, &nsnf)
}

// shutdown stops accepting signals and delivers the queued ones until ctx is
// done; then it abandons the rest (counted as dropped or failed).
func (d *dispatcher) shutdown(ctx context.Context) error {
	d.mu.Lock()
	if !d.closed {
		d.closed = true
		close(d.queue)
	}
	d.mu.Unlock()
	done := make(chan struct{})
	go func() { d.wg.Wait(); close(done) }()
	select {
	case <-done:
		d.cancel()
		return nil
	case <-ctx.Done():
		d.cancel() // aborts in-flight attempts and back-offs; workers drop the rest
		select {
		case <-done:
		case <-time.After(time.Second): // a Signaler that ignores its context
		}
		return ctx.Err()
	}
}
