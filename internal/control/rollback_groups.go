package control

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/workflows"
)

// OktaGroups is what rollback needs from Okta to undo a group mapping; the
// OktaUsers given to Rollback implements it too (*oktaclient.Client does).
type OktaGroups interface {
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	GroupMemberCount(ctx context.Context, groupID string) (int, error)
	DeleteGroup(ctx context.Context, id string) error
}

// groupRef names an Okta group.
type groupRef struct{ id, name string }

// GroupAction is what rollback did, or would do, to an Okta group the
// batch's group mapping created.
type GroupAction struct {
	ID, Name string
	Action   string // "delete", "keep", "error"
	Reason   string
}

// createdGroups lists the Okta groups a user's migration created, those
// it has since left included.
func createdGroups(st workflows.UserStatus) []groupRef {
	var out []groupRef
	for _, g := range append(append([]activities.GroupMembership{}, st.Groups...), st.CreatedGroups...) {
		if g.CreatedGroup {
			out = append(out, groupRef{g.OktaGroupID, g.OktaGroupName})
		}
	}
	return out
}

// undoGroups removes the memberships a user's migration added (a deleted
// user has none left: Okta removes them with it). Memberships the migration
// did not add are never touched. It says what it did ("" for nothing); a
// dry run says what it would do.
func undoGroups(ctx context.Context, o OktaUsers, st workflows.UserStatus, userDeleted, dryRun bool) (string, error) {
	var added []string
	for _, g := range st.Groups {
		if g.Added {
			added = append(added, g.OktaGroupName)
		}
	}
	if len(added) == 0 || userDeleted {
		return "", nil
	}
	if dryRun {
		return "would remove it from " + strings.Join(added, ", "), nil
	}
	og, ok := o.(OktaGroups)
	if !ok {
		return "", fmt.Errorf("this Okta client cannot change groups")
	}
	for _, g := range st.Groups {
		if g.Added {
			if err := og.RemoveGroupMember(ctx, g.OktaGroupID, st.OktaUserID); err != nil {
				return "", fmt.Errorf("remove from %s: %w", g.OktaGroupName, err)
			}
		}
	}
	return "removed from " + strings.Join(added, ", "), nil
}

// deleteCreatedGroups runs once every user is handled: each group the
// batch created is deleted when it is then empty, and kept otherwise (a
// member who signed in, or one an administrator added). Each group is
// reported to fn.
func deleteCreatedGroups(ctx context.Context, o OktaUsers, created []groupRef, dryRun bool, fn func(GroupAction)) error {
	if len(created) == 0 {
		return nil
	}
	if fn == nil {
		fn = func(GroupAction) {}
	}
	slices.SortFunc(created, func(a, b groupRef) int { return strings.Compare(a.name+"\x00"+a.id, b.name+"\x00"+b.id) })
	created = slices.Compact(created)
	og, ok := o.(OktaGroups)
	if !ok {
		return fmt.Errorf("this Okta client cannot change groups")
	}
	for _, g := range created {
		act := GroupAction{ID: g.id, Name: g.name, Action: "keep"}
		n, err := og.GroupMemberCount(ctx, g.id)
		switch {
		case apierr.Is(err, apierr.NotFound):
			act.Reason = "already gone from Okta"
		case err != nil:
			act.Action, act.Reason = "error", "count its members: "+err.Error()
		case n > 0 && !dryRun:
			act.Reason = fmt.Sprintf("created by this batch, still has members (%d or more)", n)
		case dryRun:
			act.Action, act.Reason = "delete", "created by this batch: deleted if empty once its users are rolled back"
		default:
			act.Action, act.Reason = "delete", "created by this batch, now empty"
			if err := og.DeleteGroup(ctx, g.id); err != nil {
				act.Action, act.Reason = "error", "delete: "+err.Error()
			}
		}
		fn(act)
	}
	return nil
}
