// Package emukit is what the emulators (internal/emu/fakeokta,
// internal/emu/fakeentra) share, so that both route, inject faults, record
// requests and serve TLS in one way:
//
//   - Mux: routing on http.ServeMux method and path patterns, each pattern
//     named by a route of the emulator's own route type;
//   - Faults: per-route fault rules, each used a given number of times;
//   - Log and Counts: a bounded record log and per-route request counts;
//   - Drop, Wait, StatusRecorder: the HTTP mechanics of a fault;
//   - ServeTLS: serving over TLS with a fresh loopback certificate authority.
//
// What a fault answers (an Okta error body, a Graph error, an AADSTS code)
// stays with each emulator: emukit knows no vendor protocol.
package emukit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"entra2okta/internal/loopbacktls"
)

// Mux routes requests with http.ServeMux patterns ("GET /api/v1/users/{id}")
// and names the pattern that matched with a route of type R.
type Mux[R ~string] struct {
	mux    *http.ServeMux
	routes map[string]R // by pattern
	known  map[R]bool
}

// NewMux returns an empty Mux.
func NewMux[R ~string]() *Mux[R] {
	return &Mux[R]{mux: http.NewServeMux(), routes: map[string]R{}, known: map[R]bool{}}
}

// Handle serves pattern with h and names it route. Several patterns may
// share a route. It panics on a pattern http.ServeMux refuses.
func (m *Mux[R]) Handle(route R, pattern string, h http.HandlerFunc) {
	m.mux.HandleFunc(pattern, h)
	m.routes[pattern] = route
	m.known[route] = true
}

// Match returns the route of the pattern r matches; false when none does
// (the mux would answer 404 or 405).
func (m *Mux[R]) Match(r *http.Request) (R, bool) {
	_, pattern := m.mux.Handler(r)
	route, ok := m.routes[pattern]
	return route, ok
}

// Known reports whether route names a pattern.
func (m *Mux[R]) Known(route R) bool { return m.known[route] }

// ServeHTTP serves r with the handler of its pattern (setting r's path
// values).
func (m *Mux[R]) ServeHTTP(w http.ResponseWriter, r *http.Request) { m.mux.ServeHTTP(w, r) }

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

// Log is a bounded log of records: it keeps at least the last limit records,
// trimming only when it reaches twice the limit (amortised O(1) per record,
// where trimming on every append would copy the whole log each time). It is
// safe for concurrent use.
type Log[T any] struct {
	mu    sync.Mutex
	limit int
	items []T
}

// NewLog returns an empty log that keeps the last limit records.
func NewLog[T any](limit int) *Log[T] { return &Log[T]{limit: max(limit, 1)} }

// Append adds a record.
func (l *Log[T]) Append(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = append(l.items, v)
	if len(l.items) >= 2*l.limit {
		l.items = append(make([]T, 0, 2*l.limit), l.items[len(l.items)-l.limit:]...)
	}
}

// All returns a copy of the last limit records, oldest first.
func (l *Log[T]) All() []T {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.items[max(len(l.items)-l.limit, 0):])
}

// Reset empties the log.
func (l *Log[T]) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.items = nil
}

// Counts counts requests by route. It is safe for concurrent use; the zero
// value is usable.
type Counts[R comparable] struct {
	mu sync.Mutex
	n  map[R]int
}

// Add counts one request on route.
func (c *Counts[R]) Add(route R) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.n == nil {
		c.n = map[R]int{}
	}
	c.n[route]++
}

// Get returns the count of route.
func (c *Counts[R]) Get(route R) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n[route]
}

// Total returns the count of every route together.
func (c *Counts[R]) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	total := 0
	for _, n := range c.n {
		total += n
	}
	return total
}

// Reset zeroes every count.
func (c *Counts[R]) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n = nil
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

// StatusRecorder remembers the status of the answer written through it.
type StatusRecorder struct {
	http.ResponseWriter
	status int
}

// WriteHeader records the first status and passes it on.
func (w *StatusRecorder) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

// Write passes b on; without a status written before, that is 200.
func (w *StatusRecorder) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (to drop it).
func (w *StatusRecorder) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Status returns the status written, or 200 when nothing was (what net/http
// answers for a handler that writes nothing).
func (w *StatusRecorder) Status() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// Written reports whether a status was written.
func (w *StatusRecorder) Written() bool { return w.status != 0 }

// Positive returns v when it is above zero, else def: an option's default.
func Positive[T ~int | ~int64 | ~float64](v, def T) T {
	if v > 0 {
		return v
	}
	return def
}

// Clock returns now, or time.Now when now is nil.
func Clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// Logger returns l, or a logger that discards when l is nil.
func Logger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l
}

// TLS is a handler served over TLS with its own loopback certificate
// authority.
type TLS struct {
	// URL is https://127.0.0.1:PORT, without a trailing slash (127.0.0.1 also
	// when listening on every interface).
	URL string
	// CA issued the server's certificate; clients must trust it.
	CA  *loopbacktls.Authority
	srv *loopbacktls.Server
}

// ServeTLS serves h over TLS on addr ("" is 127.0.0.1 with a free port) with
// a fresh certificate authority whose certificate also names names (e.g. a
// compose service name).
func ServeTLS(h http.Handler, addr string, names ...string) (*TLS, error) {
	ca, err := loopbacktls.New(names...)
	if err != nil {
		return nil, fmt.Errorf("emukit: %w", err)
	}
	srv, err := ca.Serve(addr, h)
	if err != nil {
		return nil, fmt.Errorf("emukit: %w", err)
	}
	url := srv.URL
	if host, port, err := net.SplitHostPort(srv.Addr); err == nil && (host == "0.0.0.0" || host == "::") {
		url = "https://" + net.JoinHostPort("127.0.0.1", port)
	}
	return &TLS{URL: url, CA: ca, srv: srv}, nil
}

// Close stops serving, waiting up to 5 s for requests in flight; requests
// still running then are cut, which is no error.
func (t *TLS) Close() error {
	err := t.srv.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}

// LogRequest writes an emulator's debug line for one request: method, route,
// path, status, duration and attrs; never a header or a body, which may carry
// credentials.
func LogRequest(l *slog.Logger, msg string, r *http.Request, route string, status int, start time.Time, attrs ...any) {
	l.Debug(msg, append([]any{"method", r.Method, "route", route, "path", r.URL.Path, "status", status,
		"duration", time.Since(start)}, attrs...)...)
}
