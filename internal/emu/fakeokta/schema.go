package fakeokta

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
)

// RouteGetUserSchema reads the profile schema of a user type: "default"
// names the default type, the only one the emulator has
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Schema/#tag/Schema/operation/getUserSchema).
const RouteGetUserSchema Route = "GET /api/v1/meta/schemas/user/{schemaId}"

// ProfileAttribute is a custom attribute of the emulated org's user schema,
// as an administrator defines it in the Profile Editor.
type ProfileAttribute struct {
	Name string
	// Type is string (the default), boolean, integer, number or array.
	Type string
	// Items is an array's element type: string (the default), integer or
	// number.
	Items string
}

// schemaState is what the emulator knows of the user schema beyond the
// names in profileExt: the custom attributes' types, and when the schema
// last changed.
type schemaState struct {
	types   map[string]ProfileAttribute
	updated time.Time
}

// DefineProfileAttribute adds a typed custom attribute to the org's user
// schema. Like Okta, it refuses a name that differs only by case from a base
// or another custom attribute.
func (s *Server) DefineProfileAttribute(a ProfileAttribute) error {
	if a.Type == "" {
		a.Type = "string"
	}
	if a.Type == "array" && a.Items == "" {
		a.Items = "string"
	}
	if !slices.Contains([]string{"string", "boolean", "integer", "number", "array"}, a.Type) {
		return fmt.Errorf("fakeokta: attribute %s: unknown type %q", a.Name, a.Type)
	}
	if a.Type == "array" && !slices.Contains([]string{"string", "integer", "number"}, a.Items) {
		return fmt.Errorf("fakeokta: attribute %s: unknown array item type %q", a.Name, a.Items)
	}
	if a.Type != "array" && a.Items != "" {
		return fmt.Errorf("fakeokta: attribute %s: items only apply to an array", a.Name)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for name := range baseAttributes {
		if strings.EqualFold(name, a.Name) {
			return fmt.Errorf("fakeokta: attribute %s collides with the base attribute %s", a.Name, name)
		}
	}
	for name := range s.profileExt {
		if strings.EqualFold(name, a.Name) && name != a.Name {
			return fmt.Errorf("fakeokta: attribute %s collides with the custom attribute %s", a.Name, name)
		}
	}
	s.profileExt[a.Name] = true
	if s.schema.types == nil {
		s.schema.types = map[string]ProfileAttribute{}
	}
	s.schema.types[a.Name] = a
	s.schema.updated = s.now()
	return nil
}

// addSchemaRoutes adds the schema routes to s.mux (called by routes).
func (s *Server) addSchemaRoutes() {
	s.handle(RouteGetUserSchema, s.getUserSchema)
}

// customType returns a custom attribute's definition (type string unless
// DefineProfileAttribute said otherwise). The caller holds s.mu.
func (s *Server) customType(name string) ProfileAttribute {
	if a, ok := s.schema.types[name]; ok {
		return a
	}
	return ProfileAttribute{Name: name, Type: "string"}
}

// customValueProblem says why v does not fit the custom attribute name's
// type ("" if it does), in Okta's words. Request bodies are decoded with
// json.Number. The caller holds s.mu.
func (s *Server) customValueProblem(name string, v any) string {
	a := s.customType(name)
	if !fitsType(v, a.Type) {
		return "Does not match required type " + a.Type
	}
	if a.Type == "array" {
		for _, x := range v.([]any) {
			if !fitsType(x, a.Items) {
				return "Does not match required type " + a.Items
			}
		}
	}
	return ""
}

func fitsType(v any, typ string) bool {
	switch typ {
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "integer":
		switch n := v.(type) {
		case json.Number:
			_, err := n.Int64()
			return err == nil
		case int, int64:
			return true
		case float64:
			return n == float64(int64(n))
		}
		return false
	case "number":
		switch n := v.(type) {
		case json.Number:
			_, err := n.Float64()
			return err == nil
		case int, int64, float64:
			return true
		}
		return false
	case "array":
		_, ok := v.([]any)
		return ok
	}
	return false
}

// attributeTitle makes a display name from an attribute name, as the
// Profile Editor shows them ("primaryPhone" → "Primary phone").
func attributeTitle(name string) string {
	switch name {
	case "login":
		return "Username"
	case "email":
		return "Primary email"
	case "secondEmail":
		return "Secondary email"
	}
	var b strings.Builder
	for i, r := range name {
		switch {
		case i == 0:
			b.WriteRune(unicode.ToUpper(r))
		case unicode.IsUpper(r):
			b.WriteRune(' ')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// selfReadWrite is the permission the default schema gives the user on
// each attribute.
var selfReadWrite = []map[string]string{{"principal": "SELF", "action": "READ_WRITE"}}

// getUserSchema serves RouteGetUserSchema in the shape of Okta's UserSchema:
// the base profile (with the length limits and required attributes the
// emulator enforces on users) and the custom attributes.
func (s *Server) getUserSchema(w http.ResponseWriter, r *http.Request) {
	if id := r.PathValue("schemaId"); id != "default" {
		s.writeAPIError(w, notFound(id, "UserSchema"))
		return
	}
	base := info(r).base
	s.mu.Lock()
	baseProps := map[string]any{}
	for name, lim := range baseAttributes {
		a := map[string]any{"title": attributeTitle(name), "type": "string", "mutability": "READ_WRITE", "scope": "NONE",
			"permissions": selfReadWrite, "master": map[string]string{"type": "PROFILE_MASTER"}}
		if slices.Contains(requiredAttributes, name) {
			a["required"] = true
		}
		if lim[0] > 0 {
			a["minLength"] = lim[0]
		}
		if lim[1] > 0 {
			a["maxLength"] = lim[1]
		}
		if name == "email" || name == "secondEmail" {
			a["format"] = "email"
		}
		baseProps[name] = a
	}
	customProps := map[string]any{}
	for name := range s.profileExt {
		t := s.customType(name)
		a := map[string]any{"title": attributeTitle(name), "type": t.Type, "required": false, "mutability": "READ_WRITE",
			"scope": "NONE", "permissions": selfReadWrite, "master": map[string]string{"type": "PROFILE_MASTER"}}
		if t.Type == "array" {
			a["items"] = map[string]string{"type": t.Items}
		}
		customProps[name] = a
	}
	updated := s.schema.updated
	s.mu.Unlock()
	if updated.IsZero() {
		updated = s.now()
	}
	stamp := updated.UTC().Format("2006-01-02T15:04:05.000Z")
	writeJSON(w, http.StatusOK, map[string]any{
		"id":          base + "/meta/schemas/user/default",
		"$schema":     "http://json-schema.org/draft-04/schema#",
		"name":        "user",
		"title":       "Default Okta user",
		"created":     stamp,
		"lastUpdated": stamp,
		"definitions": map[string]any{
			"base":   map[string]any{"id": "#base", "type": "object", "properties": baseProps, "required": requiredAttributes},
			"custom": map[string]any{"id": "#custom", "type": "object", "properties": customProps, "required": []string{}},
		},
		"type": "object",
		"properties": map[string]any{"profile": map[string]any{"allOf": []map[string]string{
			{"$ref": "#/definitions/base"}, {"$ref": "#/definitions/custom"},
		}}},
		"_links": map[string]any{"self": map[string]string{"href": base + "/api/v1/meta/schemas/user/default"}},
	})
}
