package graph

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/entra"
)

const (
	tenantID = "11111111-2222-4333-8444-555555555555"
	clientID = "graph-reader"
	secret   = "graph-reader-secret"
)

type fixture struct {
	fe                *fakeentra.Running
	c                 *Client
	outer, mid, inner string
	ctx               context.Context
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	fe, err := fakeentra.Start(fakeentra.Options{})
	if err != nil {
		t.Fatal(err)
	}
	hc := fe.HTTPClient(10 * time.Second)
	t.Cleanup(func() { hc.CloseIdleConnections(); _ = fe.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fe.AddTenant(fakeentra.Tenant{ID: tenantID}))
	must(fe.AddDomain(tenantID, fakeentra.Domain{Name: "contoso.com", Default: true}))
	must(fe.AddDomain(tenantID, fakeentra.Domain{Name: "fabrikam.com", Federated: true}))
	must(fe.AddClient(fakeentra.Client{ID: clientID, Secret: secret, TenantID: tenantID}))
	_, err = fe.AddUser(fakeentra.User{UserPrincipalName: "boss@contoso.com", Attributes: map[string]any{"displayName": "Boss"}})
	must(err)
	for i := range 10 {
		_, err := fe.AddUser(fakeentra.User{
			UserPrincipalName: fmt.Sprintf("u%d@contoso.com", i), Manager: "boss@contoso.com", Disabled: i == 4,
			UserType: map[bool]string{true: "Guest", false: "Member"}[i == 7],
			Attributes: map[string]any{
				"department": []string{"Sales", "Eng"}[i%2], "givenName": fmt.Sprintf("G%d", i), "mail": fmt.Sprintf("u%d@contoso.com", i),
				"businessPhones": []any{"+1 555 0100"}, "extension_abc_costCenter": "CC-7",
			},
		})
		must(err)
	}
	f := &fixture{fe: fe, ctx: context.Background()}
	f.inner, err = fe.AddGroup(tenantID, fakeentra.Group{DisplayName: "inner", Members: []string{"u5@contoso.com", "u6@contoso.com", "u7@contoso.com"}})
	must(err)
	f.mid, err = fe.AddGroup(tenantID, fakeentra.Group{DisplayName: "mid", Members: []string{"u3@contoso.com", "u5@contoso.com"}, Groups: []string{f.inner}})
	must(err)
	f.outer, err = fe.AddGroup(tenantID, fakeentra.Group{DisplayName: "outer", Members: []string{"u1@contoso.com"}, Groups: []string{f.mid}})
	must(err)
	f.c, err = New(Config{BaseURL: fe.URL, AuthorityHost: fe.URL, TenantID: tenantID, ClientID: clientID, ClientSecret: secret, HTTPClient: hc})
	must(err)
	return f
}

func (f *fixture) lastGraph(t *testing.T) fakeentra.GraphRequest {
	t.Helper()
	l := f.fe.GraphLog()
	if len(l) == 0 {
		t.Fatal("no graph request")
	}
	return l[len(l)-1]
}

func upns(us []entra.User) []string {
	var out []string
	for _, u := range us {
		out = append(out, u.UserPrincipalName)
	}
	return out
}

func TestUserSelectAndAttributes(t *testing.T) {
	f := newFixture(t)
	u, err := f.c.User(f.ctx, "u3@contoso.com", []string{"department", "givenName", "mobilePhone", "businessPhones", "extension_abc_costCenter", "manager"})
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != f.fe.UserID("u3@contoso.com") || u.UserPrincipalName != "u3@contoso.com" || u.Mail != "u3@contoso.com" || !u.AccountEnabled || u.UserType != "Member" {
		t.Errorf("user %+v", u)
	}
	want := map[string]any{
		"department": "Eng", "givenName": "G3", "mobilePhone": nil, "businessPhones": []any{"+1 555 0100"},
		"extension_abc_costCenter": "CC-7", "manager.userPrincipalName": "boss@contoso.com",
		"id": u.ID, "userPrincipalName": "u3@contoso.com", "mail": "u3@contoso.com", "accountEnabled": true, "userType": "Member",
	}
	if fmt.Sprint(u.Attributes) != fmt.Sprint(want) {
		t.Errorf("attributes\n got %v\nwant %v", u.Attributes, want)
	}
	g := f.lastGraph(t)
	if g.Path != "/v1.0/users/u3%40contoso.com" || !g.Bearer {
		t.Errorf("request %s bearer=%v", g.Path, g.Bearer)
	}
	sel := strings.Split(g.Query["$select"][0], ",")
	for _, p := range []string{"id", "userPrincipalName", "mail", "accountEnabled", "userType", "department", "givenName", "mobilePhone", "businessPhones", "extension_abc_costCenter"} {
		if !slices.Contains(sel, p) {
			t.Errorf("$select %v lacks %s", sel, p)
		}
	}
	if slices.Contains(sel, "manager") {
		t.Error("manager must be expanded, not selected")
	}
	// A guest UPN holds '#': it must be path-escaped, not cut as a fragment.
	guest := "ann_partner.example#EXT#@contoso.com"
	if _, err := f.fe.AddUser(fakeentra.User{UserPrincipalName: guest, UserType: "Guest"}); err != nil {
		t.Fatal(err)
	}
	if g, err := f.c.User(f.ctx, guest, nil); err != nil || g.UserPrincipalName != guest || g.UserType != "Guest" {
		t.Errorf("guest: %+v %v (path %s)", g, err, f.lastGraph(t).Path)
	}
	// A user without a manager.
	u, err = f.c.User(f.ctx, "boss@contoso.com", []string{"manager"})
	if err != nil || u.Attributes[ManagerUPNKey] != nil {
		t.Errorf("no manager: %v %v", u.Attributes, err)
	}
	if _, ok := u.Attributes[ManagerUPNKey]; !ok {
		t.Error("manager key missing when requested")
	}
}

func TestUserNotFoundAndErrors(t *testing.T) {
	f := newFixture(t)
	_, err := f.c.User(f.ctx, "ghost@contoso.com", nil)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.NotFound || ae.Status != 404 || ae.Code != "Request_ResourceNotFound" || ae.Service != "graph" {
		t.Fatalf("404: %#v", err)
	}
	_, err = f.c.User(f.ctx, "u1@contoso.com", []string{"noSuchProperty"})
	if !apierr.Is(err, apierr.Invalid) {
		t.Errorf("400: %v", err)
	}
	f.fe.FailNext(fakeentra.RouteGraphUser, 1, 503)
	before := f.fe.Calls(fakeentra.RouteGraphUser)
	_, err = f.c.User(f.ctx, "u1@contoso.com", nil)
	if !apierr.Is(err, apierr.Transient) || f.fe.Calls(fakeentra.RouteGraphUser)-before != 1 {
		t.Errorf("503: %v after %d requests (kiota retry must be off)", err, f.fe.Calls(fakeentra.RouteGraphUser)-before)
	}
	f.fe.DropNext(fakeentra.RouteGraphUser, 1)
	if _, err = f.c.User(f.ctx, "u1@contoso.com", nil); !apierr.Is(err, apierr.Transient) {
		t.Errorf("dropped connection: %v", err)
	}
}

func TestRateLimitedWithoutHiddenRetry(t *testing.T) {
	f := newFixture(t)
	f.fe.InjectFault(fakeentra.RouteGraphUsers, fakeentra.Fault{Status: 429, RetryAfter: 5 * time.Second, Times: 1})
	t0 := time.Now()
	_, err := f.c.ListUsers(f.ctx, entra.Source{All: true}, nil, "", 10)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.RateLimited || ae.Status != 429 {
		t.Fatalf("429: %v", err)
	}
	if d := ae.RetryAt.Sub(t0); d < 4*time.Second || d > 7*time.Second {
		t.Errorf("RetryAt in %v, want ~5s", d)
	}
	if n := f.fe.Calls(fakeentra.RouteGraphUsers); n != 1 {
		t.Errorf("%d requests for one 429: the SDK retried", n)
	}
	if time.Since(t0) > 3*time.Second {
		t.Errorf("call took %v: something waited for Retry-After", time.Since(t0))
	}
	// Throttled token endpoint.
	g := newFixture(t)
	g.fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Status: 429, RetryAfter: 3 * time.Second, Times: 1})
	_, err = g.c.Domains(g.ctx)
	if !errors.As(err, &ae) || ae.Kind != apierr.RateLimited || ae.RetryAt.IsZero() {
		t.Errorf("token 429: %v", err)
	}
	if n := g.fe.Calls(fakeentra.RouteToken); n != 1 {
		t.Errorf("%d token requests for one 429", n)
	}
}

