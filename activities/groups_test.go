package activities_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"entra2okta/activities"
	"entra2okta/internal/okta"
	"entra2okta/internal/testkit/activitiestest"
)

// TestSyncOktaGroups_Idempotent: a second sync with the same targets
// writes nothing and keeps what the first added; a group by ID that is
// missing is a non-retryable error.
func TestSyncOktaGroups_Idempotent(t *testing.T) {
	o := activitiestest.NewOkta()
	uid := o.Add(okta.User{Login: "ada@contoso.com", Status: okta.StatusActive})
	a := &activities.Activities{Okta: o, Entra: activitiestest.NewEntra()}
	in := activities.SyncOktaGroupsInput{UserID: uid, Targets: []activities.GroupTarget{{Name: "Finance", Entra: []string{"g1"}}}}
	first, err := execute[activities.SyncOktaGroupsResult](t, a, "SyncOktaGroups", in)
	require.NoError(t, err)
	require.Len(t, first.Memberships, 1)
	assert.True(t, first.Memberships[0].Added && first.Memberships[0].CreatedGroup)
	assert.Equal(t, 1, o.Calls("AddGroupMember"))

	in.Known = first.Memberships
	second, err := execute[activities.SyncOktaGroupsResult](t, a, "SyncOktaGroups", in)
	require.NoError(t, err)
	assert.Equal(t, first.Memberships, second.Memberships, "what the first sync added stays the migration's")
	assert.Equal(t, 1, o.Calls("AddGroupMember"), "nothing written the second time")
	assert.Equal(t, 1, o.Calls("EnsureGroup"), "the group's ID is cached by name")

	_, err = execute[activities.SyncOktaGroupsResult](t, a, "SyncOktaGroups",
		activities.SyncOktaGroupsInput{UserID: uid, Targets: []activities.GroupTarget{{ID: "00g00000000000000099"}}})
	requireAppError(t, err, activities.ErrTypeGroupMissing, true)
}

// TestSyncOktaGroups_RetryKeepsOwnership: an attempt retried after it added
// the membership (its heartbeat says so) still records it as added by the
// migration, though the user is a member when the retry looks.
func TestSyncOktaGroups_RetryKeepsOwnership(t *testing.T) {
	o := activitiestest.NewOkta()
	uid := o.Add(okta.User{Login: "ada@contoso.com", Status: okta.StatusActive})
	gid := o.AddGroup("Finance", "ada@contoso.com") // the earlier attempt created it and added her
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(&activities.Activities{Okta: o, Entra: activitiestest.NewEntra()})
	env.SetHeartbeatDetails(struct{ Added, Created []string }{Added: []string{gid}, Created: []string{gid}})
	v, err := env.ExecuteActivity("SyncOktaGroups", activities.SyncOktaGroupsInput{UserID: uid,
		Targets: []activities.GroupTarget{{Name: "Finance"}}})
	require.NoError(t, err)
	var res activities.SyncOktaGroupsResult
	require.NoError(t, v.Get(&res))
	require.Len(t, res.Memberships, 1)
	assert.True(t, res.Memberships[0].Added && res.Memberships[0].CreatedGroup)
	assert.Zero(t, o.Calls("AddGroupMember"))
}

// TestGroupActivitiesNeedGroupAdapters: adapters without group support
// fail the group activities as non-retryable.
func TestGroupActivitiesNeedGroupAdapters(t *testing.T) {
	a := &activities.Activities{Okta: struct{ activities.OktaUsers }{activitiestest.NewOkta()},
		Entra: struct{ activities.EntraDirectory }{activitiestest.NewEntra()}}
	_, err := execute[activities.SyncOktaGroupsResult](t, a, "SyncOktaGroups", activities.SyncOktaGroupsInput{UserID: "u"})
	requireAppError(t, err, activities.ErrTypeGroupsUnsupported, true)
	_, err = execute[activities.GetEntraUserGroupsResult](t, a, "GetEntraUserGroups", activities.GetEntraUserGroupsInput{IDOrUPN: "u"})
	requireAppError(t, err, activities.ErrTypeGroupsUnsupported, true)
}
