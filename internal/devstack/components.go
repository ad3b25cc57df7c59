package devstack

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/hook"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/okta/oktapolicy"
	"entra2okta/internal/worker"
)

// This file is the one place where the stack constructs the product's
// components around the emulators.

// newHookServer builds the hook server around newVerifier and, when asked,
// the Okta password policy read from fakeokta (newPolicySource); it signals
// through the stack's client unless HookOptions.Signaler is set, and logs
// to the stack's logger unless HookOptions.Logger is set. It returns
// the event hook's configuration too (nil when not served).
func (s *Stack) newHookServer(ctx context.Context, o *HookOptions, secret string) (*hookserver.Server, *eventhook.EventConfig, error) {
	v, err := s.newVerifier()
	if err != nil {
		return nil, nil, err
	}
	cfg := hookserver.ServerConfig{Hook: pwimport.Config{AuthSecret: secret}, TLS: s.ca.ServerTLSConfig()}
	if o.OktaPasswordPolicy {
		src, err := s.newPolicySource()
		if err != nil {
			return nil, nil, err
		}
		cfg.Hook.Policy = pwimport.PolicyConfig{Source: src}
	}
	if o.Configure != nil {
		if err := o.Configure(s, &cfg); err != nil {
			return nil, nil, err
		}
	}
	if o.Verifier != nil {
		v = o.Verifier(v)
	}
	var signaler hook.Signaler = s.tc
	if o.Signaler != nil {
		signaler = o.Signaler
	}
	logger := s.logger.With("component", "hook")
	if o.Logger != nil {
		logger = o.Logger
	}
	hs, err := hookserver.NewServer(cfg, v, signaler, logger)
	return hs, cfg.Events, err
}

// newVerifier is the password verifier against fakeentra's authority: ROPC
// with the tenant's public client.
func (s *Stack) newVerifier() (pwimport.Verifier, error) {
	return ropc.NewVerifier(ropc.Config{
		AuthorityHost: s.EntraURL(), TenantID: s.tenant.TenantID, ClientID: s.tenant.PublicClientID,
		HTTPClient: s.ca.HTTPClient(0), Policy: entra.DefaultPolicy(), Logger: s.logger.With("component", "verifier"),
	})
}

// newPolicySource is the reader the hook reads Okta's password policies
// through.
func (s *Stack) newPolicySource() (*oktapolicy.Reader, error) {
	return oktapolicy.New(oktapolicy.Config{OrgURL: s.OktaURL(), APIToken: s.apiToken, HTTPClient: s.ca.HTTPClient(10 * time.Second)})
}

// WorkerConfig is the in-process worker's configuration: the real adapters
// pointed at the emulators through the stack's CA, metrics off, then
// Options.WorkerConfig's adjustments.
func (s *Stack) WorkerConfig() worker.Config {
	cfg := worker.DefaultConfig()
	cfg.TemporalAddress, cfg.TemporalNamespace = s.conn.Address(), s.conn.Namespace()
	if s.opts.Temporal != nil {
		conn := s.conn
		cfg.Temporal = &conn
	}
	cfg.OktaOrgURL, cfg.OktaAPIToken = s.OktaURL(), s.apiToken
	cfg.EntraTenantID, cfg.EntraClientID, cfg.EntraClientSecret = s.tenant.TenantID, s.tenant.GraphClientID, s.tenant.GraphClientSecret
	cfg.EntraAuthorityHost, cfg.GraphBaseURL = s.EntraURL(), s.EntraURL()
	cfg.MetricsAddr = "off"
	cfg.HTTPClient, cfg.Logger = s.ca.HTTPClient(30*time.Second), s.logger.With("component", "worker")
	if s.opts.WorkerConfig != nil {
		s.opts.WorkerConfig(&cfg)
	}
	return cfg
}

// runWorker runs the in-process worker until ctx ends.
func runWorker(ctx context.Context, cfg worker.Config) error { return worker.Run(ctx, cfg) }

// WorkerEnv is the worker process's environment: this process's, the
// connection to the stack (plaintext Temporal, the emulators trusted through
// SSL_CERT_FILE), metrics off, then Options.WorkerEnv.
func (s *Stack) WorkerEnv() []string {
	env := append(os.Environ(),
		"TEMPORAL_ADDRESS="+s.conn.Address(), "TEMPORAL_NAMESPACE="+s.conn.Namespace(),
		"OKTA_ORG_URL="+s.OktaURL(), "OKTA_API_TOKEN="+s.apiToken,
		"ENTRA_TENANT_ID="+s.tenant.TenantID, "ENTRA_CLIENT_ID="+s.tenant.GraphClientID,
		"ENTRA_CLIENT_SECRET="+s.tenant.GraphClientSecret, "ENTRA_AUTHORITY_HOST="+s.EntraURL(),
		"GRAPH_BASE_URL="+s.EntraURL(), "SSL_CERT_FILE="+s.caFile, "METRICS_ADDR=off")
	return append(env, s.opts.WorkerEnv...)
}

// BuildWorker builds the worker binary (./worker) into dir and returns its
// path.
func BuildWorker(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "worker")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "go", "build", "-o", bin, "entra2okta/worker").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("devstack: go build ./worker: %w: %s", err, out)
	}
	return bin, nil
}
