package worker

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/workflows"
)

// TestRun_AgainstEmulators is the end-to-end path through the real SDKs: Run
// (okta-sdk-golang against fakeokta, msgraph-sdk-go against fakeentra, the
// Temporal SDK against the pinned dev server) migrates a seeded directory's
// "All Staff" group. One user signs in to fakeokta, which calls a stand-in
// hook that answers VERIFIED and signals the workflow as the hook server does;
// another signs in while Okta is read-only; the rest reach the deadline.
func TestRun_AgainstEmulators(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server and the emulators")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()

	fentra, err := fakeentra.Start(fakeentra.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fentra.Close() })
	dir, err := fentra.SeedDemo(24)
	require.NoError(t, err)
	fokta, err := fakeokta.Start(fakeokta.Options{AllowHTTPHookURI: true})
	require.NoError(t, err)
	t.Cleanup(func() { _ = fokta.Close() })

	standInHook(t, c, fokta)

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(fokta.CA.CAPEM()))
	require.True(t, pool.AppendCertsFromPEM(fentra.CA.CAPEM()))
	metricsAddr := freeAddr(t)
	cfg := DefaultConfig()
	cfg.TemporalAddress, cfg.TemporalNamespace = srv.HostPort(), srv.Namespace()
	cfg.OktaOrgURL, cfg.OktaAPIToken = fokta.URL, fakeokta.DefaultAPIToken
	cfg.EntraTenantID, cfg.EntraClientID, cfg.EntraClientSecret = dir.TenantID, dir.GraphClientID, dir.GraphClientSecret
	cfg.EntraAuthorityHost, cfg.GraphBaseURL = fentra.URL, fentra.URL
	cfg.HTTPClient = &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	cfg.OktaRPS, cfg.GraphRPS = 100, 100
	cfg.MetricsAddr = metricsAddr
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runCtx, stopRun := context.WithCancel(ctx)
	ran := make(chan error, 1)
	go func() { ran <- Run(runCtx, cfg) }()

	var signer, readOnly string
	ineligible := map[string]bool{}
	for _, u := range dir.Users {
		switch {
		case u.Disabled || u.Guest || u.Federated:
			ineligible[u.UserPrincipalName] = true
		case signer == "":
			signer = u.UserPrincipalName
		case readOnly == "":
			readOnly = u.UserPrincipalName
		}
	}
	require.NotEmpty(t, readOnly)
	require.NotEmpty(t, ineligible)

	batchID := workflows.BatchWorkflowID("e2e")
	var run client.WorkflowRun
	require.Eventually(t, func() bool { // until Run has registered the search attributes
		run, err = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: batchID, TaskQueue: workflows.BatchTaskQueue},
			workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "e2e", Source: entra.Source{GroupID: dir.AllStaffGroupID},
				Deadline: time.Now().Add(45 * time.Second), Policy: workflows.PolicyResetPassword, PageSize: 10, WindowSize: 8})
		return err == nil
	}, time.Minute, 200*time.Millisecond)

	// Once every user is past the import, count the Okta calls it took.
	var imported workflows.BatchProgress
	require.Eventually(t, func() bool {
		v, err := c.QueryWorkflow(ctx, batchID, "", workflows.QueryProgress)
		if err != nil || v.Get(&imported) != nil {
			return false
		}
		return imported.ListingDone && imported.Importing == 0
	}, 2*time.Minute, 200*time.Millisecond)
	created := fokta.Calls(fakeokta.RouteCreateUser)
	t.Logf("listed %d, started %d, ineligible %d, created %d, Okta lookups %d", imported.Listed, imported.Started,
		len(ineligible), created, fokta.Calls(fakeokta.RouteGetUser))
	assert.Equal(t, imported.Started-len(ineligible), created, "every eligible user created")
	assert.Zero(t, fokta.Calls(fakeokta.RouteGetUser), "a new user is created without a lookup: one Okta call each")
	assert.Zero(t, fokta.Calls(fakeokta.RouteUpdateUser)+fokta.Calls(fakeokta.RouteActivateUser))

	signIn := func(login string) int {
		body := `{"username":"` + login + `","password":"` + fakeentra.DemoPassword(login) + `"}`
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, fokta.URL+"/api/v1/authn", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := fokta.HTTPClient(0).Do(req)
		require.NoError(t, err)
		_ = resp.Body.Close()
		return resp.StatusCode
	}
	assert.Equal(t, http.StatusOK, signIn(signer))
	fokta.SetReadOnly(true)
	assert.Equal(t, http.StatusOK, signIn(readOnly), "Okta signs the user in but cannot store the password")
	fokta.SetReadOnly(false)

	var res workflows.MigrateBatchResult
	require.NoError(t, run.Get(ctx, &res))
	t.Logf("final counts %v", res.Progress.States)
	assert.Equal(t, 1, res.Progress.States[workflows.StateMigrated])
	assert.Equal(t, len(ineligible), res.Progress.States[workflows.StateIneligible])
	assert.Equal(t, res.Progress.Started-1-len(ineligible), res.Progress.States[workflows.StateExpired])

	result := func(login string) workflows.MigrateUserResult {
		var r workflows.MigrateUserResult
		require.NoError(t, c.GetWorkflow(ctx, workflows.UserWorkflowID(login), "").Get(ctx, &r))
		return r
	}
	assert.Equal(t, workflows.StateMigrated, result(signer).State)
	ro := result(readOnly)
	assert.Equal(t, workflows.StateExpired, ro.State, "verified but never stored: the deadline applies")
	assert.Equal(t, 1, ro.Status.SignInAttempts)
	st, ok := fokta.User(readOnly)
	require.True(t, ok)
	assert.Equal(t, fakeokta.StatusRecovery, st.Status)

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	assert.Contains(t, string(metrics), "temporal_activity_execution_latency_seconds")
	assert.Contains(t, string(metrics), `task_queue="`+workflows.OktaTaskQueue+`"`)

	stopRun()
	select {
	case err := <-ran:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Run did not return after its context was cancelled")
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// standInHook registers, as fokta's password import hook, a stand-in for the
// hook server: VERIFIED for the demo password, then a signal with the
// outcome only, as the hook server sends it.
func standInHook(t *testing.T, c client.Client, fokta *fakeokta.Running) {
	t.Helper()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p struct {
			Data struct {
				Context struct {
					Credential struct{ Username, Password string }
				}
			}
		}
		if err := json.NewDecoder(r.Body).Decode(&p); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		cred := p.Data.Context.Credential
		outcome, verdict := workflows.OutcomeUnverified, "UNVERIFIED"
		if cred.Password == fakeentra.DemoPassword(cred.Username) {
			outcome, verdict = workflows.OutcomeVerified, "VERIFIED"
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"commands":[{"type":"com.okta.action.update","value":{"credential":"`+verdict+`"}}]}`)
		go func() {
			sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_ = c.SignalWorkflow(sctx, workflows.UserWorkflowID(cred.Username), "", workflows.SignalPasswordVerified,
				workflows.PasswordVerifiedSignal{Outcome: outcome, At: time.Now()})
		}()
	}))
	t.Cleanup(hook.Close)
	_, err := fokta.SetPasswordImportHook(hook.URL, "Authorization", "hook-secret")
	require.NoError(t, err)
}
