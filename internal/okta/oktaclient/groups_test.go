package oktaclient_test

import (
	"sync"
	"testing"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
	"entra2okta/internal/okta/oktaclient"
)

// TestEnsureGroupConcurrent: twenty callers ensuring the same name through
// the real SDK create one group; the others find it or lose the create race
// (E0000001) and read it back; exactly one reports Created.
func TestEnsureGroupConcurrent(t *testing.T) {
	fk, _ := startFake(t)
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0)})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	results := make([]okta.EnsureGroupResult, 20)
	errs := make([]error, 20)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = c.EnsureGroup(t.Context(), "Finance", "from Entra")
		}()
	}
	wg.Wait()
	created := 0
	for i, r := range results {
		if errs[i] != nil {
			t.Fatalf("caller %d: %v", i, errs[i])
		}
		if r.Group.ID == "" || r.Group.ID != results[0].Group.ID || r.Group.Name != "Finance" || r.Group.Type != okta.GroupTypeOkta {
			t.Fatalf("caller %d got %+v, caller 0 %+v", i, r.Group, results[0].Group)
		}
		if r.Created {
			created++
		}
	}
	if created != 1 || len(fk.Groups()) != 1 {
		t.Fatalf("created %d times, %d groups", created, len(fk.Groups()))
	}
}

// TestGroupMembership: add (twice), list a user's groups, count, remove
// (twice), find by name, delete, through the real SDK.
func TestGroupMembership(t *testing.T) {
	fk, _ := startFake(t)
	c, err := oktaclient.New(t.Context(), oktaclient.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient(0)})
	if err != nil {
		t.Fatal(err)
	}
	u, err := c.CreateUser(t.Context(), okta.NewUser{Profile: okta.Profile{"login": "ada@example.com", "email": "ada@example.com",
		"firstName": "Ada", "lastName": "L"}})
	if err != nil {
		t.Fatal(err)
	}
	g, err := c.EnsureGroup(t.Context(), "Sales EMEA", "")
	if err != nil || !g.Created {
		t.Fatalf("ensure: %+v %v", g, err)
	}
	for range 2 {
		if err := c.AddGroupMember(t.Context(), g.Group.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	gs, err := c.UserGroups(t.Context(), u.ID)
	if err != nil || len(gs) != 1 || gs[0].ID != g.Group.ID {
		t.Fatalf("user groups %+v %v", gs, err)
	}
	if n, err := c.GroupMemberCount(t.Context(), g.Group.ID); err != nil || n != 1 {
		t.Fatalf("count %d %v", n, err)
	}
	for range 2 {
		if err := c.RemoveGroupMember(t.Context(), g.Group.ID, u.ID); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := c.GroupMemberCount(t.Context(), g.Group.ID); n != 0 {
		t.Fatalf("count after remove %d", n)
	}
	if f, err := c.FindGroupByName(t.Context(), "sales emea"); err != nil || f.ID != g.Group.ID {
		t.Fatalf("find %+v %v", f, err)
	}
	if _, err := c.FindGroupByName(t.Context(), "Sales"); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("find a prefix: %v", err)
	}
	if err := c.DeleteGroup(t.Context(), g.Group.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetGroup(t.Context(), g.Group.ID); !apierr.Is(err, apierr.NotFound) {
		t.Fatalf("get deleted: %v", err)
	}
	if err := c.DeleteGroup(t.Context(), g.Group.ID); err != nil {
		t.Fatalf("delete again: %v", err)
	}
}
