package hook

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
)

// QueueConfig bounds a Queue: how much waits, how much runs at once, and how
// often and how long one piece of work is tried.
type QueueConfig struct {
	// QueueSize is how many jobs may wait (default 10,000). When full, new
	// jobs are dropped: the answer to Okta never waits for Temporal.
	QueueSize int
	// Workers is how many jobs are processed concurrently (default 4).
	Workers int
	// MaxAttempts bounds the attempts of one Retry (default 5).
	MaxAttempts int
	// AttemptTimeout is the deadline of one attempt (default 2 s).
	AttemptTimeout time.Duration
	// InitialBackoff is the wait after the first failure, doubling up to
	// MaxBackoff (defaults 200 ms and 5 s).
	InitialBackoff time.Duration
	// MaxBackoff caps the wait between attempts.
	MaxBackoff time.Duration
}

func (c *QueueConfig) setDefaults() {
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

// Why a Queue dropped a job (the why of its drop callback).
const (
	DropQueueFull = "queue_full" // Enqueue found the queue full
	DropClosed    = "closed"     // Enqueue after Shutdown began
	DropShutdown  = "shutdown"   // dequeued after Shutdown ran out of time
)

// Queue processes jobs in the background: a bounded queue, a fixed number of
// workers, bounded retries with backoff (Retry), and a drain on Shutdown.
// Every job is either processed or handed to the drop callback, exactly once.
type Queue[J any] struct {
	cfg     QueueConfig
	process func(J)
	drop    func(j J, why string)
	jobs    chan J
	ctx     context.Context // cancelled when a drain runs out of time
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu     sync.RWMutex
	closed bool
}

// NewQueue starts cfg.Workers workers that call process on each job; drop is
// called for each job that will not be processed, with a Drop* reason.
func NewQueue[J any](cfg QueueConfig, process func(J), drop func(j J, why string)) *Queue[J] {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue[J]{cfg: cfg, process: process, drop: drop, jobs: make(chan J, cfg.QueueSize), ctx: ctx, cancel: cancel}
	for range cfg.Workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Enqueue queues j without blocking; it reports false, after calling the drop
// callback, when the queue is full or shutting down.
func (q *Queue[J]) Enqueue(j J) bool {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.drop(j, DropClosed)
		return false
	}
	select {
	case q.jobs <- j:
		return true
	default:
		q.drop(j, DropQueueFull)
		return false
	}
}

// Len returns the number of jobs waiting.
func (q *Queue[J]) Len() int { return len(q.jobs) }

func (q *Queue[J]) work() {
	defer q.wg.Done()
	for j := range q.jobs {
		if q.ctx.Err() != nil {
			q.drop(j, DropShutdown)
			continue
		}
		q.process(j)
	}
}

// Retry calls f at most MaxAttempts times, each under AttemptTimeout,
// waiting InitialBackoff (doubling up to MaxBackoff) between attempts. It
// stops at the first success, at an error final reports true for (nil:
// none) or that Retryable reports false for, and when a Shutdown runs out of
// time. It returns the last error and the number of attempts made; Abandoned
// tells whether it stopped for the shutdown.
func (q *Queue[J]) Retry(f func(ctx context.Context) error, final func(error) bool) (attempts int, err error) {
	backoff := q.cfg.InitialBackoff
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithTimeout(q.ctx, q.cfg.AttemptTimeout)
		err = f(ctx)
		cancel()
		if err == nil || (final != nil && final(err)) || !Retryable(err) || attempt == q.cfg.MaxAttempts {
			return attempt, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-t.C:
		case <-q.ctx.Done():
			t.Stop()
			return attempt, err
		}
		backoff = min(2*backoff, q.cfg.MaxBackoff)
	}
}

// Abandoned reports whether a Shutdown ran out of time: in-flight attempts
// are cancelled and the jobs still queued are dropped.
func (q *Queue[J]) Abandoned() bool { return q.ctx.Err() != nil }

// MaxAttempts is the bound Retry applies.
func (q *Queue[J]) MaxAttempts() int { return q.cfg.MaxAttempts }

// Retryable reports whether a failed Temporal call may succeed when
// repeated: not an invalid argument, a denied permission or a missing
// namespace.
func Retryable(err error) bool {
	var (
		inv  *serviceerror.InvalidArgument
		perm *serviceerror.PermissionDenied
		nsnf *serviceerror.NamespaceNotFound
	)
	return !errors.As(err, &inv) && !errors.As(err, &perm) && !errors.As(err, &nsnf)
}

// Shutdown stops accepting jobs and processes the queued ones until ctx is
// done; then it cancels the attempts in flight and drops the rest
// (DropShutdown). A nil Queue does nothing.
func (q *Queue[J]) Shutdown(ctx context.Context) error {
	if q == nil {
		return nil
	}
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.jobs)
	}
	q.mu.Unlock()
	done := make(chan struct{})
	go func() { q.wg.Wait(); close(done) }()
	select {
	case <-done:
		q.cancel()
		return nil
	case <-ctx.Done():
		q.cancel() // aborts in-flight attempts and back-offs; workers drop the rest
		select {
		case <-done:
		case <-time.After(time.Second): // a job that ignores its context
		}
		return ctx.Err()
	}
}
