package fakeokta_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/testkit/oktaspec"
)

// TestUserSchemaMatchesOpenAPI validates the user schema endpoint's answers
// (the default schema, an unknown schema) against Okta's published OpenAPI
// description, and checks what they hold: the base profile with its required
// attributes and limits, and the custom attributes with their types.
func TestUserSchemaMatchesOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	rep := oktaspec.NewReport()
	s := fakeokta.New(fakeokta.Options{ProfileAttributes: []string{"officeLocation"}})
	if err := s.DefineProfileAttribute(fakeokta.ProfileAttribute{Name: "aliases", Type: "array"}); err != nil {
		t.Fatal(err)
	}
	if err := s.DefineProfileAttribute(fakeokta.ProfileAttribute{Name: "isContractor", Type: "boolean"}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(spec.Middleware(s, rep))
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: s, url: hs.URL}

	r := e.do("GET", "/api/v1/meta/schemas/user/default", nil)
	r.wantStatus(t, 200, "")
	base, _ := path(r.obj, "definitions", "base", "properties").(map[string]any)
	if len(base) != 31 {
		t.Errorf("base has %d properties, want Okta's 31: %v", len(base), base)
	}
	if path(r.obj, "definitions", "base", "properties", "login", "required") != true ||
		path(r.obj, "definitions", "base", "properties", "firstName", "maxLength") != float64(50) ||
		path(r.obj, "definitions", "base", "properties", "costCenter", "type") != "string" {
		t.Errorf("base attributes: %s", r.raw)
	}
	req, _ := path(r.obj, "definitions", "base", "required").([]any)
	if !slices.Equal(req, []any{"login", "email", "firstName", "lastName"}) {
		t.Errorf("required %v", req)
	}
	custom, _ := path(r.obj, "definitions", "custom", "properties").(map[string]any)
	if len(custom) != 3 || path(custom, "officeLocation", "type") != "string" || path(custom, "isContractor", "type") != "boolean" ||
		path(custom, "aliases", "type") != "array" || path(custom, "aliases", "items", "type") != "string" {
		t.Errorf("custom attributes: %v", custom)
	}
	e.do("GET", "/api/v1/meta/schemas/user/oscNotThere", nil).wantStatus(t, 404, "E0000007")

	rep.AssertClean(t)
	rep.AssertSeen(t, "getUserSchema", 200)
	rep.AssertSeen(t, "getUserSchema", 404)
}

// TestCustomAttributeTypes: a custom attribute's value must be of its
// type, as Okta validates profiles against the schema; a name that differs
// only by case from an existing attribute is refused.
func TestCustomAttributeTypes(t *testing.T) {
	e := newEnv(t, fakeokta.Options{ProfileAttributes: []string{"officeLocation"}})
	for _, a := range []fakeokta.ProfileAttribute{{Name: "aliases", Type: "array"}, {Name: "badge", Type: "integer"}, {Name: "isContractor", Type: "boolean"}} {
		if err := e.srv.DefineProfileAttribute(a); err != nil {
			t.Fatal(err)
		}
	}
	for _, bad := range []fakeokta.ProfileAttribute{{Name: "CostCenter"}, {Name: "OfficeLocation"}, {Name: "x", Type: "date"}, {Name: "y", Type: "array", Items: "boolean"}} {
		if err := e.srv.DefineProfileAttribute(bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	ok := profile("typed@example.com")
	ok["officeLocation"], ok["aliases"], ok["badge"], ok["isContractor"] = "Dublin", []any{"a", "b"}, 7, false
	e.do("POST", "/api/v1/users?activate=false", map[string]any{"profile": ok}).wantStatus(t, 200, "")
	for _, tc := range []struct {
		attr  string
		value any
		cause string
	}{
		{"officeLocation", true, "officeLocation: Does not match required type string"},
		{"aliases", "a", "aliases: Does not match required type array"},
		{"aliases", []any{"a", 1}, "aliases: Does not match required type string"},
		{"badge", 7.5, "badge: Does not match required type integer"},
		{"isContractor", "no", "isContractor: Does not match required type boolean"},
	} {
		p := profile("wrong@example.com")
		p[tc.attr] = tc.value
		r := e.do("POST", "/api/v1/users?activate=false", map[string]any{"profile": p})
		r.wantStatus(t, 400, "E0000001")
		if !slices.Contains(r.causes(), tc.cause) {
			t.Errorf("%s=%v: causes %q, want %q", tc.attr, tc.value, r.causes(), tc.cause)
		}
	}
}

// TestUserSchemaScope: a service app's access token reads the schema only
// with okta.schemas.read (or okta.schemas.manage).
func TestUserSchemaScope(t *testing.T) {
	o := newOAuthEnv(t, func(c *fakeokta.OAuthClient) { c.Scopes = []string{"okta.users.read", "okta.schemas.read"} })
	for scope, want := range map[string]int{"okta.users.read": http.StatusForbidden, "okta.schemas.read": http.StatusOK} {
		r := o.token(sign(t, rsaKey, "k1", o.goodClaims()), scope, false)
		if r.status != http.StatusOK {
			t.Fatalf("token for %s: %d %s", scope, r.status, r.raw)
		}
		g := o.do(http.MethodGet, "/api/v1/meta/schemas/user/default", nil, "Authorization", "Bearer "+r.obj["access_token"].(string))
		if g.status != want {
			t.Errorf("schema with %s: %d, want %d %s", scope, g.status, want, g.raw)
		}
		if want == http.StatusForbidden && !strings.Contains(g.header.Get("WWW-Authenticate"), `scope="okta.schemas.read"`) {
			t.Errorf("WWW-Authenticate %q", g.header.Get("WWW-Authenticate"))
		}
	}
}
