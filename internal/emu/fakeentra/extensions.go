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
//     unset member is null)
//     (https://learn.microsoft.com/en-us/graph/api/resources/onpremisesextensionattributes).
//     The emulator serves no write: seed the members, or set one with
//     SetExtensionAttribute.
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
