package oktaclient_test

import (
	"net/http"
	"testing"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
)

// TestGetUserSchema reads the default user schema through okta-sdk-golang's
// schema API against fakeokta, every exchange validated against Okta's
// OpenAPI description: base and custom attributes with their types, and a
// refused token classified like any other call.
func TestGetUserSchema(t *testing.T) {
	o := startOAPIOrg(t, fakeokta.Options{ProfileAttributes: []string{"officeLocation"}})
	if err := o.fake.DefineProfileAttribute(fakeokta.ProfileAttribute{Name: "aliases", Type: "array"}); err != nil {
		t.Fatal(err)
	}
	c := o.adapter(t, fakeokta.DefaultAPIToken)
	s, err := c.GetUserSchema(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Attributes) != 33 {
		t.Errorf("%d attributes, want 31 base + 2 custom: %v", len(s.Attributes), s.Names())
	}
	login := s.Attributes["login"]
	if login.Type != "string" || !login.Required || login.Custom || login.MaxLength != 100 {
		t.Errorf("login %+v", login)
	}
	if a := s.Attributes["costCenter"]; a.Type != "string" || a.Required || a.Custom {
		t.Errorf("costCenter %+v", a)
	}
	if a := s.Attributes["officeLocation"]; a.Type != "string" || !a.Custom || a.Mutability != "READ_WRITE" {
		t.Errorf("officeLocation %+v", a)
	}
	if a := s.Attributes["aliases"]; a.Type != "array" || a.ItemsType != "string" || !a.Custom {
		t.Errorf("aliases %+v", a)
	}

	_, err = o.adapter(t, "not-a-token").GetUserSchema(t.Context())
	if !apierr.Is(err, apierr.Unauthorized) {
		t.Errorf("bad token: %v", err)
	}
	o.rep.AssertClean(t)
	o.rep.AssertSeen(t, "getUserSchema", http.StatusOK)
	o.rep.AssertSeen(t, "getUserSchema", http.StatusUnauthorized)
}
