package activities

import (
	"context"
	"slices"
	"sync"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// OktaGroups is the part of the Okta adapter (*oktaclient.Client) the group
// activities call. Activities.Okta must implement it for a batch with a
// group mapping.
type OktaGroups interface {
	// EnsureGroup returns the OKTA_GROUP with this name, creating it when
	// there is none; a create lost to a concurrent one reads the winner's.
	EnsureGroup(ctx context.Context, name, description string) (okta.EnsureGroupResult, error)
	// GetGroup returns apierr NotFound for a missing group.
	GetGroup(ctx context.Context, id string) (okta.Group, error)
	AddGroupMember(ctx context.Context, groupID, userID string) error
	// RemoveGroupMember treats a non-member or a missing group as done.
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	UserGroups(ctx context.Context, userID string) ([]okta.Group, error)
	GroupMemberCount(ctx context.Context, groupID string) (int, error)
	// DeleteGroup treats a missing group as done.
	DeleteGroup(ctx context.Context, id string) error
}

// EntraGroups is the part of the Graph adapter (*graph.Client) the group
// activities call. Activities.Entra must implement it for a batch with a
// group mapping.
type EntraGroups interface {
	// UserGroups returns the user's groups, nested memberships flattened.
	UserGroups(ctx context.Context, idOrUPN string) ([]entra.Group, error)
}

// ErrTypeGroupsUnsupported is the error type when the adapters cannot
// manage groups.
const ErrTypeGroupsUnsupported = "GroupsUnsupported"

// GetEntraUserGroupsInput names the user.
type GetEntraUserGroupsInput struct {
	IDOrUPN string
}

// GetEntraUserGroupsResult is the user's groups.
type GetEntraUserGroupsResult struct {
	Groups []entra.Group
}

// GetEntraUserGroups reads a user's Entra groups, direct and nested. It runs
// on the Graph task queue.
func (a *Activities) GetEntraUserGroups(ctx context.Context, in GetEntraUserGroupsInput) (GetEntraUserGroupsResult, error) {
	eg, ok := a.Entra.(EntraGroups)
	if !ok {
		return GetEntraUserGroupsResult{}, temporal.NewNonRetryableApplicationError("the Graph adapter cannot read groups", ErrTypeGroupsUnsupported, nil)
	}
	gs, err := eg.UserGroups(ctx, in.IDOrUPN)
	if err != nil {
		return GetEntraUserGroupsResult{}, fail(ctx, err)
	}
	return GetEntraUserGroupsResult{Groups: gs}, nil
}

// GroupTarget is one Okta group a user should be in: by ID (an existing
// group) or by Name (created when missing).
type GroupTarget struct {
	ID   string
	Name string
	// Entra lists the Entra groups (object IDs) it comes from.
	Entra []string
}

// GroupMembership is one Okta group membership the migration manages.
type GroupMembership struct {
	OktaGroupID   string
	OktaGroupName string
	// Entra lists the Entra groups (object IDs) it comes from.
	Entra []string
	// Added is set when the migration made the user a member (it was not
	// one before); only such memberships are ever removed.
	Added bool
	// CreatedGroup is set when the migration created the Okta group.
	CreatedGroup bool
}

// SyncOktaGroupsInput is the memberships a user should have.
type SyncOktaGroupsInput struct {
	UserID  string
	Targets []GroupTarget
	// Known are the memberships recorded before (a reconciliation's
	// previous state): their Added and CreatedGroup are kept, and those
	// Added whose group is no longer a target are removed when Remove is
	// set.
	Known  []GroupMembership
	Remove bool
}

// SyncOktaGroupsResult is the memberships the migration now manages, in
// target order, and those it removed.
type SyncOktaGroupsResult struct {
	Memberships []GroupMembership
	Removed     []GroupMembership
}

// groupProgress is heartbeated after each change, so that a retried
// attempt still knows which memberships and groups an earlier attempt
// added or created (a member it added is a member when the retry looks).
type groupProgress struct {
	Added   []string // group IDs
	Created []string // group IDs
}

// SyncOktaGroups puts an Okta user in its target groups, creating the groups
// named that do not exist, and (with Remove) takes it out of the groups the
// migration added it to that are no longer targets. It reads the user's
// groups once (GET /api/v1/users/{id}/groups) and writes only what differs.
// Group IDs by name are cached for the worker's life, so that a batch
// searches each name once per worker; a cached group found deleted is
// looked up again. It runs on the Okta task queue.
func (a *Activities) SyncOktaGroups(ctx context.Context, in SyncOktaGroupsInput) (SyncOktaGroupsResult, error) {
	og, ok := a.Okta.(OktaGroups)
	if !ok {
		return SyncOktaGroupsResult{}, temporal.NewNonRetryableApplicationError("the Okta adapter cannot manage groups", ErrTypeGroupsUnsupported, nil)
	}
	var prog groupProgress
	if activity.HasHeartbeatDetails(ctx) {
		_ = activity.GetHeartbeatDetails(ctx, &prog)
	}
	current, err := og.UserGroups(ctx, in.UserID)
	if err != nil {
		return SyncOktaGroupsResult{}, fail(ctx, err)
	}
	member := map[string]bool{}
	for _, g := range current {
		member[g.ID] = true
	}
	known := map[string]GroupMembership{}
	for _, k := range in.Known {
		known[k.OktaGroupID] = k
	}
	var res SyncOktaGroupsResult
	wanted := map[string]bool{}
	for _, t := range in.Targets {
		g, created, err := a.resolveGroup(ctx, og, t)
		if err != nil {
			return SyncOktaGroupsResult{}, err
		}
		k := known[g.ID]
		m := GroupMembership{OktaGroupID: g.ID, OktaGroupName: g.Name, Entra: t.Entra,
			Added:        k.Added || slices.Contains(prog.Added, g.ID),
			CreatedGroup: created || k.CreatedGroup || slices.Contains(prog.Created, g.ID)}
		if created {
			prog.Created = append(prog.Created, g.ID)
			activity.RecordHeartbeat(ctx, prog)
		}
		if !member[g.ID] {
			err := og.AddGroupMember(ctx, g.ID, in.UserID)
			if apierr.Is(err, apierr.NotFound) && t.ID == "" {
				// The cached group was deleted: look it up again once.
				a.groupIDs.Delete(t.Name)
				if g, created, err = a.resolveGroup(ctx, og, t); err == nil {
					m.OktaGroupID, m.CreatedGroup = g.ID, m.CreatedGroup || created
					err = og.AddGroupMember(ctx, g.ID, in.UserID)
				}
			}
			if err != nil {
				return SyncOktaGroupsResult{}, fail(ctx, err)
			}
			member[g.ID] = true
			m.Added = true
			prog.Added = append(prog.Added, g.ID)
			activity.RecordHeartbeat(ctx, prog)
		}
		wanted[m.OktaGroupID] = true
		if !slices.ContainsFunc(res.Memberships, func(x GroupMembership) bool { return x.OktaGroupID == m.OktaGroupID }) {
			res.Memberships = append(res.Memberships, m)
		}
	}
	for _, k := range in.Known {
		if wanted[k.OktaGroupID] {
			continue
		}
		if !in.Remove || !k.Added {
			res.Memberships = append(res.Memberships, k) // kept as it was
			continue
		}
		if err := og.RemoveGroupMember(ctx, k.OktaGroupID, in.UserID); err != nil {
			return SyncOktaGroupsResult{}, fail(ctx, err)
		}
		res.Removed = append(res.Removed, k)
	}
	return res, nil
}

// resolveGroup returns a target's group: by ID (it must be an OKTA_GROUP,
// the only type whose memberships the API changes), or by name, created
// when missing.
func (a *Activities) resolveGroup(ctx context.Context, og OktaGroups, t GroupTarget) (okta.Group, bool, error) {
	if t.ID != "" {
		g, err := og.GetGroup(ctx, t.ID)
		if apierr.Is(err, apierr.NotFound) {
			return okta.Group{}, false, temporal.NewNonRetryableApplicationError("Okta group "+t.ID+" does not exist", ErrTypeGroupMissing, err)
		}
		if err != nil {
			return okta.Group{}, false, fail(ctx, err)
		}
		if g.Type != "" && g.Type != okta.GroupTypeOkta {
			return okta.Group{}, false, temporal.NewNonRetryableApplicationError("Okta group "+t.ID+" is a "+g.Type+
				"; only OKTA_GROUP memberships can be changed", ErrTypeGroupMissing, nil)
		}
		return g, false, nil
	}
	if v, ok := a.groupIDs.Load(t.Name); ok {
		return v.(okta.Group), false, nil
	}
	// The users of a new group arrive together: without the lock each would
	// find it missing and send its own create, and all but one would spend a
	// create call on Okta's 400 E0000001 (name taken). The holder's calls
	// have their deadlines, so the wait is bounded.
	l, _ := a.groupLocks.LoadOrStore(t.Name, new(sync.Mutex))
	mu := l.(*sync.Mutex)
	mu.Lock()
	defer mu.Unlock()
	if v, ok := a.groupIDs.Load(t.Name); ok {
		return v.(okta.Group), false, nil
	}
	r, err := og.EnsureGroup(ctx, t.Name, "Migrated from Microsoft Entra ID by entra2okta")
	if err != nil {
		return okta.Group{}, false, fail(ctx, err)
	}
	a.groupIDs.Store(t.Name, r.Group)
	return r.Group, r.Created, nil
}

// ErrTypeGroupMissing is the error type of a mapping to an Okta group ID
// that does not exist or is not an OKTA_GROUP.
const ErrTypeGroupMissing = "OktaGroupMissing"

// RemoveOktaGroupsInput is what a rollback undoes for one user.
type RemoveOktaGroupsInput struct {
	UserID      string
	Memberships []GroupMembership
}

// RemoveOktaGroupsResult says which created groups were deleted.
type RemoveOktaGroupsResult struct {
	DeletedGroups []string
}

// RemoveOktaGroups removes the memberships the migration added and deletes
// the groups it created that are then empty. A user already deleted is
// not a member of anything: its removals are done.
func (a *Activities) RemoveOktaGroups(ctx context.Context, in RemoveOktaGroupsInput) (RemoveOktaGroupsResult, error) {
	og, ok := a.Okta.(OktaGroups)
	if !ok {
		return RemoveOktaGroupsResult{}, temporal.NewNonRetryableApplicationError("the Okta adapter cannot manage groups", ErrTypeGroupsUnsupported, nil)
	}
	var res RemoveOktaGroupsResult
	for _, m := range in.Memberships {
		if m.Added {
			if err := og.RemoveGroupMember(ctx, m.OktaGroupID, in.UserID); err != nil {
				return res, fail(ctx, err)
			}
		}
		if !m.CreatedGroup {
			continue
		}
		n, err := og.GroupMemberCount(ctx, m.OktaGroupID)
		if apierr.Is(err, apierr.NotFound) {
			continue
		}
		if err != nil {
			return res, fail(ctx, err)
		}
		if n == 0 {
			if err := og.DeleteGroup(ctx, m.OktaGroupID); err != nil {
				return res, fail(ctx, err)
			}
			a.forgetGroup(m.OktaGroupID)
			res.DeletedGroups = append(res.DeletedGroups, m.OktaGroupName)
		}
	}
	return res, nil
}

// forgetGroup drops a deleted group from the name cache.
func (a *Activities) forgetGroup(id string) {
	a.groupIDs.Range(func(k, v any) bool {
		if v.(okta.Group).ID == id {
			a.groupIDs.Delete(k)
		}
		return true
	})
}
