package control

import (
	"context"
	"slices"
	"testing"

	"entra2okta/activities"
	"entra2okta/workflows"
)

// groupOkta is an in-memory org's groups: members by group ID.
type groupOkta struct {
	OktaUsers
	members map[string][]string
	deleted []string
}

func (g *groupOkta) RemoveGroupMember(_ context.Context, groupID, userID string) error {
	g.members[groupID] = slices.DeleteFunc(g.members[groupID], func(s string) bool { return s == userID })
	return nil
}

func (g *groupOkta) GroupMemberCount(_ context.Context, groupID string) (int, error) {
	return len(g.members[groupID]), nil
}

func (g *groupOkta) DeleteGroup(_ context.Context, id string) error {
	delete(g.members, id)
	g.deleted = append(g.deleted, id)
	return nil
}

// TestUndoGroups: an adopted user leaves only the groups the migration
// added it to; a created group is deleted only once empty; an admin's
// membership and an admin's group stay; a dry run changes nothing.
func TestUndoGroups(t *testing.T) {
	o := &groupOkta{members: map[string][]string{
		"g-new":    {"u1"},       // created by the migration, only u1
		"g-shared": {"u1", "u2"}, // created by the migration, u2 too
		"g-admin":  {"u1"},       // u1 was already a member
		"g-added":  {"u1", "u3"}, // an admin's group the migration added u1 to
	}}
	st := workflows.UserStatus{OktaUserID: "u1", OktaAction: "adopt", Groups: []activities.GroupMembership{
		{OktaGroupID: "g-new", OktaGroupName: "New", Added: true, CreatedGroup: true},
		{OktaGroupID: "g-shared", OktaGroupName: "Shared", Added: true, CreatedGroup: true},
		{OktaGroupID: "g-admin", OktaGroupName: "Admin"},
		{OktaGroupID: "g-added", OktaGroupName: "Added", Added: true},
	}}
	s, err := undoGroups(t.Context(), o, st, false, true)
	if err != nil || s == "" || len(o.members["g-new"]) != 1 {
		t.Fatalf("dry run: %q %v %v", s, err, o.members)
	}
	s, err = undoGroups(t.Context(), o, st, false, false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.deleted, []string{"g-new"}) {
		t.Errorf("deleted %v, want only the empty created group", o.deleted)
	}
	if !slices.Equal(o.members["g-admin"], []string{"u1"}) || !slices.Equal(o.members["g-shared"], []string{"u2"}) ||
		!slices.Equal(o.members["g-added"], []string{"u3"}) {
		t.Errorf("members after undo %v", o.members)
	}
	if s != "removed from New, Shared, Added; deleted the empty groups New" {
		t.Errorf("said %q", s)
	}
	if _, err := undoGroups(t.Context(), struct{ OktaUsers }{}, st, false, false); err == nil {
		t.Error("an Okta client without groups is an error")
	}
}
