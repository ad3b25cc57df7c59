package fakeentra

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"entra2okta/internal/graphprops"
)

// Extension data on users, as Graph v1.0 serves it
// (https://learn.microsoft.com/en-us/graph/extensibility-overview):
//
//   - onPremisesExtensionAttributes is an object of 15 String members,
//     extensionAttribute1..15, returned only on $select and always whole (an
//     unset member is null); a PATCH merges the members it names (null clears
//     one) and is refused for a user synchronised from on-premises AD, whose
//     values that directory owns
//     (https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes).
//   - a directory extension, extension_{appId without hyphens}_{name}, is
//     returned only on $select and left out of a user without a value
//     (render). Seed one as a user attribute of that name.

// SetExtensionAttribute sets onPremisesExtensionAttributes.extensionAttribute{n}
// (1-15) of a user; nil clears it.
func (s *Server) SetExtensionAttribute(upn string, n int, value any) error {
	if n < 1 || n > 15 {
		return fmt.Errorf("fakeentra: extensionAttribute%d: n must be 1-15", n)
	}
	return s.updateUser(upn, func(u *user) {
		u.mergeComplex(graphprops.ExtensionAttributes, map[string]any{fmt.Sprintf("extensionAttribute%d", n): value})
	})
}

// complexMembers returns the members of a complex property.
func complexMembers(prop string) []string {
	p, _ := graphprops.Lookup(prop)
	return p.Sub
}

// storedComplex returns the stored members of a complex property (a seed may
// give map[string]any or map[string]string). Callers hold s.mu.
func (u *user) storedComplex(prop string) map[string]any {
	out := map[string]any{}
	switch v := u.Attributes[prop].(type) {
	case map[string]any:
		maps.Copy(out, v)
	case map[string]string:
		for k, x := range v {
			out[k] = x
		}
	}
	return out
}

// complexValue renders a complex property whole: every member, null when
// unset. Callers hold s.mu.
func (u *user) complexValue(prop string) map[string]any {
	stored := u.storedComplex(prop)
	out := make(map[string]any, len(stored))
	for _, m := range complexMembers(prop) {
		var v any
		for k, x := range stored {
			if strings.EqualFold(k, m) {
				v = x
			}
		}
		out[m] = v
	}
	return out
}

// mergeComplex merges members into a complex property; a nil member is
// cleared. Callers hold s.mu.
func (u *user) mergeComplex(prop string, members map[string]any) {
	stored := u.storedComplex(prop)
	for k, v := range members {
		name := k
		if i := slices.IndexFunc(complexMembers(prop), func(m string) bool { return strings.EqualFold(m, k) }); i >= 0 {
			name = complexMembers(prop)[i]
		}
		for old := range stored {
			if strings.EqualFold(old, name) {
				delete(stored, old)
			}
		}
		if v != nil {
			stored[name] = v
		}
	}
	if u.Attributes == nil {
		u.Attributes = map[string]any{}
	}
	u.Attributes[prop] = stored
}

// checkExtensionAttributesPatch validates a PATCH of
// onPremisesExtensionAttributes; "" means it may be applied. Callers hold s.mu.
func (u *user) checkExtensionAttributesPatch(v any) string {
	if synced, _ := u.Attributes["onPremisesSyncEnabled"].(bool); synced {
		return "Unable to update the specified properties for on-premises mastered Directory Sync objects or objects currently undergoing migration."
	}
	members, ok := v.(map[string]any)
	if !ok {
		return "Invalid value specified for property 'onPremisesExtensionAttributes' of resource 'User'."
	}
	for k, x := range members {
		if !slices.ContainsFunc(complexMembers(graphprops.ExtensionAttributes), func(m string) bool { return strings.EqualFold(m, k) }) {
			return fmt.Sprintf("Property '%s' does not exist as a declared property or extension property.", k)
		}
		if s, isString := x.(string); x != nil && (!isString || len(s) > 1024) {
			return fmt.Sprintf("Invalid value specified for property '%s' of resource 'OnPremisesExtensionAttributes'.", k)
		}
	}
	return ""
}
