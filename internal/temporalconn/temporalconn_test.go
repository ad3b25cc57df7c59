package temporalconn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"log/slog"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
)

const apiKeyMarker = "api-key-MARKER-4f1c"

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// clientPKI is a CA and a client certificate it issued, as PEM files.
type clientPKI struct {
	pool               *x509.CertPool
	caFile             string
	certFile, keyFile  string
	certPEM, keyPEMRaw []byte
}

// newClientPKI writes a CA and a client certificate (for mTLS) under dir.
func newClientPKI(t *testing.T, dir string) clientPKI {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test client CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "entra2okta-worker"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := clientPKI{pool: x509.NewCertPool(), caFile: filepath.Join(dir, "client-ca.pem"),
		certFile: filepath.Join(dir, "client.pem"), keyFile: filepath.Join(dir, "client.key"),
		certPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		keyPEMRaw: pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
	p.pool.AddCert(ca)
	for f, b := range map[string][]byte{p.caFile: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		p.certFile: p.certPEM, p.keyFile: p.keyPEMRaw} {
		if err := os.WriteFile(f, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

func writeFile(t *testing.T, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLoad checks the option building: the profile file, the environment over
// it, the flags over both, and TLS as envconfig decides it (an API key implies
// TLS unless TLS is disabled).
func TestLoad(t *testing.T) {
	dir := t.TempDir()
	pki := newClientPKI(t, dir)
	file := writeFile(t, filepath.Join(dir, "temporal.toml"), fmt.Sprintf(`
[profile.default]
address = "file-default.example:7233"
namespace = "file-ns"

[profile.cloud]
address = "migration.a1b2c.tmprl.cloud:7233"
namespace = "migration.a1b2c"
api_key = %q

[profile.mtls]
address = "temporal.internal:7233"
namespace = "mtls-ns"
[profile.mtls.tls]
client_cert_path = %q
client_key_path = %q
server_ca_cert_path = %q
server_name = "frontend.temporal.internal"

[profile.keynotls]
address = "10.0.0.1:7233"
api_key = "k"
[profile.keynotls.tls]
disabled = true
`, apiKeyMarker, pki.certFile, pki.keyFile, pki.caFile))
	keyFile := writeFile(t, filepath.Join(dir, "api-key"), apiKeyMarker+"\n")
	noFile := filepath.Join(dir, "absent.toml")

	type want struct {
		address, namespace string
		tls, clientCert    bool
		apiKey, rootCAs    bool
		serverName         string
	}
	for name, tc := range map[string]struct {
		env   map[string]string
		flags Overrides
		want  want
	}{
		"defaults": {env: map[string]string{"TEMPORAL_CONFIG_FILE": noFile},
			want: want{address: "localhost:7233", namespace: "default"}},
		"the file's default profile": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file},
			want: want{address: "file-default.example:7233", namespace: "file-ns"}},
		"a profile with an API key: TLS on": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "cloud"},
			want: want{address: "migration.a1b2c.tmprl.cloud:7233", namespace: "migration.a1b2c", tls: true, apiKey: true}},
		"a profile with mTLS": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "mtls"},
			want: want{address: "temporal.internal:7233", namespace: "mtls-ns", tls: true, clientCert: true, rootCAs: true,
				serverName: "frontend.temporal.internal"}},
		"an API key with TLS disabled in the profile": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "keynotls"},
			want: want{address: "10.0.0.1:7233", namespace: "default", apiKey: true}},
		"the environment over the file": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_ADDRESS": "env.example:7233"},
			want: want{address: "env.example:7233", namespace: "file-ns"}},
		"the environment over a profile": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "cloud",
			"TEMPORAL_NAMESPACE": "other.a1b2c", "TEMPORAL_TLS_SERVER_NAME": "sni.example"},
			want: want{address: "migration.a1b2c.tmprl.cloud:7233", namespace: "other.a1b2c", tls: true, apiKey: true, serverName: "sni.example"}},
		"flags over the environment": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_ADDRESS": "env.example:7233", "TEMPORAL_NAMESPACE": "env-ns"},
			flags: Overrides{Address: "flag.example:7233", Namespace: "flag-ns"},
			want:  want{address: "flag.example:7233", namespace: "flag-ns"}},
		"a flag keeps the profile's TLS": {env: map[string]string{"TEMPORAL_CONFIG_FILE": file, "TEMPORAL_PROFILE": "cloud"},
			flags: Overrides{Address: "127.0.0.1:7233"},
			want:  want{address: "127.0.0.1:7233", namespace: "migration.a1b2c", tls: true, apiKey: true}},
		"TEMPORAL_API_KEY implies TLS": {env: map[string]string{"TEMPORAL_CONFIG_FILE": noFile, "TEMPORAL_API_KEY": apiKeyMarker},
			want: want{address: "localhost:7233", namespace: "default", tls: true, apiKey: true}},
		"TEMPORAL_API_KEY_FILE": {env: map[string]string{"TEMPORAL_CONFIG_FILE": noFile, "TEMPORAL_API_KEY_FILE": keyFile},
			want: want{address: "localhost:7233", namespace: "default", tls: true, apiKey: true}},
		"TEMPORAL_TLS=false over an API key": {env: map[string]string{"TEMPORAL_CONFIG_FILE": noFile, "TEMPORAL_API_KEY": apiKeyMarker, "TEMPORAL_TLS": "false"},
			want: want{address: "localhost:7233", namespace: "default", apiKey: true}},
		"TEMPORAL_TLS=true alone": {env: map[string]string{"TEMPORAL_CONFIG_FILE": noFile, "TEMPORAL_TLS": "true"},
			want: want{address: "localhost:7233", namespace: "default", tls: true}},
		"mTLS from the environment": {env: map[string]string{"TEMPORAL_CONFIG_FILE": noFile, "TEMPORAL_ADDRESS": "t:7233",
			"TEMPORAL_TLS_CLIENT_CERT_PATH": pki.certFile, "TEMPORAL_TLS_CLIENT_KEY_PATH": pki.keyFile,
			"TEMPORAL_TLS_SERVER_CA_CERT_PATH": pki.caFile},
			want: want{address: "t:7233", namespace: "default", tls: true, clientCert: true, rootCAs: true}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(envOf(tc.env), tc.flags)
			if err != nil {
				t.Fatal(err)
			}
			logger := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))
			opts := c.ClientOptions(client.Options{Logger: logger, Identity: "test"})
			got := want{address: c.Address(), namespace: c.Namespace(), tls: c.TLS(), clientCert: c.clientCert, apiKey: c.apiKey}
			if tlsConf := opts.ConnectionOptions.TLS; tlsConf != nil {
				got.rootCAs, got.serverName = tlsConf.RootCAs != nil, tlsConf.ServerName
				if got.clientCert != (len(tlsConf.Certificates) == 1) {
					t.Errorf("client certificates %d, clientCert %v", len(tlsConf.Certificates), got.clientCert)
				}
			}
			if got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
			if opts.HostPort != tc.want.address || opts.Namespace != tc.want.namespace || (opts.ConnectionOptions.TLS != nil) != tc.want.tls ||
				(opts.Credentials != nil) != tc.want.apiKey || opts.Logger != logger || opts.Identity != "test" {
				t.Errorf("client options %+v", opts)
			}
			// Nothing printable carries a secret.
			holder := struct{ conn Config }{c}
			for _, s := range []string{c.String(), fmt.Sprintf("%v %+v %+v", c, c, holder), logText(c)} {
				if strings.Contains(s, apiKeyMarker) || strings.Contains(s, pki.keyFile) {
					t.Errorf("formatted connection carries a secret: %s", s)
				}
			}
		})
	}
}

