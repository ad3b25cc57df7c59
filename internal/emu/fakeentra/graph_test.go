package fakeentra

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func seedGraph(t *testing.T) (*env, string) {
	t.Helper()
	e := start(t, Options{})
	boss := e.addUser(t, User{UserPrincipalName: "boss@contoso.com", Password: "p", Attributes: map[string]any{
		"displayName": "The Boss", "department": "Exec", "givenName": "Bo"}})
	for i := range 7 {
		e.addUser(t, User{UserPrincipalName: "u" + itoa(i) + "@contoso.com", Manager: "boss@contoso.com",
			Disabled: i == 3, UserType: map[bool]string{true: "Guest", false: "Member"}[i == 5],
			Attributes: map[string]any{"department": []string{"Sales", "Eng"}[i%2], "displayName": "User " + itoa(i),
				"businessPhones": []any{"+1 555 0100"}, "mail": "u" + itoa(i) + "@contoso.com"}})
	}
	return e, boss
}

func TestGraphAuth(t *testing.T) {
	e, _ := seedGraph(t)
	r := e.get(t, "/v1.0/users", "")
	errObj, _ := r.body["error"].(map[string]any)
	if r.status != 401 || errObj["code"] != "InvalidAuthenticationToken" || errObj["message"] != "Access token is empty." {
		t.Errorf("no bearer: %d %s", r.status, r.raw)
	}
	inner, _ := errObj["innerError"].(map[string]any)
	for _, k := range []string{"date", "request-id", "client-request-id"} {
		if inner[k] == nil {
			t.Errorf("innerError without %s", k)
		}
	}
	if r := e.get(t, "/v1.0/users", "eyJ.forged.token"); r.status != 401 {
		t.Errorf("foreign token: %d", r.status)
	}
	// A delegated token from ROPC is also one of ours.
	tr := e.token(t, tTenant, ropc("boss@contoso.com", "p"))
	if r := e.get(t, "/v1.0/users/boss@contoso.com", tr.body["access_token"].(string)); r.status != 200 {
		t.Errorf("ROPC token on Graph: %d", r.status)
	}
	if n := e.Calls(RouteGraphUsers); n != 2 {
		t.Errorf("Calls(graph-users) = %d", n)
	}
}

func TestGraphUser(t *testing.T) {
	e, boss := seedGraph(t)
	tok := e.graphToken(t)
	r := e.get(t, "/v1.0/users/u1%40contoso.com?$select=id,userPrincipalName,department,accountEnabled,mobilePhone", tok)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	want := []string{"@odata.context", "id", "userPrincipalName", "department", "accountEnabled", "mobilePhone"}
	if len(r.body) != len(want) {
		t.Errorf("selected body has %d keys: %v", len(r.body), r.body)
	}
	if r.body["department"] != "Eng" || r.body["accountEnabled"] != true || r.body["mobilePhone"] != nil {
		t.Errorf("values %v", r.body)
	}
	if _, ok := r.body["mobilePhone"]; !ok {
		t.Error("unset property must be JSON null, not absent")
	}
	if !strings.HasSuffix(r.body["@odata.context"].(string), "/v1.0/$metadata#users(id,userPrincipalName,department,accountEnabled,mobilePhone)/$entity") {
		t.Errorf("context %v", r.body["@odata.context"])
	}
	// Default set without $select; by ID as well.
	r = e.get(t, "/v1.0/users/"+boss, tok)
	if r.body["userPrincipalName"] != "boss@contoso.com" || r.body["department"] != nil || !slices.Equal(r.body["businessPhones"].([]any), []any{}) {
		t.Errorf("default property set %v", r.body)
	}
	if _, ok := r.body["department"]; ok {
		t.Error("department is not in the default set")
	}
	r = e.get(t, "/v1.0/users/nobody@contoso.com", tok)
	errObj, _ := r.body["error"].(map[string]any)
	if r.status != 404 || errObj["code"] != "Request_ResourceNotFound" ||
		errObj["message"] != "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present." {
		t.Errorf("404: %d %s", r.status, r.raw)
	}
	r = e.get(t, "/v1.0/users/u1@contoso.com/manager?$select=id,userPrincipalName", tok)
	if r.status != 200 || r.body["id"] != boss || r.body["@odata.type"] != "#microsoft.graph.user" {
		t.Errorf("manager %d %v", r.status, r.body)
	}
	if r := e.get(t, "/v1.0/users/boss@contoso.com/manager", tok); r.status != 404 {
		t.Errorf("no manager: %d", r.status)
	}
	r = e.get(t, "/v1.0/users/u1@contoso.com?$select=id&$expand=manager($select=userPrincipalName)", tok)
	m, _ := r.body["manager"].(map[string]any)
	if m["userPrincipalName"] != "boss@contoso.com" {
		t.Errorf("$expand=manager: %v", r.body)
	}
	if r := e.get(t, "/v1.0/users/u1@contoso.com?$select=nosuchprop", tok); r.status != 400 {
		t.Errorf("unknown $select: %d", r.status)
	}
}

