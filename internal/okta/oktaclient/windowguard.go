package oktaclient

import (
	"context"
	"errors"
	"sync"
	"time"
)

// windowGuard holds back a request whose bucket has nothing left of its
// current rate-limit window, until the window resets, so that the request
// is not spent on a 429.
//
// Okta counts each bucket in fixed one-minute windows and tells, on every
// answer, what is left of the current one and when it resets:
// X-Rate-Limit-Remaining, "the number of requests left for the current
// rate-limit window", and X-Rate-Limit-Reset, "the time at which the rate
// limit resets, specified in UTC epoch time"
// (https://developer.okta.com/docs/reference/rl-best-practices/). A caller
// paced by a constant rate slightly under the limit can neither use the
// whole window nor stay safely under it when its bursts fall at a window's
// end; with the guard the rate can aim at the limit itself and each window
// still holds no more than Okta allows: the requests that would overrun it
// wait for the next one.
//
// The guard counts what this client knows: Remaining as the latest answer of
// the window said, less the requests sent and not yet answered (some of them
// may already be counted in it, so the guard errs on the side of waiting).
// Other clients sharing the token (several workers) are seen only through
// Remaining, so their requests in flight can still overrun a window by a
// few; Temporal retries those at X-Rate-Limit-Reset.
type windowGuard struct {
	now func() time.Time

	mu      sync.Mutex
	buckets map[RateBucket]*guardedWindow
}

// guardedWindow is what the guard knows of one bucket's current window.
type guardedWindow struct {
	reset     time.Time // X-Rate-Limit-Reset of the window (Okta's clock)
	ends      time.Time // when the window ends, on the local clock
	remaining int       // the least X-Rate-Limit-Remaining seen for it; -1 unknown
	inflight  int       // requests of the bucket sent and not yet answered
}

// errWindowSpent is returned for a request the guard held back and whose
// context ends before the window resets: it was never sent.
var errWindowSpent = errors.New("okta: the rate-limit window of this request's bucket is spent; not sent before it resets")

func newWindowGuard() *windowGuard {
	return &windowGuard{now: time.Now, buckets: map[RateBucket]*guardedWindow{}}
}

func (g *windowGuard) window(b RateBucket) *guardedWindow {
	w := g.buckets[b]
	if w == nil {
		w = &guardedWindow{remaining: -1}
		g.buckets[b] = w
	}
	return w
}

// admit returns when a request in bucket b may be sent: at once when the
// bucket's current window has room (or the guard knows nothing of it), else
// when the window ends. A request admitted must be followed by one call to
// done. When ctx ends before the window does, admit returns errWindowSpent
// at once (or ctx's error, if it ended while waiting) with the time the
// window ends, and the request must not be sent.
func (g *windowGuard) admit(ctx context.Context, b RateBucket) (time.Time, error) {
	for {
		g.mu.Lock()
		w := g.window(b)
		now := g.now()
		if !now.Before(w.ends) || w.remaining < 0 || w.remaining-w.inflight > 0 {
			w.inflight++
			g.mu.Unlock()
			return time.Time{}, nil
		}
		ends := w.ends
		g.mu.Unlock()
		if dl, ok := ctx.Deadline(); ok && dl.Before(ends) {
			return ends, errWindowSpent
		}
		t := time.NewTimer(ends.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return ends, ctx.Err()
		case <-t.C:
		}
	}
}

// done records the end of a request admitted in bucket b, with what its
// answer said about the window (ok false: no answer, or no usable headers).
// received is the local time the answer came.
func (g *windowGuard) done(b RateBucket, o RateObservation, ok bool, received time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w := g.window(b)
	w.inflight = max(0, w.inflight-1)
	if !ok || o.Reset.IsZero() || o.Remaining < 0 {
		return
	}
	switch {
	case o.Reset.After(w.reset): // a newer window
		// Reset and Date are both Okta's clock, in whole seconds: Date is
		// truncated, Reset the window's end rounded up, so their difference
		// never ends the window early on the local clock.
		w.reset, w.ends, w.remaining = o.Reset, received.Add(o.Reset.Sub(o.At)), o.Remaining
	case o.Reset.Equal(w.reset):
		w.remaining = min(w.remaining, o.Remaining)
	}
}
