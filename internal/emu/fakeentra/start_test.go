package fakeentra

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestStartServesTLS: Start listens on Options.ListenAddr over TLS with a
// certificate that also names Options.TLSNames; HTTPClient and WriteCAFile
// trust its CA, a plain client does not.
func TestStartServesTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	fe, err := Start(Options{ListenAddr: addr, TLSNames: []string{"entra.test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer fe.Close()
	if fe.URL != "https://"+addr {
		t.Fatalf("URL = %s, want https://%s", fe.URL, addr)
	}
	resp, err := fe.HTTPClient(5 * time.Second).Get(fe.URL + "/common/discovery/instance?api-version=1.1&authorization_endpoint=" + fe.URL + "/common/oauth2/v2.0/authorize")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || fe.Calls(RouteInstanceDiscovery) != 1 {
		t.Fatalf("discovery: %d, %d calls", resp.StatusCode, fe.Calls(RouteInstanceDiscovery))
	}
	if names := resp.TLS.PeerCertificates[0].DNSNames; !slices.Contains(names, "entra.test") {
		t.Errorf("certificate names %v, want entra.test among them", names)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := fe.WriteCAFile(caFile); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(raw) {
		t.Fatalf("CA file holds no PEM certificate: %q", raw)
	}
	fromFile := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if resp, err := fromFile.Get(fe.URL + "/common/UserRealm/a@contoso.com?api-version=1.0"); err != nil {
		t.Errorf("a client trusting the CA file: %v", err)
	} else {
		resp.Body.Close()
	}
	if _, err := (&http.Client{Timeout: 5 * time.Second}).Get(fe.URL + "/common/discovery/instance"); err == nil {
		t.Error("a client without the emulator's CA was answered")
	}
}

// TestInjectFaultRefusesAnUnknownRoute: a fault on a route the emulator does
// not serve would never fire, so InjectFault panics, as fakeokta's does.
func TestInjectFaultRefusesAnUnknownRoute(t *testing.T) {
	s := New(Options{})
	s.FailNext(RouteGraphUser, 1, http.StatusServiceUnavailable) // a known route
	defer func() {
		if recover() == nil {
			t.Error("InjectFault accepted an unknown route")
		}
	}()
	s.InjectFault(Route("graph-userz"), Fault{Status: http.StatusServiceUnavailable})
}
