package upgradetest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/entra"
	"entra2okta/internal/testkit/activitiestest"
	release1 "entra2okta/internal/testkit/upgradetest"
	"entra2okta/workflows"
)

func login(local string) string { return local + "@contoso.com" }

// TestUpgrade_Release1ToCurrent is a worker upgrade in the middle of a
// campaign, on the real dev server: a worker running the first release's
// workflow code (release1_*_test.go, a frozen copy registered under the same
// type names) starts users, alone and in a batch, and they wait for their
// first sign-in; the worker is stopped and replaced by the current code
// (worker.Serve); then users sign in, are reconciled, get an import event,
// are skipped, have their deadline extended, reach the deadline, and report
// to a batch that does not exist. Every user must end in its expected state,
// and no workflow task may fail in any history: a change of the command
// sequence that is not behind workflow.GetVersion fails here.
//
// Shown by trying it: with the guard of the report change removed (in
// report(), workflows/migrate_user.go, `if m.v >= 1` made always true, so the
// first release's histories replay reportOnce instead of the retry loop),
// this test failed: up-closed, ub-signin and ub-deadline, the users that
// report to a batch, did not end within 2 minutes, and the histories held 4
// WorkflowTaskFailed events, the first "migrate-user/ub-deadline@contoso.com:
// NonDeterministicError: [TMPRL1100] During replay, a matching Timer command
// was expected in history event position 31. However, the replayed code did
// not produce that." (the retry loop's Sleep between report attempts); under
// the default panic policy those tasks fail for ever. Users without a batch
// were unaffected: they never report.
func TestUpgrade_Release1ToCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	locals := []string{"up-signin", "up-reconcile", "up-deadline", "up-event", "up-skip", "up-extend", "up-closed",
		"ub-signin", "ub-deadline"}
	var users []entra.User
	for _, l := range locals {
		users = append(users, activitiestest.Member(l))
	}
	s := newStack(ctx, t, users...)

	// The first release's worker starts everyone.
	s.startRelease1()
	t0 := time.Now()
	later := t0.Add(3 * time.Minute) // never reached: these users end otherwise
	user := func(local string, deadline time.Time, policy workflows.DeadlinePolicy) workflows.MigrateUserInput {
		return workflows.MigrateUserInput{Login: login(local), Batch: "up", Deadline: deadline, Policy: policy}
	}
	s.startUser(user("up-signin", later, workflows.PolicyNone))
	rec := user("up-reconcile", later, workflows.PolicyNone)
	rec.ReconcileEvery = workflows.MinReconcileEvery
	s.startUser(rec)
	s.startUser(user("up-deadline", t0.Add(40*time.Second), workflows.PolicyResetPassword))
	s.startUser(user("up-event", later, workflows.PolicyNone))
	s.startUser(user("up-skip", later, workflows.PolicyNone))
	s.startUser(user("up-extend", t0.Add(40*time.Second), workflows.PolicyExpirePassword))
	closed := user("up-closed", later, workflows.PolicyNone)
	closed.ReportTo = workflows.BatchWorkflowID("gone") // every report fails: SignalExternalWorkflowExecutionFailed
	s.startUser(closed)
	batchID := workflows.BatchWorkflowID("ub")
	batch, err := s.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: batchID, TaskQueue: release1.TaskQueue},
		"MigrateBatch", workflows.MigrateBatchInput{Batch: "ub",
			Source:   entra.Source{Logins: []string{login("ub-signin"), login("ub-deadline")}},
			Deadline: t0.Add(45 * time.Second), Policy: workflows.PolicyNone, PageSize: 1, WindowSize: 2})
	require.NoError(t, err)
	for _, l := range locals {
		s.waitState(login(l), workflows.StateAwaitingSignIn, time.Minute) // up-closed retries its report for 10 s first
	}
	// Every one of them was started by the first release: no version marker.
	for _, l := range locals {
		h := s.history(workflows.UserWorkflowID(login(l)), "")
		for _, ev := range h.GetEvents() {
			require.NotEqual(t, enumspb.EVENT_TYPE_MARKER_RECORDED, ev.GetEventType(), "%s: started by the current code", l)
		}
	}

	// The deploy: the old worker stops, the current code takes over.
	s.stop()
	s.startCurrent()
	defer s.stop()
	upgradedAt := time.Now()

	s.signIn(login("up-signin"))
	s.signIn(login("ub-signin"))
	s.signIn(login("up-closed"))
	s.okta.SetProvider(login("up-reconcile"), "OKTA") // no signal: the reconciliation finds it
	s.okta.SetProvider(login("up-event"), "OKTA")
	require.NoError(t, s.c.SignalWorkflow(ctx, workflows.UserWorkflowID(login("up-event")), "", workflows.SignalPasswordImportEvent,
		workflows.PasswordImportEventSignal{EventID: "ev-1", Outcome: "SUCCESS", Published: time.Now()}))
	update := func(local, name string, arg any) {
		h, err := s.c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.UserWorkflowID(login(local)),
			UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
		require.NoError(t, err, local)
		require.NoError(t, h.Get(ctx, nil), local)
	}
	update("up-skip", workflows.UpdateSkip, workflows.SkipRequest{Reason: "shared mailbox"})
	update("up-extend", workflows.UpdateExtendDeadline, workflows.ExtendDeadlineRequest{By: 15 * time.Second})

	want := map[string]workflows.State{
		"up-signin": workflows.StateMigrated, "up-reconcile": workflows.StateMigrated, "up-deadline": workflows.StateExpired,
		"up-event": workflows.StateMigrated, "up-skip": workflows.StateSkipped, "up-extend": workflows.StateExpired,
		"up-closed": workflows.StateMigrated, "ub-signin": workflows.StateMigrated, "ub-deadline": workflows.StateExpired,
	}
	ended := true
	for _, local := range locals { // the slowest end about 75 s after the start
		res, err := s.result(login(local), time.Until(t0.Add(2*time.Minute)))
		if !assert.NoError(t, err, "%s did not end", local) {
			ended = false
			continue
		}
		assert.Equal(t, want[local], res.State, "%s: %s", local, res.Reason)
		assert.True(t, res.Status.CompletedAt.After(upgradedAt), "%s ended before the upgrade", local)
		if local == "up-event" {
			// The import event reached the current code, which confirms
			// it against Okta (confirm-import-event) instead of trusting
			// it as the first release did.
			assert.Contains(t, res.Reason, "provider OKTA")
		}
	}
	n, first := s.workflowTaskFailures()
	assert.Zero(t, n, "WorkflowTaskFailed events in the namespace; first: %s", first)
	if !ended {
		t.FailNow()
	}
	u, _ := s.okta.User(login("up-deadline"))
	assert.Equal(t, "RECOVERY", u.Status, "reset-password applied after the upgrade")

	// The batch, started by the first release, completes on the current code
	// with every user counted.
	var br workflows.MigrateBatchResult
	require.NoError(t, batch.Get(ctx, &br))
	assert.Equal(t, 1, br.Progress.States[workflows.StateMigrated])
	assert.Equal(t, 1, br.Progress.States[workflows.StateExpired])

	// up-closed kept the first release's report loop after the upgrade: five
	// failed signals for its AwaitingSignIn report, five for Migrated.
	failedSignals := 0
	for _, ev := range s.history(workflows.UserWorkflowID(login("up-closed")), "").GetEvents() {
		if ev.GetEventType() == enumspb.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED {
			failedSignals++
		}
	}
	assert.Equal(t, 10, failedSignals)
	t.Logf("upgrade test took %s", time.Since(t0).Round(time.Second))
}
