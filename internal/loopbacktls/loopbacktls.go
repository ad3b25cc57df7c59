// Package loopbacktls serves HTTP handlers over TLS on loopback addresses with a
// freshly generated, in-memory certificate authority. The emulators use it:
// MSAL refuses non-https authorities ("did not start with https://")
// and real Okta is https only. Clients trust the CA through an explicit pool
// (HTTPClient) or through the standard SSL_CERT_FILE (WriteCAFile); product
// code never disables certificate verification.
package loopbacktls

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"time"
)

// Authority is a self-signed CA and one leaf certificate it issued for
// 127.0.0.1, ::1 and localhost.
type Authority struct {
	caPEM []byte
	pool  *x509.CertPool
	leaf  tls.Certificate
}

// New generates a CA and a leaf certificate valid for 127.0.0.1, ::1,
// localhost and any extra DNS names given (for example a docker-compose
// service name).
func New(extraDNSNames ...string) (*Authority, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("loopbacktls: ca key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          serial(),
		Subject:               pkix.Name{CommonName: "entra2okta loopback CA", Organization: []string{"entra2okta"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(1, 0, 0),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("loopbacktls: ca cert: %w", err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, fmt.Errorf("loopbacktls: parse ca: %w", err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("loopbacktls: leaf key: %w", err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: serial(),
		Subject:      pkix.Name{CommonName: "localhost"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     append([]string{"localhost"}, extraDNSNames...),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		return nil, fmt.Errorf("loopbacktls: leaf cert: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(caCert)
	return &Authority{
		caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pool:  pool,
		leaf:  tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey},
	}, nil
}

func serial() *big.Int {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return big.NewInt(time.Now().UnixNano())
	}
	return n
}

// CAPEM returns the CA certificate in PEM form.
func (a *Authority) CAPEM() []byte { return append([]byte(nil), a.caPEM...) }

// WriteCAFile writes the CA certificate as PEM to path, for SSL_CERT_FILE.
func (a *Authority) WriteCAFile(path string) error {
	return os.WriteFile(path, a.caPEM, 0o644)
}

// WriteServerCert writes the leaf certificate chain and its private key as PEM
// files, for a server in another process (the demo's hook server under Docker
// Compose) that clients trusting this CA must accept.
func (a *Authority) WriteServerCert(certPath, keyPath string) error {
	var chain []byte
	for _, der := range a.leaf.Certificate {
		chain = append(chain, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(a.leaf.PrivateKey)
	if err != nil {
		return fmt.Errorf("loopbacktls: marshal key: %w", err)
	}
	if err := os.WriteFile(certPath, chain, 0o644); err != nil {
		return err
	}
	return os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// CertPool returns a pool that trusts only this CA.
func (a *Authority) CertPool() *x509.CertPool { return a.pool }

// ServerTLSConfig returns a server configuration presenting the leaf certificate.
func (a *Authority) ServerTLSConfig() *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{a.leaf}, MinVersion: tls.VersionTLS12}
}

// HTTPClient returns a client that trusts only this CA, with the given overall
// timeout (0 for none).
func (a *Authority) HTTPClient(timeout time.Duration) *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: a.pool, MinVersion: tls.VersionTLS12}
	tr.MaxIdleConnsPerHost = 100
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Server is an HTTPS server on a loopback address.
type Server struct {
	// URL is https://127.0.0.1:PORT, without a trailing slash.
	URL string
	// Addr is the listening address (127.0.0.1:PORT).
	Addr string
	srv  *http.Server
	done chan struct{}
}

// Serve starts serving h over TLS on addr ("127.0.0.1:0" picks a free port).
func (a *Authority) Serve(addr string, h http.Handler) (*Server, error) {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("loopbacktls: listen %s: %w", addr, err)
	}
	srv := &http.Server{
		Handler:           h,
		TLSConfig:         a.ServerTLSConfig(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          nil,
	}
	s := &Server{URL: "https://" + ln.Addr().String(), Addr: ln.Addr().String(), srv: srv, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if err := srv.ServeTLS(ln, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
			_ = err // the listener failed; Close still works
		}
	}()
	return s, nil
}

// Close stops the server, waiting up to 5 s for in-flight requests.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		_ = s.srv.Close()
	}
	<-s.done
	return err
}
