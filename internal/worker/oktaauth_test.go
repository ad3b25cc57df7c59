package worker

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/workflows"
)

var oauthKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	return k
})

func oauthKeyPEM(t *testing.T) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(oauthKey())
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// oauthEnv is the complete environment with the Okta service app instead
// of the API token.
func oauthEnv(t *testing.T, extra map[string]string) map[string]string {
	e := map[string]string{}
	for k, v := range complete {
		e[k] = v
	}
	delete(e, "OKTA_API_TOKEN")
	e["OKTA_CLIENT_ID"], e["OKTA_PRIVATE_KEY"], e["OKTA_PRIVATE_KEY_ID"] = "0oaworker", oauthKeyPEM(t), "k1"
	for k, v := range extra {
		if v == "" {
			delete(e, k)
		} else {
			e[k] = v
		}
	}
	return e
}

func TestParseConfig_OktaServiceApp(t *testing.T) {
	cfg, err := ParseConfig(nil, env(oauthEnv(t, nil)))
	require.NoError(t, err)
	o := cfg.OktaOAuth()
	assert.Equal(t, "0oaworker", o.ClientID)
	assert.Equal(t, "k1", o.KeyID)
	assert.Equal(t, oktaclient.DefaultScopes(), o.Scopes)
	assert.Empty(t, cfg.OktaAPIToken)

	cfg, err = ParseConfig([]string{"-okta-scopes", "okta.users.read okta.users.manage"},
		env(oauthEnv(t, map[string]string{"OKTA_SCOPES": "okta.logs.read"})))
	require.NoError(t, err)
	assert.Equal(t, []string{"okta.users.read", "okta.users.manage"}, cfg.OktaOAuth().Scopes, "a flag overrides the environment")

	cfg, err = ParseConfig(nil, env(complete))
	require.NoError(t, err)
	assert.Equal(t, oktaclient.OAuthConfig{}, cfg.OktaOAuth(), "an API token configures no service app")

	// The key from a file, as Docker secrets mount it (with a final newline).
	keyFile := filepath.Join(t.TempDir(), "okta_private_key")
	require.NoError(t, os.WriteFile(keyFile, []byte(oauthKeyPEM(t)+"\n"), 0o600))
	cfg, err = ParseConfig(nil, env(oauthEnv(t, map[string]string{"OKTA_PRIVATE_KEY": "", "OKTA_PRIVATE_KEY_FILE": keyFile})))
	require.NoError(t, err)
	assert.Equal(t, oauthKeyPEM(t), cfg.OktaPrivateKey, "one trailing newline dropped")
	assert.Equal(t, "0oaworker", cfg.OktaOAuth().ClientID)
}

func TestParseConfig_ExactlyOneOktaCredential(t *testing.T) {
	const marker = "S3CRET-KEY-MATERIAL"
	for _, tc := range []struct {
		name  string
		extra map[string]string
		want  string
	}{
		{"token and service app", map[string]string{"OKTA_API_TOKEN": "s3cr3t-token-value"}, "not both"},
		{"neither", map[string]string{"OKTA_CLIENT_ID": "", "OKTA_PRIVATE_KEY": ""}, "OKTA_API_TOKEN is required, or an OAuth service app"},
		{"client ID without key", map[string]string{"OKTA_PRIVATE_KEY": ""}, "OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE) is required"},
		{"key without client ID", map[string]string{"OKTA_CLIENT_ID": ""}, "OKTA_CLIENT_ID is required"},
		{"key that does not parse", map[string]string{"OKTA_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\n" + marker + "\n-----END PRIVATE KEY-----"},
			"private key"},
		{"not an Okta scope", map[string]string{"OKTA_SCOPES": "openid"}, `"openid" is not an Okta API scope`},
		{"service app settings beside a token", map[string]string{"OKTA_CLIENT_ID": "", "OKTA_PRIVATE_KEY": "",
			"OKTA_API_TOKEN": "s3cr3t-token-value", "OKTA_SCOPES": "okta.users.read"}, "apply to an OAuth service app"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseConfig(nil, env(oauthEnv(t, tc.extra)))
			require.ErrorContains(t, err, tc.want)
			for _, secret := range []string{marker, "s3cr3t-token-value", "MII"} {
				assert.NotContains(t, err.Error(), secret)
			}
		})
	}
}

