package loopbacktls_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"entra2okta/internal/loopbacktls"
)

func TestServeTrustedOnlyThroughCA(t *testing.T) {
	ca, err := loopbacktls.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := ca.Serve("127.0.0.1:0", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	}))
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	resp, err := ca.HTTPClient(0).Get(srv.URL + "/")
	if err != nil {
		t.Fatalf("trusted client: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "ok" {
		t.Fatalf("body = %q", body)
	}

	// A client that does not trust the CA must fail verification.
	if _, err := (&http.Client{}).Get(srv.URL + "/"); err == nil {
		t.Fatal("untrusted client connected without error")
	}

	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteCAFile(path); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(raw)
	if blk == nil {
		t.Fatal("no PEM block")
	}
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil || !cert.IsCA {
		t.Fatalf("CA file: cert=%v err=%v", cert, err)
	}
}

func TestWriteServerCertLoadsAsKeyPair(t *testing.T) {
	ca, err := loopbacktls.New("hookserver-demo")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	crt, key := filepath.Join(dir, "s.crt"), filepath.Join(dir, "s.key")
	if err := ca.WriteServerCert(crt, key); err != nil {
		t.Fatal(err)
	}
	pair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: ca.CertPool(), DNSName: "hookserver-demo"}); err != nil {
		t.Fatalf("leaf does not verify for hookserver-demo: %v", err)
	}
}