func logText(c Config) string {
	var b strings.Builder
	slog.New(slog.NewTextHandler(&b, nil)).Info("x", "temporal", c)
	return b.String()
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	pki := newClientPKI(t, dir)
	badTOML := writeFile(t, filepath.Join(dir, "bad.toml"), "[profile.default]\naddress = \"a:1\"\napi_key = "+apiKeyMarker+"\n")
	good := writeFile(t, filepath.Join(dir, "good.toml"), "[profile.default]\naddress = \"a:1\"\n")
	missingKey := filepath.Join(dir, "secret-dir", "client.key")
	keyFile := writeFile(t, filepath.Join(dir, "api-key"), apiKeyMarker)
	for name, tc := range map[string]struct {
		env     map[string]string
		want    []string
		mustNot []string
	}{
		"unknown profile": {env: map[string]string{"TEMPORAL_CONFIG_FILE": good, "TEMPORAL_PROFILE": "prod"},
			want: []string{"prod"}},
		"TOML syntax": {env: map[string]string{"TEMPORAL_CONFIG_FILE": badTOML},
			want: []string{badTOML, "line 3"}, mustNot: []string{apiKeyMarker}},
		"missing client key": {env: map[string]string{"TEMPORAL_CONFIG_FILE": good, "TEMPORAL_API_KEY": apiKeyMarker,
			"TEMPORAL_TLS_CLIENT_CERT_PATH": pki.certFile, "TEMPORAL_TLS_CLIENT_KEY_PATH": missingKey},
			want: []string{"TEMPORAL_TLS", "<the client key path>"}, mustNot: []string{missingKey, apiKeyMarker}},
		"cert without key": {env: map[string]string{"TEMPORAL_CONFIG_FILE": good, "TEMPORAL_TLS_CLIENT_CERT_PATH": pki.certFile},
			want: []string{"TEMPORAL_TLS"}},
		"API key twice": {env: map[string]string{"TEMPORAL_CONFIG_FILE": good, "TEMPORAL_API_KEY": apiKeyMarker, "TEMPORAL_API_KEY_FILE": keyFile},
			want: []string{"TEMPORAL_API_KEY and TEMPORAL_API_KEY_FILE"}, mustNot: []string{apiKeyMarker}},
		"API key file unreadable": {env: map[string]string{"TEMPORAL_CONFIG_FILE": good, "TEMPORAL_API_KEY_FILE": missingKey},
			want: []string{"TEMPORAL_API_KEY_FILE", missingKey}},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := Load(envOf(tc.env), Overrides{})
			if err == nil {
				t.Fatalf("Load = %v, want an error", c)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			for _, w := range tc.mustNot {
				if strings.Contains(err.Error(), w) {
					t.Errorf("error %q carries %q", err, w)
				}
			}
		})
	}
}

