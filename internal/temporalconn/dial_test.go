package temporalconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/loopbacktls"
)

// tlsFrontend serves TLS in front of a plaintext Temporal frontend, as Temporal
// Cloud does: it terminates TLS (HTTP/2, as gRPC requires), optionally
// demands a client certificate or an API key, and forwards the gRPC calls to
// the dev server over unencrypted HTTP/2.
func tlsFrontend(t *testing.T, ca *loopbacktls.Authority, backend string, clientCAs *x509.CertPool, apiKey string) string {
	t.Helper()
	var protocols http.Protocols
	protocols.SetUnencryptedHTTP2(true)
	target := &url.URL{Scheme: "http", Host: backend}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: &http.Transport{Protocols: &protocols, ResponseHeaderTimeout: 2 * time.Minute},
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if apiKey != "" && r.Header.Get("Authorization") != "Bearer "+apiKey {
			// A gRPC "trailers-only" answer: UNAUTHENTICATED (16).
			w.Header().Set("Content-Type", "application/grpc")
			w.Header().Set("Grpc-Status", "16")
			w.Header().Set("Grpc-Message", "missing or wrong API key")
			w.WriteHeader(http.StatusOK)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point of some cases
	srv.TLS = ca.ServerTLSConfig()
	if clientCAs != nil {
		srv.TLS.ClientAuth, srv.TLS.ClientCAs = tls.RequireAndVerifyClientCert, clientCAs
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestDialTLSOnlyFrontends connects, through Load and Dial, to a TLS-only
// frontend that requires a client certificate (mTLS) and to one that requires
// an API key, with nothing but Temporal's environment variables; and checks
// that the same settings minus one part do not connect.
func TestDialTLSOnlyFrontends(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{Namespace: "tls-test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })

	dir := t.TempDir()
	ca, err := loopbacktls.New("temporal.test")
	if err != nil {
		t.Fatal(err)
	}
	serverCA := filepath.Join(dir, "server-ca.pem")
	if err := ca.WriteCAFile(serverCA); err != nil {
		t.Fatal(err)
	}
	pki := newClientPKI(t, dir)
	mtlsAddr := tlsFrontend(t, ca, srv.HostPort(), pki.pool, "")
	keyAddr := tlsFrontend(t, ca, srv.HostPort(), nil, apiKeyMarker)
	apiKeyFile := writeFile(t, filepath.Join(dir, "temporal-api-key"), apiKeyMarker+"\n")
	wrongKeyFile := writeFile(t, filepath.Join(dir, "wrong-api-key"), "not-the-key\n")
	noConfig := filepath.Join(dir, "no-temporal.toml")

	mtls := map[string]string{"TEMPORAL_CONFIG_FILE": noConfig, "TEMPORAL_ADDRESS": mtlsAddr, "TEMPORAL_NAMESPACE": "tls-test",
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": serverCA,
		"TEMPORAL_TLS_CLIENT_CERT_PATH":    pki.certFile, "TEMPORAL_TLS_CLIENT_KEY_PATH": pki.keyFile}
	withKey := map[string]string{"TEMPORAL_CONFIG_FILE": noConfig, "TEMPORAL_ADDRESS": keyAddr, "TEMPORAL_NAMESPACE": "tls-test",
		"TEMPORAL_TLS_SERVER_CA_CERT_PATH": serverCA, "TEMPORAL_TLS_SERVER_NAME": "temporal.test",
		"TEMPORAL_API_KEY_FILE": apiKeyFile}
	without := func(m map[string]string, drop string, set ...string) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			if k != drop {
				out[k] = v
			}
		}
		for i := 0; i+1 < len(set); i += 2 {
			out[set[i]] = set[i+1]
		}
		return out
	}

	for name, tc := range map[string]struct {
		env     map[string]string
		wantOK  bool
		wantErr string // in the error when !wantOK
	}{
		"mTLS":                            {env: mtls, wantOK: true},
		"mTLS without a client cert":      {env: without(without(mtls, "TEMPORAL_TLS_CLIENT_CERT_PATH"), "TEMPORAL_TLS_CLIENT_KEY_PATH")}, // the server's alert or a broken pipe
		"mTLS without the server's CA":    {env: without(mtls, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"), wantErr: "certificate signed by unknown authority"},
		"plaintext to a TLS frontend":     {env: without(mtls, "", "TEMPORAL_TLS", "false")},
		"API key from a file":             {env: withKey, wantOK: true},
		"wrong API key":                   {env: without(withKey, "", "TEMPORAL_API_KEY_FILE", wrongKeyFile), wantErr: "missing or wrong API key"},
		"API key without the server's CA": {env: without(withKey, "TEMPORAL_TLS_SERVER_CA_CERT_PATH"), wantErr: "certificate signed by unknown authority"},
	} {
		t.Run(name, func(t *testing.T) {
			conn, err := Load(envOf(tc.env), Overrides{})
			if err != nil {
				t.Fatal(err)
			}
			timeout := 30 * time.Second
			if !tc.wantOK {
				timeout = 3 * time.Second
			}
			c, err := conn.Dial(ctx, timeout, client.Options{})
			if !tc.wantOK {
				if err == nil {
					c.Close()
					t.Fatalf("connected to %s", conn)
				}
				if strings.Contains(err.Error(), apiKeyMarker) || strings.Contains(err.Error(), pki.keyFile) {
					t.Fatalf("the error carries a secret: %v", err)
				}
				if !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %q, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if !conn.TLS() {
				t.Fatalf("%s: not TLS", conn)
			}
			// A namespace-scoped call answers through the frontend.
			rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
			defer rcancel()
			d, err := c.WorkflowService().DescribeNamespace(rctx, &workflowservice.DescribeNamespaceRequest{Namespace: conn.Namespace()})
			if err != nil || d.GetNamespaceInfo().GetName() != "tls-test" {
				t.Fatalf("DescribeNamespace through %s: %v", conn, err)
			}
		})
	}
}
