package graph

import (
	"context"
	"fmt"
	"strings"

	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/users"

	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
)

// groupProps are the group properties UserGroups selects: enough to tell a
// group's kind (entra.Group).
var groupProps = []string{"id", "displayName", "securityEnabled", "mailEnabled", "groupTypes"}

// UserGroups returns the groups a user (object ID or UPN) belongs to,
// directly or through nested groups: GET
// /users/{id}/transitiveMemberOf/microsoft.graph.group, which flattens
// nesting and, by the cast, leaves out directory roles and administrative
// units (https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof).
// Dynamic groups are listed with the members their rule has produced so
// far. It follows every page of up to 999 groups. The application
// permission User.Read.All allows the call; without one that reads groups
// too (GroupMember.Read.All) Graph returns the groups with limited
// information, without their names and types.
func (c *Client) UserGroups(ctx context.Context, idOrUPN string) ([]entra.Group, error) {
	if strings.TrimSpace(idOrUPN) == "" {
		return nil, &apierr.Error{Service: "graph", Op: "list user groups", Kind: apierr.Invalid, Err: fmt.Errorf("empty user id")}
	}
	ctx, tp := withTap(ctx)
	top := int32(maxPageSize)
	resp, err := users.NewUsersRequestBuilderInternal(map[string]string{}, c.adapter).ByUserId(idOrUPN).
		TransitiveMemberOf().GraphGroup().Get(ctx, &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetRequestConfiguration{
		QueryParameters: &users.ItemTransitiveMemberOfGraphGroupRequestBuilderGetQueryParameters{Select: groupProps, Top: &top},
	})
	var out []entra.Group
	for {
		if err != nil {
			return nil, classify("list user groups", err, tp)
		}
		for _, g := range resp.GetValue() {
			out = append(out, toGroup(g))
		}
		next := resp.GetOdataNextLink()
		if next == nil || *next == "" {
			return out, nil
		}
		if !strings.HasPrefix(*next, c.adapter.GetBaseUrl()+"/") {
			return nil, &apierr.Error{Service: "graph", Op: "list user groups", Kind: apierr.Invalid,
				Err: fmt.Errorf("nextLink is not a Graph link of this client")}
		}
		resp, err = users.NewItemTransitiveMemberOfGraphGroupRequestBuilder(*next, c.adapter).Get(ctx, nil)
	}
}

func toGroup(g models.Groupable) entra.Group {
	out := entra.Group{GroupTypes: g.GetGroupTypes()}
	if v := g.GetId(); v != nil {
		out.ID = *v
	}
	if v := g.GetDisplayName(); v != nil {
		out.DisplayName = *v
	}
	if v := g.GetSecurityEnabled(); v != nil {
		out.SecurityEnabled = *v
	}
	if v := g.GetMailEnabled(); v != nil {
		out.MailEnabled = *v
	}
	return out
}
