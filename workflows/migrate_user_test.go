package workflows_test

import (
	"errors"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

var start = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// newEnv is a test environment running the real activities against the
// in-memory Okta and Entra.
func newEnv(t *testing.T, o *activitiestest.Okta, e *activitiestest.Entra) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	var s testsuite.WorkflowTestSuite
	s.SetLogger(tlog.NewStructuredLogger(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartTime(start)
	env.RegisterActivity(&activities.Activities{Okta: o, Entra: e})
	workflows.Register(env)
	env.SetTestTimeout(30 * time.Second)
	return env
}

func userResult(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.MigrateUserResult {
	t.Helper()
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res workflows.MigrateUserResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

func queryStatus(t *testing.T, env *testsuite.TestWorkflowEnvironment) workflows.UserStatus {
	t.Helper()
	v, err := env.QueryWorkflow(workflows.QueryStatus)
	require.NoError(t, err)
	var st workflows.UserStatus
	require.NoError(t, v.Get(&st))
	return st
}

func signalVerified(env *testsuite.TestWorkflowEnvironment, outcome string) {
	env.SignalWorkflow(workflows.SignalPasswordVerified, workflows.PasswordVerifiedSignal{Outcome: outcome, At: env.Now(), EventID: "hook-1"})
}

func TestMigrateUser_CreatesThenCapturesOnSignal(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("alice"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State)
		assert.Equal(t, "create", st.OktaAction)
		assert.NotEmpty(t, st.OktaUserID)
		assert.Equal(t, 1, o.Calls(""), "a new user costs one create, without a lookup")
		o.SetProvider("alice@contoso.com", okta.ProviderOkta) // Okta stored the password
		signalVerified(env, workflows.OutcomeVerified)
	}, 3*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "Alice@contoso.com", Batch: "b1"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Contains(t, res.Reason, "provider OKTA")
	assert.Equal(t, 1, res.Status.SignInAttempts)
	assert.Equal(t, 0, o.Calls("PasswordImportEvents"), "the System Log is not read when the provider says OKTA")

	u, ok := o.User("alice@contoso.com")
	require.True(t, ok)
	assert.Equal(t, u.ID, res.OktaUserID)
	assert.Equal(t, okta.StatusActive, u.Status)
	assert.Equal(t, okta.Profile{
		"login": "alice@contoso.com", "email": "alice@contoso.com", "firstName": "Alice", "lastName": "Example",
		"displayName": "alice Example", "primaryPhone": "+1 555 0100", "title": "Engineer", "department": "R&D",
		"employeeNumber": "E-alice",
	}, u.Profile)
	assert.Equal(t, 1, e.Calls("Domains"))
}

func TestMigrateUser_AdoptsStagedUserAndReconcilesLostSignal(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("bob"))
	// Imported STAGED by the Office 365 app, without a credential.
	o.Add(okta.User{Login: "bob@contoso.com", Status: okta.StatusStaged, Profile: okta.Profile{"login": "bob@contoso.com", "nickName": "bobby"}})
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		assert.Equal(t, workflows.StateAwaitingSignIn, queryStatus(t, env).State)
		// The user signs in, but the hook server's signal is lost.
		o.SetProvider("bob@contoso.com", okta.ProviderOkta)
	}, 5*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "bob@contoso.com"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Contains(t, res.Reason, "reconciled")
	assert.Equal(t, "adopt", res.Status.OktaAction)
	assert.Equal(t, 1, res.Status.Reconciliations)
	// Captured at the first daily reconciliation: a lost signal costs one period.
	assert.Equal(t, start.Add(workflows.DefaultReconcileEvery), res.Status.CompletedAt)

	assert.Equal(t, 1, o.Calls("CreateUser"), "one create, refused: the login exists")
	assert.Equal(t, 1, o.Calls("UpdateUser"), "hook and attributes in one update")
	assert.Equal(t, 1, o.Calls("ActivateUser"))
	u, _ := o.User("bob@contoso.com")
	assert.Equal(t, okta.StatusActive, u.Status)
	assert.Equal(t, "bobby", u.Profile["nickName"], "an update merges, it does not replace")
	assert.Equal(t, "Bob", u.Profile["firstName"])
}

func TestMigrateUser_NeverOverwritesAnOktaPassword(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("carol"))
	o.Add(okta.User{Login: "carol@contoso.com", Status: okta.StatusActive, ProviderType: okta.ProviderOkta, HasPassword: true})
	env := newEnv(t, o, e)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "carol@contoso.com"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateAlreadyMigrated, res.State)
	assert.Contains(t, res.Reason, workflows.ReasonOktaPassword)
	assert.Equal(t, 0, o.Writes())
}

