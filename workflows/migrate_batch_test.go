package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

func batchResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.MigrateBatchResult {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.MigrateBatchResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

func queryProgress(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.BatchProgress {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryProgress)
	require.NoError(t, err)
	var p workflows.BatchProgress
	require.NoError(t, v.Get(&p))
	return p
}

// tenant is five users: one new, one STAGED in Okta, one already migrated,
// one disabled and one federated.
func tenant() (*activitiestest.Okta, *activitiestest.Entra) {
	dave := activitiestest.Member("dave")
	dave.AccountEnabled = false
	fred := activitiestest.Member("fred")
	fred.UserPrincipalName = "fred@fabrikam.com"
	o := activitiestest.NewOkta()
	o.Add(okta.User{Login: "bob@contoso.com", Status: okta.StatusStaged})
	o.Add(okta.User{Login: "carol@contoso.com", Status: okta.StatusActive, ProviderType: okta.ProviderOkta, HasPassword: true})
	return o, activitiestest.NewEntra(activitiestest.Member("alice"), activitiestest.Member("bob"), activitiestest.Member("carol"), dave, fred)
}

func TestMigrateBatch_MigratesEveryUserThroughAWindow(t *testing.T) {
	o, e := tenant()
	env := newEnv(t, o, e)
	const window = 2
	children := 0
	results := map[string]workflows.MigrateUserResult{}
	env.SetOnChildWorkflowCompletedListener(func(info *workflow.Info, v converter.EncodedValue, err error) {
		require.NoError(t, err)
		var r workflows.MigrateUserResult
		require.NoError(t, v.Get(&r))
		results[info.WorkflowExecution.ID] = r
	})
	env.SetOnChildWorkflowStartedListener(func(info *workflow.Info, _ workflow.Context, _ converter.EncodedValues) {
		children++
		assert.Equal(t, workflows.TaskQueue, info.TaskQueueName)
		p := queryProgress(t, env)
		assert.LessOrEqual(t, p.Importing, window, "the window bounds the users being imported")
	})
	env.RegisterDelayedCallback(func() {
		p := queryProgress(t, env)
		assert.True(t, p.ListingDone)
		assert.Equal(t, 0, p.Importing)
		assert.Equal(t, 2, p.States[workflows.StateAwaitingSignIn]) // alice, bob
		assert.Equal(t, 3, p.States[workflows.StateIneligible]+p.States[workflows.StateAlreadyMigrated])
		o.SetProvider("alice@contoso.com", okta.ProviderOkta)
		require.NoError(t, env.SignalWorkflowByID(workflows.UserWorkflowID("alice@contoso.com"), workflows.SignalPasswordVerified,
			workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeVerified, At: env.Now()}))
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{
		Batch: "wave-1", Source: entra.Source{All: true}, DeadlineAfter: 10 * 24 * time.Hour,
		Policy: workflows.PolicyExpirePassword, PageSize: 2, WindowSize: window})

	res := batchResult(t, env)
	p := res.Progress
	assert.Equal(t, 5, p.Listed)
	assert.Equal(t, 5, p.Started)
	assert.Equal(t, 5, children)
	assert.Equal(t, map[workflows.State]int{
		workflows.StateImporting: 0, workflows.StateAwaitingSignIn: 0,
		workflows.StateMigrated: 1, workflows.StateAlreadyMigrated: 1, workflows.StateIneligible: 2, workflows.StateExpired: 1,
	}, p.States)
	assert.True(t, p.Done())
	assert.Equal(t, 1, e.Calls("Domains"), "read once for the whole batch")
	assert.Equal(t, 3, e.Calls("ListUsers"))
	assert.Equal(t, 0, e.Calls("User"), "each user starts from the listing, which read every mapped property")

	// The batch ends on the last report, which its child sends just before
	// completing: four children completed while the test environment ran.
	require.GreaterOrEqual(t, len(results), 4)
	alice := results[workflows.UserWorkflowID("alice@contoso.com")]
	assert.Equal(t, workflows.StateMigrated, alice.State)
	assert.Equal(t, "wave-1", alice.Status.Batch)
	// The users' deadlines are spread over a tenth of the time left (a day here) after the batch's.
	assert.WithinRange(t, alice.Status.Deadline, start.Add(10*24*time.Hour), start.Add(11*24*time.Hour))
	assert.NotEqual(t, alice.Status.Deadline, results[workflows.UserWorkflowID("bob@contoso.com")].Status.Deadline)
	assert.Equal(t, workflows.PolicyExpirePassword, alice.Status.Policy)
	u, _ := o.User("bob@contoso.com")
	assert.Equal(t, okta.StatusPasswordExpired, u.Status)
}

func TestMigrateBatch_DoesNotStartAUserTwice(t *testing.T) {
	alice := activitiestest.Member("alice")
	again := activitiestest.Member("alice")
	again.ID = "id-alice-2" // listed twice (e.g. through two nested groups)
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(alice, again, activitiestest.Member("bob"))
	env := newEnv(t, o, e)
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{
		Batch: "wave-2", Source: entra.Source{GroupID: "g1"}, DeadlineAfter: 24 * time.Hour, PageSize: 1, WindowSize: 1})
	p := batchResult(t, env).Progress
	assert.Equal(t, 3, p.Listed)
	assert.Equal(t, 2, p.Started)
	assert.Equal(t, 1, p.AlreadyRunning, "the second start found alice's workflow running")
	assert.Equal(t, 0, p.StartFailures)
	assert.Equal(t, 2, p.States[workflows.StateExpired])
	assert.Equal(t, 2, o.Calls("CreateUser"))
}

