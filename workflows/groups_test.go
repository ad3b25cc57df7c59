package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"entra2okta/activities"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
	"entra2okta/workflows"
)

func security(id, name string) entra.Group {
	return entra.Group{ID: id, DisplayName: name, SecurityEnabled: true}
}

// TestGroupTargets: rules match an Entra group by object ID or display name
// (case-insensitive) and any kind; the prefix takes security groups only
// (mail-enabled ones too), never Microsoft 365 or distribution groups; an
// Okta group ID is kept as an ID; each Okta group appears once.
func TestGroupTargets(t *testing.T) {
	gs := []entra.Group{
		security("g-fin", "Finance"),
		{ID: "g-m365", DisplayName: "APP-Team", MailEnabled: true, GroupTypes: []string{"Unified"}},
		{ID: "g-dist", DisplayName: "APP-News", MailEnabled: true},
		{ID: "g-mailsec", DisplayName: "APP-Mail", SecurityEnabled: true, MailEnabled: true},
		security("g-pay", "APP-Payroll"),
		security("g-dyn", "All Sales"),
	}
	m := workflows.GroupMapping{Prefix: "APP-", Rules: []workflows.GroupRule{
		{Entra: "finance", Okta: "Okta Finance"},
		{Entra: "G-M365", Okta: "Okta Finance"},
		{Entra: "All Sales", Okta: "00gabcdefghij0123456"},
	}}
	got := workflows.GroupTargets(m, gs)
	assert.Equal(t, []activities.GroupTarget{
		{Name: "Okta Finance", Entra: []string{"g-fin", "g-m365"}},
		{ID: "00gabcdefghij0123456", Entra: []string{"g-dyn"}},
		{Name: "APP-Mail", Entra: []string{"g-mailsec"}},
		{Name: "APP-Payroll", Entra: []string{"g-pay"}},
	}, got)
	assert.Empty(t, workflows.GroupTargets(workflows.GroupMapping{}, gs))
	require.Error(t, workflows.GroupMapping{Rules: []workflows.GroupRule{{Entra: "x"}}}.Validate())
}

