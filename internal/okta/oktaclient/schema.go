package oktaclient

import (
	"context"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"

	"entra2okta/internal/okta"
)

// GetUserSchema reads the profile schema of the default user type: GET
// /api/v1/meta/schemas/user/default, which needs an API token of an admin
// who may read schemas or the okta.schemas.read scope
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Schema/#tag/Schema/operation/getUserSchema).
// Okta's base profile properties are under definitions.base, the org's own
// under definitions.custom.
func (c *Client) GetUserSchema(ctx context.Context) (okta.UserSchema, error) {
	var s *oktasdk.UserSchema
	err := c.call(ctx, "get user schema", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		s, resp, err = c.sdk.UserSchema.GetUserSchema(ctx, "default")
		return resp, err
	})
	if err != nil {
		return okta.UserSchema{}, err
	}
	out := okta.UserSchema{Attributes: map[string]okta.SchemaAttribute{}}
	if s == nil || s.Definitions == nil {
		return out, nil
	}
	add := func(props map[string]*oktasdk.UserSchemaAttribute, required []string, custom bool) {
		for name, a := range props {
			if a == nil {
				continue
			}
			sa := okta.SchemaAttribute{Name: name, Type: a.Type, Custom: custom, Mutability: a.Mutability, MaxLength: a.MaxLength}
			if a.Items != nil {
				sa.ItemsType = a.Items.Type
			}
			sa.Required = a.Required != nil && *a.Required
			for _, r := range required {
				if r == name {
					sa.Required = true
				}
			}
			out.Attributes[name] = sa
		}
	}
	if b := s.Definitions.Base; b != nil {
		add(b.Properties, b.Required, false)
	}
	if cu := s.Definitions.Custom; cu != nil {
		add(cu.Properties, cu.Required, true)
	}
	return out, nil
}