func TestPlainAndZero(t *testing.T) {
	c := Plain("", "")
	if c.Address() != DefaultAddress || c.Namespace() != DefaultNamespace || c.TLS() {
		t.Fatalf("Plain defaults: %v", c)
	}
	opts := Plain("127.0.0.1:1234", "ns").ClientOptions(client.Options{ConnectionOptions: client.ConnectionOptions{TLS: &tls.Config{}}})
	if opts.HostPort != "127.0.0.1:1234" || opts.Namespace != "ns" || opts.ConnectionOptions.TLS != nil || opts.Credentials != nil {
		t.Fatalf("Plain options %+v", opts)
	}
	if s := Plain("h:1", "n").String(); s != "h:1 namespace n, plaintext" {
		t.Fatalf("String() = %q", s)
	}
}

func TestIsCloudAddress(t *testing.T) {
	for addr, want := range map[string]bool{
		"migration.a1b2c.tmprl.cloud:7233":   true,
		"MIGRATION.A1B2C.TMPRL.CLOUD.:7233":  true,
		"us-east-1.aws.api.temporal.io:7233": true,
		"migration.a1b2c.tmprl.cloud":        true,
		"localhost:7233":                     false,
		"temporal:7233":                      false,
		"tmprl.cloud.example.com:7233":       false,
		"faketmprl.cloud:7233":               false,
	} {
		if got := IsCloudAddress(addr); got != want {
			t.Errorf("IsCloudAddress(%q) = %v", addr, got)
		}
	}
	if !Plain("ns.acct.tmprl.cloud:7233", "ns.acct").Cloud() || Plain("", "").Cloud() {
		t.Error("Config.Cloud")
	}
}

func TestGRPCMetaFromTheEnvironment(t *testing.T) {
	t.Setenv("TEMPORAL_GRPC_META_X_TENANT", "ignored: getenv decides the value")
	env := map[string]string{"TEMPORAL_CONFIG_FILE": filepath.Join(t.TempDir(), "none.toml"), "TEMPORAL_GRPC_META_X_TENANT": "acme"}
	c, err := Load(envOf(env), Overrides{})
	if err != nil {
		t.Fatal(err)
	}
	opts := c.ClientOptions(client.Options{})
	if opts.HeadersProvider == nil {
		t.Fatal("no headers provider")
	}
	h, err := opts.HeadersProvider.GetHeaders(t.Context())
	if err != nil || h["x-tenant"] != "acme" {
		t.Fatalf("headers %v, %v", h, err)
	}
	// A getenv without the variable: no header.
	delete(env, "TEMPORAL_GRPC_META_X_TENANT")
	c, err = Load(envOf(env), Overrides{})
	if err != nil || c.ClientOptions(client.Options{}).HeadersProvider != nil {
		t.Fatalf("headers without the variable: %v", err)
	}
}