func TestMigrateUser_Ineligible(t *testing.T) {
	disabled := activitiestest.Member("dave")
	disabled.AccountEnabled = false
	guest := activitiestest.Member("gina")
	guest.UserType = "Guest"
	guest.UserPrincipalName = "gina_example.org#EXT#@contoso.onmicrosoft.com"
	federated := activitiestest.Member("fred")
	federated.UserPrincipalName = "fred@eu.fabrikam.com"
	slash := activitiestest.Member("sam")
	slash.UserPrincipalName = "s/am@contoso.com"
	deprovisioned := activitiestest.Member("dora")

	cases := []struct {
		name   string
		user   entra.User
		login  string
		reason string
	}{
		{"disabled", disabled, disabled.UserPrincipalName, workflows.ReasonDisabled},
		{"guest", guest, guest.UserPrincipalName, workflows.ReasonGuest},
		{"federated subdomain", federated, federated.UserPrincipalName, workflows.ReasonFederated + ": fabrikam.com"},
		{"no usable login", slash, slash.UserPrincipalName, workflows.ReasonNoLogin},
		{"deactivated in Okta", deprovisioned, deprovisioned.UserPrincipalName, workflows.ReasonDeprovisioned},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, e := activitiestest.NewOkta(), activitiestest.NewEntra(c.user)
			o.Add(okta.User{Login: "dora@contoso.com", Status: okta.StatusDeprovisioned, ProviderType: okta.ProviderImport})
			env := newEnv(t, o, e)
			env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: c.login})
			res := userResult(t, env)
			assert.Equal(t, workflows.StateIneligible, res.State)
			assert.Contains(t, res.Reason, c.reason)
			assert.Equal(t, 0, o.Writes())
		})
	}
}

func TestMigrateUser_FederatedRoutedToDeadlinePolicy(t *testing.T) {
	fred := activitiestest.Member("fred")
	fred.UserPrincipalName = "fred@fabrikam.com"
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(fred)
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State)
		assert.Contains(t, st.Reason, workflows.ReasonFederated)
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: fred.UserPrincipalName,
		FederatedToDeadline: true, Policy: workflows.PolicyResetPassword, Deadline: start.Add(7 * 24 * time.Hour)})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateExpired, res.State)
	u, _ := o.User(fred.UserPrincipalName)
	assert.Equal(t, okta.StatusRecovery, u.Status)
}

func TestMigrateUser_DeadlinePolicies(t *testing.T) {
	cases := []struct {
		policy workflows.DeadlinePolicy
		status string
	}{
		{workflows.PolicyNone, okta.StatusActive},
		{workflows.PolicyExpirePassword, okta.StatusPasswordExpired},
		{workflows.PolicyResetPassword, okta.StatusRecovery},
		{workflows.PolicyDeactivate, okta.StatusDeprovisioned},
	}
	for _, c := range cases {
		t.Run(string(c.policy), func(t *testing.T) {
			o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("erin"))
			env := newEnv(t, o, e)
			env.RegisterDelayedCallback(func() {
				signalVerified(env, workflows.OutcomeUnverified) // a wrong password: still waiting
			}, 24*time.Hour+time.Minute)
			// No Deadline: the default 60 days, in virtual time.
			env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "erin@contoso.com", Policy: c.policy})
			res := userResult(t, env)
			assert.Equal(t, workflows.StateExpired, res.State)
			assert.Contains(t, res.Reason, string(c.policy))
			assert.Equal(t, start.Add(workflows.DefaultDeadlineAfter), res.Status.CompletedAt)
			assert.Equal(t, 59, res.Status.Reconciliations, "one per day until the deadline")
			assert.Equal(t, 1, res.Status.SignInAttempts)
			assert.Equal(t, workflows.OutcomeUnverified, res.Status.LastOutcome)
			u, _ := o.User("erin@contoso.com")
			assert.Equal(t, c.status, u.Status)
		})
	}
}

