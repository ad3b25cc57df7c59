package graph

import (
	"testing"

	"entra2okta/internal/entra"
)

// TestExtensionAttributesThroughTheSDK: onPremisesExtensionAttributes
// selected through msgraph-sdk-go comes back as an object of its set members
// (the SDK's model drops the nulls), and a directory extension, which the
// SDK's user model does not know, is kept; both on a single read and on a
// list.
func TestExtensionAttributesThroughTheSDK(t *testing.T) {
	f := newFixture(t)
	const ext = "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup"
	if err := f.fe.SetExtensionAttribute("u3@contoso.com", 3, "CC-42"); err != nil {
		t.Fatal(err)
	}
	if err := f.fe.SetAttribute("u3@contoso.com", ext, "E4"); err != nil {
		t.Fatal(err)
	}
	attrs := []string{"onPremisesExtensionAttributes", ext}
	check := func(what string, u entra.User) {
		t.Helper()
		obj, ok := u.Attributes["onPremisesExtensionAttributes"].(map[string]any)
		if !ok || obj["extensionAttribute3"] != "CC-42" || obj["extensionAttribute1"] != nil {
			t.Errorf("%s: onPremisesExtensionAttributes = %#v", what, u.Attributes["onPremisesExtensionAttributes"])
		}
		if u.Attributes[ext] != "E4" {
			t.Errorf("%s: %s = %#v", what, ext, u.Attributes[ext])
		}
	}
	u, err := f.c.User(f.ctx, "u3@contoso.com", attrs)
	if err != nil {
		t.Fatal(err)
	}
	check("user", u)
	page, err := f.c.ListUsers(f.ctx, entra.Source{Filter: "department eq 'Eng'"}, attrs, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, u := range page.Users {
		if u.UserPrincipalName == "u3@contoso.com" {
			found = true
			check("listed user", u)
		} else if u.Attributes[ext] != nil {
			t.Errorf("%s has %s = %v", u.UserPrincipalName, ext, u.Attributes[ext])
		}
	}
	if !found {
		t.Errorf("u3 not listed: %v", upns(page.Users))
	}
}
