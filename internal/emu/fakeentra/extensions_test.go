package fakeentra

import "testing"

// TestExtensionAttributes: onPremisesExtensionAttributes and directory
// extensions are served as Graph v1.0 serves them: only on $select; the
// extension attributes as a whole object of 15 members (null when unset),
// on a single user and on lists; a directory extension left out of a user
// without a value.
func TestExtensionAttributes(t *testing.T) {
	e := start(t, Options{})
	const ext = "extension_b7d8e648520f41d3b9c0fdeb91768a0a_jobGroup"
	e.addUser(t, User{UserPrincipalName: "ann@contoso.com", Attributes: map[string]any{
		"onPremisesExtensionAttributes": map[string]any{"extensionAttribute1": "Contractor"}, ext: "E4"}})
	e.addUser(t, User{UserPrincipalName: "bob@contoso.com"})
	if err := e.SetExtensionAttribute("ann@contoso.com", 3, "CC-42"); err != nil {
		t.Fatal(err)
	}
	if err := e.SetExtensionAttribute("ann@contoso.com", 16, "x"); err == nil {
		t.Error("extensionAttribute16 accepted")
	}
	tok := e.graphToken(t)

	r := e.get(t, "/v1.0/users/ann@contoso.com", tok)
	if _, ok := r.body["onPremisesExtensionAttributes"]; ok {
		t.Errorf("returned without $select: %s", r.raw)
	}
	if _, ok := r.body[ext]; ok {
		t.Errorf("directory extension returned without $select: %s", r.raw)
	}

	r = e.get(t, "/v1.0/users/ann@contoso.com?$select=id,onPremisesExtensionAttributes,"+ext, tok)
	attrs, ok := r.body["onPremisesExtensionAttributes"].(map[string]any)
	if r.status != 200 || !ok || len(attrs) != 15 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if attrs["extensionAttribute1"] != "Contractor" || attrs["extensionAttribute3"] != "CC-42" {
		t.Errorf("members %v", attrs)
	}
	if v, present := attrs["extensionAttribute15"]; !present || v != nil {
		t.Errorf("an unset member must be null: %v", attrs)
	}
	if r.body[ext] != "E4" {
		t.Errorf("directory extension %v", r.body[ext])
	}

	// On a list: bob has no extension value, so the extension is absent
	// from bob, while his extension attributes are all null.
	r = e.get(t, "/v1.0/users?$select=userPrincipalName,onPremisesExtensionAttributes,"+ext, tok)
	users, _ := r.body["value"].([]any)
	if r.status != 200 || len(users) != 2 {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	for _, u := range users {
		u := u.(map[string]any)
		attrs := u["onPremisesExtensionAttributes"].(map[string]any)
		_, hasExt := u[ext]
		switch u["userPrincipalName"] {
		case "ann@contoso.com":
			if !hasExt || attrs["extensionAttribute3"] != "CC-42" {
				t.Errorf("ann in the list: %v", u)
			}
		case "bob@contoso.com":
			if hasExt || len(attrs) != 15 || attrs["extensionAttribute3"] != nil {
				t.Errorf("bob in the list: %v", u)
			}
		}
	}

	// SetExtensionAttribute merges: nil clears one member, the others stay.
	if err := e.SetExtensionAttribute("ann@contoso.com", 1, nil); err != nil {
		t.Fatal(err)
	}
	r = e.get(t, "/v1.0/users/ann@contoso.com?$select=onPremisesExtensionAttributes", tok)
	attrs = r.body["onPremisesExtensionAttributes"].(map[string]any)
	if attrs["extensionAttribute1"] != nil || attrs["extensionAttribute3"] != "CC-42" {
		t.Errorf("after clearing extensionAttribute1: %v", attrs)
	}
	if r := e.get(t, "/v1.0/users/ann@contoso.com?$select=onPremisesExtensionAttributes/extensionAttribute1", tok); r.status != 400 {
		t.Errorf("a member in $select: %d %s", r.status, r.raw)
	}
}
