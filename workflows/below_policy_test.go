package workflows_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/apierr"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// TestMigrateUser_ExpiresAPasswordBelowPolicy checks that a user whose
// verified password broke the Okta password policy ends Migrated with the
// Okta password expired (one expire_password call, after Okta stored it),
// the broken rules in its status and report memo; a run from before
// user-release-4 asks for the change's version on that path only, one that
// recorded the release asks for none; a user whose password met the policy
// pays neither the call nor a marker.
func TestMigrateUser_ExpiresAPasswordBelowPolicy(t *testing.T) {
	for _, tc := range []struct {
		name  string
		below []string
		old   bool // a run from before user-release-4
	}{
		{"below policy", []string{"minLength", "dictionary.common"}, false},
		{"below policy, before the release", []string{"minLength", "dictionary.common"}, true},
		{"meets policy", nil, false},
		{"meets policy, before the release", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("weak"))
			env := newEnv(t, o, e)
			memos := captureReportMemos(env)
			var markers []string
			env.RegisterDelayedCallback(func() {
				o.SetProvider("weak@contoso.com", okta.ProviderOkta) // Okta stored the password
				env.SignalWorkflow(workflows.SignalPasswordVerified, workflows.PasswordVerifiedSignal{
					Outcome: workflows.OutcomeVerified, Reason: "ok", At: env.Now(), EventID: "hook-1", BelowPolicy: tc.below})
			}, 3*time.Hour)
			if tc.old {
				env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
			}
			env.OnGetVersion("expire-below-policy", workflow.DefaultVersion, 1).
				Run(func(mock.Arguments) { markers = append(markers, "expire-below-policy") }).Return(workflow.Version(1))
			env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "weak@contoso.com"})

			res := userResult(t, env)
			require.Equal(t, workflows.StateMigrated, res.State)
			u, ok := o.User("weak@contoso.com")
			require.True(t, ok)
			if tc.below == nil {
				assert.Equal(t, 0, o.Calls("ExpirePassword"))
				assert.Equal(t, okta.StatusActive, u.Status)
				assert.True(t, res.Status.PasswordExpiredAt.IsZero())
				assert.Empty(t, markers, "a user whose password met the policy asks for no version")
				assert.NotContains(t, res.Reason, "policy")
				last := memos.all()[len(memos.all())-1]
				assert.False(t, last.PasswordExpired)
				assert.Empty(t, last.BelowPolicy)
				return
			}
			assert.Equal(t, 1, o.Calls("ExpirePassword"))
			assert.Equal(t, okta.StatusPasswordExpired, u.Status, "Okta asks for a new password at the next sign-in")
			assert.Equal(t, tc.below, res.Status.BelowPolicy)
			assert.False(t, res.Status.PasswordExpiredAt.IsZero())
			if tc.old {
				assert.Equal(t, []string{"expire-below-policy"}, markers)
			} else {
				assert.Empty(t, markers, "the release's runs take the change without a marker")
			}
			assert.Contains(t, res.Reason, "provider OKTA")
			assert.Contains(t, res.Reason, "below the Okta password policy (minLength, dictionary.common) expired")
			got := memos.all()
			require.NotEmpty(t, got)
			last := got[len(got)-1]
			assert.Equal(t, workflows.StateMigrated, last.State)
			assert.True(t, last.PasswordExpired)
			assert.Equal(t, "minLength,dictionary.common", last.BelowPolicy)
		})
	}
}

// TestMigrateUser_BelowPolicyExpiryFailureKeepsMigrated checks that a failed
// expiry (a non-retryable Okta error) is recorded and the user still ends
// Migrated: its password is captured, and the report shows it not expired.
func TestMigrateUser_BelowPolicyExpiryFailureKeepsMigrated(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("weak"))
	o.FailNext("ExpirePassword", &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "expire password", Err: errors.New("E0000001")})
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		o.SetProvider("weak@contoso.com", okta.ProviderOkta)
		env.SignalWorkflow(workflows.SignalPasswordVerified, workflows.PasswordVerifiedSignal{
			Outcome: workflows.OutcomeVerified, Reason: "ok", At: env.Now(), EventID: "hook-1", BelowPolicy: []string{"minSymbol"}})
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "weak@contoso.com"})

	res := userResult(t, env)
	require.Equal(t, workflows.StateMigrated, res.State)
	assert.True(t, res.Status.PasswordExpiredAt.IsZero())
	assert.Equal(t, []string{"minSymbol"}, res.Status.BelowPolicy)
	assert.Contains(t, res.Status.LastError, "expire the password below the Okta password policy")
	assert.Contains(t, res.Reason, "expiring it failed")
}
