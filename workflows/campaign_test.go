package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"go.temporal.io/sdk/activity"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"entra2okta/activities"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// continuedInput decodes the input a run continued as new with.
func continuedInput(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.MigrateBatchInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	var next workflows.MigrateBatchInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	return next
}

// waitingBatch is a batch past its listing with one user, alice, counted as
// Importing: on the ledger (version 1) or in Running (the first release).
func waitingBatch(legacy bool) workflows.MigrateBatchInput {
	st := &workflows.BatchState{DomainsKnown: true, SourceDone: true, Progress: workflows.BatchProgress{
		Batch: "b", Policy: workflows.PolicyNone, Deadline: start.Add(60 * 24 * time.Hour), Runs: 1, BatchRun: "run-1",
		Listed: 1, Started: 1, ListingDone: true, States: map[workflows.State]int{workflows.StateImporting: 1}}}
	if legacy {
		st.Running = []string{workflows.UserWorkflowID("alice@contoso.com")}
	} else {
		st.Ledger = []byte{2} // Importing
	}
	return workflows.MigrateBatchInput{Batch: "b", Source: entra.Source{All: true}, SweepEvery: 24 * time.Hour, Resume: st}
}

// TestMigrateBatch_ReportInTheContinueAsNewTaskIsNotLost: a report delivered
// in the workflow task in which continue-as-new is due is carried into the
// next run. On the first release's path the report pump, parked in Receive,
// takes a report out of the channel's buffer before the drain looks at it:
// its subtest shows the report applied to the closing run only, after the
// new run's input was built. Version 1 has no parked receiver: the report
// waits in the buffer until the main loop's drain, which runs after the last
// wait, so it cannot miss one.
func TestMigrateBatch_ReportInTheContinueAsNewTaskIsNotLost(t *testing.T) {
	report := workflows.UserReportSignal{Login: "alice@contoso.com",
		From: workflows.StateImporting, To: workflows.StateAwaitingSignIn, BatchRun: "run-1", Seq: 1}
	t.Run("ledger", func(t *testing.T) {
		env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
		env.SetContinueAsNewSuggested(true)
		env.RegisterDelayedCallback(func() { env.SignalWorkflow(workflows.SignalUserReport, report) }, 0)
		env.ExecuteWorkflow(workflows.MigrateBatch, waitingBatch(false))
		next := continuedInput(t, env).Resume
		assert.Equal(t, 0, next.Progress.States[workflows.StateImporting])
		assert.Equal(t, 1, next.Progress.States[workflows.StateAwaitingSignIn])
		assert.Equal(t, []byte{3}, next.Ledger)
	})
	t.Run("first release", func(t *testing.T) {
		env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
		env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion) // a history from before the release
		env.OnGetVersion("campaign-scale", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		env.RegisterDelayedCallback(func() {
			env.SetContinueAsNewSuggested(true)
			env.SignalWorkflow(workflows.SignalUserReport, report)
		}, time.Hour)
		env.ExecuteWorkflow(workflows.MigrateBatch, waitingBatch(true))
		next := continuedInput(t, env).Resume
		assert.Equal(t, 1, next.Progress.States[workflows.StateImporting], "the first release lost the report")
	})
}

// TestMigrateBatch_CompletesOnAReportThatArrivesWithContinueAsNew: a final
// report drained by continue-as-new completes the batch instead of carrying
// a finished batch into a new run.
func TestMigrateBatch_CompletesOnAReportThatArrivesWithContinueAsNew(t *testing.T) {
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
	env.SetContinueAsNewSuggested(true)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalUserReport, workflows.UserReportSignal{Login: "alice@contoso.com",
			To: workflows.StateMigrated, BatchRun: "run-1", Seq: 1})
	}, 0)
	env.ExecuteWorkflow(workflows.MigrateBatch, waitingBatch(false))
	p := batchResult(t, env).Progress
	assert.Equal(t, 1, p.States[workflows.StateMigrated])
	assert.True(t, p.Done())
}