// TestMigrateUser_GroupMapping: after the Okta user exists it joins its
// mapped groups (the missing one created, the existing one it was already
// in recorded as not added); with Sync, a reconciliation before the first
// sign-in adds a new mapping and removes the membership the migration
// added whose Entra group went, never one it did not add; the rollback and
// report memos carry the groups.
func TestMigrateUser_GroupMapping(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("alice"))
	// Already in Okta, staged, and already in APP-Payroll by an admin.
	o.Add(okta.User{Login: "alice@contoso.com", Status: okta.StatusStaged, Profile: okta.Profile{"login": "alice@contoso.com"}})
	o.AddGroup("APP-Payroll", "alice@contoso.com")
	e.SetGroups("alice@contoso.com", security("g-fin", "Finance"), security("g-pay", "APP-Payroll"))
	env := newEnv(t, o, e)
	var rollback []workflows.RollbackMemo
	reports := []workflows.ReportMemo{}
	env.OnUpsertMemo(mock.Anything).Run(func(args mock.Arguments) {
		m := args.Get(0).(map[string]any)
		if r, ok := m[workflows.MemoRollback]; ok {
			rollback = append(rollback, r.(workflows.RollbackMemo))
		}
		if r, ok := m[workflows.MemoReport]; ok {
			reports = append(reports, r.(workflows.ReportMemo))
		}
	}).Return(nil)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		require.Len(t, st.Groups, 2)
		assert.Equal(t, "Okta Finance", st.Groups[0].OktaGroupName)
		assert.True(t, st.Groups[0].Added && st.Groups[0].CreatedGroup)
		assert.Equal(t, "APP-Payroll", st.Groups[1].OktaGroupName)
		assert.False(t, st.Groups[1].Added || st.Groups[1].CreatedGroup, "an admin's membership is not the migration's")
		// Before the first sign-in, Entra changes: Finance and APP-Payroll
		// go, APP-Sales comes.
		e.SetGroups("alice@contoso.com", security("g-sales", "APP-Sales"))
	}, 30*time.Minute)
	env.RegisterDelayedCallback(func() {
		st := queryStatus(t, env)
		names := []string{}
		for _, g := range st.Groups {
			names = append(names, g.OktaGroupName)
		}
		assert.Equal(t, []string{"APP-Sales", "APP-Payroll"}, names)
		o.SetProvider("alice@contoso.com", okta.ProviderOkta)
		signalVerified(env, workflows.OutcomeVerified)
	}, 90*time.Minute)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "alice@contoso.com", ReconcileEvery: time.Hour,
		Groups: workflows.GroupMapping{Prefix: "APP-", Sync: true, Rules: []workflows.GroupRule{{Entra: "Finance", Okta: "Okta Finance"}}}})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)

	fin, _ := o.GroupMembers("Okta Finance")
	assert.Empty(t, fin, "the membership the migration added is removed when its Entra group goes")
	pay, _ := o.GroupMembers("APP-Payroll")
	assert.Equal(t, []string{"alice@contoso.com"}, pay, "a membership the migration did not add stays")
	sales, _ := o.GroupMembers("APP-Sales")
	assert.Equal(t, []string{"alice@contoso.com"}, sales)
	assert.Equal(t, 2, e.Calls("UserGroups"), "one read at import, one at the reconciliation")

	// The rollback memo has only what the migration added or created,
	// as the import left it; the report memo names the groups.
	require.Len(t, rollback, 2, "the import's memo, then the reconciliation's change")
	require.Len(t, rollback[0].Groups, 1)
	assert.Equal(t, "Okta Finance", rollback[0].Groups[0].OktaGroupName)
	require.Len(t, rollback[1].Groups, 2, "the group it created stays for the rollback to delete once empty")
	assert.Equal(t, "APP-Sales", rollback[1].Groups[0].OktaGroupName)
	assert.Equal(t, "Okta Finance", rollback[1].Groups[1].OktaGroupName)
	assert.True(t, rollback[1].Groups[1].CreatedGroup && !rollback[1].Groups[1].Added)
	require.NotEmpty(t, reports)
	assert.Equal(t, "Okta Finance, APP-Payroll", reports[0].Groups)
	assert.Equal(t, "APP-Sales, APP-Payroll", reports[len(reports)-1].Groups)
}

// TestMigrateUser_NoGroupMappingCostsNothing: a user of a batch without a
// group mapping reads no groups and touches none.
func TestMigrateUser_NoGroupMappingCostsNothing(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("bob"))
	e.SetGroups("bob@contoso.com", security("g-fin", "Finance"))
	env := newEnv(t, o, e)
	env.RegisterDelayedCallback(func() {
		o.SetProvider("bob@contoso.com", okta.ProviderOkta)
		signalVerified(env, workflows.OutcomeVerified)
	}, time.Hour)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "bob@contoso.com"})
	res := userResult(t, env)
	assert.Equal(t, workflows.StateMigrated, res.State)
	assert.Zero(t, e.Calls("UserGroups"))
	for _, m := range []string{"UserGroups", "EnsureGroup", "AddGroupMember"} {
		assert.Zero(t, o.Calls(m), m)
	}
	assert.Empty(t, res.Status.Groups)
}

// TestMigrateUser_RejectsBadGroupMapping: a rule without an Okta group is
// refused as invalid input, before any activity.
func TestMigrateUser_RejectsBadGroupMapping(t *testing.T) {
	o, e := activitiestest.NewOkta(), activitiestest.NewEntra(activitiestest.Member("cy"))
	env := newEnv(t, o, e)
	env.ExecuteWorkflow(workflows.MigrateUser, workflows.MigrateUserInput{Login: "cy@contoso.com",
		Groups: workflows.GroupMapping{Rules: []workflows.GroupRule{{Entra: "Finance"}}}})
	require.True(t, env.IsWorkflowCompleted())
	require.ErrorContains(t, env.GetWorkflowError(), "needs both an Entra group and an Okta group")
	assert.Zero(t, o.Calls(""))
}
