package fakeokta

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Groups: the Groups API's OKTA_GROUP groups and their memberships
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/):
// create, list (q= prefix of the name, search= and filter= expressions),
// get and delete a group; list, assign and unassign its members; and a
// user's groups (GET /api/v1/users/{id}/groups). Okta keeps OKTA_GROUP names
// unique in an org: a second create with the same name answers 400
// E0000001 "An object with this field already exists in the current
// organization". There are no APP_GROUP or BUILT_IN groups, group rules or
// owners.

// The Groups API routes.
const (
	RouteCreateGroup     Route = "POST /api/v1/groups"
	RouteListGroups      Route = "GET /api/v1/groups"
	RouteGetGroup        Route = "GET /api/v1/groups/{groupId}"
	RouteDeleteGroup     Route = "DELETE /api/v1/groups/{groupId}"
	RouteListGroupUsers  Route = "GET /api/v1/groups/{groupId}/users"
	RouteAssignGroupUser Route = "PUT /api/v1/groups/{groupId}/users/{userId}"
	RouteRemoveGroupUser Route = "DELETE /api/v1/groups/{groupId}/users/{userId}"
	RouteListUserGroups  Route = "GET /api/v1/users/{id}/groups"
)

// The group rate-limit buckets. Okta's management rate limits list "Create
// or list groups: /api/v1/groups except /api/v1/groups/{id}" (500 a minute
// for Workforce Identity) and "Get, update, or delete a group by ID:
// /api/v1/groups/{id} only" (1,000)
// (https://developer.okta.com/docs/reference/rl-global-mgmt/). The emulator
// counts the membership routes (/api/v1/groups/{id}/users...) in a bucket
// of their own with the first quota, so that a test can exhaust one
// without the other, and a user's groups (/api/v1/users/{id}/groups) in
// BucketOther, "most other API actions".
const (
	// BucketGroups: POST and GET /api/v1/groups. Default 500/min.
	BucketGroups Bucket = "groups"
	// BucketGroupByID: GET and DELETE /api/v1/groups/{groupId}. Default 1000/min.
	BucketGroupByID Bucket = "group-by-id"
	// BucketGroupMembers: GET /api/v1/groups/{groupId}/users, PUT and
	// DELETE /api/v1/groups/{groupId}/users/{userId}. Default 500/min.
	BucketGroupMembers Bucket = "group-members"
)

// groupState is the emulator's groups (Server.groups), guarded by Server.mu.
type groupState struct {
	groups map[string]*group // by id
}

type group struct {
	id, name, description string
	created, lastUpdated  time.Time
	lastMembership        time.Time
	members               []string // user ids, in the order added
}

func (s *Server) addGroupRoutes() {
	s.handle(RouteCreateGroup, s.createGroup)
	s.handle(RouteListGroups, s.listGroups)
	s.handle(RouteGetGroup, onObject(s, s.groupByPath, s.getGroup))
	s.handle(RouteDeleteGroup, onObject(s, s.groupByPath, s.deleteGroup))
	s.handle(RouteListGroupUsers, onObject(s, s.groupByPath, s.listGroupUsers))
	s.handle(RouteAssignGroupUser, onObject(s, s.groupByPath, s.assignGroupUser))
	s.handle(RouteRemoveGroupUser, onObject(s, s.groupByPath, s.removeGroupUser))
	s.handle(RouteListUserGroups, s.onUser(s.listUserGroups))
}

func (s *Server) groupByPath(r *http.Request) (*group, *apiError) {
	id := r.PathValue("groupId")
	if g := s.groups.groups[id]; g != nil {
		return g, nil
	}
	return nil, notFound(id, "UserGroup")
}

// groupByNameLocked returns the group with this name (case-insensitive, as
// Okta compares group names), or nil. The caller holds s.mu.
func (s *Server) groupByNameLocked(name string) *group {
	for _, g := range s.groups.groups {
		if strings.EqualFold(g.name, name) {
			return g
		}
	}
	return nil
}

type groupOut struct {
	ID                    string            `json:"id"`
	Created               string            `json:"created"`
	LastUpdated           string            `json:"lastUpdated"`
	LastMembershipUpdated string            `json:"lastMembershipUpdated"`
	ObjectClass           []string          `json:"objectClass"`
	Type                  string            `json:"type"`
	Profile               map[string]string `json:"profile"`
	Links                 map[string]any    `json:"_links"`
}

