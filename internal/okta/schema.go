package okta

import (
	"context"
	"sort"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
)

// SchemaAttribute is one profile attribute of an Okta user schema.
type SchemaAttribute struct {
	Name string
	// Type is string, boolean, integer, number or array.
	Type string
	// ItemsType is the type of an array attribute's elements ("" when Okta
	// does not say).
	ItemsType string
	// Custom is true for an attribute of the org's own (#custom) subschema,
	// false for Okta's base profile (#base).
	Custom   bool
	Required bool
	// Mutability is READ_WRITE, READ_ONLY, IMMUTABLE or WRITE_ONLY ("" when
	// Okta does not say).
	Mutability string
	// MaxLength bounds a string attribute (0: no bound).
	MaxLength int64
}

// UserSchema is the profile schema of a user type: its base and custom
// attributes.
type UserSchema struct {
	Attributes map[string]SchemaAttribute
}

// Names returns the attribute names, sorted.
func (s UserSchema) Names() []string {
	out := make([]string, 0, len(s.Attributes))
	for n := range s.Attributes {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// GetUserSchema reads the profile schema of the default user type: GET
// /api/v1/meta/schemas/user/default, which needs an API token of an admin
// who may read schemas or the okta.schemas.read scope
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Schema/#tag/Schema/operation/getUserSchema).
// Okta's base profile properties are under definitions.base, the org's own
// under definitions.custom.
func (c *Client) GetUserSchema(ctx context.Context) (UserSchema, error) {
	var s *oktasdk.UserSchema
	err := c.call(ctx, "get user schema", func(ctx context.Context) (resp *oktasdk.Response, err error) {
		s, resp, err = c.sdk.UserSchema.GetUserSchema(ctx, "default")
		return resp, err
	})
	if err != nil {
		return UserSchema{}, err
	}
	out := UserSchema{Attributes: map[string]SchemaAttribute{}}
	if s == nil || s.Definitions == nil {
		return out, nil
	}
	add := func(props map[string]*oktasdk.UserSchemaAttribute, required []string, custom bool) {
		for name, a := range props {
			if a == nil {
				continue
			}
			sa := SchemaAttribute{Name: name, Type: a.Type, Custom: custom, Mutability: a.Mutability, MaxLength: a.MaxLength}
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