func TestGraphListPagingAndFilter(t *testing.T) {
	e, _ := seedGraph(t)
	tok := e.graphToken(t)
	var upns []string
	next := "/v1.0/users?$select=id,userPrincipalName&$top=3"
	pages := 0
	for next != "" {
		r := e.get(t, next, tok)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.raw)
		}
		pages++
		for _, v := range r.body["value"].([]any) {
			u := v.(map[string]any)
			if len(u) != 2 {
				t.Errorf("item not projected: %v", u)
			}
			upns = append(upns, u["userPrincipalName"].(string))
		}
		next = ""
		if nl, ok := r.body["@odata.nextLink"].(string); ok {
			if !strings.HasPrefix(nl, e.URL+"/v1.0/users?") || !strings.Contains(nl, "$select=id,userPrincipalName") ||
				!strings.Contains(nl, "$top=3") || !strings.Contains(nl, "$skiptoken=") {
				t.Fatalf("nextLink %q", nl)
			}
			next = strings.TrimPrefix(nl, e.URL)
		}
	}
	if pages != 3 || len(upns) != 8 || upns[0] != "boss@contoso.com" || upns[7] != "u6@contoso.com" {
		t.Errorf("pages=%d upns=%v", pages, upns)
	}
	for _, bad := range []string{"$top=0", "$top=1000", "$top=x"} {
		r := e.get(t, "/v1.0/users?"+bad, tok)
		if errObj, _ := r.body["error"].(map[string]any); r.status != 400 || errObj["code"] == nil {
			t.Errorf("%s: %d", bad, r.status)
		}
	}
	filters := map[string][]string{
		"userPrincipalName eq 'U2@contoso.com'":                    {"u2@contoso.com"},
		"startswith(displayName,'user 1')":                         {"u1@contoso.com"},
		"department eq 'Eng' and accountEnabled eq false":          {"u3@contoso.com"},
		"userType eq 'Guest' or id in ('nope', 'x')":               {"u5@contoso.com"},
		"mail in ('u4@contoso.com','u6@contoso.com')":              {"u4@contoso.com", "u6@contoso.com"},
		"(givenName eq 'Bo') or (surname eq 'nobody')":             {"boss@contoso.com"},
		"department eq 'Exec' and (userType eq 'Member' or false)": nil,
	}
	for f, want := range filters {
		r := e.get(t, "/v1.0/users?$select=userPrincipalName&$filter="+url.QueryEscape(f), tok)
		if want == nil {
			if r.status != 400 {
				t.Errorf("%s: %d, want 400", f, r.status)
			}
			continue
		}
		var got []string
		for _, v := range r.body["value"].([]any) {
			got = append(got, v.(map[string]any)["userPrincipalName"].(string))
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: got %v want %v", f, got, want)
		}
	}
	// ne is an advanced query: 400 without ConsistencyLevel + $count.
	if r := e.get(t, "/v1.0/users?$filter="+url.QueryEscape("department ne 'Sales'"), tok); r.status != 400 {
		t.Errorf("ne without eventual: %d", r.status)
	}
	if r := e.get(t, "/v1.0/users?$filter="+url.QueryEscape("officeLocation2 eq 'x'"), tok); r.status != 400 {
		t.Errorf("unknown filter property: %d", r.status)
	}
	// A skiptoken cannot be replayed with other options.
	r := e.get(t, "/v1.0/users?$top=3", tok)
	nl := r.body["@odata.nextLink"].(string)
	tokq := nl[strings.Index(nl, "$skiptoken="):]
	if r := e.get(t, "/v1.0/users?$top=4&"+tokq, tok); r.status != 400 {
		t.Errorf("skiptoken with other options: %d", r.status)
	}
}