func (g *group) render(base string) groupOut {
	self := base + "/api/v1/groups/" + g.id
	return groupOut{ID: g.id, Created: fmtTime(g.created), LastUpdated: fmtTime(g.lastUpdated),
		LastMembershipUpdated: fmtTime(g.lastMembership), ObjectClass: []string{"okta:user_group"}, Type: "OKTA_GROUP",
		Profile: map[string]string{"name": g.name, "description": g.description},
		Links: map[string]any{
			"logo": []map[string]string{
				{"name": "medium", "href": base + "/assets/img/logos/groups/okta-medium.png", "type": "image/png"},
				{"name": "large", "href": base + "/assets/img/logos/groups/okta-large.png", "type": "image/png"}},
			"users": map[string]string{"href": self + "/users"},
			"apps":  map[string]string{"href": self + "/apps"},
		}}
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Profile struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"profile"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, malformed())
		return
	}
	name := strings.TrimSpace(in.Profile.Name)
	if name == "" {
		s.fail(w, validationFailed("name", "name: The field cannot be left blank"))
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groupByNameLocked(name) != nil {
		s.fail(w, validationFailed("name", "name: An object with this field already exists in the current organization"))
		return
	}
	if s.groups.groups == nil {
		s.groups.groups = map[string]*group{}
	}
	g := &group{id: oktaID("00g"), name: name, description: in.Profile.Description, created: now, lastUpdated: now, lastMembership: now}
	s.groups.groups[g.id] = g
	writeJSON(w, http.StatusOK, g.render(info(r).base))
}

// groupAttr returns a group attribute for search and filter expressions.
func (g *group) attr(name string) ([]string, bool) {
	switch name {
	case "id":
		return []string{g.id}, true
	case "type":
		return []string{"OKTA_GROUP"}, true
	case "created":
		return []string{fmtTime(g.created)}, true
	case "lastUpdated":
		return []string{fmtTime(g.lastUpdated)}, true
	case "lastMembershipUpdated":
		return []string{fmtTime(g.lastMembership)}, true
	case "profile.name":
		return []string{g.name}, true
	case "profile.description":
		if g.description == "" {
			return nil, false
		}
		return []string{g.description}, true
	}
	return nil, false
}

// groupFilterAttr lists what the filter parameter accepts: id, type,
// lastUpdated and lastMembershipUpdated.
func groupFilterAttr(attr, op string) bool {
	switch attr {
	case "id", "type":
		return op == "eq"
	case "lastUpdated", "lastMembershipUpdated":
		return op == "eq" || op == "gt" || op == "ge" || op == "lt" || op == "le"
	}
	return false
}

// groupSearchAttr lists what the search parameter accepts: sw, eq and co,
// co only on profile.name and profile.description.
func groupSearchAttr(attr, op string) bool {
	switch op {
	case "eq", "sw":
		return true
	case "co":
		return attr == "profile.name" || attr == "profile.description"
	case "gt", "ge", "lt", "le":
		return attr == "created" || attr == "lastUpdated" || attr == "lastMembershipUpdated"
	}
	return false
}