func TestOktaServiceAppKeyHidden(t *testing.T) {
	e := oauthEnv(t, nil)
	cfg := DefaultConfig()
	fs, err := bindFlags(&cfg, env(e))
	require.NoError(t, err)
	require.Equal(t, e["OKTA_PRIVATE_KEY"], cfg.OktaPrivateKey)
	var usage bytes.Buffer
	fs.SetOutput(&usage)
	fs.PrintDefaults()
	for _, want := range []string{"OKTA_CLIENT_ID", "OKTA_PRIVATE_KEY", "OKTA_PRIVATE_KEY_FILE", "OKTA_SCOPES", "okta.logs.read"} {
		assert.Contains(t, usage.String(), want)
	}
	assert.NotContains(t, usage.String(), "BEGIN PRIVATE KEY")

	cfg, err = ParseConfig(nil, env(e))
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("start", "config", cfg)
	assert.Contains(t, buf.String(), `"oktaAuth":"oauth-service-app"`)
	assert.Contains(t, buf.String(), `"oktaClientID":"0oaworker"`)
	assert.NotContains(t, buf.String(), "PRIVATE KEY")
	assert.NotContains(t, buf.String(), "MII")
}

// TestRun_OktaServiceApp: the worker, configured with an Okta OAuth service
// app instead of an API token, imports a user into fakeokta (through
// okta-sdk-golang's PrivateKey mode: a client assertion for an access token,
// then Bearer calls within the default scopes) and the user migrates at
// sign-in.
func TestRun_OktaServiceApp(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server and the emulators")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()

	fentra, err := fakeentra.Start(fakeentra.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fentra.Close() })
	dir, err := fentra.SeedDemo(6)
	require.NoError(t, err)
	const clientID = "0oaentra2oktaworker1"
	fokta, err := fakeokta.Start(fakeokta.Options{AllowHTTPHookURI: true, APITokens: []string{"an-api-token-nobody-uses"},
		OAuthClients: []fakeokta.OAuthClient{{ClientID: clientID, Scopes: oktaclient.DefaultScopes(),
			Keys: []fakeokta.OAuthKey{{KID: "k1", Public: &oauthKey().PublicKey}}}}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fokta.Close() })

	standInHook(t, c, fokta)

	var signer string
	for _, u := range dir.Users {
		if !u.Disabled && !u.Guest && !u.Federated && u.State == fakeentra.StateNormal {
			signer = u.UserPrincipalName
			break
		}
	}
	require.NotEmpty(t, signer)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(fokta.CA.CAPEM()))
	require.True(t, pool.AppendCertsFromPEM(fentra.CA.CAPEM()))
	cfg := DefaultConfig()
	cfg.TemporalAddress, cfg.TemporalNamespace = srv.HostPort(), srv.Namespace()
	cfg.OktaOrgURL = fokta.URL
	cfg.OktaClientID, cfg.OktaPrivateKey, cfg.OktaPrivateKeyID = clientID, oauthKeyPEM(t), "k1"
	cfg.EntraTenantID, cfg.EntraClientID, cfg.EntraClientSecret = dir.TenantID, dir.GraphClientID, dir.GraphClientSecret
	cfg.EntraAuthorityHost, cfg.GraphBaseURL = fentra.URL, fentra.URL
	cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	cfg.OktaRPS, cfg.OktaCreateRPS, cfg.GraphRPS = 100, 100, 100
	cfg.MetricsAddr = "off"
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	require.NoError(t, cfg.Validate())
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- Run(runCtx, cfg) }()

	batchID := workflows.BatchWorkflowID("oauth")
	var run client.WorkflowRun
	require.Eventually(t, func() bool { // until Run has registered the search attributes
		run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: batchID, TaskQueue: workflows.BatchTaskQueue},
			workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "oauth", Source: entra.Source{Logins: []string{signer}},
				Deadline: time.Now().Add(time.Hour), Policy: workflows.PolicyResetPassword})
		return err == nil
	}, time.Minute, 200*time.Millisecond)

	// Imported: created in Okta on the password import hook.
	require.Eventually(t, func() bool {
		u, ok := fokta.User(signer)
		return ok && u.OnImportHook
	}, 2*time.Minute, 200*time.Millisecond)

	body := `{"username":"` + signer + `","password":"` + fakeentra.DemoPassword(signer) + `"}`
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, fokta.URL+"/api/v1/authn", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	resp, err := fokta.HTTPClient(0).Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)

	var res workflows.MigrateBatchResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, 1, res.Progress.States[workflows.StateMigrated], "final counts %v", res.Progress.States)

	// Every management call carried an access token from the token endpoint.
	calls := 0
	for _, rr := range fokta.RequestLog() {
		if rr.Route == fakeokta.RouteAuthn {
			continue
		}
		calls++
		assert.True(t, strings.HasPrefix(rr.Header.Get("Authorization"), "Bearer "), "%s %s: Authorization %q",
			rr.Method, rr.Path, rr.Header.Get("Authorization"))
	}
	tokens := fokta.OAuthTokenRequests()
	t.Logf("%d Okta API calls, %d token requests", calls, tokens)
	assert.Positive(t, calls)
	assert.True(t, tokens >= 1 && tokens <= calls, "token requests %d for %d calls", tokens, calls)

	stopRun()
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after its context was cancelled")
	}
}