func TestGraphGroupsAndDomains(t *testing.T) {
	e, _ := seedGraph(t)
	tok := e.graphToken(t)
	inner, err := e.AddGroup(tTenant, Group{DisplayName: "inner", Members: []string{"u4@contoso.com", "u5@contoso.com"}})
	if err != nil {
		t.Fatal(err)
	}
	mid, _ := e.AddGroup(tTenant, Group{DisplayName: "mid", Members: []string{"u2@contoso.com", "u4@contoso.com"}, Groups: []string{inner}})
	outer, _ := e.AddGroup(tTenant, Group{DisplayName: "outer", Members: []string{"u1@contoso.com"}, Groups: []string{mid}})
	collect := func(path string) (ids []string, types []string) {
		t.Helper()
		for next := path; next != ""; {
			r := e.get(t, next, tok)
			if r.status != 200 {
				t.Fatalf("%s: %d %s", next, r.status, r.raw)
			}
			for _, v := range r.body["value"].([]any) {
				m := v.(map[string]any)
				ids = append(ids, m["id"].(string))
				types = append(types, m["@odata.type"].(string))
			}
			next = ""
			if nl, ok := r.body["@odata.nextLink"].(string); ok {
				next = strings.TrimPrefix(nl, e.URL)
			}
		}
		return ids, types
	}
	uid := func(n int) string { return e.UserID("u" + itoa(n) + "@contoso.com") }
	ids, types := collect("/v1.0/groups/" + outer + "/members")
	if !slices.Equal(ids, []string{uid(1), mid}) || types[1] != "#microsoft.graph.group" {
		t.Errorf("direct members %v %v", ids, types)
	}
	for _, cast := range []string{"microsoft.graph.user", "graph.user"} {
		ids, types = collect("/v1.0/groups/" + outer + "/transitiveMembers/" + cast + "?$select=id&$top=2")
		if !slices.Equal(ids, []string{uid(1), uid(2), uid(4), uid(5)}) || slices.Contains(types, "#microsoft.graph.group") {
			t.Errorf("transitive %s: %v %v", cast, ids, types)
		}
		ids, _ = collect("/v1.0/groups/" + outer + "/members/" + cast)
		if !slices.Equal(ids, []string{uid(1)}) {
			t.Errorf("members cast %s: %v", cast, ids)
		}
	}
	ids, _ = collect("/v1.0/groups/" + outer + "/transitiveMembers")
	if len(ids) != 6 {
		t.Errorf("transitive with groups: %v", ids)
	}
	if r := e.get(t, "/v1.0/groups/nope/members", tok); r.status != 404 {
		t.Errorf("unknown group: %d", r.status)
	}
	r := e.get(t, "/v1.0/domains", tok)
	var names []string
	for _, v := range r.body["value"].([]any) {
		d := v.(map[string]any)
		names = append(names, d["id"].(string)+":"+d["authenticationType"].(string))
		if d["isVerified"] != true {
			t.Errorf("domain %v", d)
		}
	}
	if !slices.Equal(names, []string{"contoso.com:Managed", "fabrikam.com:Federated", "northwind.com:Federated"}) {
		t.Errorf("domains %v", names)
	}
}

func TestGraphFaults(t *testing.T) {
	e, _ := seedGraph(t)
	tok := e.graphToken(t)
	e.InjectFault(RouteGraphUsers, Fault{Status: 429, RetryAfter: 3 * time.Second, Times: 1})
	r := e.get(t, "/v1.0/users", tok)
	errObj, _ := r.body["error"].(map[string]any)
	if r.status != 429 || r.header.Get("Retry-After") != "3" || errObj["code"] != "TooManyRequests" {
		t.Errorf("429: %d %v %s", r.status, r.header, r.raw)
	}
	e.FailNext(RouteGraphUser, 1, 503)
	if r := e.get(t, "/v1.0/users/u1@contoso.com", tok); r.status != 503 {
		t.Errorf("503: %d", r.status)
	}
	if r := e.get(t, "/v1.0/users", tok); r.status != 200 {
		t.Errorf("after fault: %d", r.status)
	}
	if got := e.Calls(RouteGraphUsers); got != 2 {
		t.Errorf("Calls = %d", got)
	}
	log := e.GraphLog()
	if len(log) == 0 || !log[len(log)-1].Bearer {
		t.Errorf("graph log %+v", log)
	}
}

