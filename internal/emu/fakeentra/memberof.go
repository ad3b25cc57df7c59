package fakeentra

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// A user's group memberships: GET /users/{id}/memberOf (direct) and
// /users/{id}/transitiveMemberOf (direct and through nested groups), with
// the optional cast to groups in both spellings (microsoft.graph.group as
// documented, graph.group as msgraph-sdk-go sends)
// (https://learn.microsoft.com/en-us/graph/api/user-list-memberof,
// https://learn.microsoft.com/en-us/graph/api/user-list-transitivememberof).
// The tenant has groups only, so the cast changes nothing but the context
// URL; $top and $skiptoken page, $select is accepted and the group
// properties below are always returned.

// The routes of a user's memberships.
const (
	RouteGraphMemberOf           Route = "graph-memberof"            // GET /v1.0/users/{id}/memberOf[/cast]
	RouteGraphTransitiveMemberOf Route = "graph-transitive-memberof" // GET /v1.0/users/{id}/transitiveMemberOf[/cast]
)

// The kinds of group a seeded Group can be (Group.Kind), with the
// properties Graph shows for each
// (https://learn.microsoft.com/en-us/graph/api/resources/groups-overview#group-types-in-microsoft-entra-id-and-microsoft-graph).
const (
	// GroupSecurity: securityEnabled, not mailEnabled, no groupTypes (the
	// default).
	GroupSecurity = ""
	// GroupMailSecurity: a mail-enabled security group.
	GroupMailSecurity = "mail-security"
	// GroupDistribution: mailEnabled, not securityEnabled.
	GroupDistribution = "distribution"
	// GroupM365: a Microsoft 365 group, groupTypes ["Unified"], mailEnabled.
	GroupM365 = "m365"
)

// groupJSON renders a group as a directoryObject of type group.
func groupJSON(g *group) map[string]any {
	types := []string{}
	security, mail := true, false
	switch g.Kind {
	case GroupMailSecurity:
		mail = true
	case GroupDistribution:
		security, mail = false, true
	case GroupM365:
		security, mail = false, true
		types = append(types, "Unified")
	}
	out := map[string]any{"@odata.type": "#microsoft.graph.group", "id": g.ID, "displayName": g.DisplayName,
		"securityEnabled": security, "mailEnabled": mail}
	if g.MembershipRule != "" {
		types = append(types, "DynamicMembership")
		out["membershipRule"] = g.MembershipRule
		out["membershipRuleProcessingState"] = "On"
	}
	out["groupTypes"] = types
	return out
}

// handleMemberOf serves a user's memberOf or transitiveMemberOf, with or
// without a cast.
func (s *Server) handleMemberOf(transitive bool) graphHandler {
	return func(w http.ResponseWriter, r *http.Request, t *tenant) {
		s.memberOf(w, r, t, r.PathValue("id"), transitive, r.PathValue("cast"))
	}
}

func (s *Server) memberOf(w http.ResponseWriter, r *http.Request, t *tenant, key string, transitive bool, cast string) {
	switch cast {
	case "", "microsoft.graph.group", "graph.group":
	default:
		badRequest(w, r, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", cast))
		return
	}
	v := r.URL.Query()
	q := query{top: 100, rawSelect: v.Get("$select")}
	if tp := v.Get("$top"); tp != "" {
		n, err := strconv.Atoi(tp)
		if err != nil || n < 1 || n > 999 {
			badRequest(w, r, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", tp))
			return
		}
		q.top = n
	}
	if tok := v.Get("$skiptoken"); tok != "" {
		off, ok := s.decodeSkipToken(tok, q)
		if !ok {
			badRequest(w, r, "Request_BadRequest", "Invalid $skiptoken.")
			return
		}
		q.offset = off
	}
	s.mu.Lock()
	u := t.lookup(key)
	if u == nil {
		s.mu.Unlock()
		notFound(w, r, key)
		return
	}
	// Direct parents of each object, in a stable order (group IDs sorted).
	ids := make([]string, 0, len(t.groups))
	for id := range t.groups {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	parents := func(member string) []string {
		var out []string
		for _, id := range ids {
			if slices.Contains(t.groups[id].members, member) {
				out = append(out, id)
			}
		}
		return out
	}
	var found []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(member string) {
		for _, p := range parents(member) {
			if seen[p] {
				continue
			}
			seen[p] = true
			found = append(found, p)
			if transitive {
				walk(p)
			}
		}
	}
	walk(u.ID)
	items := []map[string]any{}
	for _, id := range found {
		items = append(items, groupJSON(t.groups[id]))
	}
	s.mu.Unlock()
	entity := "directoryObjects"
	if cast != "" {
		entity = "groups"
	}
	s.page(w, r, q, contextURL(r, entity, nil, false), items)
}

// RemoveGroupMember removes a user (ID or UPN) or a group (ID) from a
// group's direct members.
func (s *Server) RemoveGroupMember(tenantID, groupID, member string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tenants[strings.ToLower(tenantID)]
	if t == nil || t.groups[groupID] == nil {
		return fmt.Errorf("%w: group %s", ErrNotFound, groupID)
	}
	g := t.groups[groupID]
	id := member
	if u := t.lookup(member); u != nil {
		id = u.ID
	}
	i := slices.Index(g.members, id)
	if i < 0 {
		return fmt.Errorf("%w: member %s", ErrNotFound, member)
	}
	g.members = slices.Delete(g.members, i, i+1)

	return nil
}
