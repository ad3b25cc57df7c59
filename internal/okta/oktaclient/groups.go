package oktaclient

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"

	"entra2okta/internal/apierr"
	"entra2okta/internal/okta"
)

// FindGroupByName returns the group with exactly this name (Okta compares
// group names without regard to case), or apierr NotFound. It searches with
// `profile.name eq "…"` (search, unlike q, matches the whole name:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/listGroups).
func (c *Client) FindGroupByName(ctx context.Context, name string) (okta.Group, error) {
	var gs []*oktasdk.Group
	search := fmt.Sprintf(`profile.name eq "%s"`, strings.ReplaceAll(name, `"`, `\"`))
	err := c.call(ctx, "find group", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		gs, resp, err = c.sdk.Group.ListGroups(ctx, query.NewQueryParams(query.WithSearch(search), query.WithLimit(10)))
		return resp, err
	})
	if err != nil {
		return okta.Group{}, err
	}
	for _, g := range gs {
		if g != nil && g.Profile != nil && strings.EqualFold(g.Profile.Name, name) {
			return groupFromSDK(g), nil
		}
	}
	return okta.Group{}, &apierr.Error{Service: "okta", Op: "find group", Kind: apierr.NotFound, Status: 404,
		Err: fmt.Errorf("no group named %q", name)}
}

// GetGroup reads a group by id; a missing group is apierr NotFound.
func (c *Client) GetGroup(ctx context.Context, id string) (okta.Group, error) {
	var g *oktasdk.Group
	err := c.call(ctx, "get group", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		g, resp, err = c.sdk.Group.GetGroup(ctx, url.PathEscape(id))
		return resp, err
	})
	if err != nil {
		return okta.Group{}, err
	}
	return groupFromSDK(g), nil
}

// EnsureGroup returns the OKTA_GROUP with this name, creating it when there
// is none. Okta keeps OKTA_GROUP names unique, so when two callers race to
// create the same name the loser's create fails with E0000001 "already
// exists" (apierr Conflict) and it reads the winner's group instead: the
// name is the key, and no group is ever created twice.
func (c *Client) EnsureGroup(ctx context.Context, name, description string) (okta.EnsureGroupResult, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return okta.EnsureGroupResult{}, &apierr.Error{Service: "okta", Op: "ensure group", Kind: apierr.Invalid, Err: errors.New("empty group name")}
	}
	g, err := c.FindGroupByName(ctx, name)
	if err == nil {
		return okta.EnsureGroupResult{Group: g}, nil
	}
	if !apierr.Is(err, apierr.NotFound) {
		return okta.EnsureGroupResult{}, err
	}
	var created *oktasdk.Group
	err = c.call(ctx, "create group", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		created, resp, err = c.sdk.Group.CreateGroup(ctx, oktasdk.Group{Profile: &oktasdk.GroupProfile{Name: name, Description: description}})
		return resp, err
	})
	if apierr.Is(err, apierr.Conflict) {
		g, err := c.FindGroupByName(ctx, name)
		return okta.EnsureGroupResult{Group: g}, err
	}
	if err != nil {
		return okta.EnsureGroupResult{}, err
	}
	return okta.EnsureGroupResult{Group: groupFromSDK(created), Created: true}, nil
}

// DeleteGroup deletes a group; one already gone is not an error.
func (c *Client) DeleteGroup(ctx context.Context, id string) error {
	err := c.call(ctx, "delete group", func(ctx context.Context) (*oktasdk.Response, error) {
		return c.sdk.Group.DeleteGroup(ctx, url.PathEscape(id))
	})
	if apierr.Is(err, apierr.NotFound) {
		return nil
	}
	return err
}

// AddGroupMember adds a user to an OKTA_GROUP; adding a member again is a
// no-op (PUT /api/v1/groups/{groupId}/users/{userId} answers 204 either way).
func (c *Client) AddGroupMember(ctx context.Context, groupID, userID string) error {
	return c.call(ctx, "add group member", func(ctx context.Context) (*oktasdk.Response, error) {
		return c.sdk.Group.AddUserToGroup(ctx, url.PathEscape(groupID), url.PathEscape(userID))
	})
}

// RemoveGroupMember removes a user from an OKTA_GROUP; removing a
// non-member, or from a group that is gone, is not an error.
func (c *Client) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	err := c.call(ctx, "remove group member", func(ctx context.Context) (*oktasdk.Response, error) {
		return c.sdk.Group.RemoveUserFromGroup(ctx, url.PathEscape(groupID), url.PathEscape(userID))
	})
	if apierr.Is(err, apierr.NotFound) {
		return nil
	}
	return err
}

// UserGroups lists the groups a user is a member of
// (GET /api/v1/users/{id}/groups), Everyone included on a real org.
func (c *Client) UserGroups(ctx context.Context, userID string) ([]okta.Group, error) {
	var gs []*oktasdk.Group
	err := c.call(ctx, "list user groups", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		gs, resp, err = c.sdk.User.ListUserGroups(ctx, url.PathEscape(userID))
		return resp, err
	})
	if err != nil {
		return nil, err
	}
	out := make([]okta.Group, 0, len(gs))
	for _, g := range gs {
		if g != nil {
			out = append(out, groupFromSDK(g))
		}
	}
	return out, nil
}

// GroupMemberCount counts a group's members on the first page of up to
// 200: enough to tell an empty group from one that is not.
func (c *Client) GroupMemberCount(ctx context.Context, groupID string) (int, error) {
	var us []*oktasdk.User
	err := c.call(ctx, "list group members", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		us, resp, err = c.sdk.Group.ListGroupUsers(ctx, url.PathEscape(groupID), query.NewQueryParams(query.WithLimit(200)))
		return resp, err
	})
	return len(us), err
}

func groupFromSDK(g *oktasdk.Group) okta.Group {
	out := okta.Group{ID: g.Id, Type: g.Type}
	if g.Profile != nil {
		out.Name = g.Profile.Name
	}
	return out
}
