package worker

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/activities"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// EnvRecordHistories, when set, makes TestServe_MigratesABatch write the
// histories it produced to workflows/testdata, for the replay tests.
const EnvRecordHistories = "RECORD_HISTORIES"

// TestServe_MigratesABatch runs the real workers on the pinned dev server
// (without our search attributes: Serve registers them) with the in-memory
// Okta and Entra, and migrates a batch end to end: one user signs in, one
// reaches the deadline, one is ineligible.
func TestServe_MigratesABatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	c := srv.Client()

	dave := activitiestest.Member("dave")
	dave.AccountEnabled = false
	o := activitiestest.NewOkta()
	o.Add(okta.User{Login: "bob@contoso.com", Status: okta.StatusStaged})
	e := activitiestest.NewEntra(activitiestest.Member("alice"), activitiestest.Member("bob"), dave, activitiestest.Member("zed"))

	cfg := DefaultConfig()
	cfg.TemporalNamespace = srv.Namespace()
	cfg.OktaRPS, cfg.GraphRPS = 200, 200
	cfg.ShutdownTimeout = 5 * time.Second
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	serveCtx, stopServe := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- Serve(serveCtx, c, &activities.Activities{Okta: o, Entra: e}, cfg, logger) }()

	// Serve registers the search attributes before its workers poll.
	require.Eventually(t, func() bool {
		resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: srv.Namespace()})
		return err == nil && resp.GetCustomAttributes()["MigrationState"] == enumspb.INDEXED_VALUE_TYPE_KEYWORD &&
			resp.GetCustomAttributes()["MigrationDeadline"] == enumspb.INDEXED_VALUE_TYPE_DATETIME
	}, time.Minute, 100*time.Millisecond)

	deadline := time.Now().Add(20 * time.Second)
	batchID := workflows.BatchWorkflowID("it")
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: batchID, TaskQueue: workflows.BatchTaskQueue},
		workflows.MigrateBatch, workflows.MigrateBatchInput{
			Batch:    "it",
			Source:   entra.Source{Logins: []string{"alice@contoso.com", "bob@contoso.com", "dave@contoso.com"}},
			Deadline: deadline, Policy: workflows.PolicyResetPassword, PageSize: 2, WindowSize: 2,
		})
	require.NoError(t, err)

	aliceID := workflows.UserWorkflowID("alice@contoso.com")
	require.Eventually(t, func() bool {
		v, err := c.QueryWorkflow(ctx, aliceID, "", workflows.QueryStatus)
		if err != nil {
			return false
		}
		var st workflows.UserStatus
		return v.Get(&st) == nil && st.State == workflows.StateAwaitingSignIn
	}, time.Minute, 100*time.Millisecond)
	// Alice signs in: Okta stores her password, the hook server signals.
	o.SetProvider("alice@contoso.com", okta.ProviderOkta)
	require.NoError(t, c.SignalWorkflow(ctx, aliceID, "", workflows.SignalPasswordVerified,
		workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeVerified, At: time.Now(), EventID: "it-1"}))

	var res workflows.MigrateBatchResult
	require.NoError(t, run.Get(ctx, &res))
	assert.Equal(t, 3, res.Progress.Listed)
	assert.Equal(t, 3, res.Progress.Started)
	assert.Equal(t, 1, res.Progress.States[workflows.StateMigrated])
	assert.Equal(t, 1, res.Progress.States[workflows.StateExpired])
	assert.Equal(t, 1, res.Progress.States[workflows.StateIneligible])

	var alice workflows.MigrateUserResult
	require.NoError(t, c.GetWorkflow(ctx, aliceID, "").Get(ctx, &alice))
	assert.Equal(t, workflows.StateMigrated, alice.State)
	bobID := workflows.UserWorkflowID("bob@contoso.com")
	var bob workflows.MigrateUserResult
	require.NoError(t, c.GetWorkflow(ctx, bobID, "").Get(ctx, &bob))
	assert.Equal(t, workflows.StateExpired, bob.State)
	u, _ := o.User("bob@contoso.com")
	assert.Equal(t, okta.StatusRecovery, u.Status, "reset-password applied at the deadline")
	_, zed := o.User("zed@contoso.com")
	assert.False(t, zed, "only the source's users are migrated")

	// The search attributes are queryable (visibility is eventually consistent).
	require.Eventually(t, func() bool {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Query: "MigrationBatch = 'it' AND MigrationState = 'Migrated'"})
		return err == nil && len(resp.GetExecutions()) == 1 && resp.GetExecutions()[0].GetExecution().GetWorkflowId() == aliceID
	}, 30*time.Second, 200*time.Millisecond)

	if os.Getenv(EnvRecordHistories) != "" {
		dir := filepath.Join("..", "..", "workflows", "testdata")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		for file, id := range map[string]string{
			"migrate_batch.json":           batchID,
			"migrate_user_migrated.json":   aliceID,
			"migrate_user_expired.json":    bobID,
			"migrate_user_ineligible.json": workflows.UserWorkflowID("dave@contoso.com"),
		} {
			writeHistory(ctx, t, c, id, filepath.Join(dir, file))
		}
	}

	stopServe()
	select {
	case err := <-served:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("Serve did not return after its context was cancelled")
	}
}

// writeHistory saves a closed workflow's history as JSON, the format
// worker.WorkflowReplayer reads (as `temporal workflow show -o json` does).
func writeHistory(ctx context.Context, t *testing.T, c client.Client, workflowID, path string) {
	t.Helper()
	it := c.GetWorkflowHistory(ctx, workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, ev)
	}
	data, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(&h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(data, '\n'), 0o644))
	t.Logf("wrote %s (%d events)", path, len(h.Events))
}
