// Package temporalconn builds every Temporal client of the product (worker,
// starter, hook server, demo) from Temporal's own environment configuration,
// the one the temporal CLI and the SDKs share
// (https://docs.temporal.io/develop/environment-configuration): a profile of
// the TOML file named by TEMPORAL_CONFIG_FILE (default: the temporal CLI's
// temporal.toml), chosen by TEMPORAL_PROFILE, then the TEMPORAL_* variables
// (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS,
// TEMPORAL_TLS_CLIENT_CERT_PATH, ...), then the command line's flags. So a
// deployment points at Temporal Cloud (TLS, mTLS or an API key) exactly as it
// points the temporal CLI. TEMPORAL_API_KEY may also come from
// TEMPORAL_API_KEY_FILE (see secretenv).
package temporalconn

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/contrib/envconfig"

	"entra2okta/internal/secretenv"
)

// Defaults when neither the profile, the environment nor a flag sets them
// (the temporal CLI's).
const (
	DefaultAddress   = "localhost:7233"
	DefaultNamespace = "default"
)

// Overrides are the command line's connection settings: a non-empty field
// wins over the profile and the environment.
type Overrides struct {
	Address   string
	Namespace string
}

// Config is a resolved Temporal connection. It formats (String, LogValue)
// without its secrets: no API key, no key path.
type Config struct {
	address, namespace string
	profile            string // TEMPORAL_PROFILE, "" for the default one
	tls, clientCert    bool
	apiKey             bool
	// conn holds the SDK's connection options (credentials included) behind
	// a pointer, so that printing a struct that holds a Config with %+v shows
	// an address, not the API key.
	conn *connOptions
}

type connOptions struct{ opts client.Options }

// Load resolves the connection from Temporal's environment configuration,
// read through getenv (os.Getenv in the mains), and the flags in o.
// TEMPORAL_GRPC_META_* variables are found in the process environment and
// read through getenv.
func Load(getenv func(string) string, o Overrides) (Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	apiKey, err := secretenv.Lookup(getenv, "TEMPORAL_API_KEY")
	if err != nil {
		return Config{}, err
	}
	env := lookup{getenv: getenv, apiKey: apiKey}
	req := envconfig.LoadClientConfigProfileOptions{EnvLookup: env}
	if getenv("TEMPORAL_CONFIG_FILE") == "" && getenv("TEMPORAL_PROFILE") == "" {
		// Without a home directory (a container's service user) there is
		// no default file to read: the environment alone configures.
		if _, err := os.UserConfigDir(); err != nil {
			req.DisableFile = true
		}
	}
	prof, err := envconfig.LoadClientConfigProfile(req)
	if err != nil {
		return Config{}, loadError(err, getenv)
	}
	if o.Address != "" {
		prof.Address = o.Address
	}
	if o.Namespace != "" {
		prof.Namespace = o.Namespace
	}
	if prof.Address == "" {
		prof.Address = DefaultAddress
	}
	if prof.Namespace == "" {
		prof.Namespace = DefaultNamespace
	}
	opts, err := prof.ToClientOptions(envconfig.ToClientOptionsRequest{})
	if err != nil {
		return Config{}, redact(fmt.Errorf("Temporal TLS settings (TEMPORAL_TLS_*, or the profile's [tls]): %w", err), prof)
	}
	c := Config{
		address: prof.Address, namespace: prof.Namespace, profile: getenv("TEMPORAL_PROFILE"),
		tls:    opts.ConnectionOptions.TLS != nil,
		apiKey: prof.APIKey != "",
		conn:   &connOptions{opts: opts},
	}
	if t := opts.ConnectionOptions.TLS; t != nil {
		c.clientCert = len(t.Certificates) > 0
	}
	return c, nil
}

// Plain is a connection to address and namespace without TLS or credentials
// ("" for the defaults): what tests and the demo use against a dev server.
func Plain(address, namespace string) Config {
	if address == "" {
		address = DefaultAddress
	}
	if namespace == "" {
		namespace = DefaultNamespace
	}
	return Config{address: address, namespace: namespace,
		conn: &connOptions{opts: client.Options{HostPort: address, Namespace: namespace}}}
}

// Address is the frontend's host:port.
func (c Config) Address() string { return c.address }

// Namespace is the namespace every client uses.
func (c Config) Namespace() string { return c.namespace }

// TLS reports whether the connection uses TLS.
func (c Config) TLS() bool { return c.tls }

// Cloud reports whether the address is a Temporal Cloud endpoint.
func (c Config) Cloud() bool { return IsCloudAddress(c.address) }

// String describes the connection without its secrets.
func (c Config) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s namespace %s", c.address, c.namespace)
	if c.tls {
		b.WriteString(", TLS")
	} else {
		b.WriteString(", plaintext")
	}
	if c.clientCert {
		b.WriteString(", client certificate")
	}
	if c.apiKey {
		b.WriteString(", API key")
	}
	if c.profile != "" {
		fmt.Fprintf(&b, ", profile %s", c.profile)
	}
	return b.String()
}

