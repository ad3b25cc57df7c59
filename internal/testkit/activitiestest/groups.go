package activitiestest

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

var (
	_ activities.OktaGroups  = (*Okta)(nil)
	_ activities.EntraGroups = (*Entra)(nil)
)

type testGroup struct {
	okta.Group
	members []string // user ids
}

func (o *Okta) groupLocked(id string) *testGroup {
	for _, g := range o.groups {
		if g.ID == id {
			return g
		}
	}
	return nil
}

// AddGroup adds an OKTA_GROUP (as an administrator would) with these
// members (logins) and returns its id.
func (o *Okta) AddGroup(name string, logins ...string) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	g := &testGroup{Group: okta.Group{ID: fmt.Sprintf("00g%017d", len(o.groups)+1), Name: name, Type: okta.GroupTypeOkta}}
	for _, l := range logins {
		if u := o.findLocked(l); u != nil {
			g.members = append(g.members, u.ID)
		}
	}
	o.groups = append(o.groups, g)
	return g.ID
}

// GroupMembers returns the logins of a group's members, by group name; ok
// is false when there is no such group.
func (o *Okta) GroupMembers(name string) (logins []string, ok bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, g := range o.groups {
		if strings.EqualFold(g.Name, name) {
			for _, id := range g.members {
				if u := o.users[id]; u != nil {
					logins = append(logins, u.Login)
				}
			}
			return logins, true
		}
	}
	return nil, false
}

// EnsureGroup implements activities.OktaGroups.
func (o *Okta) EnsureGroup(_ context.Context, name, _ string) (okta.EnsureGroupResult, error) {
	if err := o.begin("EnsureGroup"); err != nil {
		return okta.EnsureGroupResult{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, g := range o.groups {
		if strings.EqualFold(g.Name, name) {
			return okta.EnsureGroupResult{Group: g.Group}, nil
		}
	}
	g := &testGroup{Group: okta.Group{ID: fmt.Sprintf("00g%017d", len(o.groups)+1), Name: name, Type: okta.GroupTypeOkta}}
	o.groups = append(o.groups, g)
	return okta.EnsureGroupResult{Group: g.Group, Created: true}, nil
}

// GetGroup implements activities.OktaGroups.
func (o *Okta) GetGroup(_ context.Context, id string) (okta.Group, error) {
	if err := o.begin("GetGroup"); err != nil {
		return okta.Group{}, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if g := o.groupLocked(id); g != nil {
		return g.Group, nil
	}
	return okta.Group{}, notFound("get group")
}

// AddGroupMember implements activities.OktaGroups.
func (o *Okta) AddGroupMember(_ context.Context, groupID, userID string) error {
	if err := o.begin("AddGroupMember"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.groupLocked(groupID)
	if g == nil || o.users[userID] == nil {
		return notFound("add group member")
	}
	if !slices.Contains(g.members, userID) {
		g.members = append(g.members, userID)
	}
	return nil
}

// RemoveGroupMember implements activities.OktaGroups.
func (o *Okta) RemoveGroupMember(_ context.Context, groupID, userID string) error {
	if err := o.begin("RemoveGroupMember"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if g := o.groupLocked(groupID); g != nil {
		if i := slices.Index(g.members, userID); i >= 0 {
			g.members = slices.Delete(g.members, i, i+1)
		}
	}
	return nil
}

// UserGroups implements activities.OktaGroups.
func (o *Okta) UserGroups(_ context.Context, userID string) ([]okta.Group, error) {
	if err := o.begin("UserGroups"); err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []okta.Group
	for _, g := range o.groups {
		if slices.Contains(g.members, userID) {
			out = append(out, g.Group)
		}
	}
	return out, nil
}

// GroupMemberCount implements activities.OktaGroups.
func (o *Okta) GroupMemberCount(_ context.Context, groupID string) (int, error) {
	if err := o.begin("GroupMemberCount"); err != nil {
		return 0, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	g := o.groupLocked(groupID)
	if g == nil {
		return 0, notFound("list group members")
	}
	return len(g.members), nil
}

// DeleteGroup implements activities.OktaGroups.
func (o *Okta) DeleteGroup(_ context.Context, id string) error {
	if err := o.begin("DeleteGroup"); err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.groups = slices.DeleteFunc(o.groups, func(g *testGroup) bool { return g.ID == id })
	return nil
}

// SetGroups sets a user's Entra groups (its transitive memberships).
func (e *Entra) SetGroups(upn string, groups ...entra.Group) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.groups == nil {
		e.groups = map[string][]entra.Group{}
	}
	e.groups[strings.ToLower(upn)] = groups
}

// UserGroups implements activities.EntraGroups: by UPN or by the user's
// object ID.
func (e *Entra) UserGroups(_ context.Context, idOrUPN string) ([]entra.Group, error) {
	e.record("UserGroups")
	e.mu.Lock()
	defer e.mu.Unlock()
	key := strings.ToLower(idOrUPN)
	for _, u := range e.users {
		if strings.EqualFold(u.ID, idOrUPN) {
			key = strings.ToLower(u.UserPrincipalName)
		}
	}
	for _, u := range e.users {
		if strings.ToLower(u.UserPrincipalName) == key {
			return e.groups[key], nil
		}
	}
	return nil, &apierr.Error{Kind: apierr.NotFound, Service: "graph", Op: "list user groups", Status: 404}
}
