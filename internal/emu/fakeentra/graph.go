package fakeentra

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/emu/emukit"
	"entra2okta/internal/graphprops"
)

// userProps is the catalogue of Graph user properties the emulator knows:
// internal/graphprops, which the starter's mapping check reads too. Arrays
// are answered as [] when unset, complex properties as an object of null
// members, everything else as null.
var userProps = graphprops.Names()

// singleOnlyProps can be read on a single user only: $select of them on a
// collection gets 501 NotImplemented
// (https://learn.microsoft.com/en-us/graph/api/user-list).
var singleOnlyProps = propSet(func(p graphprops.Property) bool { return p.SingleOnly })

var arrayProps = propSet(func(p graphprops.Property) bool { return p.Type == graphprops.StringCollection })

// complexProps are the properties whose value is an object of String
// members (onPremisesExtensionAttributes).
var complexProps = propSet(func(p graphprops.Property) bool { return p.Type == graphprops.Complex })

// defaultUserProps are returned without $select
// (https://learn.microsoft.com/en-us/graph/api/user-get).
var defaultUserProps = func() []string {
	var out []string
	for _, p := range graphprops.All() {
		if p.Default {
			out = append(out, p.Name)
		}
	}
	return out
}()

func propSet(keep func(graphprops.Property) bool) map[string]bool {
	m := map[string]bool{}
	for _, p := range graphprops.All() {
		if keep(p) {
			m[p.Name] = true
		}
	}
	return m
}

var userPropByLower = func() map[string]string {
	m := map[string]string{}
	for _, p := range userProps {
		m[strings.ToLower(p)] = p
	}
	return m
}()

// filterableProps may appear in $filter.
var filterableProps = map[string]bool{
	"id": true, "userPrincipalName": true, "mail": true, "accountEnabled": true, "userType": true,
	"department": true, "displayName": true, "givenName": true, "surname": true, "jobTitle": true,
	"employeeId": true, "companyName": true, "city": true, "country": true, "usageLocation": true,
	"onPremisesSyncEnabled": true, "mailNickname": true, "employeeType": true, "state": true, "officeLocation": true,
}

// value returns a user's property (nil when unset; [] for unset arrays).
// Callers hold s.mu.
func (u *user) value(prop string) any {
	switch prop {
	case "id":
		return u.ID
	case "userPrincipalName":
		return u.UserPrincipalName
	case "accountEnabled":
		return !u.Disabled
	case "userType":
		return u.UserType
	}
	if complexProps[prop] {
		return u.complexValue(prop)
	}
	if v, ok := u.Attributes[prop]; ok && v != nil {
		return v
	}
	if arrayProps[prop] {
		return []any{}
	}
	return nil
}

// graphError is Graph's error JSON (https://learn.microsoft.com/en-us/graph/errors).
func writeGraphError(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	rid := newID()
	crid := r.Header.Get("client-request-id")
	if crid == "" {
		crid = rid
	}
	w.Header().Set("request-id", rid)
	w.Header().Set("client-request-id", crid)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"`)
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"code":    code,
		"message": msg,
		"innerError": map[string]any{
			"date":              time.Now().UTC().Format("2006-01-02T15:04:05"),
			"request-id":        rid,
			"client-request-id": crid,
		},
	}})
}

func notFound(w http.ResponseWriter, r *http.Request, what string) {
	writeGraphError(w, r, http.StatusNotFound, "Request_ResourceNotFound",
		fmt.Sprintf("Resource '%s' does not exist or one of its queried reference-property objects are not present.", what))
}

func badRequest(w http.ResponseWriter, r *http.Request, code, msg string) {
	writeGraphError(w, r, http.StatusBadRequest, code, msg)
}

// graphHandler serves a Graph request for the tenant of the caller's token.
type graphHandler func(w http.ResponseWriter, r *http.Request, t *tenant)