func TestListAllPaging(t *testing.T) {
	f := newFixture(t)
	var all []entra.User
	cursor, pages := "", 0
	for {
		p, err := f.c.ListUsers(f.ctx, entra.Source{All: true}, []string{"department"}, cursor, 3)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		all = append(all, p.Users...)
		if p.Next == "" {
			break
		}
		if !strings.HasPrefix(p.Next, f.fe.URL+"/v1.0/users?") || !strings.Contains(p.Next, "$skiptoken=") {
			t.Fatalf("cursor %q", p.Next)
		}
		cursor = p.Next
	}
	if pages != 4 || len(all) != 11 || all[0].UserPrincipalName != "boss@contoso.com" || all[10].UserPrincipalName != "u9@contoso.com" {
		t.Errorf("pages=%d users=%v", pages, upns(all))
	}
	if all[5].AccountEnabled || all[5].UserPrincipalName != "u4@contoso.com" {
		t.Errorf("u4 should be disabled: %+v", all[5])
	}
	if all[8].UserType != "Guest" || all[2].Attributes["department"] != "Eng" {
		t.Errorf("attributes %+v %+v", all[8], all[2])
	}
	log := f.fe.GraphLog()
	if len(log) != 4 || log[0].Query.Get("$top") != "3" || !strings.Contains(log[0].Query.Get("$select"), "department") || !log[3].Bearer {
		t.Errorf("wire: %+v", log)
	}
	if _, err := f.c.ListUsers(f.ctx, entra.Source{All: true}, nil, "https://evil.example/v1.0/users?$skiptoken=x", 3); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("foreign cursor: %v", err)
	}
	if _, err := f.c.ListUsers(f.ctx, entra.Source{All: true, GroupID: "x"}, nil, "", 3); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("two sources: %v", err)
	}
}