func (s *Server) listGroups(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, ok := s.pageLimit(w, q, 10000)
	if !ok {
		return
	}
	var match []func(*group) bool
	for _, p := range []struct {
		param string
		allow func(attr, op string) bool
	}{{"filter", groupFilterAttr}, {"search", groupSearchAttr}} {
		if f := q.Get(p.param); f != "" {
			e, err := parseExpr(f, p.allow)
			if err != nil {
				s.fail(w, invalidSearch())
				return
			}
			match = append(match, func(g *group) bool { return e.eval(g.attr) })
		}
	}
	if qq := strings.ToLower(q.Get("q")); qq != "" {
		match = append(match, func(g *group) bool { return strings.HasPrefix(strings.ToLower(g.name), qq) })
	}
	after := q.Get("after")
	s.mu.Lock()
	var ids []string
	for id := range s.groups.groups {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	base := info(r).base
	page := []groupOut{}
	more := false
	for _, id := range ids {
		g := s.groups.groups[id]
		if !slices.ContainsFunc(match, func(m func(*group) bool) bool { return !m(g) }) {
			if len(page) == limit {
				more = true
				break
			}
			page = append(page, g.render(base))
		}
	}
	s.mu.Unlock()
	writeLinks(w, r, "/api/v1/groups", q, more, func() string { return page[len(page)-1].ID }, limit)
	writeJSON(w, http.StatusOK, page)
}

// pageLimit reads the limit parameter (default def, at most def).
func (s *Server) pageLimit(w http.ResponseWriter, q url.Values, def int) (int, bool) {
	v := q.Get("limit")
	if v == "" {
		return def, true
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		s.fail(w, validationFailed("limit", "limit: must be a positive integer"))
		return 0, false
	}
	return min(n, def), true
}

// writeLinks writes the Link headers of a page: self, and next (after the
// last item) when there is more.
func writeLinks(w http.ResponseWriter, r *http.Request, path string, q url.Values, more bool, last func() string, limit int) {
	base := info(r).base
	w.Header().Add("Link", "<"+base+r.URL.RequestURI()+`>; rel="self"`)
	if more {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", last())
		next.Set("limit", strconv.Itoa(limit))
		w.Header().Add("Link", "<"+base+path+"?"+next.Encode()+`>; rel="next"`)
	}
}

func (s *Server) getGroup(w http.ResponseWriter, r *http.Request, g *group, _ time.Time) error {
	writeJSON(w, http.StatusOK, g.render(info(r).base))
	return nil
}

func (s *Server) deleteGroup(w http.ResponseWriter, r *http.Request, g *group, _ time.Time) error {
	delete(s.groups.groups, g.id)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listGroupUsers(w http.ResponseWriter, r *http.Request, g *group, now time.Time) error {
	q := r.URL.Query()
	limit, ok := s.pageLimit(w, q, 1000)
	if !ok {
		return nil
	}
	after := q.Get("after")
	base := info(r).base
	page := []userOut{}
	more := false
	started := after == ""
	for _, id := range g.members {
		if !started {
			started = id == after
			continue
		}
		u := s.users[id]
		if u == nil {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		u.settle(now)
		page = append(page, u.render(base, false))
	}
	writeLinks(w, r, "/api/v1/groups/"+g.id+"/users", q, more, func() string { return page[len(page)-1].ID }, limit)
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) assignGroupUser(w http.ResponseWriter, r *http.Request, g *group, now time.Time) error {
	u := s.findUser(r.PathValue("userId"))
	if u == nil {
		return notFound(r.PathValue("userId"), "User")
	}
	if !slices.Contains(g.members, u.id) {
		g.members = append(g.members, u.id)
		g.lastMembership = now
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) removeGroupUser(w http.ResponseWriter, r *http.Request, g *group, now time.Time) error {
	u := s.findUser(r.PathValue("userId"))
	if u == nil {
		return notFound(r.PathValue("userId"), "User")
	}
	if i := slices.Index(g.members, u.id); i >= 0 {
		g.members = slices.Delete(g.members, i, i+1)
		g.lastMembership = now
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listUserGroups(w http.ResponseWriter, r *http.Request, u *user, _ time.Time) error {
	base := info(r).base
	var ids []string
	for id, g := range s.groups.groups {
		if slices.Contains(g.members, u.id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	page := []groupOut{}
	for _, id := range ids {
		page = append(page, s.groups.groups[id].render(base))
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// dropMembershipsLocked takes a deleted user out of every group, as Okta
// does when it deletes a user. The caller holds s.mu.
func (s *Server) dropMembershipsLocked(userID string, now time.Time) {
	for _, g := range s.groups.groups {
		if i := slices.Index(g.members, userID); i >= 0 {
			g.members = slices.Delete(g.members, i, i+1)
			g.lastMembership = now
		}
	}
}

// Group is a group as a test sees it.
type Group struct {
	ID, Name string
	// Members are the logins of its members, in the order added.
	Members []string
}

// Groups returns every group, by name.
func (s *Server) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Group
	for _, g := range s.groups.groups {
		gg := Group{ID: g.id, Name: g.name}
		for _, id := range g.members {
			if u := s.users[id]; u != nil {
				gg.Members = append(gg.Members, u.login())
			}
		}
		out = append(out, gg)
	}
	slices.SortFunc(out, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// AddGroup adds an OKTA_GROUP with this name, as an administrator would,
// and returns its id.
func (s *Server) AddGroup(name string) (string, error) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groupByNameLocked(name) != nil {
		return "", validationFailed("name", "name: An object with this field already exists in the current organization")
	}
	if s.groups.groups == nil {
		s.groups.groups = map[string]*group{}
	}
	g := &group{id: oktaID("00g"), name: name, created: now, lastUpdated: now, lastMembership: now}
	s.groups.groups[g.id] = g
	return g.id, nil
}

// AddGroupMember adds the user with this login (or id) to a group, as an
// administrator would.
func (s *Server) AddGroupMember(groupID, login string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.groups.groups[groupID]
	if g == nil {
		return notFound(groupID, "UserGroup")
	}
	u := s.findUser(login)
	if u == nil {
		return notFound(login, "User")
	}
	if !slices.Contains(g.members, u.id) {
		g.members = append(g.members, u.id)
	}
	return nil
}
