package hookserver

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/devtemporal"
	"entra2okta/workflows"
)

// awaitPasswordSignal stands in for MigrateUser: it returns the first
// password-verified signal it receives.
func awaitPasswordSignal(ctx workflow.Context) (workflows.PasswordVerifiedSignal, error) {
	var sig workflows.PasswordVerifiedSignal
	workflow.GetSignalChannel(ctx, workflows.SignalPasswordVerified).Receive(ctx, &sig)
	return sig, nil
}

// TestRunSignalsTemporal runs the binary against a real Temporal dev server:
// the user's workflow receives the outcome, its history holds no password,
// a user without a workflow is counted as not_found, and /readyz is ready.
func TestRunSignalsTemporal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()
	w := worker.New(c, "hookserver-test", worker.Options{})
	w.RegisterWorkflow(awaitPasswordSignal)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	defer w.Stop()

	migrating, stranger := entraDemo.good[1], entraDemo.good[2]
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: workflows.UserWorkflowID(migrating.UserPrincipalName), TaskQueue: "hookserver-test",
	}, awaitPasswordSignal)
	if err != nil {
		t.Fatal(err)
	}

	const secret = "Basic dGVtcG9yYWw6aG9vay1zZWNyZXQtdmFsdWU="
	env := map[string]string{
		"HOOK_AUTH_SECRET":     secret,
		"ENTRA_AUTHORITY_HOST": entraDemo.fe.URL,
		"ENTRA_TENANT_ID":      entraDemo.dir.TenantID,
		"ENTRA_CLIENT_ID":      entraDemo.dir.PublicClientID,
		"TEMPORAL_ADDRESS":     srv.HostPort(),
		"TEMPORAL_NAMESPACE":   srv.Namespace(),
	}
	base, logs, stop := startRun(t, env)
	admin := "http://" + env["HOOK_ADMIN_ADDR"]
	if code, body := get(t, admin+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz with Temporal up: %d %s", code, body)
	}
	// The user typed the login in another case: same workflow.
	if got := signIn(t, base, secret, "okta-ev-1", strings.ToUpper(migrating.UserPrincipalName), migrating.Password); !strings.Contains(got, `"VERIFIED"`) {
		t.Fatalf("answer %s", got)
	}
	var sig workflows.PasswordVerifiedSignal
	if err := run.Get(ctx, &sig); err != nil {
		t.Fatal(err)
	}
	if sig.Outcome != workflows.OutcomeVerified || sig.EventID != "okta-ev-1" || sig.Code != 0 || sig.Latency <= 0 || sig.At.IsZero() {
		t.Fatalf("workflow received %+v", sig)
	}
	// Nothing in Temporal's history of the user carries the password.
	it := c.GetWorkflowHistory(ctx, run.GetID(), run.GetRunID(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var history strings.Builder
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		history.WriteString(ev.String())
	}
	if !strings.Contains(history.String(), "okta-ev-1") {
		t.Fatal("the history does not hold the signal")
	}
	if strings.Contains(history.String(), migrating.Password) {
		t.Fatal("the password is in the workflow history")
	}

	// A user with no workflow: the answer is unchanged, the failure counted.
	if got := signIn(t, base, secret, "okta-ev-2", stranger.UserPrincipalName, stranger.Password); !strings.Contains(got, `"VERIFIED"`) {
		t.Fatalf("answer %s", got)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, metrics := get(t, admin+"/metrics")
		if strings.Contains(metrics, `entra2okta_hook_signals_total{result="not_found"} 1`) &&
			strings.Contains(metrics, `entra2okta_hook_signals_total{result="delivered"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("signal metrics:\n%s", metrics)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
	if strings.Contains(logs.String(), migrating.Password) || strings.Contains(logs.String(), stranger.Password) {
		t.Fatal("a password appears in the server's log")
	}
}
