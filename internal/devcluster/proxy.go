package devcluster

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// proxyDialTimeout bounds the proxy's connection to one backend; a refused
// or timed-out dial moves on to the next backend.
const proxyDialTimeout = 2 * time.Second

// Proxy is a round-robin TCP proxy: each accepted connection goes, bytes
// unchanged (TLS passes through to the backend), to the next backend in turn;
// a backend that refuses the connection is skipped for that connection, as a
// load balancer's passive health check does. Okta calls the hook through it.
type Proxy struct {
	ln       net.Listener
	backends []string
	next     atomic.Uint64
	conns    []atomic.Int64
	logger   *slog.Logger

	mu     sync.Mutex
	open   map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

// NewProxy listens on 127.0.0.1 (a free port) and forwards to backends.
func NewProxy(backends []string, logger *slog.Logger) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("devcluster: proxy without backends")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &Proxy{ln: ln, backends: append([]string(nil), backends...), conns: make([]atomic.Int64, len(backends)),
		logger: logger, open: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Conns returns how many connections each backend (by index) was given.
func (p *Proxy) Conns() []int64 {
	out := make([]int64, len(p.conns))
	for i := range p.conns {
		out[i] = p.conns[i].Load()
	}
	return out
}

func (p *Proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(c) {
			_ = c.Close()
			return
		}
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer p.untrack(c)
			p.forward(c)
		}()
	}
}

func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.open[c] = struct{}{}
	return true
}

func (p *Proxy) untrack(c net.Conn) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
	_ = c.Close()
}

// forward dials the next backend that answers and copies both ways until
// either side closes.
func (p *Proxy) forward(c net.Conn) {
	start := p.next.Add(1) - 1
	var up net.Conn
	var idx int
	for k := range p.backends {
		idx = int((start + uint64(k)) % uint64(len(p.backends)))
		var err error
		if up, err = net.DialTimeout("tcp", p.backends[idx], proxyDialTimeout); err == nil {
			break
		}
		p.logger.Debug("proxy: backend refused", "backend", idx, "err", err)
	}
	if up == nil {
		p.logger.Warn("proxy: no backend answers")
		return
	}
	p.conns[idx].Add(1)
	if !p.track(up) {
		_ = up.Close()
		return
	}
	defer p.untrack(up)
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		// Half-close would keep a dead backend's client waiting; close both.
		_ = dst.Close()
		_ = src.Close()
		done <- struct{}{}
	}
	go cp(up, c)
	go cp(c, up)
	<-done
	<-done
}

// Close stops accepting, closes every open connection and waits for the
// forwarding goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	for c := range p.open {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}
