package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/workflow"

	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

// signInLater checks the user's state once the import is done, then signs
// the user in (Okta stores the password) so that the workflow completes.
func signInLater(t *testing.T, env interface {
	RegisterDelayedCallback(func(), time.Duration)
}, check func(), o *activitiestest.Okta, login string, signal func()) {
	env.RegisterDelayedCallback(func() {
		check()
		o.SetProvider(login, okta.ProviderOkta)
		signal()
	}, 3*time.Hour)
}

func TestMigrateUser_ReactivatesAUserLeftProvisioned(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("alice"))
	o.SetProvisionOnActivate(true) // an enrollment policy requiring the password authenticator
	env := newEnv(t, o, e)
	signInLater(t, env, func() {
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State)
		assert.Equal(t, "create", st.OktaAction)
		u, _ := o.User("alice@contoso.com")
		assert.Equal(t, okta.StatusActive, u.Status, "a PROVISIONED user cannot sign in")
	}, o, "alice@contoso.com", func() { signalVerified(env, workflows.OutcomeVerified) })
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "alice@contoso.com"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Equal(t, 1, o.Calls("ReactivateUser"))
	assert.Equal(t, 0, o.Calls("ActivateUser"), "Okta activates only STAGED and DEPROVISIONED users")
}

func TestMigrateUser_ReactivatesAnAdoptedProvisionedUser(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("bob"))
	// Activated in Okta without a credential: PROVISIONED, provider OKTA.
	o.Add(okta.User{Login: "bob@contoso.com", Status: okta.StatusProvisioned, ProviderType: okta.ProviderOkta,
		Profile: okta.Profile{"login": "bob@contoso.com"}})
	env := newEnv(t, o, e)
	signInLater(t, env, func() {
		u, _ := o.User("bob@contoso.com")
		assert.Equal(t, okta.StatusActive, u.Status)
		assert.Equal(t, okta.ProviderImport, u.ProviderType)
	}, o, "bob@contoso.com", func() { signalVerified(env, workflows.OutcomeVerified) })
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "bob@contoso.com"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Equal(t, "adopt", res.Status.OktaAction)
	assert.Equal(t, 1, o.Calls("UpdateUser"))
	assert.Equal(t, 1, o.Calls("ReactivateUser"))
}

func TestMigrateUser_WaitsOutAsynchronousActivation(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("carol"))
	o.SetAsyncActivation(2) // the create answers STAGED, transitioning to ACTIVE
	env := newEnv(t, o, e)
	signInLater(t, env, func() {
		st := queryStatus(t, env)
		assert.Equal(t, workflows.StateAwaitingSignIn, st.State)
		u, _ := o.User("carol@contoso.com")
		assert.Equal(t, okta.StatusActive, u.Status)
		assert.Empty(t, u.TransitioningToStatus)
	}, o, "carol@contoso.com", func() { signalVerified(env, workflows.OutcomeVerified) })
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "carol@contoso.com"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Equal(t, 1, o.Calls("ActivateUser"), "the 409 E0000112 is waited out, not failed")
}

func TestMigrateUser_IdentityProviderUsersAreIneligible(t *testing.T) {
	for _, provider := range []string{okta.ProviderFederation, okta.ProviderSocial} {
		t.Run(provider, func(t *testing.T) {
			o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("dave"))
			o.Add(okta.User{Login: "dave@contoso.com", Status: okta.StatusActive, ProviderType: provider, ProviderName: "Contoso IdP",
				Profile: okta.Profile{"login": "dave@contoso.com"}})
			env := newEnv(t, o, e)
			env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "dave@contoso.com"})

			res := userResult(t, env)
			assert.Equal(t, workflows.StateIneligible, res.State)
			assert.Contains(t, res.Reason, workflows.ReasonOktaIdP)
			assert.Contains(t, res.Reason, provider)
			assert.Zero(t, o.Writes(), "no password hook is put on the user")
			assert.NotEmpty(t, res.OktaUserID)
		})
	}
}