func TestMigrateBatch_DryRunWritesNothing(t *testing.T) {
	o, e := tenant()
	env := newEnv(t, o, e)
	env.SetOnChildWorkflowStartedListener(func(*workflow.Info, workflow.Context, converter.EncodedValues) {
		t.Error("a dry run started a child workflow")
	})
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{
		Batch: "plan", Source: entra.Source{Filter: "department eq 'R&D'"}, DryRun: true, PageSize: 3, MaxPlanEntries: 4})
	res := batchResult(t, env)
	assert.Equal(t, 0, o.Writes())
	assert.Equal(t, 5, res.Progress.Listed)
	assert.Equal(t, map[workflows.PlanAction]int{workflows.PlanCreate: 1, workflows.PlanAdopt: 1, workflows.PlanSkip: 3}, res.Progress.Planned)
	assert.True(t, res.PlanTruncated)
	require.Len(t, res.Plan, 4)
	byLogin := map[string]workflows.PlanEntry{}
	for _, p := range res.Plan {
		byLogin[p.Login] = p
	}
	assert.Equal(t, workflows.PlanCreate, byLogin["alice@contoso.com"].Action)
	assert.Equal(t, workflows.PlanAdopt, byLogin["bob@contoso.com"].Action)
	assert.Contains(t, byLogin["bob@contoso.com"].Reason, "set the password hook")
	assert.Contains(t, byLogin["bob@contoso.com"].Reason, "activate")
	assert.Equal(t, workflows.PlanSkip, byLogin["carol@contoso.com"].Action)
	assert.Contains(t, byLogin["carol@contoso.com"].Reason, workflows.ReasonOktaPassword)
	assert.Contains(t, byLogin["dave@contoso.com"].Reason, workflows.ReasonDisabled)
	assert.Equal(t, 3, o.Calls("GetUser"), "one read-only lookup per eligible user (not dave, not fred)")
}

