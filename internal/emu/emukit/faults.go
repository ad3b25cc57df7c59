package emukit

import (
	"context"
	"net/http"
	"sync"
	"time"
)

// Faults holds fault rules of type F by route R, tried in the order added.
// It is safe for concurrent use; the zero value is empty and usable.
type Faults[R comparable, F any] struct {
	mu    sync.Mutex
	rules map[R][]*faultRule[F]
}

type faultRule[F any] struct {
	f           F
	times, used int
}

// Add appends a rule on route, used for times requests (0: until Clear).
func (fs *Faults[R, F]) Add(route R, f F, times int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fs.rules == nil {
		fs.rules = map[R][]*faultRule[F]{}
	}
	fs.rules[route] = append(fs.rules[route], &faultRule[F]{f: f, times: times})
}

// Clear removes every rule.
func (fs *Faults[R, F]) Clear() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.rules = nil
}

// Take uses and returns the first rule not used up that match accepts (nil
// accepts all), looking at the routes in the order given.
func (fs *Faults[R, F]) Take(match func(F) bool, routes ...R) (F, bool) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	for _, route := range routes {
		for _, rule := range fs.rules[route] {
			if rule.times > 0 && rule.used >= rule.times {
				continue
			}
			if match != nil && !match(rule.f) {
				continue
			}
			rule.used++
			return rule.f, true
		}
	}
	var zero F
	return zero, false
}

// Drop ends a request without an answer: the connection is hijacked and
// closed on HTTP/1.1; on HTTP/2 the handler panics with http.ErrAbortHandler,
// which resets the stream.
func Drop(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
		return
	}
	panic(http.ErrAbortHandler)
}

// Wait waits d (nothing when d <= 0). It reports false when ctx ended first;
// a receive from stop (nil: never) ends the wait early and reports true.
func Wait(ctx context.Context, d time.Duration, stop <-chan struct{}) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-stop:
	case <-ctx.Done():
		return false
	}
	return true
}