// TestMigrateBatch_ReportsAreIdempotentAndBoundToTheBatchRun: a repeated, a
// late (backwards) and another run's report change nothing.
func TestMigrateBatch_ReportsAreIdempotentAndBoundToTheBatchRun(t *testing.T) {
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
	report := func(to workflows.State, run string) {
		env.SignalWorkflow(workflows.SignalUserReport, workflows.UserReportSignal{Login: "alice@contoso.com", To: to, BatchRun: run, Seq: 1})
	}
	env.RegisterDelayedCallback(func() {
		report(workflows.StateMigrated, "run-0") // the previous batch of the same name
		report(workflows.StateAwaitingSignIn, "run-1")
		report(workflows.StateAwaitingSignIn, "run-1")
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		p := queryProgress(t, env)
		assert.Equal(t, 1, p.ForeignReports)
		assert.Equal(t, 1, p.States[workflows.StateAwaitingSignIn])
		assert.Equal(t, 0, p.States[workflows.StateImporting]+p.States[workflows.StateMigrated])
		report(workflows.StateExpired, "run-1")
		report(workflows.StateAwaitingSignIn, "run-1") // late: never moves a user back
	}, 2*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateBatch, waitingBatch(false))
	p := batchResult(t, env).Progress
	assert.Equal(t, map[workflows.State]int{workflows.StateExpired: 1, workflows.StateImporting: 0, workflows.StateAwaitingSignIn: 0}, p.States)
}

// TestMigrateBatch_ChildThatNeverReportsStillEnds: a child that fails or is
// terminated runs no code to report; the batch counts it from the child's
// close (this run) or from a sweep of visibility (an earlier run), frees its
// window slot and completes. The first release never completed.
func TestMigrateBatch_ChildThatNeverReportsStillEnds(t *testing.T) {
	t.Run("child of this run", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("amy"), activitiestest.Member("ben"))
		env := newEnv(t, o, e)
		env.OnWorkflow(workflows.MigrateUser, mock.Anything, mock.Anything).Return(
			func(_ workflow.Context, in workflows.MigrateUserInput) (workflows.MigrateUserResult, error) {
				return workflows.MigrateUserResult{}, errors.New("worker bug: panic in workflow code")
			})
		env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b", Source: entra.Source{All: true},
			WindowSize: 1, SweepEvery: 24 * time.Hour})
		p := batchResult(t, env).Progress
		assert.Equal(t, 2, p.Started)
		assert.Equal(t, map[string]int{"Failed": 2}, p.Unreported)
		assert.Equal(t, 0, p.Importing)
	})
	t.Run("child of an earlier run, found by the sweep", func(t *testing.T) {
		env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
		in := waitingBatch(false)
		in.SweepEvery = time.Hour
		sweeps := 0
		env.OnActivity("FindClosedUsers", mock.Anything, mock.Anything).Return(
			func(_ context.Context, fin activities.FindClosedUsersInput) (activities.FindClosedUsersResult, error) {
				sweeps++
				assert.Equal(t, "run-1", fin.BatchRun)
				if sweeps == 1 {
					assert.True(t, fin.ClosedSince.IsZero())
					return activities.FindClosedUsersResult{}, nil
				}
				assert.Equal(t, start.Add(time.Hour-10*time.Minute), fin.ClosedSince, "since the previous sweep, less the margin")
				// alice (seq 1), and seq 9, which is not on the ledger
				return activities.FindClosedUsersResult{Terminated: []int{1, 9}}, nil
			})
		env.ExecuteWorkflow(workflows.MigrateBatch, in)
		p := batchResult(t, env).Progress
		assert.Equal(t, 2, p.Sweeps)
		assert.Equal(t, map[string]int{"Terminated": 1}, p.Unreported)
		assert.Equal(t, 0, p.States[workflows.StateImporting])
	})
}

