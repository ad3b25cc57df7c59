package graph

import (
	"slices"
	"testing"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/entra"
)

// TestUserGroups: a user's transitive groups through the real SDK: nested
// groups flattened (u5 is in inner and mid directly and in outer through
// mid), each kind told apart, a user in no group gets none, an unknown
// user is NotFound; the request is the documented cast with $select.
func TestUserGroups(t *testing.T) {
	f := newFixture(t)
	m365, err := f.fe.AddGroup(tenantID, fakeentra.Group{DisplayName: "Team Site", Kind: fakeentra.GroupM365, Members: []string{"u5@contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.fe.AddGroup(tenantID, fakeentra.Group{DisplayName: "All Sales", MembershipRule: `user.department -eq "Sales"`,
		Members: []string{"u5@contoso.com"}}); err != nil {
		t.Fatal(err)
	}
	gs, err := f.c.UserGroups(f.ctx, "u5@contoso.com")
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]entra.Group{}
	for _, g := range gs {
		names[g.DisplayName] = g
	}
	var got []string
	for n := range names {
		got = append(got, n)
	}
	slices.Sort(got)
	if want := []string{"All Sales", "Team Site", "inner", "mid", "outer"}; !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	if g := names["Team Site"]; g.ID != m365 || !g.Unified() || g.Security() || !g.MailEnabled {
		t.Errorf("M365 group %+v", g)
	}
	if g := names["All Sales"]; !g.Dynamic() || !g.Security() {
		t.Errorf("dynamic group %+v", g)
	}
	if g := names["outer"]; g.ID != f.outer || !g.Security() || g.Dynamic() {
		t.Errorf("outer %+v", g)
	}
	req := f.lastGraph(t)
	if req.Route != fakeentra.RouteGraphTransitiveMemberOf || req.Query.Get("$select") == "" {
		t.Errorf("request %+v", req)
	}
	if gs, err := f.c.UserGroups(f.ctx, "u0@contoso.com"); err != nil || len(gs) != 0 {
		t.Errorf("u0: %+v %v", gs, err)
	}
	if _, err := f.c.UserGroups(f.ctx, "nobody@contoso.com"); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("unknown user: %v", err)
	}
}
