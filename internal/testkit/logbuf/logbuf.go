// Package logbuf is a log sink a test reads back while the component under
// test still writes to it.
package logbuf

import (
	"bytes"
	"sync"
)

// Buffer collects a component's log lines for a test to read back: a
// bytes.Buffer that the component's goroutines may write concurrently.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