func TestMigrateBatch_ContinuesAsNewAndResumes(t *testing.T) {
	users := []entra.User{activitiestest.Member("amy"), activitiestest.Member("ben"), activitiestest.Member("cay"), activitiestest.Member("dee"), activitiestest.Member("eli"), activitiestest.Member("fay")}
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(users...)
	in := workflows.MigrateBatchInput{Batch: "big", Source: entra.Source{All: true}, DeadlineAfter: 24 * time.Hour, PageSize: 2, WindowSize: 4}

	env := newEnv(t, o, e)
	env.SetContinueAsNewSuggested(true)
	env.ExecuteWorkflow(workflows.MigrateBatch, in)
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(env.GetWorkflowError(), &can), "want continue-as-new, got %v", env.GetWorkflowError())
	var next workflows.MigrateBatchInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	st := next.Resume
	assert.Equal(t, "2", st.Progress.Cursor, "continued after the first page")
	assert.Equal(t, 2, st.Progress.Listed)
	assert.Equal(t, 2, st.Progress.Started)
	assert.True(t, st.DomainsKnown)
	assert.Equal(t, []string{"fabrikam.com"}, st.FederatedDomains)
	// amy and ben were started; whatever they had reported was drained into the counts.
	assert.Equal(t, 2, st.Progress.States[workflows.StateImporting]+st.Progress.States[workflows.StateAwaitingSignIn])
	assert.Len(t, st.Ledger, 2, "one ledger entry per started user")
	assert.Empty(t, st.PendingLogins)

	// The next run lists the rest; amy's and ben's workflows (started by the
	// previous run) keep reporting to the batch's workflow ID.
	env2 := newEnv(t, o, e)
	env2.SetStartTime(start.Add(time.Minute))
	env2.RegisterDelayedCallback(func() {
		for i, login := range []string{"amy@contoso.com", "ben@contoso.com"} {
			env2.SignalWorkflow(workflows.SignalUserReport, workflows.UserReportSignal{Login: login,
				To: workflows.StateMigrated, BatchRun: st.Progress.BatchRun, Seq: i + 1})
		}
	}, time.Hour)
	env2.ExecuteWorkflow(workflows.MigrateBatch, next)
	p := batchResult(t, env2).Progress
	assert.Equal(t, 2, p.Runs)
	assert.Equal(t, 6, p.Listed)
	assert.Equal(t, 6, p.Started)
	assert.Equal(t, 2, p.States[workflows.StateMigrated])
	assert.Equal(t, 4, p.States[workflows.StateExpired])
	assert.Equal(t, 0, p.States[workflows.StateImporting]+p.States[workflows.StateAwaitingSignIn])
	assert.Equal(t, 6, o.Calls("CreateUser"), "no user imported twice")
}

func TestMigrateBatch_RejectsInvalidInput(t *testing.T) {
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "x",
		Source: entra.Source{GroupID: "g1", All: true}, WindowSize: 5000})
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &appErr)
	assert.Equal(t, "InvalidInput", appErr.Type())
	assert.Contains(t, appErr.Error(), "exactly one of GroupID")
	assert.Contains(t, appErr.Error(), "WindowSize")
}

func TestMigrateBatch_ExtendDeadlineForUsersNotYetStarted(t *testing.T) {
	users := []entra.User{activitiestest.Member("amy"), activitiestest.Member("ben")}
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(users...)
	env := newEnv(t, o, e)
	deadlines := map[string]time.Time{}
	env.SetOnChildWorkflowStartedListener(func(_ *workflow.Info, _ workflow.Context, args converter.EncodedValues) {
		var in workflows.MigrateUserInput
		require.NoError(t, args.Get(&in))
		deadlines[in.Login] = in.Deadline
	})
	var rejected error
	var moved workflows.BatchProgress
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateExtendDeadline, "earlier", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { rejected = err }, OnAccept: func() {}, OnComplete: func(any, error) {}},
			workflows.ExtendDeadlineRequest{Deadline: start})
		env.UpdateWorkflow(workflows.UpdateExtendDeadline, "later", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejected: %v", err) }, OnAccept: func() {},
			OnComplete: func(v any, err error) { require.NoError(t, err); moved = v.(workflows.BatchProgress) }},
			workflows.ExtendDeadlineRequest{By: 24 * time.Hour})
	}, 0)
	// Window 1: ben starts only after amy has been imported, after the update.
	env.ExecuteWorkflow(workflows.MigrateBatch, workflows.MigrateBatchInput{Batch: "ext", Source: entra.Source{All: true}, DeadlineSpread: -1,
		DeadlineAfter: 24 * time.Hour, PageSize: 1, WindowSize: 1})
	res := batchResult(t, env)
	require.Error(t, rejected)
	assert.Equal(t, start.Add(48*time.Hour), moved.Deadline)
	assert.Equal(t, start.Add(48*time.Hour), res.Progress.Deadline)
	assert.Equal(t, 2, res.Progress.States[workflows.StateExpired])
	assert.Equal(t, start.Add(48*time.Hour), deadlines["ben@contoso.com"], "started after the update")
}