// TestMigrateBatch_ContinuesAsNewBeforeThePendingChildrenLimit: a run starts
// at most MaxChildrenPerRun children (each stays a pending child for the
// weeks it waits), then continues as new in the middle of a page, carrying
// the page's other logins. The first release checked only between pages.
func TestMigrateBatch_ContinuesAsNewBeforeThePendingChildrenLimit(t *testing.T) {
	var users []entra.User
	for _, n := range []string{"amy", "ben", "cay", "dee", "eli"} {
		users = append(users, activitiestest.Member(n))
	}
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra(users...))
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b", Source: entra.Source{All: true},
		PageSize: 5, WindowSize: 5, MaxChildrenPerRun: 2, DeadlineAfter: time.Hour})
	next := continuedInput(t, env).Resume
	assert.Equal(t, 2, next.Progress.Started)
	assert.Equal(t, 5, next.Progress.Listed)
	assert.Equal(t, []string{"cay@contoso.com", "dee@contoso.com", "eli@contoso.com"}, next.PendingLogins)
	assert.True(t, next.SourceDone)
	assert.False(t, next.Progress.ListingDone)
	assert.Len(t, next.Ledger, 2)
}

// TestMigrateBatch_ExplicitLoginsRideOnePageAtATime: the listing activity
// gets only the page's logins, not the whole list (which would land in the
// history once per page).
func TestMigrateBatch_ExplicitLoginsRideOnePageAtATime(t *testing.T) {
	var users []entra.User
	var logins []string
	for _, n := range []string{"amy", "ben", "cay", "dee", "eli"} {
		users = append(users, activitiestest.Member(n))
		logins = append(logins, n+"@contoso.com")
	}
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra(users...))
	var sent [][]string
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		if info.ActivityType.Name == "ListEntraUsers" {
			var in activities.ListEntraUsersInput
			require.NoError(t, args.Get(&in))
			sent = append(sent, in.Source.Logins)
		}
	})
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b", Source: entra.Source{Logins: logins},
		PageSize: 2, DeadlineAfter: time.Hour, DryRun: true})
	res := batchResult(t, env)
	assert.Equal(t, 5, res.Progress.Listed)
	assert.Equal(t, [][]string{logins[0:2], logins[2:4], logins[4:5]}, sent)

	// Logins Entra does not know are counted, not started.
	env = newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra(users...))
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b",
		Source: entra.Source{Logins: append([]string{"ghost@contoso.com"}, logins[:2]...)}, DeadlineAfter: time.Hour})
	p := batchResult(t, env).Progress
	assert.Equal(t, 1, p.NotInEntra)
	assert.Equal(t, 2, p.Started)

	env = newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b",
		Source: entra.Source{Logins: make([]string, entra.MaxInlineLogins+1)}})
	assert.ErrorContains(t, env.GetWorkflowError(), "go in a CSV file")
}

// TestMigrateUser_DeadlinePolicyRechecksAndRefusesUpdates: the policy's own
// activity sees a password stored while the policy waited in the task queue
// (the user keeps it and ends Migrated), and updates that arrive meanwhile are
// refused rather than accepted and ignored.
func TestMigrateUser_DeadlinePolicyRechecksAndRefusesUpdates(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("mo"))
	env := newEnv(t, o, e)
	deadline := start.Add(time.Hour)
	env.OnActivity("ApplyOktaDeadlinePolicy", mock.Anything, mock.Anything).After(10 * time.Minute).Return(
		func(_ context.Context, in activities.ApplyOktaDeadlinePolicyInput) (activities.ApplyOktaDeadlinePolicyResult, error) {
			assert.True(t, in.Recheck)
			o.SetProvider("mo@contoso.com", okta.ProviderOkta) // signed in while queued
			return activities.ApplyOktaDeadlinePolicyResult{PasswordStored: true}, nil
		})
	var skipErr, extendErr error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateSkip, "s", &testsuite.TestUpdateCallback{OnReject: func(err error) { skipErr = err },
			OnAccept: func() {}, OnComplete: func(any, error) {}}, workflows.SkipRequest{Reason: "left the company"})
		env.UpdateWorkflow(workflows.UpdateExtendDeadline, "x", &testsuite.TestUpdateCallback{OnReject: func(err error) { extendErr = err },
			OnAccept: func() {}, OnComplete: func(any, error) {}}, workflows.ExtendDeadlineRequest{By: time.Hour})
	}, time.Hour+5*time.Minute)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "mo@contoso.com", Deadline: deadline,
		Policy: workflows.PolicyResetPassword, DomainsKnown: true})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.ErrorContains(t, skipErr, "deadline policy is being applied")
	assert.ErrorContains(t, extendErr, "deadline policy is being applied")
}

