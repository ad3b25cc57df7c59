package fakeentra

import (
	"cmp"
	"encoding/base64"
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// deltaState is what a users/delta skip or delta token carries: the
// $select of the first call is remembered in the token
// (https://learn.microsoft.com/en-us/graph/delta-query-users).
type deltaState struct {
	Since  int64  `json:"v"`           // changes after this tenant version
	Upto   int64  `json:"u,omitempty"` // the round's snapshot version
	Offset int    `json:"o,omitempty"` // paging offset within the round
	Select string `json:"s,omitempty"` // raw $select of the first call
	Filter string `json:"f,omitempty"` // raw $filter (id eq ... only)
	Issued int64  `json:"t"`           // unix seconds the token was issued
}

func encodeDelta(d deltaState) string {
	b, _ := json.Marshal(d)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeDelta(tok string) (deltaState, bool) {
	var d deltaState
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || json.Unmarshal(b, &d) != nil || d.Since < 0 || d.Offset < 0 {
		return d, false
	}
	return d, true
}

// deltaPageSize is the page size of users/delta unless the client sends
// Prefer: odata.maxpagesize=N.
const deltaPageSize = 100

// handleDelta serves GET /users/delta and /users/delta() (the SDK's form,
// https://learn.microsoft.com/en-us/graph/api/user-delta): a first round lists every user, paged by @odata.nextLink;
// the last page carries @odata.deltaLink, whose token returns only users
// changed since, and deleted users as {"id","@removed":{"reason"}}. Tokens
// older than Options.DeltaTokenLifetime get 410 Gone with code
// syncStateNotFound (410 means start a full resync:
// https://learn.microsoft.com/en-us/graph/delta-query-overview; the code and
// message are those of https://devblogs.microsoft.com/microsoft365dev/duration-of-change-tracking-tokens-for-identity-and-education-resources/).
func (s *Server) handleDelta(w http.ResponseWriter, r *http.Request, t *tenant) {
	v := r.URL.Query()
	now := s.opts.Now()
	var d deltaState
	tok := v.Get("$deltatoken")
	if tok == "" {
		tok = v.Get("$skiptoken")
	}
	if tok != "" {
		var ok bool
		if d, ok = decodeDelta(tok); !ok {
			badRequest(w, r, "Request_BadRequest", "Invalid delta token.")
			return
		}
		if now.Unix()-d.Issued > int64(s.opts.DeltaTokenLifetime.Seconds()) {
			w.Header().Set("Location", baseURL(r)+"/v1.0/users/delta"+deltaQuery(d.Select, d.Filter))
			writeGraphError(w, r, http.StatusGone, "syncStateNotFound",
				"The sync state generation is not found. The delta token is expired and data must be synchronized again.")
			return
		}
	} else {
		d = deltaState{Select: v.Get("$select"), Filter: v.Get("$filter")}
		if v.Get("$top") != "" || v.Get("$orderby") != "" || v.Get("$expand") != "" {
			badRequest(w, r, "Request_UnsupportedQuery", "Unsupported query option for delta of users.")
			return
		}
	}
	s.mu.Lock()
	sel, err := s.parseSelect(d.Select, t)
	s.mu.Unlock()
	if err != nil {
		badRequest(w, r, "BadRequest", err.Error())
		return
	}
	var filter *filterExpr
	if d.Filter != "" {
		f, adv, err := parseFilter(d.Filter)
		if err == nil && (adv || !onlyID(f)) {
			err = queryErr("Unsupported query: only 'id eq' filters are supported with delta.")
		}
		if err != nil {
			badRequest(w, r, "Request_UnsupportedQuery", err.Error())
			return
		}
		filter = f
	}
	size := deltaPageSize
	for _, p := range r.Header.Values("Prefer") {
		for _, part := range strings.Split(p, ",") {
			if n, ok := strings.CutPrefix(strings.TrimSpace(part), "odata.maxpagesize="); ok {
				if x, err := strconv.Atoi(n); err == nil && x > 0 {
					size = min(x, 999)
				}
			}
		}
	}
	s.mu.Lock()
	if d.Upto == 0 {
		d.Upto = t.version
	}
	var items []map[string]any
	for _, id := range t.order {
		u := t.users[id]
		if u.version <= d.Since || (filter != nil && !filter.eval(u)) {
			continue
		}
		items = append(items, s.render(u, sel, false, nil))
	}
	if d.Since > 0 {
		ids := slices.SortedFunc(maps.Keys(t.removed), func(a, b string) int {
			return cmp.Compare(t.removed[a].version, t.removed[b].version)
		})
		for _, id := range ids {
			if ts := t.removed[id]; ts.version > d.Since && (filter == nil || filter.evalID(id)) {
				items = append(items, map[string]any{"id": id, "@removed": map[string]any{"reason": ts.reason}})
			}
		}
	}
	s.mu.Unlock()
	start := min(d.Offset, len(items))
	end := min(start+size, len(items))
	body := map[string]any{"@odata.context": contextURL(r, "users", sel, false)}
	next := d
	next.Issued = now.Unix()
	if end < len(items) {
		next.Offset = end
		body["@odata.nextLink"] = baseURL(r) + r.URL.EscapedPath() + "?$skiptoken=" + encodeDelta(next)
	} else {
		body["@odata.deltaLink"] = baseURL(r) + r.URL.EscapedPath() + "?$deltatoken=" +
			encodeDelta(deltaState{Since: d.Upto, Select: d.Select, Filter: d.Filter, Issued: now.Unix()})
	}
	page := items[start:end]
	if page == nil {
		page = []map[string]any{}
	}
	body["value"] = page
	writeJSON(w, http.StatusOK, body)
}

func deltaQuery(sel, filter string) string {
	var q []string
	if sel != "" {
		q = append(q, "$select="+odataEscape(sel))
	}
	if filter != "" {
		q = append(q, "$filter="+odataEscape(filter))
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + strings.Join(q, "&")
}

// onlyID reports whether a filter tests nothing but id (eq / or).
func onlyID(f *filterExpr) bool {
	switch f.op {
	case "or":
		return onlyID(f.left) && onlyID(f.right)
	case "eq", "in":
		return f.prop == "id"
	}
	return false
}

// evalID evaluates an id-only filter against a deleted user's ID.
func (f *filterExpr) evalID(id string) bool {
	switch f.op {
	case "or":
		return f.left.evalID(id) || f.right.evalID(id)
	case "eq", "in":
		for _, x := range f.values {
			if equalValue(id, x) {
				return true
			}
		}
	}
	return false
}
