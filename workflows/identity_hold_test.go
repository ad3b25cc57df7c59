package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// TestMigrateUser_IdentityMismatchHoldsTheMigration: the hook reports that
// Entra accepted another account's password for this login. The migration
// is held: its deadline waits (no policy is applied while held), a second
// release is refused, and once an operator releases it the passed deadline
// applies.
func TestMigrateUser_IdentityMismatchHoldsTheMigration(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("jsmith"))
	env := newEnv(t, o, e)
	deadline := start.Add(2 * time.Hour)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalPasswordVerified, workflows.PasswordVerifiedSignal{
			Outcome: workflows.OutcomeUnverified, Reason: workflows.ReasonIdentityMismatch, At: env.Now(), EventID: "hook-1"})
	}, time.Hour)
	var early, late error
	accepted := false
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State, "the deadline passed an hour ago but the migration is held")
		assert.Contains(t, st.Hold, "identity mismatch")
		assert.Zero(t, o.Calls("ExpirePassword"))
		env.UpdateWorkflow(workflows.UpdateReleaseHold, "r0", &testsuite.TestUpdateCallback{OnReject: func(err error) { early = err },
			OnAccept: func() {}, OnComplete: func(any, error) {}}, workflows.ReleaseHoldRequest{})
		env.UpdateWorkflow(workflows.UpdateReleaseHold, "r1", &testsuite.TestUpdateCallback{OnReject: func(err error) { t.Errorf("release refused: %v", err) },
			OnAccept: func() { accepted = true }, OnComplete: func(any, error) {}}, workflows.ReleaseHoldRequest{Reason: "the new hire reset the password; the account is jsmith's"})
		env.UpdateWorkflow(workflows.UpdateReleaseHold, "r2", &testsuite.TestUpdateCallback{OnReject: func(err error) { late = err },
			OnAccept: func() {}, OnComplete: func(any, error) {}}, workflows.ReleaseHoldRequest{Reason: "again"})
	}, 3*time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "jsmith@contoso.com", Deadline: deadline,
		Policy: workflows.PolicyExpirePassword, DomainsKnown: true})

	res := userResult(t, env)
	require.True(t, accepted)
	assert.ErrorContains(t, early, "a reason is required")
	assert.ErrorContains(t, late, "not held")
	assert.Equal(t, workflows.StateExpired, res.State, "released: the passed deadline applies")
	assert.Empty(t, res.Status.Hold)
	assert.Equal(t, workflows.OutcomeUnverified, res.Status.LastOutcome)
}

// TestMigrateUser_AnUnverifiedAttemptDoesNotHold: a plain wrong password is
// no reason to hold a migration.
func TestMigrateUser_AnUnverifiedAttemptDoesNotHold(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("kim"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflows.SignalPasswordVerified, workflows.PasswordVerifiedSignal{
			Outcome: workflows.OutcomeUnverified, Reason: "invalid_grant", At: env.Now(), EventID: "hook-1"})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "kim@contoso.com", Deadline: start.Add(2 * time.Hour),
		Policy: workflows.PolicyExpirePassword, DomainsKnown: true})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateExpired, res.State)
	assert.Empty(t, res.Status.Hold)
}