// LogValue logs the connection without its secrets.
func (c Config) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("address", c.address), slog.String("namespace", c.namespace),
		slog.Bool("tls", c.tls), slog.Bool("clientCert", c.clientCert), slog.Bool("apiKey", c.apiKey)}
	if c.profile != "" {
		attrs = append(attrs, slog.String("profile", c.profile))
	}
	return slog.GroupValue(attrs...)
}

// ClientOptions returns base (Logger, MetricsHandler, Identity, ...) with the
// connection's fields set: address, namespace, TLS, credentials and gRPC
// metadata.
func (c Config) ClientOptions(base client.Options) client.Options {
	conn := client.Options{HostPort: c.address, Namespace: c.namespace}
	if c.conn != nil {
		conn = c.conn.opts
	}
	base.HostPort, base.Namespace = conn.HostPort, conn.Namespace
	base.Credentials = conn.Credentials
	base.ConnectionOptions.TLS = conn.ConnectionOptions.TLS
	if conn.HeadersProvider != nil {
		base.HeadersProvider = conn.HeadersProvider
	}
	return base
}

// Dial connects, giving the SDK's connection check at most timeout.
func (c Config) Dial(ctx context.Context, timeout time.Duration, base client.Options) (client.Client, error) {
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cl, err := client.DialContext(dctx, c.ClientOptions(base))
	if err != nil {
		return nil, fmt.Errorf("connect to Temporal at %s: %w", c, err)
	}
	return cl, nil
}

// NewLazyClient returns a client that connects on its first call, so that a
// server can start while Temporal is unreachable.
func (c Config) NewLazyClient(base client.Options) (client.Client, error) {
	cl, err := client.NewLazyClient(c.ClientOptions(base))
	if err != nil {
		return nil, fmt.Errorf("Temporal client for %s: %w", c, err)
	}
	return cl, nil
}

// IsCloudAddress reports whether hostPort is a Temporal Cloud gRPC endpoint:
// a namespace endpoint (<namespace>.<account>.tmprl.cloud) or a regional API
// key endpoint (<region>.<provider>.api.temporal.io)
// (https://docs.temporal.io/cloud/namespaces#access-namespaces).
func IsCloudAddress(hostPort string) bool {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		host = hostPort
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return strings.HasSuffix(host, ".tmprl.cloud") || strings.HasSuffix(host, ".api.temporal.io")
}

// lookup is envconfig's view of the environment: getenv, with an empty
// variable taken as unset (as every other variable of the product), and
// TEMPORAL_API_KEY already read from its file when it has one.
type lookup struct {
	getenv func(string) string
	apiKey string
}

func (l lookup) LookupEnv(key string) (string, bool) {
	if key == "TEMPORAL_API_KEY" {
		return l.apiKey, l.apiKey != ""
	}
	v := l.getenv(key)
	return v, v != ""
}

// Environ lists the TEMPORAL_GRPC_META_* variables, which envconfig finds by
// listing the environment: their names come from the process environment,
// their values from getenv.
func (l lookup) Environ() []string {
	const prefix = "TEMPORAL_GRPC_META_"
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		if v := l.getenv(k); v != "" {
			out = append(out, k+"="+v)
		}
	}
	return out
}

// loadError explains a failure to read the profile. A TOML syntax error is
// reduced to its line: the parser's message may quote the offending value,
// which can be the API key.
func loadError(err error, getenv func(string) string) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("the Temporal config file %s is not valid TOML (line %d)", configFile(getenv), pe.Position.Line)
	}
	return fmt.Errorf("Temporal environment configuration (TEMPORAL_CONFIG_FILE, TEMPORAL_PROFILE): %w", err)
}

// configFile is the file envconfig reads: TEMPORAL_CONFIG_FILE, else the
// temporal CLI's default, <user config dir>/temporalio/temporal.toml.
func configFile(getenv func(string) string) string {
	if f := getenv("TEMPORAL_CONFIG_FILE"); f != "" {
		return f
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "temporalio/temporal.toml"
	}
	return filepath.Join(dir, "temporalio", "temporal.toml")
}

// redact removes from err's message the client key's path and the API key.
func redact(err error, prof envconfig.ClientConfigProfile) error {
	msg := err.Error()
	if prof.TLS != nil && prof.TLS.ClientKeyPath != "" {
		msg = strings.ReplaceAll(msg, prof.TLS.ClientKeyPath, "<the client key path>")
	}
	if prof.APIKey != "" {
		msg = strings.ReplaceAll(msg, prof.APIKey, "<the API key>")
	}
	return errors.New(msg)
}