func TestMigrateUser_ReadOnlyModeKeepsWaiting(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("ann"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() { signalVerified(env, workflows.OutcomeVerified) }, time.Hour)
	env.RegisterDelayedCallback(func() {
		// Okta was read-only: the provider stayed IMPORT, no SUCCESS event.
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State)
		assert.Contains(t, st.Reason, "read-only")
		assert.Equal(t, 0, st.ConfirmsLeft)
		assert.Equal(t, 3, o.Calls("PasswordImportEvents"), "three confirmation checks")
		// Okta's event hook later relays the successful import, which is in
		// Okta's System Log: the confirmation finds it there.
		o.AddEvent("ann@contoso.com", okta.LogEvent{UUID: "ev-9", EventType: okta.EventTypePasswordImport, Outcome: "SUCCESS", Published: env.Now()})
		env.SignalWorkflow(workflows.SignalPasswordImportEvent, workflows.PasswordImportEventSignal{EventID: "ev-9", Outcome: "SUCCESS", Published: env.Now()})
	}, 2*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "ann@contoso.com"})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Contains(t, res.Reason, "System Log")
}

// TestMigrateUser_ForgedImportEventDoesNotEndTheMigration: a
// user.import.password SUCCESS event that Okta does not back (no password
// stored, nothing in its System Log) leaves the user waiting; the first
// release ended the migration on the event's word.
func TestMigrateUser_ForgedImportEventDoesNotEndTheMigration(t *testing.T) {
	for _, first := range []bool{false, true} {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("eve"))
		env := newEnv(t, o, e)
		if first {
			env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion) // a history from before the release
			env.OnGetVersion("confirm-import-event", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		}
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow(workflows.SignalPasswordImportEvent, workflows.PasswordImportEventSignal{EventID: "forged", Outcome: "SUCCESS", Published: env.Now()})
		}, time.Hour)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "eve@contoso.com", Deadline: start.Add(48 * time.Hour)})
		res := userResult(t, env)
		if first {
			assert.Equal(t, workflows.StateMigrated, res.State, "the first release believed the event")
			continue
		}
		assert.Equal(t, workflows.StateExpired, res.State, "waited for the deadline: Okta never confirmed")
		assert.Equal(t, 3, o.Calls("PasswordImportEvents"), "three confirmation checks against Okta's System Log")
	}
}

func TestMigrateUser_ConfirmedBySystemLog(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("ben"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		// Provider not updated yet, but the import event is in the System Log.
		o.AddEvent("ben@contoso.com", okta.LogEvent{UUID: "ev-1", EventType: okta.EventTypePasswordImport, Outcome: "SUCCESS", Published: env.Now()})
		signalVerified(env, workflows.OutcomeVerified)
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "ben@contoso.com"})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Contains(t, res.Reason, "System Log")
	assert.Equal(t, start.Add(time.Hour), res.Status.CompletedAt)
}

func TestMigrateUser_ImportFailureEventKeepsWaiting(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("cat"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalPasswordImportEvent, workflows.PasswordImportEventSignal{EventID: "ev-2", Outcome: "FAILURE"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State)
		assert.Contains(t, st.LastError, "FAILURE")
	}, 2*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "cat@contoso.com", Deadline: start.Add(48 * time.Hour)})
	assert.Equal(t, workflows.StateExpired, userResult(t, env).State)
}

func TestMigrateUser_ConflictOnCreateAdopts(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("dan"))
	// Created STAGED by someone else between our lookup and our create: a
	// path of the histories from before user-release-4, which looked up
	// first (from it on, every user is created first).
	o.Add(okta.User{Login: "dan@contoso.com", Status: okta.StatusStaged})
	o.HideFromLookup(1)
	env := newEnv(t, o, e)
	env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "dan@contoso.com", Deadline: start.Add(time.Hour)})
	res := userResult(t, env)
	assert.Equal(t, "adopt", res.Status.OktaAction)
	assert.Equal(t, 1, o.Calls("CreateUser"))
	assert.Equal(t, 1, o.Calls("UpdateUser"))
	assert.Equal(t, 1, o.Calls("ActivateUser"))
	u, _ := o.User("dan@contoso.com")
	assert.Equal(t, okta.ProviderImport, u.ProviderType)
}