func TestListFilter(t *testing.T) {
	f := newFixture(t)
	p, err := f.c.ListUsers(f.ctx, entra.Source{Filter: "department eq 'Sales' and accountEnabled eq true"}, nil, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := upns(p.Users); !slices.Equal(got, []string{"u0@contoso.com", "u2@contoso.com", "u6@contoso.com", "u8@contoso.com"}) || p.Next != "" {
		t.Errorf("filter: %v next=%q", got, p.Next)
	}
	if g := f.lastGraph(t); g.Query.Get("$filter") != "department eq 'Sales' and accountEnabled eq true" {
		t.Errorf("$filter on the wire %q", g.Query.Get("$filter"))
	}
	p, err = f.c.ListUsers(f.ctx, entra.Source{Filter: "startswith(userPrincipalName,'u1')"}, []string{"manager"}, "", 0)
	if err != nil || len(p.Users) != 1 || p.Users[0].Attributes[ManagerUPNKey] != "boss@contoso.com" {
		t.Errorf("filter with manager: %v %v", p, err)
	}
	// An advanced filter (ne, endsWith) paged: ConsistencyLevel on every page.
	var got []string
	for cursor := ""; ; {
		p, err := f.c.ListUsers(f.ctx, entra.Source{Filter: "endswith(mail,'@contoso.com') and department ne 'Sales'"}, nil, cursor, 2)
		if err != nil {
			t.Fatalf("advanced filter: %v", err)
		}
		got = append(got, upns(p.Users)...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if !slices.Equal(got, []string{"u1@contoso.com", "u3@contoso.com", "u5@contoso.com", "u7@contoso.com", "u9@contoso.com"}) {
		t.Errorf("advanced filter: %v", got)
	}
	if _, err := f.c.ListUsers(f.ctx, entra.Source{Filter: "department eq"}, nil, "", 0); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("bad filter: %v", err)
	}
}

func TestListGroupTransitive(t *testing.T) {
	f := newFixture(t)
	var got []entra.User
	cursor, pages := "", 0
	for {
		p, err := f.c.ListUsers(f.ctx, entra.Source{GroupID: f.outer}, []string{"givenName", "manager"}, cursor, 2)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		got = append(got, p.Users...)
		if cursor = p.Next; cursor == "" {
			break
		}
	}
	if names := upns(got); pages != 3 || !slices.Equal(names, []string{"u1@contoso.com", "u3@contoso.com", "u5@contoso.com", "u6@contoso.com", "u7@contoso.com"}) {
		t.Errorf("pages=%d members=%v", pages, names)
	}
	for _, u := range got {
		if u.Attributes[ManagerUPNKey] != "boss@contoso.com" || u.Attributes["givenName"] == nil || u.ID == "" {
			t.Errorf("member %+v", u)
		}
	}
	var castPaths []string
	for _, g := range f.fe.GraphLog() {
		if g.Route == fakeentra.RouteGraphTransitive {
			castPaths = append(castPaths, g.Path)
		}
	}
	// msgraph-sdk-go sends the short cast graph.user, not microsoft.graph.user;
	// the emulator accepts both.
	if len(castPaths) != 3 || castPaths[0] != "/v1.0/groups/"+f.outer+"/transitiveMembers/graph.user" {
		t.Errorf("cast paths %v", castPaths)
	}
	if _, err := f.c.ListUsers(f.ctx, entra.Source{GroupID: "no-such-group"}, nil, "", 0); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("unknown group: %v", err)
	}
}

func TestListLogins(t *testing.T) {
	f := newFixture(t)
	src := entra.Source{Logins: []string{"u2@contoso.com", "ghost@contoso.com", "U9@contoso.com", "u0@contoso.com"}}
	p, err := f.c.ListUsers(f.ctx, src, []string{"department"}, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	if got := upns(p.Users); !slices.Equal(got, []string{"u2@contoso.com", "u9@contoso.com"}) || p.Next != "3" {
		t.Errorf("page 1: %v next=%q", got, p.Next)
	}
	p, err = f.c.ListUsers(f.ctx, src, nil, p.Next, 3)
	if err != nil || !slices.Equal(upns(p.Users), []string{"u0@contoso.com"}) || p.Next != "" {
		t.Errorf("page 2: %v %v", p, err)
	}
	if _, err := f.c.ListUsers(f.ctx, src, nil, "x", 3); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("bad cursor: %v", err)
	}
}

func TestDomainsAndAuth(t *testing.T) {
	f := newFixture(t)
	ds, err := f.c.Domains(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []entra.Domain{{ID: "contoso.com", AuthenticationType: "Managed", IsVerified: true}, {ID: "fabrikam.com", AuthenticationType: "Federated", IsVerified: true}}
	if !slices.Equal(ds, want) {
		t.Errorf("domains %+v", ds)
	}
	// One token for several calls (azidentity caches it).
	if n := f.fe.Calls(fakeentra.RouteToken); n != 1 {
		t.Errorf("token requests %d", n)
	}
	tl := f.fe.TokenLog()
	if tl[0].GrantType != "client_credentials" || !tl[0].HasClientSecret || !strings.Contains(tl[0].Scope, "https://graph.microsoft.com/.default") {
		t.Errorf("token request %+v", tl[0])
	}
	bad, err := New(Config{BaseURL: f.fe.URL, AuthorityHost: f.fe.URL, TenantID: tenantID, ClientID: clientID, ClientSecret: "wrong", HTTPClient: f.fe.HTTPClient(5 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = bad.Domains(f.ctx)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.Unauthorized || strings.Contains(err.Error(), "wrong") {
		t.Errorf("bad secret: %v", err)
	}
}

func TestDeadline(t *testing.T) {
	f := newFixture(t)
	if _, err := f.c.Domains(f.ctx); err != nil { // token fetched
		t.Fatal(err)
	}
	f.fe.InjectFault(fakeentra.RouteGraphUser, fakeentra.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err := f.c.User(ctx, "u1@contoso.com", nil)
	if !apierr.Is(err, apierr.Transient) || time.Since(t0) > 2*time.Second {
		t.Errorf("hang: %v after %v", err, time.Since(t0))
	}
}

// Documented Graph error bodies served verbatim map to the right kinds.
func TestForeignErrorBodies(t *testing.T) {
	f := newFixture(t)
	cases := []struct {
		name   string
		status int
		body   string
		kind   apierr.Kind
		code   string
	}{
		{"403 insufficient privileges", 403, `{"error":{"code":"Authorization_RequestDenied","message":"Insufficient privileges to complete the operation.","innerError":{"date":"2024-05-02T10:11:12","request-id":"a","client-request-id":"b"}}}`,
			apierr.Unauthorized, "Authorization_RequestDenied"},
		{"401 expired token", 401, `{"error":{"code":"InvalidAuthenticationToken","message":"Lifetime validation failed, the token is expired.","innerError":{"date":"2024-05-02T10:11:12","request-id":"a","client-request-id":"b"}}}`,
			apierr.Unauthorized, "InvalidAuthenticationToken"},
		{"400 unsupported query", 400, `{"error":{"code":"Request_UnsupportedQuery","message":"Unsupported Query.","innerError":{"date":"2024-05-02T10:11:12","request-id":"a","client-request-id":"b"}}}`,
			apierr.Invalid, "Request_UnsupportedQuery"},
		{"429 throttled", 429, `{"error":{"code":"TooManyRequests","message":"Too many requests","innerError":{"date":"2024-05-02T10:11:12","request-id":"a","client-request-id":"b"}}}`,
			apierr.RateLimited, "TooManyRequests"},
		{"504 gateway", 504, `{"error":{"code":"UnknownError","message":"","innerError":{"date":"2024-05-02T10:11:12","request-id":"a","client-request-id":"b"}}}`,
			apierr.Transient, "UnknownError"},
		{"502 html", 502, `<html>bad gateway</html>`, apierr.Transient, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := ""
			if strings.HasPrefix(c.body, "<") {
				ct = "text/html"
			}
			f.fe.InjectFault(fakeentra.RouteGraphUser, fakeentra.Fault{Status: c.status, Body: c.body, ContentType: ct, RetryAfter: 2 * time.Second, Times: 1})
			_, err := f.c.User(f.ctx, "u1@contoso.com", nil)
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Kind != c.kind || ae.Status != c.status || ae.Code != c.code {
				t.Fatalf("got %v, want %s %d %s", err, c.kind, c.status, c.code)
			}
			if c.kind == apierr.RateLimited && ae.RetryAt.IsZero() {
				t.Error("RetryAt not set")
			}
		})
	}
	// Bodies kiota cannot parse keep their status through the transport tap.
	f.fe.InjectFault(fakeentra.RouteGraphUsers, fakeentra.Fault{Status: 429, Body: "Too Many Requests", ContentType: "text/plain", RetryAfter: 4 * time.Second, Times: 1})
	_, err := f.c.ListUsers(f.ctx, entra.Source{All: true}, nil, "", 0)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Kind != apierr.RateLimited || time.Until(ae.RetryAt) < 2*time.Second {
		t.Errorf("text/plain 429: %v", err)
	}
	f.fe.InjectFault(fakeentra.RouteGraphUser, fakeentra.Fault{Status: 404, Body: "<html>not found</html>", ContentType: "text/html", Times: 1})
	if _, err := f.c.User(f.ctx, "u1@contoso.com", nil); !apierr.Is(err, apierr.NotFound) {
		t.Errorf("html 404: %v", err)
	}
	// $select of a single-user-only property on a collection: 501, not retryable.
	if _, err := f.c.ListUsers(f.ctx, entra.Source{All: true}, []string{"aboutMe"}, "", 0); !apierr.Is(err, apierr.Invalid) {
		t.Errorf("501: %v", err)
	}
	if u, err := f.c.User(f.ctx, "u1@contoso.com", []string{"aboutMe"}); err != nil || u.Attributes["aboutMe"] != nil {
		t.Errorf("aboutMe on one user: %v %v", u.Attributes, err)
	}
}