// graph wraps h with what every Graph request gets, in Graph's order: the
// bearer token check (401), then 400 for a path Graph has no resource at (h
// nil), 405 for a method other than method, Graph's response headers, and
// the GraphLog record.
func (s *Server) graph(route Route, method string, h graphHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rec := &emukit.StatusRecorder{ResponseWriter: w}
		auth := r.Header.Get("Authorization")
		defer func() { s.graphLog.Append(graphRequest(r, route, rec.Status(), false)) }()
		tok, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			writeGraphError(rec, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token is empty.")
			return
		}
		claims, msg := s.verifyToken(strings.TrimSpace(tok))
		if msg != "" {
			writeGraphError(rec, r, http.StatusUnauthorized, "InvalidAuthenticationToken", msg)
			return
		}
		tid, _ := claims["tid"].(string)
		s.mu.Lock()
		t := s.tenants[strings.ToLower(tid)]
		s.mu.Unlock()
		if t == nil {
			writeGraphError(rec, r, http.StatusUnauthorized, "InvalidAuthenticationToken", "Access token validation failure.")
			return
		}
		if h == nil {
			segment := strings.TrimPrefix(strings.TrimPrefix(strings.Trim(r.URL.Path, "/"), "v1.0"), "/")
			writeGraphError(rec, r, http.StatusBadRequest, "BadRequest",
				fmt.Sprintf("Resource not found for the segment '%s'.", segment))
			return
		}
		if r.Method != method {
			writeGraphError(rec, r, http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
			return
		}
		rec.Header().Set("request-id", newID())
		if c := r.Header.Get("client-request-id"); c != "" {
			rec.Header().Set("client-request-id", c)
		}
		rec.Header().Set("OData-Version", "4.0")
		h(rec, r, t)
	}
}

// query holds the parsed OData options of one request.
type query struct {
	sel        []string // canonical property names; nil = default set
	filter     *filterExpr
	rawFilter  string
	rawSelect  string
	rawExpand  string
	top        int
	offset     int
	count      bool
	expandMgr  bool
	mgrSelect  []string
	consistent bool
}

// parseSelect resolves $select names (case-insensitive) against the
// catalogue and the seeded attribute names (extension properties).
func (s *Server) parseSelect(raw string, t *tenant) ([]string, error) {
	if strings.TrimSpace(raw) == "" {
		return nil, nil
	}
	var out []string
	for _, p := range strings.Split(raw, ",") {
		p = strings.TrimSpace(p)
		if c, ok := userPropByLower[strings.ToLower(p)]; ok {
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
			continue
		}
		if strings.HasPrefix(strings.ToLower(p), "extension_") || s.seededAttr(t, p) {
			out = append(out, p)
			continue
		}
		return nil, queryErr("Could not find a property named '%s' on type 'microsoft.graph.user'.", p)
	}
	return out, nil
}

// seededAttr reports whether any user of t has the attribute. Callers hold s.mu.
func (s *Server) seededAttr(t *tenant, name string) bool {
	for _, u := range t.users {
		if _, ok := u.Attributes[name]; ok {
			return true
		}
	}
	return false
}