func TestMigrateUser_RateLimitWaitsForReset(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("eve"))
	o.FailNext("CreateUser", &apierr.Error{Kind: apierr.RateLimited, Service: "okta", Op: "create user", Status: 429,
		Code: "E0000047", RetryAt: time.Now().Add(90 * time.Second)})
	env := newEnv(t, o, e)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "eve@contoso.com", Deadline: start.Add(time.Hour)})
	res := userResult(t, env)
	assert.Equal(t, 2, o.Calls("CreateUser"))
	waited := res.Status.ImportedAt.Sub(res.Status.StartedAt)
	// The retry waited for Okta's reset (~90 s), not the policy's 2 s backoff.
	assert.Greater(t, waited, 80*time.Second)
	assert.Less(t, waited, 2*time.Minute)
}

func TestMigrateUser_NonRetryableFailures(t *testing.T) {
	t.Run("invalid profile", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("fay"))
		o.FailNext("CreateUser", &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "create user", Status: 400, Code: "E0000001"})
		env := newEnv(t, o, e)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "fay@contoso.com"})
		res := userResult(t, env)
		assert.Equal(t, workflows.StateFailed, res.State)
		assert.Contains(t, res.Error, activities.ErrTypeInvalid)
		assert.Contains(t, res.Error, "E0000001")
		assert.Equal(t, res.Error, res.Status.LastError)
		assert.Equal(t, 1, o.Calls("CreateUser"), "not retried")
	})
	t.Run("missing from Entra", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra()
		env := newEnv(t, o, e)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "ghost@contoso.com"})
		res := userResult(t, env)
		assert.Equal(t, workflows.StateFailed, res.State)
		assert.Contains(t, res.Error, activities.ErrTypeNotFound)
	})
	t.Run("credentials refused three times", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("gus"))
		unauthorized := &apierr.Error{Kind: apierr.Unauthorized, Service: "okta", Op: "create user", Status: 401, Code: "E0000011"}
		o.FailNext("CreateUser", unauthorized, unauthorized, unauthorized, unauthorized)
		env := newEnv(t, o, e)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "gus@contoso.com"})
		res := userResult(t, env)
		assert.Equal(t, workflows.StateFailed, res.State)
		assert.Contains(t, res.Error, activities.ErrTypeUnauthorized)
		assert.Equal(t, activities.UnauthorizedMaxAttempts, o.Calls("CreateUser"))
	})
	t.Run("okta user deleted while waiting", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("hal"))
		env := newEnv(t, o, e)
		env.RegisterDelayedCallback(func() {
			o.Delete("hal@contoso.com")
		}, time.Hour)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "hal@contoso.com"})
		res := userResult(t, env)
		assert.Equal(t, workflows.StateFailed, res.State)
		assert.Contains(t, res.Reason, "deleted")
	})
}

func TestMigrateUser_InvalidInputFailsTheWorkflow(t *testing.T) {
	env := newEnv(t, activitiestest.NewOkta(), activitiestest.NewEntra())
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: " ", Policy: "wipe"})
	err := env.GetWorkflowError()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, "InvalidInput", appErr.Type())
	assert.Contains(t, appErr.Error(), "Login is required")
	assert.Contains(t, appErr.Error(), `"wipe"`)
}

func TestMigrateUser_SkipUpdate(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("ivy"))
	env := newEnv(t, o, e)
	var rejected, accepted error
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(workflows.UpdateSkip, "skip-empty", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { rejected = err },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, workflows.SkipRequest{Reason: "  "})
		env.UpdateWorkflow(workflows.UpdateSkip, "skip-1", &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { accepted = err },
			OnAccept:   func() {},
			OnComplete: func(any, error) {},
		}, workflows.SkipRequest{Reason: "leaves the company on Friday"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "ivy@contoso.com"})
	require.Error(t, rejected)
	assert.Contains(t, rejected.Error(), "reason is required")
	require.NoError(t, accepted)
	res := userResult(t, env)
	assert.Equal(t, workflows.StateSkipped, res.State)
	assert.Contains(t, res.Reason, "leaves the company")
	assert.Equal(t, start.Add(time.Hour), res.Status.CompletedAt)
}