func TestSeedDemo(t *testing.T) {
	r0, err := Start(Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{Running: r0, hc: r0.HTTPClient(5 * time.Second)}
	t.Cleanup(func() { e.hc.CloseIdleConnections(); _ = r0.Close() })
	dir, err := e.SeedDemo(300)
	if err != nil {
		t.Fatal(err)
	}
	var mfa, disabled, guests, fed int
	for _, u := range dir.Users {
		if u.State == StateMFARequired {
			mfa++
		}
		if u.Disabled {
			disabled++
		}
		if u.Guest {
			guests++
		}
		if u.Federated {
			fed++
		}
	}
	if len(dir.Users) != 300 || mfa == 0 || disabled == 0 || guests == 0 || fed == 0 {
		t.Fatalf("demo mix: users=%d mfa=%d disabled=%d guests=%d fed=%d", len(dir.Users), mfa, disabled, guests, fed)
	}
	if DemoPassword(dir.Users[0].UserPrincipalName) != dir.Users[0].Password {
		t.Error("demo password not deterministic")
	}
	f := url.Values{"grant_type": {"password"}, "client_id": {dir.PublicClientID}, "username": {dir.Users[0].UserPrincipalName},
		"password": {dir.Users[0].Password}, "scope": {"User.Read openid profile offline_access"}}
	if r := e.token(t, dir.TenantID, f); r.status != 200 {
		t.Errorf("demo sign-in: %d %s", r.status, r.raw)
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {dir.GraphClientID}, "client_secret": {dir.GraphClientSecret},
		"scope": {"https://graph.microsoft.com/.default"}}
	r := e.token(t, dir.TenantID, cc)
	tok, _ := r.body["access_token"].(string)
	r = e.get(t, "/v1.0/groups/"+dir.AllStaffGroupID+"/transitiveMembers/microsoft.graph.user?$top=999&$select=id", tok)
	if got := len(r.body["value"].([]any)); got != 300 {
		t.Errorf("All Staff transitive users = %d, want 300", got)
	}
}

// TestGraphRoutingAnswers checks the answers around the routes: Graph checks
// the token before the path and the method (401, then 400 for a path it has
// no resource at, 405 for a method a resource does not serve), and the
// authority's paths get the standard mux's 404 and 405.
func TestGraphRoutingAnswers(t *testing.T) {
	e, _ := seedGraph(t)
	tok := e.graphToken(t)
	send := func(method, path, bearer string) resp {
		req, _ := http.NewRequest(method, e.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		return e.do(t, req)
	}
	graphCode := func(r resp) string {
		errObj, _ := r.body["error"].(map[string]any)
		code, _ := errObj["code"].(string)
		return code
	}
	for _, tc := range []struct {
		method, path, bearer string
		status               int
		code                 string
		route                Route
	}{
		{"DELETE", "/v1.0/users/boss@contoso.com", "", 401, "InvalidAuthenticationToken", RouteGraphUser},
		{"DELETE", "/v1.0/users/boss@contoso.com", tok, 405, "Request_BadRequest", RouteGraphUser},
		{"POST", "/v1.0/groups/g1/members/graph.user", tok, 405, "Request_BadRequest", RouteGraphMembers},
		{"GET", "/v1.0/nothing/here", tok, 400, "BadRequest", RouteOther},
		{"GET", "/v1.0/nothing/here", "", 401, "InvalidAuthenticationToken", RouteOther},
		{"GET", "/v1.0/oauth2/v2.0/token", tok, 400, "BadRequest", RouteOther},
		{"GET", "/" + tTenant + "/oauth2/v2.0/token", "", 405, "", RouteOther},
		{"GET", "/nothing", "", 404, "", RouteOther},
	} {
		before := e.Calls(tc.route)
		r := send(tc.method, tc.path, tc.bearer)
		if r.status != tc.status || graphCode(r) != tc.code {
			t.Errorf("%s %s: %d %q, want %d %q (%s)", tc.method, tc.path, r.status, graphCode(r), tc.status, tc.code, r.raw)
		}
		if n := e.Calls(tc.route) - before; n != 1 {
			t.Errorf("%s %s counted %d times on %s", tc.method, tc.path, n, tc.route)
		}
	}
	if r := send("GET", "/"+tTenant+"/oauth2/v2.0/token", ""); r.header.Get("Allow") != "POST" {
		t.Errorf("405 on the token endpoint: Allow %q", r.header.Get("Allow"))
	}
	if msg := func() string {
		errObj, _ := send("GET", "/v1.0/nothing/here", tok).body["error"].(map[string]any)
		m, _ := errObj["message"].(string)
		return m
	}(); msg != "Resource not found for the segment 'nothing/here'." {
		t.Errorf("400 message %q", msg)
	}
}
