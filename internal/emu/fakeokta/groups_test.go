package fakeokta_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"testing"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/testkit/oktaspec"
)

// TestGroupsMatchOpenAPI validates the Groups API exchanges against Okta's
// published OpenAPI description: create, search by name, get, members,
// assign, unassign, a user's groups, delete, and the errors of a duplicate
// name and a missing group.
func TestGroupsMatchOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	rep := oktaspec.NewReport()
	s := fakeokta.New(fakeokta.Options{})
	hs := httptest.NewServer(spec.Middleware(s, rep))
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: s, url: hs.URL}
	u, err := s.SeedUser(fakeokta.SeedUser{Profile: profile("ada@example.com")})
	if err != nil {
		t.Fatal(err)
	}

	created := e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "Finance", "description": "from Entra"}})
	id, _ := created.obj["id"].(string)
	if created.status != 200 || id == "" || path(created.obj, "profile", "name") != "Finance" || created.obj["type"] != "OKTA_GROUP" {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "finance"}}).wantStatus(t, 400, "E0000001")
	found := e.do("GET", "/api/v1/groups?search="+url.QueryEscape(`profile.name eq "Finance"`), nil)
	if found.status != 200 || len(found.arr) != 1 {
		t.Fatalf("search: %d %s", found.status, found.raw)
	}
	if r := e.do("GET", "/api/v1/groups?q=Fin", nil); len(r.arr) != 1 {
		t.Fatalf("q: %s", r.raw)
	}
	if r := e.do("GET", "/api/v1/groups?q=Sales", nil); r.status != 200 || len(r.arr) != 0 {
		t.Fatalf("q=Sales: %s", r.raw)
	}
	e.do("GET", "/api/v1/groups/"+id, nil).wantStatus(t, 200, "")
	e.do("PUT", "/api/v1/groups/"+id+"/users/"+u.ID, nil).wantStatus(t, 204, "")
	e.do("PUT", "/api/v1/groups/"+id+"/users/"+u.ID, nil).wantStatus(t, 204, "") // idempotent
	if r := e.do("GET", "/api/v1/groups/"+id+"/users", nil); len(r.arr) != 1 {
		t.Fatalf("members: %s", r.raw)
	}
	if r := e.do("GET", "/api/v1/users/"+u.ID+"/groups", nil); len(r.arr) != 1 {
		t.Fatalf("user's groups: %s", r.raw)
	}
	if g := s.Groups(); len(g) != 1 || len(g[0].Members) != 1 || g[0].Members[0] != "ada@example.com" {
		t.Fatalf("Groups() = %+v", g)
	}
	e.do("DELETE", "/api/v1/groups/"+id+"/users/"+u.ID, nil).wantStatus(t, 204, "")
	if r := e.do("GET", "/api/v1/groups/"+id+"/users", nil); len(r.arr) != 0 {
		t.Fatalf("members after unassign: %s", r.raw)
	}
	e.do("PUT", "/api/v1/groups/"+id+"/users/00unobody", nil).wantStatus(t, 404, "E0000007")
	// Deleting a user takes it out of its groups.
	e.do("PUT", "/api/v1/groups/"+id+"/users/"+u.ID, nil).wantStatus(t, 204, "")
	e.do("DELETE", "/api/v1/users/"+u.ID, nil).wantStatus(t, 204, "")
	e.do("DELETE", "/api/v1/users/"+u.ID, nil).wantStatus(t, 204, "")
	if r := e.do("GET", "/api/v1/groups/"+id+"/users", nil); len(r.arr) != 0 || len(s.Groups()[0].Members) != 0 {
		t.Fatalf("members after the user's deletion: %s", r.raw)
	}
	e.do("DELETE", "/api/v1/groups/"+id, nil).wantStatus(t, 204, "")
	e.do("GET", "/api/v1/groups/"+id, nil).wantStatus(t, 404, "E0000007")

	rep.AssertClean(t)
	for _, op := range []string{"addGroup", "listGroups", "getGroup", "listGroupUsers", "assignUserToGroup",
		"unassignUserFromGroup", "listUserGroups", "deleteGroup"} {
		rep.AssertSeen(t, op, 0)
	}
	rep.AssertSeen(t, "getGroup", 404)
}

// TestGroupMembershipBucket: the membership routes count against their own
// bucket with the usual headers and per-token share; when it is spent,
// group creates and reads by id still pass.
func TestGroupMembershipBucket(t *testing.T) {
	c := newClock()
	e := newEnv(t, fakeokta.Options{Now: c.Now, RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketGroupMembers: 6}})
	u, err := e.srv.SeedUser(fakeokta.SeedUser{Profile: profile("ada@example.com")})
	if err != nil {
		t.Fatal(err)
	}
	gid, err := e.srv.AddGroup("Finance")
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 { // the token's half of 6
		r := e.do("PUT", "/api/v1/groups/"+gid+"/users/"+u.ID, nil)
		r.wantStatus(t, http.StatusNoContent, "")
		if r.header.Get("X-Rate-Limit-Limit") != "3" || r.header.Get("X-Rate-Limit-Remaining") != strconv.Itoa(2-i) {
			t.Errorf("headers %v", r.header)
		}
		if r.header.Get("X-Rate-Limit-Reset") != strconv.FormatInt(c.Now().Unix()+60, 10) {
			t.Errorf("reset %s", r.header.Get("X-Rate-Limit-Reset"))
		}
	}
	e.do("DELETE", "/api/v1/groups/"+gid+"/users/"+u.ID, nil).wantStatus(t, http.StatusTooManyRequests, "E0000047")
	e.do("GET", "/api/v1/groups/"+gid, nil).wantStatus(t, http.StatusOK, "")
	e.do("POST", "/api/v1/groups", map[string]any{"profile": map[string]any{"name": "Sales"}}).wantStatus(t, http.StatusOK, "")
	c.Add(61e9)
	e.do("DELETE", "/api/v1/groups/"+gid+"/users/"+u.ID, nil).wantStatus(t, http.StatusNoContent, "")
}