func TestMigrateUser_ExtendDeadlineUpdate(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("jay"))
	env := newEnv(t, o, e)
	deadline := start.Add(10 * 24 * time.Hour)
	var rejects []error
	reject := func(err error) { rejects = append(rejects, err) }
	var updated workflows.UserStatus
	env.RegisterDelayedCallback(func() {
		for i, req := range []workflows.ExtendDeadlineRequest{
			{},                               // neither field
			{Deadline: start, By: time.Hour}, // both fields
			{Deadline: start.Add(time.Hour)}, // earlier than the current deadline
			{By: -time.Hour},                 // negative
		} {
			env.UpdateWorkflow(workflows.UpdateExtendDeadline, "bad-"+string(rune('a'+i)), &testsuite.TestUpdateCallback{
				OnReject: reject, OnAccept: func() {}, OnComplete: func(any, error) {}}, req)
		}
		env.UpdateWorkflow(workflows.UpdateExtendDeadline, "good", &testsuite.TestUpdateCallback{
			OnReject: func(err error) { t.Errorf("rejected: %v", err) },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				require.NoError(t, err)
				updated = v.(workflows.UserStatus)
			},
		}, workflows.ExtendDeadlineRequest{By: 5 * 24 * time.Hour})
	}, 24*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "jay@contoso.com", Deadline: deadline, Policy: workflows.PolicyExpirePassword})
	assert.Len(t, rejects, 4)
	assert.Equal(t, deadline.Add(5*24*time.Hour), updated.Deadline)
	res := userResult(t, env)
	assert.Equal(t, workflows.StateExpired, res.State)
	assert.Equal(t, deadline.Add(5*24*time.Hour), res.Status.CompletedAt)
}

func TestMigrateUser_ContinuesAsNewCarryingState(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("kim"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() { env.SetContinueAsNewSuggested(true) }, 3*time.Hour+time.Minute)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "kim@contoso.com", ReconcileEvery: time.Hour})
	err := env.GetWorkflowError()
	var can *workflow.ContinueAsNewError
	require.True(t, errors.As(err, &can), "want continue-as-new, got %v", err)
	var next workflows.MigrateUserInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
	require.NotNil(t, next.Resume)
	assert.Equal(t, workflows.StateAwaitingSignIn, next.Resume.State)
	assert.Equal(t, 4, next.Resume.Reconciliations, "continued at the first wake after the suggestion")
	assert.NotEmpty(t, next.Resume.OktaUserID)
	creates := o.Calls("CreateUser")

	// The next run resumes waiting: no second import, and a signal completes it.
	env2 := newEnv(t, o, e)
	env2.SetStartTime(next.Resume.UpdatedAt)
	env2.RegisterDelayedCallback(func() {
		st := queryStatus(t, env2)
		assert.Equal(t, 2, st.Runs)
		o.SetProvider("kim@contoso.com", okta.ProviderOkta)
		signalVerified(env2, workflows.OutcomeVerified)
	}, time.Minute)
	env2.ExecuteWorkflow(workflows.MigrateUser, next)
	res := userResult(t, env2)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Equal(t, creates, o.Calls("CreateUser"))
	assert.Equal(t, next.Resume.Reconciliations, res.Status.Reconciliations)
}

func TestMigrateUser_ReportsToBatchAndRefreshesAttributes(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("lee"))
	env := newEnv(t, o, e)
	var reports []workflows.UserReportSignal
	env.OnSignalExternalWorkflow(mock.Anything, "migrate-batch/b1", "", workflows.SignalUserReport, mock.Anything).
		Return(func(_, _, _, _ string, arg any) error {
			reports = append(reports, arg.(workflows.UserReportSignal))
			return nil
		})
	env.RegisterDelayedCallback(func() {
		e.SetAttribute("lee@contoso.com", "jobTitle", "Principal Engineer")
		o.SetProvider("lee@contoso.com", okta.ProviderOkta)
		signalVerified(env, workflows.OutcomeVerified)
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "lee@contoso.com", Batch: "b1",
		ReportTo: "migrate-batch/b1", RefreshAttributesOnCapture: true,
		DomainsKnown: true, FederatedDomains: []string{"fabrikam.com"}})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Equal(t, 0, e.Calls("Domains"), "the batch passed the domains")
	require.Len(t, reports, 2)
	assert.Equal(t, workflows.UserReportSignal{Login: "lee@contoso.com", From: workflows.StateImporting, To: workflows.StateAwaitingSignIn, Reason: reports[0].Reason}, reports[0])
	assert.Equal(t, workflows.StateAwaitingSignIn, reports[1].From)
	assert.Equal(t, workflows.StateMigrated, reports[1].To)
	u, _ := o.User("lee@contoso.com")
	assert.Equal(t, "Principal Engineer", u.Profile["title"])
}

