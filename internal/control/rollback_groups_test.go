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
// added it to; once every user is handled, a group the batch created is
// deleted only if empty; an admin's membership and an admin's group stay;
// a dry run changes nothing.
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
	if err != nil || s != "would remove it from New, Shared, Added" || len(o.members["g-new"]) != 1 {
		t.Fatalf("dry run: %q %v %v", s, err, o.members)
	}
	s, err = undoGroups(t.Context(), o, st, false, false)
	if err != nil || s != "removed from New, Shared, Added" {
		t.Fatalf("%q %v", s, err)
	}
	if !slices.Equal(o.members["g-admin"], []string{"u1"}) || !slices.Equal(o.members["g-shared"], []string{"u2"}) ||
		!slices.Equal(o.members["g-added"], []string{"u3"}) {
		t.Errorf("members after undo %v", o.members)
	}
	var acts []GroupAction
	created := append(createdGroups(st), createdGroups(st)...) // two users of the batch name the same groups
	if err := deleteCreatedGroups(t.Context(), o, created, false, func(a GroupAction) { acts = append(acts, a) }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(o.deleted, []string{"g-new"}) || len(acts) != 2 || acts[0].Name != "New" || acts[0].Action != "delete" ||
		acts[1].Name != "Shared" || acts[1].Action != "keep" {
		t.Errorf("deleted %v, actions %+v: want only the empty created group deleted, each group once", o.deleted, acts)
	}
	if _, err := undoGroups(t.Context(), struct{ OktaUsers }{}, st, false, false); err == nil {
		t.Error("an Okta client without groups is an error")
	}
}
