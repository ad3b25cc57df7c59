package control

import (
	"context"
	"fmt"
	"strings"

	"entra2okta/internal/apierr"
	"entra2okta/workflows"
)

// OktaGroups is what rollback needs from Okta to undo a group mapping; the
// OktaUsers given to Rollback implements it too (*okta.Client does).
type OktaGroups interface {
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	GroupMemberCount(ctx context.Context, groupID string) (int, error)
	DeleteGroup(ctx context.Context, id string) error
}

// undoGroups undoes what a user's group mapping did: the memberships the
// migration added are removed (a deleted user has none left: Okta removes
// them with it) and the groups it created are deleted once empty.
// Memberships the migration did not add are never touched. It says what it
// did ("" for nothing); a dry run says what it would do.
func undoGroups(ctx context.Context, o OktaUsers, st workflows.UserStatus, userDeleted, dryRun bool) (string, error) {
	var added, created []string
	for _, g := range st.Groups {
		if g.Added {
			added = append(added, g.OktaGroupName)
		}
		if g.CreatedGroup {
			created = append(created, g.OktaGroupName)
		}
	}
	if len(added) == 0 && len(created) == 0 {
		return "", nil
	}
	if dryRun {
		s := ""
		if !userDeleted && len(added) > 0 {
			s = "would remove it from " + strings.Join(added, ", ")
		}
		if len(created) > 0 {
			s = joinReason(s, "would delete "+strings.Join(created, ", ")+" if then empty")
		}
		return s, nil
	}
	og, ok := o.(OktaGroups)
	if !ok {
		return "", fmt.Errorf("this Okta client cannot change groups")
	}
	var removed, deleted []string
	for _, g := range st.Groups {
		if g.Added && !userDeleted {
			if err := og.RemoveGroupMember(ctx, g.OktaGroupID, st.OktaUserID); err != nil {
				return "", fmt.Errorf("remove from %s: %w", g.OktaGroupName, err)
			}
			removed = append(removed, g.OktaGroupName)
		}
		if !g.CreatedGroup {
			continue
		}
		n, err := og.GroupMemberCount(ctx, g.OktaGroupID)
		switch {
		case apierr.Is(err, apierr.NotFound):
			continue
		case err != nil:
			return "", fmt.Errorf("count the members of %s: %w", g.OktaGroupName, err)
		case n > 0:
			continue
		}
		if err := og.DeleteGroup(ctx, g.OktaGroupID); err != nil {
			return "", fmt.Errorf("delete the empty group %s: %w", g.OktaGroupName, err)
		}
		deleted = append(deleted, g.OktaGroupName)
	}
	s := ""
	if len(removed) > 0 {
		s = "removed from " + strings.Join(removed, ", ")
	}
	if len(deleted) > 0 {
		s = joinReason(s, "deleted the empty groups "+strings.Join(deleted, ", "))
	}
	return s, nil
}