// TestMigrateUser_RefreshReadsTheSameEntraAccount: a UPN renamed and given to
// a new hire during the campaign: the refresh at capture reads the account
// the migration started from (its object ID), not the new hire's.
func TestMigrateUser_RefreshReadsTheSameEntraAccount(t *testing.T) {
	lee := activitiestest.Member("lee")
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(lee)
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		e.SetAttribute("lee@contoso.com", "jobTitle", "Principal Engineer")
		hire := activitiestest.Member("newhire")
		hire.ID = "00000000-0000-4000-8000-00000000beef"
		hire.Attributes["jobTitle"] = "Intern"
		e.RenameUser("lee@contoso.com", "lee.old@contoso.com", &hire)
		o.SetProvider("lee@contoso.com", okta.ProviderOkta)
		signalVerified(env, workflows.OutcomeVerified)
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "lee@contoso.com", RefreshAttributesOnCapture: true, DomainsKnown: true})
	assert.Equal(t, workflows.StateMigrated, userResult(t, env).State)
	u, _ := o.User("lee@contoso.com")
	assert.Equal(t, "Principal Engineer", u.Profile["title"], "the new hire's attributes were copied onto the migrated user")
}

// TestMigrateUser_LongThrottlingDoesNotFailTheUser: thirty 429s in a row (a
// long storm, each with a short reset) and a run of 5xx delay the import, but
// the user still reaches AwaitingSignIn: retries are bounded by time (the
// activity's schedule-to-close), not by a count a 429 storm would use up.
func TestMigrateUser_LongThrottlingDoesNotFailTheUser(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("gus"))
	for i := 0; i < 30; i++ {
		o.FailNext("CreateUser", &apierr.Error{Kind: apierr.RateLimited, Service: "okta", Op: "create user", Status: 429,
			Code: "E0000047", RetryAt: time.Now().Add(2 * time.Second)})
	}
	for i := 0; i < 15; i++ {
		o.FailNext("GetUser", &apierr.Error{Kind: apierr.Transient, Service: "okta", Op: "get user", Status: 503})
	}
	env := newEnv(t, o, e)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "gus@contoso.com", Deadline: start.Add(30 * 24 * time.Hour)})
	res := userResult(t, env)
	require.Equal(t, workflows.StateExpired, res.State, "imported, then waited until the deadline: %s", res.Error)
	assert.NotEmpty(t, res.OktaUserID)
	assert.Equal(t, 31, o.Calls("CreateUser"))
}

// TestMigrateUser_ReportsOnceWithItsBatchRunAndSeq: each state change is
// sent once (a failed report reached a batch that has ended; the server
// delivers one to a batch continuing as new to its next run), carrying the
// batch run and the user's place in the batch's ledger.
func TestMigrateUser_ReportsOnceWithItsBatchRunAndSeq(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("mo"))
	env := newEnv(t, o, e)
	var sent []workflows.UserReportSignal
	env.OnSignalExternalWorkflow(mock.Anything, "migrate-batch/b1", "", workflows.SignalUserReport, mock.Anything).
		Return(func(_, _, _, _ string, arg any) error {
			sent = append(sent, arg.(workflows.UserReportSignal))
			if len(sent) == 1 {
				return errors.New("workflow execution already completed")
			}
			return nil
		})
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "mo@contoso.com", Batch: "b1",
		ReportTo: "migrate-batch/b1", BatchRun: "run-1", BatchSeq: 7, Deadline: start.Add(time.Hour), DomainsKnown: true})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateExpired, res.State)
	require.Len(t, sent, 2, "one signal per state change, no retry")
	assert.Equal(t, workflows.UserReportSignal{Login: "mo@contoso.com", From: workflows.StateImporting,
		To: workflows.StateAwaitingSignIn, Reason: sent[0].Reason, BatchRun: "run-1", Seq: 7}, sent[0])
	assert.Equal(t, workflows.StateExpired, sent[1].To)
	assert.Equal(t, 7, sent[1].Seq)
}