func TestMigrateUser_CreateWhoseAnswerWasLostIsStillACreate(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("erin"))
	o.SetClock(func() time.Time { return start.Add(time.Minute) }) // Okta's created
	o.LoseCreateAnswers(1)                                         // the first attempt creates, then times out
	env := newEnv(t, o, e)
	signInLater(t, env, func() {
		assert.Equal(t, "create", queryStatus(t, env).OktaAction, "a rollback must be able to delete it")
	}, o, "erin@contoso.com", func() { signalVerified(env, workflows.OutcomeVerified) })
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "erin@contoso.com"})

	res := userResult(t, env)
	require.Equal(t, workflows.StateMigrated, res.State)
	assert.Equal(t, "create", res.Status.OktaAction)
	assert.Equal(t, 2, o.Calls("CreateUser"))
	assert.Equal(t, 0, o.Calls("UpdateUser"), "nothing to adopt: the user is the one we created")
}

// TestMigrateUser_ImportChangesKeepTheirOldPath: histories recorded before
// each change (GetVersion answering DefaultVersion) replay the old commands:
// an identity provider's user adopted, a PROVISIONED user left so, a lost
// create's user adopted.
func TestMigrateUser_ImportChangesKeepTheirOldPath(t *testing.T) {
	t.Run("identity provider user adopted", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("dave"))
		o.Add(okta.User{Login: "dave@contoso.com", Status: okta.StatusActive, ProviderType: okta.ProviderFederation,
			Profile: okta.Profile{"login": "dave@contoso.com"}})
		env := newEnv(t, o, e)
		env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion) // a history from before the release
		env.OnGetVersion("okta-idp-user-ineligible", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "dave@contoso.com"})
		assert.Equal(t, 1, o.Calls("UpdateUser"), "the old path puts the hook on the user")
	})
	t.Run("PROVISIONED user not reactivated", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("alice"))
		o.SetProvisionOnActivate(true)
		env := newEnv(t, o, e)
		env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion) // a history from before the release
		env.OnGetVersion("okta-reactivate-provisioned", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "alice@contoso.com"})
		assert.Equal(t, 0, o.Calls("ReactivateUser"))
		u, _ := o.User("alice@contoso.com")
		assert.Equal(t, okta.StatusProvisioned, u.Status)
	})
	t.Run("lost create adopted", func(t *testing.T) {
		o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("erin"))
		o.SetClock(func() time.Time { return start.Add(time.Minute) })
		o.LoseCreateAnswers(1)
		env := newEnv(t, o, e)
		env.OnGetVersion("user-release-4", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion) // a history from before the release
		env.OnGetVersion("okta-create-recognised", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
		var action string
		env.RegisterDelayedCallback(func() { action = queryStatus(t, env).OktaAction; env.CancelWorkflow() }, time.Hour)
		env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "erin@contoso.com"})
		assert.Equal(t, "adopt", action)
		assert.Equal(t, 1, o.Calls("UpdateUser"))
	})
}

func TestMigrateUser_DoesNotAdoptSomeoneElsesOktaUser(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("frank"))
	// The login is taken in Okta by an account whose email is another
	// person's (a reused login): adopting it would hand it to frank.
	o.Add(okta.User{Login: "frank@contoso.com", Status: okta.StatusStaged,
		Profile: okta.Profile{"login": "frank@contoso.com", "email": "frank.former@fabrikam.example"}})
	env := newEnv(t, o, e)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "frank@contoso.com"})

	res := userResult(t, env)
	assert.Equal(t, workflows.StateIneligible, res.State)
	assert.Contains(t, res.Reason, workflows.ReasonOktaIdentity)
	assert.Contains(t, res.Reason, "frank.former@fabrikam.example")
	assert.Zero(t, o.Writes(), "no password hook is put on the user, nothing is activated")
	assert.Empty(t, res.Status.OktaAction)
}
