package workflows_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// reportMemos records the report memos a workflow upserts, in order.
type reportMemos struct {
	mu    sync.Mutex
	memos []workflows.ReportMemo
}

func captureReportMemos(env *testsuite.TestWorkflowEnvironment) *reportMemos {
	r := &reportMemos{}
	env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		if m, ok := args.Get(0).(map[string]any)[workflows.MemoReport]; ok {
			r.mu.Lock()
			r.memos = append(r.memos, m.(workflows.ReportMemo))
			r.mu.Unlock()
		}
	}).Return(nil)
	return r
}

func (r *reportMemos) all() []workflows.ReportMemo {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]workflows.ReportMemo(nil), r.memos...)
}

func signalRefused(env *testsuite.TestWorkflowEnvironment, reason string, code int) {
	env.SignalWorkflow(workflows.SignalPasswordVerified, workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeUnverified,
		Reason: reason, Code: code, At: env.Now(), EventID: "hook-2"})
}

// TestMigrateUser_ReportMemoTellsWhyItExpired: the user publishes its story
// when it starts waiting, after a sign-in Entra refused (the class and the
// AADSTS code), and when the deadline's policy ends it; the daily
// reconciliations, which change nothing of it, publish nothing.
func TestMigrateUser_ReportMemoTellsWhyItExpired(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("erin"))
	env := newEnv(t, o, e)
	memos := captureReportMemos(env)
	signInAt := start.Add(30 * time.Hour)
	env.RegisterDelayedCallback(func() { signalRefused(env, "wrong_password", 50126) }, signInAt.Sub(start))
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "erin@contoso.com", Batch: "b1",
		Deadline: start.Add(4 * 24 * time.Hour), Policy: workflows.PolicyResetPassword})
	res := userResult(t, env)
	require.Equal(t, workflows.StateExpired, res.State)
	require.Equal(t, 3, res.Status.Reconciliations)

	got := memos.all()
	require.Len(t, got, 3, "waiting, the refused sign-in, the end: %+v", got)
	u, _ := o.User("erin@contoso.com")
	assert.Equal(t, workflows.ReportMemo{State: workflows.StateAwaitingSignIn, Reason: "waiting for the first Okta sign-in",
		Policy: workflows.PolicyResetPassword, OktaUserID: u.ID, OktaAction: "create"}, got[0])
	assert.Equal(t, workflows.StateAwaitingSignIn, got[1].State)
	assert.Equal(t, 1, got[1].SignInAttempts)
	assert.Equal(t, workflows.OutcomeUnverified, got[1].LastOutcome)
	assert.Equal(t, "wrong_password", got[1].LastOutcomeReason)
	assert.Equal(t, 50126, got[1].LastOutcomeCode)
	assert.True(t, signInAt.Equal(got[1].LastSignInAt), "%s", got[1].LastSignInAt)
	assert.Equal(t, workflows.StateExpired, got[2].State)
	assert.Equal(t, "deadline passed; policy reset-password applied", got[2].Reason)
	assert.Equal(t, workflows.PolicyResetPassword, got[2].Policy)
	assert.Equal(t, "wrong_password", got[2].LastOutcomeReason, "the story keeps the last sign-in")
	assert.Equal(t, "create", got[2].OktaAction)
}

// TestMigrateUser_ReportMemoTellsWhyIneligible: an ineligible user publishes
// why, and that the migration did nothing in Okta.
func TestMigrateUser_ReportMemoTellsWhyIneligible(t *testing.T) {
	disabled := activitiestest.Member("dave")
	disabled.AccountEnabled = false
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(disabled)
	env := newEnv(t, o, e)
	memos := captureReportMemos(env)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "dave@contoso.com"})
	res := userResult(t, env)
	require.Equal(t, workflows.StateIneligible, res.State)
	got := memos.all()
	require.Len(t, got, 1)
	assert.Equal(t, workflows.StateIneligible, got[0].State)
	assert.Equal(t, res.Reason, got[0].Reason)
	assert.NotEmpty(t, got[0].Reason)
	assert.Empty(t, got[0].OktaAction)
	assert.Empty(t, got[0].OktaUserID)
}

// TestMigrateUser_ReportMemoKeepsItsOldPath: a history from before
// report-memo (GetVersion answering DefaultVersion) upserts no report memo,
// so its commands are unchanged.
func TestMigrateUser_ReportMemoKeepsItsOldPath(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("erin"))
	env := newEnv(t, o, e)
	env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion) // a history from before the release
	env.OnGetVersion("report-memo", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	memos := captureReportMemos(env)
	env.RegisterDelayedCallback(func() { signalRefused(env, "wrong_password", 50126) }, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "erin@contoso.com",
		Deadline: start.Add(2 * time.Hour), Policy: workflows.PolicyExpirePassword})
	res := userResult(t, env)
	require.Equal(t, workflows.StateExpired, res.State)
	assert.Empty(t, memos.all())
	// The status carries the sign-in's class on every path (no command).
	assert.Equal(t, "wrong_password", res.Status.LastOutcomeReason)
	assert.Equal(t, 50126, res.Status.LastOutcomeCode)
}