// TestMigrateUser_CancelledUserReportsItsEnd: a cancelled migration reports
// Failed to its batch before it closes.
func TestMigrateUser_CancelledUserReportsItsEnd(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("mo"))
	env := newEnv(t, o, e)
	var sent []workflows.UserReportSignal
	env.OnSignalExternalWorkflow(mock.Anything, "migrate-batch/b1", "", workflows.SignalUserReport, mock.Anything).
		Return(func(_, _, _, _ string, arg any) error {
			sent = append(sent, arg.(workflows.UserReportSignal))
			return nil
		})
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "mo@contoso.com", Batch: "b1",
		ReportTo: "migrate-batch/b1", BatchRun: "run-1", BatchSeq: 3, DomainsKnown: true})
	require.True(t, temporal.IsCanceledError(env.GetWorkflowError()), "%v", env.GetWorkflowError())
	require.Len(t, sent, 2)
	assert.Equal(t, workflows.StateFailed, sent[1].To)
	assert.Equal(t, 3, sent[1].Seq)
}

// TestMigrateBatch_FirstReleaseBatchWithManyLoginsResumes: the inline-logins
// limit applies to new batches only; a first-release batch that carries more
// logins resumes on the new path at its continue-as-new.
func TestMigrateBatch_FirstReleaseBatchWithManyLoginsResumes(t *testing.T) {
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
	in := waitingBatch(false)
	for i := range entra.MaxInlineLogins + 1 {
		in.Source.Logins = append(in.Source.Logins, fmt.Sprintf("u%d@contoso.com", i))
	}
	in.Source.All = false
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalUserReport, workflows.UserReportSignal{Login: "alice@contoso.com",
			To: workflows.StateMigrated, BatchRun: "run-1", Seq: 1})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateBatch, in)
	assert.Equal(t, 1, batchResult(t, env).Progress.States[workflows.StateMigrated])
}

// TestMigrateBatch_ContinuesAsNewWhileTheWindowIsFull: while every window slot
// is taken (the Okta queue busy, say with a deadline's policies), reports of
// the batch's other users keep growing the history; the run continues as new
// rather than waiting with a history that grows without bound. The first
// version of this path checked the history only between pages.
func TestMigrateBatch_ContinuesAsNewWhileTheWindowIsFull(t *testing.T) {
	var users []entra.User
	for _, n := range []string{"amy", "ben", "cay"} {
		users = append(users, activitiestest.Member(n))
	}
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra(users...))
	env.OnWorkflow(workflows.MigrateUser, mock.Anything, mock.Anything).Return(
		func(ctx workflow.Context, _ workflows.MigrateUserInput) (workflows.MigrateUserResult, error) {
			return workflows.MigrateUserResult{}, workflow.Sleep(ctx, 100*24*time.Hour) // importing, for the test's span
		})
	env.RegisterDelayedCallback(func() {
		env.SetContinueAsNewSuggested(true)
		env.SignalWorkflow(workflows.SignalUserReport, workflows.UserReportSignal{Login: "x@contoso.com", To: workflows.StateMigrated, BatchRun: "other"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "b", Source: entra.Source{All: true},
		PageSize: 3, WindowSize: 1, DeadlineAfter: 48 * time.Hour, SweepEvery: 24 * time.Hour})
	next := continuedInput(t, env).Resume
	assert.Equal(t, 1, next.Progress.Started)
	assert.Equal(t, []string{"ben@contoso.com", "cay@contoso.com"}, next.PendingLogins)
}