// parseQuery parses $select, $filter, $top, $skiptoken, $expand, $count.
// It writes a 400 and returns false on error. Callers must not hold s.mu.
func (s *Server) parseQuery(w http.ResponseWriter, r *http.Request, t *tenant, list bool) (query, bool) {
	v := r.URL.Query()
	q := query{top: 100, rawFilter: v.Get("$filter"), rawSelect: v.Get("$select"), rawExpand: v.Get("$expand")}
	q.consistent = strings.EqualFold(r.Header.Get("ConsistencyLevel"), "eventual")
	s.mu.Lock()
	sel, err := s.parseSelect(q.rawSelect, t)
	s.mu.Unlock()
	if err != nil {
		badRequest(w, r, "BadRequest", err.Error())
		return q, false
	}
	q.sel = sel
	if e := strings.TrimSpace(q.rawExpand); e != "" {
		name, inner, _ := strings.Cut(e, "(")
		if strings.TrimSpace(name) != "manager" {
			badRequest(w, r, "Request_BadRequest", fmt.Sprintf("Invalid $expand: '%s' is not a navigation property of microsoft.graph.user.", name))
			return q, false
		}
		q.expandMgr = true
		if inner != "" {
			inner = strings.TrimSuffix(strings.TrimSpace(inner), ")")
			for _, opt := range strings.Split(inner, ";") {
				k, val, _ := strings.Cut(opt, "=")
				if strings.TrimSpace(k) == "$levels" && (list || !q.consistent) {
					// $levels only on a single user, with ConsistencyLevel:
					// eventual (https://learn.microsoft.com/en-us/graph/api/user-list-manager).
					badRequest(w, r, "Request_UnsupportedQuery", "Unsupported query.")
					return q, false
				}
				if strings.TrimSpace(k) == "$select" {
					s.mu.Lock()
					ms, err := s.parseSelect(val, t)
					s.mu.Unlock()
					if err != nil {
						badRequest(w, r, "BadRequest", err.Error())
						return q, false
					}
					q.mgrSelect = ms
				}
			}
		}
	}
	if !list {
		return q, true
	}
	for _, p := range q.sel {
		if singleOnlyProps[p] {
			writeGraphError(w, r, http.StatusNotImplemented, "NotImplemented", "This operation target is not yet supported.")
			return q, false
		}
	}
	if c := v.Get("$count"); c != "" {
		q.count = c == "true"
		if q.count && !q.consistent {
			badRequest(w, r, "Request_BadRequest", "$count is not currently supported.")
			return q, false
		}
	}
	if tp := v.Get("$top"); tp != "" {
		n, err := strconv.Atoi(tp)
		if err != nil || n < 1 || n > 999 {
			badRequest(w, r, "Request_BadRequest", fmt.Sprintf("Invalid page size specified: '%s'. Must be between 1 and 999 inclusive.", tp))
			return q, false
		}
		q.top = n
	}
	if q.rawFilter != "" {
		f, advanced, err := parseFilter(q.rawFilter)
		if err != nil {
			badRequest(w, r, "Request_UnsupportedQuery", err.Error())
			return q, false
		}
		if advanced && !(q.consistent && q.count) {
			badRequest(w, r, "Request_UnsupportedQuery", "Unsupported query.")
			return q, false
		}
		q.filter = f
	}
	if tok := v.Get("$skiptoken"); tok != "" {
		off, ok := s.decodeSkipToken(tok, q)
		if !ok {
			badRequest(w, r, "Request_BadRequest", "Invalid $skiptoken.")
			return q, false
		}
		q.offset = off
	}
	return q, true
}

// optionsSig fingerprints the query options a skip token belongs to.
func optionsSig(q query) string {
	h := sha256.Sum256([]byte(q.rawFilter + "\x00" + q.rawSelect + "\x00" + q.rawExpand + "\x00" + strconv.Itoa(q.top)))
	return hex.EncodeToString(h[:6])
}

func (s *Server) encodeSkipToken(off int, q query) string {
	return "RFNwdA" + base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(off)+"|"+optionsSig(q)))
}

func (s *Server) decodeSkipToken(tok string, q query) (int, bool) {
	raw, ok := strings.CutPrefix(tok, "RFNwdA")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return 0, false
	}
	offS, sig, ok := strings.Cut(string(b), "|")
	off, err := strconv.Atoi(offS)
	if !ok || err != nil || off < 0 || sig != optionsSig(q) {
		return 0, false
	}
	return off, true
}

// odataEscape escapes a query value as Graph's nextLinks do: '$', ',', '(',
// ')' and '\” stay readable.
func odataEscape(v string) string {
	e := url.QueryEscape(v)
	e = strings.NewReplacer("%24", "$", "%2C", ",", "%28", "(", "%29", ")", "%27", "'", "+", "%20").Replace(e)
	return e
}

