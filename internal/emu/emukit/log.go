package emukit

import (
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Log is a bounded log of records: it keeps at least the last limit records,
// trimming only when it reaches twice the limit (amortised O(1) per record,
// where trimming on every append would copy the whole log each time). It is
// safe for concurrent use; make one with NewLog.
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

// LogRequest writes an emulator's debug line for one request: method, route,
// path, status, duration and attrs; never a header or a body, which may carry
// credentials.
func LogRequest(l *slog.Logger, msg string, r *http.Request, route string, status int, start time.Time, attrs ...any) {
	l.Debug(msg, append([]any{"method", r.Method, "route", route, "path", r.URL.Path, "status", status,
		"duration", time.Since(start)}, attrs...)...)
}
