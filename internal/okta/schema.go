package okta

import "sort"

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