// nextLink builds the absolute @odata.nextLink carrying the original options.
func (s *Server) nextLink(r *http.Request, q query, off int) string {
	var parts []string
	add := func(k, v string) {
		if v != "" {
			parts = append(parts, k+"="+odataEscape(v))
		}
	}
	add("$filter", q.rawFilter)
	add("$select", q.rawSelect)
	add("$expand", q.rawExpand)
	add("$top", r.URL.Query().Get("$top"))
	if q.count {
		add("$count", "true")
	}
	parts = append(parts, "$skiptoken="+s.encodeSkipToken(off, q))
	return baseURL(r) + r.URL.EscapedPath() + "?" + strings.Join(parts, "&")
}

// render projects a user to JSON properties. Callers hold s.mu.
func (s *Server) render(u *user, sel []string, withType bool, q *query) map[string]any {
	props := sel
	if props == nil {
		props = defaultUserProps
	}
	m := make(map[string]any, len(props)+2)
	if withType {
		m["@odata.type"] = "#microsoft.graph.user"
	}
	for _, p := range props {
		if v := u.value(p); v != nil || !graphprops.LooksLikeDirectoryExtension(p) {
			m[p] = v // a directory extension the user has no value for is left out, as Graph does
		}
	}
	if q != nil && q.expandMgr {
		if mgr := u.tenant.lookup(u.Manager); u.Manager != "" && mgr != nil {
			m["manager"] = s.render(mgr, q.mgrSelect, true, nil)
		}
	}
	return m
}

func contextURL(r *http.Request, entity string, sel []string, single bool) string {
	c := baseURL(r) + "/v1.0/$metadata#" + entity
	if sel != nil {
		c += "(" + strings.Join(sel, ",") + ")"
	}
	if single {
		c += "/$entity"
	}
	return c
}

// handleUser serves GET /users/{id|UPN}.
func (s *Server) handleUser(w http.ResponseWriter, r *http.Request, t *tenant) {
	key := r.PathValue("id")
	q, ok := s.parseQuery(w, r, t, false)
	if !ok {
		return
	}
	s.mu.Lock()
	u := t.lookup(key)
	var body map[string]any
	if u != nil {
		body = s.render(u, q.sel, false, &q)
	}
	s.mu.Unlock()
	if u == nil {
		notFound(w, r, key)
		return
	}
	body["@odata.context"] = contextURL(r, "users", q.sel, true)
	writeJSON(w, http.StatusOK, body)
}

// handleManager serves GET /users/{id}/manager.
func (s *Server) handleManager(w http.ResponseWriter, r *http.Request, t *tenant) {
	key := r.PathValue("id")
	q, ok := s.parseQuery(w, r, t, false)
	if !ok {
		return
	}
	s.mu.Lock()
	u := t.lookup(key)
	var mgr *user
	var body map[string]any
	if u != nil && u.Manager != "" {
		mgr = t.lookup(u.Manager)
	}
	if mgr != nil {
		body = s.render(mgr, q.sel, true, nil)
	}
	s.mu.Unlock()
	switch {
	case u == nil:
		notFound(w, r, key)
		return
	case mgr == nil:
		notFound(w, r, "manager")
		return
	}
	body["@odata.context"] = baseURL(r) + "/v1.0/$metadata#directoryObjects/$entity"
	writeJSON(w, http.StatusOK, body)
}

// page writes one page of items.
func (s *Server) page(w http.ResponseWriter, r *http.Request, q query, ctx string, items []map[string]any) {
	end := min(q.offset+q.top, len(items))
	start := min(q.offset, len(items))
	body := map[string]any{"@odata.context": ctx}
	if q.count && q.offset == 0 {
		body["@odata.count"] = len(items)
	}
	if end < len(items) {
		body["@odata.nextLink"] = s.nextLink(r, q, end)
	}
	body["value"] = items[start:end]
	writeJSON(w, http.StatusOK, body)
}

