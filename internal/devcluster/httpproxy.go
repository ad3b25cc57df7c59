package devcluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"
)

// maxProxyBody bounds a proxied request body (a hook call is a few KB).
const maxProxyBody = 1 << 20

// HTTPProxy is a round-robin HTTPS load balancer: it terminates TLS and
// sends each request to the next backend in turn over TLS, as a cloud
// application load balancer does. A backend that refuses the connection is
// skipped for that request (nothing was sent to it); a backend that fails
// after the request was sent gets the caller a 502, which Okta retries once
// (https://developer.okta.com/docs/concepts/inline-hooks/), landing on the
// next backend. Balancing per request matters for the hook: fakeokta's hook
// client speaks HTTP/2, which carries every call over one connection, so a
// TCP proxy (Proxy) gives one replica all of them.
type HTTPProxy struct {
	ln       net.Listener
	srv      *http.Server
	backends []string
	next     atomic.Uint64
	reqs     []atomic.Int64
	tr       *http.Transport
	logger   *slog.Logger
}

// NewHTTPProxy listens on 127.0.0.1 (a free port) with serverTLS and
// forwards to the https backends (host:port), trusting roots.
func NewHTTPProxy(backends []string, serverTLS *tls.Config, roots *x509.CertPool, logger *slog.Logger) (*HTTPProxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("devcluster: proxy without backends")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &HTTPProxy{backends: append([]string(nil), backends...), reqs: make([]atomic.Int64, len(backends)), logger: logger}
	p.tr = http.DefaultTransport.(*http.Transport).Clone()
	p.tr.Proxy = nil
	p.tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	p.tr.DialContext = (&net.Dialer{Timeout: proxyDialTimeout}).DialContext
	p.tr.ResponseHeaderTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p.ln = ln
	p.srv = &http.Server{Handler: http.HandlerFunc(p.serve), TLSConfig: serverTLS.Clone(), ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelDebug)}
	go func() { _ = p.srv.ServeTLS(ln, "", "") }()
	return p, nil
}

// serve forwards r to the next backend that accepts a connection.
func (p *HTTPProxy) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxProxyBody))
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	start := p.next.Add(1) - 1
	for k := range p.backends {
		idx := int((start + uint64(k)) % uint64(len(p.backends)))
		out, err := http.NewRequestWithContext(r.Context(), r.Method, "https://"+p.backends[idx]+r.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		out.Header = r.Header.Clone()
		out.Host = r.Host
		resp, err := p.tr.RoundTrip(out)
		var op *net.OpError
		if err != nil && errors.As(err, &op) && op.Op == "dial" {
			p.logger.Debug("proxy: backend refused", "backend", idx, "err", err)
			continue // nothing was sent: the next backend may take it
		}
		p.reqs[idx].Add(1)
		if err != nil {
			p.logger.Warn("proxy: backend failed", "backend", idx, "err", err)
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			w.Header()[k] = vs
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.Copy(w, resp.Body)
		return
	}
	p.logger.Warn("proxy: no backend answers")
	w.WriteHeader(http.StatusBadGateway)
}

// Addr is the proxy's host:port.
func (p *HTTPProxy) Addr() string { return p.ln.Addr().String() }

// Requests returns how many requests each backend (by index) was sent.
func (p *HTTPProxy) Requests() []int64 {
	out := make([]int64, len(p.reqs))
	for i := range p.reqs {
		out[i] = p.reqs[i].Load()
	}
	return out
}

// Close stops the proxy, waiting up to 5 s for requests in flight.
func (p *HTTPProxy) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := p.srv.Shutdown(ctx)
	if err != nil {
		_ = p.srv.Close()
	}
	p.tr.CloseIdleConnections()
	return err
}