// TestMigrateUser_ReportMemoAcrossContinueAsNew: a resumed run reads the
// memo its previous run published (continue-as-new carries it) and
// publishes only what changes; a resumed run without one (its previous run
// predates report-memo) publishes its story at its first wait.
func TestMigrateUser_ReportMemoAcrossContinueAsNew(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("kim"))
	first := newEnv(t, o, e)
	firstMemos := captureReportMemos(first)
	first.RegisterDelayedCallback(func() { first.SetContinueAsNewSuggested(true) }, 3*time.Hour+time.Minute)
	first.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "kim@contoso.com", ReconcileEvery: time.Hour})
	next := continuedUserInput(t, first)
	published := firstMemos.all()
	require.Len(t, published, 1)

	for _, carried := range []bool{true, false} {
		env := newEnv(t, o, e)
		env.SetStartTime(next.Resume.UpdatedAt)
		if carried {
			require.NoError(t, env.SetMemoOnStart(map[string]any{workflows.MemoReport: published[0]}))
		}
		memos := captureReportMemos(env)
		env.RegisterDelayedCallback(func() {
			if carried {
				assert.Empty(t, memos.all(), "nothing changed since the previous run published")
			} else {
				if got := memos.all(); assert.Len(t, got, 1, "published at the first wait") {
					assert.Equal(t, published[0], got[0])
				}
			}
			o.SetProvider("kim@contoso.com", okta.ProviderOkta)
			signalVerified(env, workflows.OutcomeVerified)
		}, time.Minute)
		env.ExecuteWorkflow(workflows.MigrateUser, next)
		require.Equal(t, workflows.StateMigrated, userResult(t, env).State)
		got := memos.all()
		require.NotEmpty(t, got)
		assert.Equal(t, workflows.StateMigrated, got[len(got)-1].State)
		o.SetProvider("kim@contoso.com", okta.ProviderImport)
	}
}

// continuedUserInput decodes the input a user's run continued as new with.
func continuedUserInput(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.MigrateUserInput {
	t.Helper()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	var next workflows.MigrateUserInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	return next
}

// queryWorkflowMetadata is the SDK's built-in query that serves a
// workflow's current details to the Web UI (internal.QueryTypeWorkflowMetadata;
// the client package exports no name for it).
const queryWorkflowMetadata = "__temporal_workflow_metadata"

// metadata runs the built-in query that serves the Web UI's details.
func metadata(t *testing.T, env *testsuite.TestWorkflowEnvironment) *sdkpb.WorkflowMetadata {
	t.Helper()
	v, err := env.QueryWorkflow(queryWorkflowMetadata)
	require.NoError(t, err)
	var md sdkpb.WorkflowMetadata
	require.NoError(t, v.Get(&md))
	return &md
}

// TestMigrateUser_CurrentDetailsForTheWebUI: the workflow's current details
// (the __temporal_workflow_metadata query, which the Web UI shows on the
// workflow's page) follow each state and reason, the deadline in force and
// the last sign-in.
func TestMigrateUser_CurrentDetailsForTheWebUI(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("nia"))
	env := newEnv(t, o, e)
	deadline := start.Add(10 * 24 * time.Hour)
	env.RegisterDelayedCallback(func() {
		d := metadata(t, env).GetCurrentDetails()
		u, _ := o.User("nia@contoso.com")
		assert.Contains(t, d, "**State:** AwaitingSignIn")
		assert.Contains(t, d, "**Reason:** waiting for the first Okta sign-in")
		assert.Contains(t, d, "**Deadline:** "+deadline.Format(time.RFC3339)+" (policy deactivate)")
		assert.Contains(t, d, "**Okta user:** "+u.ID+" (created by the migration)")
		assert.NotContains(t, d, "Last sign-in")
		signalRefused(env, "mfa_enrollment_required", 50079)
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		d := metadata(t, env).GetCurrentDetails()
		assert.Contains(t, d, "**Reason:** sign-in attempt: unverified (mfa_enrollment_required)")
		assert.Contains(t, d, "**Last sign-in:** unverified (mfa_enrollment_required) at "+start.Add(time.Hour).Format(time.RFC3339)+", 1 attempt(s)")
		env.UpdateWorkflow(workflows.UpdateExtendDeadline, "ext-1", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("extension rejected: %v", err) },
			OnAccept: func() {}, OnComplete: func(any, error) {},
		}, workflows.ExtendDeadlineRequest{By: 24 * time.Hour})
	}, 2*time.Hour)
	env.RegisterDelayedCallback(func() {
		d := metadata(t, env).GetCurrentDetails()
		assert.Contains(t, d, "**Deadline:** "+deadline.Add(24*time.Hour).Format(time.RFC3339)+" (policy deactivate)", "the extension shows")
	}, 3*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "nia@contoso.com",
		Deadline: deadline, Policy: workflows.PolicyDeactivate})
	require.Equal(t, workflows.StateExpired, userResult(t, env).State)
	d := metadata(t, env).GetCurrentDetails()
	assert.Contains(t, d, "**State:** Expired")
	assert.Contains(t, d, "**Reason:** deadline passed; policy deactivate applied")
}
