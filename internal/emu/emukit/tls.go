package emukit

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"entra2okta/internal/loopbacktls"
)

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

// HTTPClient returns a client that trusts CA, with an overall timeout (0 for
// none).
func (t *TLS) HTTPClient(timeout time.Duration) *http.Client { return t.CA.HTTPClient(timeout) }

// WriteCAFile writes the CA certificate as PEM to path, for SSL_CERT_FILE.
func (t *TLS) WriteCAFile(path string) error { return t.CA.WriteCAFile(path) }

// Close stops serving, waiting up to 5 s for requests in flight; requests
// still running then are cut, which is no error.
func (t *TLS) Close() error {
	err := t.srv.Close()
	if errors.Is(err, context.DeadlineExceeded) {
		return nil
	}
	return err
}