// handleUsers serves GET /users.
func (s *Server) handleUsers(w http.ResponseWriter, r *http.Request, t *tenant) {
	q, ok := s.parseQuery(w, r, t, true)
	if !ok {
		return
	}
	s.mu.Lock()
	var items []map[string]any
	for _, id := range t.order {
		u := t.users[id]
		if q.filter != nil && !q.filter.eval(u) {
			continue
		}
		items = append(items, s.render(u, q.sel, false, &q))
	}
	s.mu.Unlock()
	if items == nil {
		items = []map[string]any{}
	}
	s.page(w, r, q, contextURL(r, "users", q.sel, false), items)
}

// handleMembers serves /groups/{id}/members and /transitiveMembers, with the
// optional cast to users in both spellings (microsoft.graph.user as
// documented, graph.user as msgraph-sdk-go sends).
// handleMembers serves a group's members or transitiveMembers, with or
// without a cast.
func (s *Server) handleMembers(transitive bool) graphHandler {
	return func(w http.ResponseWriter, r *http.Request, t *tenant) {
		s.members(w, r, t, r.PathValue("id"), transitive, r.PathValue("cast"))
	}
}

func (s *Server) members(w http.ResponseWriter, r *http.Request, t *tenant, gid string, transitive bool, cast string) {
	usersOnly := false
	switch cast {
	case "":
	case "microsoft.graph.user", "graph.user":
		usersOnly = true
	default:
		badRequest(w, r, "BadRequest", fmt.Sprintf("Resource not found for the segment '%s'.", cast))
		return
	}
	q, ok := s.parseQuery(w, r, t, true)
	if !ok {
		return
	}
	s.mu.Lock()
	g := t.groups[gid]
	if g == nil {
		s.mu.Unlock()
		notFound(w, r, gid)
		return
	}
	var ids []string
	if transitive {
		seen := map[string]bool{gid: true}
		var walk func(*group)
		walk = func(g *group) {
			for _, m := range g.members {
				if seen[m] {
					continue
				}
				seen[m] = true
				ids = append(ids, m)
				if ng := t.groups[m]; ng != nil {
					walk(ng)
				}
			}
		}
		walk(g)
	} else {
		ids = append(ids, g.members...)
	}
	items := []map[string]any{}
	for _, id := range ids {
		if u := t.users[id]; u != nil {
			if q.filter != nil && !q.filter.eval(u) {
				continue
			}
			items = append(items, s.render(u, q.sel, true, &q))
			continue
		}
		if ng := t.groups[id]; ng != nil && !usersOnly && q.filter == nil {
			items = append(items, map[string]any{
				"@odata.type": "#microsoft.graph.group", "id": ng.ID, "displayName": ng.DisplayName,
				"securityEnabled": true, "mailEnabled": false,
			})
		}
	}
	s.mu.Unlock()
	ctx := contextURL(r, "directoryObjects", nil, false)
	if usersOnly {
		ctx = contextURL(r, "users", q.sel, false)
	}
	s.page(w, r, q, ctx, items)
}

// handleDomains serves GET /domains.
func (s *Server) handleDomains(w http.ResponseWriter, r *http.Request, t *tenant) {
	s.mu.Lock()
	items := []map[string]any{}
	for _, d := range t.domains {
		at := "Managed"
		if d.Federated {
			at = "Federated"
		}
		items = append(items, map[string]any{
			"id": d.Name, "authenticationType": at, "availabilityStatus": nil, "isAdminManaged": true,
			"isDefault": d.Default, "isInitial": strings.HasSuffix(strings.ToLower(d.Name), ".onmicrosoft.com"),
			"isRoot": true, "isVerified": !d.Unverified, "passwordNotificationWindowInDays": nil,
			"passwordValidityPeriodInDays": nil, "supportedServices": []string{"Email", "OfficeCommunicationsOnline"},
			"state": nil,
		})
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"@odata.context": baseURL(r) + "/v1.0/$metadata#domains", "value": items})
}
