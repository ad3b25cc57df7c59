package fakeentra

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

const (
	tTenant = "11111111-2222-4333-8444-555555555555"
	tPublic = "public-app"
	tConf   = "graph-app"
	tSecret = "graph-secret-value"
)

type env struct {
	*Running
	hc *http.Client
}

func start(t *testing.T, opts Options) *env {
	t.Helper()
	r, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	hc := r.HTTPClient(5 * time.Second)
	t.Cleanup(func() {
		hc.CloseIdleConnections() // else HTTP/2 graceful shutdown waits 1 s
		_ = r.Close()
	})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(r.AddTenant(Tenant{ID: tTenant, DisplayName: "Contoso"}))
	must(r.AddDomain(tTenant, Domain{Name: "contoso.com", Default: true}))
	must(r.AddDomain(tTenant, Domain{Name: "fabrikam.com", Federated: true}))
	must(r.AddDomain(tTenant, Domain{Name: "northwind.com", Federated: true, AllowCloudPasswordValidation: true}))
	must(r.AddClient(Client{ID: tPublic, Public: true, ConsentedScopes: []string{"User.Read"}}))
	must(r.AddClient(Client{ID: tConf, Secret: tSecret, TenantID: tTenant}))
	return &env{Running: r, hc: hc}
}

func (e *env) addUser(t *testing.T, u User) string {
	t.Helper()
	id, err := e.AddUser(u)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

type resp struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(t *testing.T, req *http.Request) resp {
	t.Helper()
	res, err := e.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{status: res.StatusCode, header: res.Header, raw: string(b)}
	_ = json.Unmarshal(b, &out.body)
	return out
}

func (e *env) get(t *testing.T, path, bearer string) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return e.do(t, req)
}

func (e *env) token(t *testing.T, tenant string, form url.Values) resp {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/"+tenant+"/oauth2/v2.0/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.do(t, req)
}

func ropc(user, pw string) url.Values {
	return url.Values{"grant_type": {"password"}, "client_id": {tPublic}, "username": {user}, "password": {pw},
		"scope": {"User.Read openid offline_access profile"}, "client_info": {"1"}}
}

func (e *env) graphToken(t *testing.T) string {
	t.Helper()
	r := e.token(t, tTenant, url.Values{"grant_type": {"client_credentials"}, "client_id": {tConf},
		"client_secret": {tSecret}, "scope": {"https://graph.microsoft.com/.default openid offline_access profile"},
		"claims": {`{"access_token":{"xms_cc":{"values":["CP1"]}}}`}})
	if r.status != 200 {
		t.Fatalf("client credentials: %d %s", r.status, r.raw)
	}
	return r.body["access_token"].(string)
}

func codes(b map[string]any) []int {
	var out []int
	l, _ := b["error_codes"].([]any)
	for _, c := range l {
		out = append(out, int(c.(float64)))
	}
	return out
}

var descRE = regexp.MustCompile(`^AADSTS(\d+): .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: [0-9a-f-]{36}\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$`)

func checkAADError(t *testing.T, r resp, code, status int, errName, suberror string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d (%s)", r.status, status, r.raw)
	}
	if c := codes(r.body); len(c) != 1 || c[0] != code {
		t.Errorf("error_codes %v, want [%d]", c, code)
	}
	if r.body["error"] != errName {
		t.Errorf("error %v, want %s", r.body["error"], errName)
	}
	if sub, _ := r.body["suberror"].(string); sub != suberror {
		t.Errorf("suberror %q, want %q", sub, suberror)
	}
	d, _ := r.body["error_description"].(string)
	if m := descRE.FindStringSubmatch(d); m == nil || m[1] != itoa(code) {
		t.Errorf("error_description format: %q", d)
	}
	for _, k := range []string{"timestamp", "trace_id", "correlation_id", "error_uri"} {
		if s, _ := r.body[k].(string); s == "" {
			t.Errorf("missing %s", k)
		}
	}
	if !strings.HasSuffix(r.body["error_uri"].(string), "code="+itoa(code)) {
		t.Errorf("error_uri %v", r.body["error_uri"])
	}
	if strings.Contains(r.raw, "right-pw") || strings.Contains(r.raw, "wrong-pw") {
		t.Error("password echoed in error body")
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

func TestOpenIDConfigurationAndRealm(t *testing.T) {
	e := start(t, Options{})
	r := e.get(t, "/"+tTenant+"/v2.0/.well-known/openid-configuration", "")
	if r.status != 200 || r.body["issuer"] != e.URL+"/"+tTenant+"/v2.0" ||
		r.body["token_endpoint"] != e.URL+"/"+tTenant+"/oauth2/v2.0/token" || r.body["authorization_endpoint"] == nil {
		t.Fatalf("openid configuration: %d %v", r.status, r.body)
	}
	r = e.get(t, "/contoso.com/v2.0/.well-known/openid-configuration", "")
	if r.body["issuer"] != e.URL+"/"+tTenant+"/v2.0" {
		t.Errorf("domain-named tenant issuer %v", r.body["issuer"])
	}
	r = e.get(t, "/nope.example/v2.0/.well-known/openid-configuration", "")
	if r.status != 400 || codes(r.body)[0] != 90002 {
		t.Errorf("unknown tenant: %d %v", r.status, r.body)
	}
	r = e.get(t, "/common/UserRealm/alice@contoso.com?api-version=1.0", "")
	if r.body["account_type"] != "Managed" || r.body["domain_name"] != "contoso.com" ||
		r.body["cloud_instance_name"] != "microsoftonline.com" || r.body["cloud_audience_urn"] != "urn:federation:MicrosoftOnline" {
		t.Errorf("managed realm %v", r.body)
	}
	r = e.get(t, "/common/UserRealm/bob@fabrikam.com?api-version=1.0", "")
	if r.body["account_type"] != "Federated" || r.body["federation_protocol"] != "WSTrust" ||
		r.body["federation_metadata_url"] == nil || r.body["federation_active_auth_url"] == nil {
		t.Errorf("federated realm %v", r.body)
	}
	r = e.get(t, "/common/UserRealm/eve@unknown.example?api-version=1.0", "")
	if _, ok := r.body["domain_name"]; ok || r.body["account_type"] == "Managed" {
		t.Errorf("unknown realm %v", r.body)
	}
	if r := e.get(t, "/common/userrealm/alice@contoso.com", ""); r.status != 404 {
		t.Errorf("UserRealm routing must be case-sensitive, got %d", r.status)
	}
	r = e.get(t, "/common/discovery/instance?api-version=1.1&authorization_endpoint="+url.QueryEscape(e.URL+"/"+tTenant+"/oauth2/v2.0/authorize"), "")
	if r.status != 200 || r.body["tenant_discovery_endpoint"] == nil {
		t.Errorf("instance discovery %d %v", r.status, r.body)
	}
}

func TestROPCMatrix(t *testing.T) {
	e := start(t, Options{})
	states := map[string]State{
		"normal": StateNormal, "mfa": StateMFARequired, "enroll": StateMFAEnrollment, "interrupt": StateMFAInterrupt,
		"duo": StateExternalChallenge, "expired": StatePasswordExpired, "ca": StateConditionalAccess,
		"risky": StateCompromised, "unassigned": StateNotAssigned, "admlocked": StateLocked,
	}
	for name, st := range states {
		e.addUser(t, User{UserPrincipalName: name + "@contoso.com", Password: "right-pw", State: st,
			Attributes: map[string]any{"displayName": "User " + name}})
	}
	e.addUser(t, User{UserPrincipalName: "disabled@contoso.com", Password: "right-pw", Disabled: true})
	e.addUser(t, User{UserPrincipalName: "nopw@contoso.com"})
	e.addUser(t, User{UserPrincipalName: "fed@fabrikam.com", Password: "right-pw"})
	e.addUser(t, User{UserPrincipalName: "cloud@northwind.com", Password: "right-pw"})

	cases := []struct {
		user, pw          string
		code, status      int
		errName, suberror string
	}{
		{"normal@contoso.com", "wrong-pw", 50126, 400, "invalid_grant", ""},
		{"ghost@contoso.com", "right-pw", 50034, 400, "invalid_grant", ""},
		{"mfa@contoso.com", "right-pw", 50076, 400, "invalid_grant", "basic_action"},
		{"mfa@contoso.com", "wrong-pw", 50126, 400, "invalid_grant", ""},
		{"enroll@contoso.com", "right-pw", 50079, 400, "invalid_grant", "basic_action"},
		{"interrupt@contoso.com", "right-pw", 50074, 400, "invalid_grant", "basic_action"},
		{"duo@contoso.com", "right-pw", 50158, 400, "interaction_required", "basic_action"},
		{"expired@contoso.com", "right-pw", 50055, 400, "user_password_expired", "user_password_expired"},
		{"ca@contoso.com", "right-pw", 53003, 400, "interaction_required", "message_only"},
		{"ca@contoso.com", "wrong-pw", 50126, 400, "invalid_grant", ""},
		{"risky@contoso.com", "right-pw", 50135, 400, "invalid_grant", ""},
		{"unassigned@contoso.com", "right-pw", 50105, 400, "invalid_grant", ""},
		{"admlocked@contoso.com", "right-pw", 50053, 400, "unauthorized_client", ""},
		{"disabled@contoso.com", "right-pw", 50057, 400, "invalid_grant", ""},
		{"nopw@contoso.com", "right-pw", 50056, 400, "invalid_grant", ""},
		{"fed@fabrikam.com", "right-pw", 50126, 400, "invalid_grant", ""},
	}
	for _, c := range cases {
		t.Run(c.user+"/"+c.pw, func(t *testing.T) {
			r := e.token(t, tTenant, ropc(c.user, c.pw))
			checkAADError(t, r, c.code, c.status, c.errName, c.suberror)
			if c.code == 50055 && r.body["password_change_url"] == nil {
				t.Error("50055 without password_change_url")
			}
		})
	}

	// Success, also through a federated domain allowing cloud password validation.
	for _, u := range []string{"normal@contoso.com", "cloud@northwind.com"} {
		r := e.token(t, tTenant, ropc(u, "right-pw"))
		if r.status != 200 {
			t.Fatalf("%s: %d %s", u, r.status, r.raw)
		}
		for _, k := range []string{"token_type", "scope", "access_token", "refresh_token", "id_token", "client_info"} {
			if s, _ := r.body[k].(string); s == "" {
				t.Errorf("success without %s", k)
			}
		}
		if r.body["scope"] != "User.Read profile openid email" || r.body["expires_in"] == nil || r.body["ext_expires_in"] == nil {
			t.Errorf("success body %v", r.body)
		}
		ci, err := base64.RawURLEncoding.DecodeString(r.body["client_info"].(string))
		var cim map[string]string
		if err != nil || json.Unmarshal(ci, &cim) != nil || cim["uid"] != e.UserID(u) || cim["utid"] != tTenant {
			t.Errorf("client_info %q", ci)
		}
		parts := strings.Split(r.body["id_token"].(string), ".")
		pl, err := base64.RawURLEncoding.DecodeString(parts[1])
		var claims map[string]any
		if err != nil || json.Unmarshal(pl, &claims) != nil {
			t.Fatalf("id_token payload: %v", err)
		}
		for _, k := range []string{"oid", "tid", "sub", "preferred_username", "name", "iss", "aud", "exp", "iat", "nbf"} {
			if _, ok := claims[k]; !ok {
				t.Errorf("id_token without %s", k)
			}
		}
		if claims["preferred_username"] != u || claims["aud"] != tPublic || claims["iss"] != e.URL+"/"+tTenant+"/v2.0" {
			t.Errorf("id_token claims %v", claims)
		}
	}
	// Full-URI scope is echoed in short form (so MSAL would report declined scopes).
	f := ropc("normal@contoso.com", "right-pw")
	f.Set("scope", "https://graph.microsoft.com/User.Read openid")
	if r := e.token(t, tTenant, f); r.body["scope"] != "User.Read profile openid email" {
		t.Errorf("scope echo %v", r.body["scope"])
	}
}

func TestTokenClientAndTenantErrors(t *testing.T) {
	e := start(t, Options{})
	e.addUser(t, User{UserPrincipalName: "a@contoso.com", Password: "right-pw"})
	f := ropc("a@contoso.com", "right-pw")
	f.Set("client_secret", "x")
	checkAADError(t, e.token(t, tTenant, f), 700025, 401, "invalid_client", "")
	f = ropc("a@contoso.com", "right-pw")
	f.Set("client_id", "nobody")
	checkAADError(t, e.token(t, tTenant, f), 700016, 400, "unauthorized_client", "")
	f = ropc("a@contoso.com", "right-pw")
	f.Set("scope", "Mail.Read openid profile offline_access")
	checkAADError(t, e.token(t, tTenant, f), 65001, 400, "invalid_grant", "consent_required")
	f = ropc("a@contoso.com", "right-pw")
	f.Set("client_id", tConf)
	checkAADError(t, e.token(t, tTenant, f), 7000218, 401, "invalid_client", "")
	checkAADError(t, e.token(t, "common", ropc("a@contoso.com", "right-pw")), 9001023, 400, "invalid_request", "")
	checkAADError(t, e.token(t, "consumers", ropc("a@contoso.com", "right-pw")), 9001023, 400, "invalid_request", "")
	checkAADError(t, e.token(t, "00000000-0000-0000-0000-000000000000", ropc("a@contoso.com", "right-pw")), 90002, 400, "invalid_request", "")
	if r := e.token(t, "organizations", ropc("a@contoso.com", "right-pw")); r.status != 200 {
		t.Errorf("organizations: %d %s", r.status, r.raw)
	}
	cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {tConf}, "client_secret": {"bad"}, "scope": {"https://graph.microsoft.com/.default"}}
	checkAADError(t, e.token(t, tTenant, cc), 7000215, 401, "invalid_client", "")
	if tok := e.graphToken(t); tok == "" {
		t.Error("no client-credentials token")
	}
	// client_secret_basic is accepted as well.
	req, _ := http.NewRequest(http.MethodPost, e.URL+"/"+tTenant+"/oauth2/v2.0/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {"https://graph.microsoft.com/.default"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(tConf, tSecret)
	if r := e.do(t, req); r.status != 200 || r.body["access_token"] == nil || r.body["expires_in"] == nil || r.body["token_type"] != "Bearer" {
		t.Errorf("client_secret_basic: %d %s", r.status, r.raw)
	}
	cc.Set("scope", "User.Read")
	cc.Set("client_secret", tSecret)
	checkAADError(t, e.token(t, tTenant, cc), 70011, 400, "invalid_scope", "")
	log := e.TokenLog()
	for _, l := range log {
		if l.GrantType == "password" && !l.HasPassword {
			t.Errorf("log lost password field flag: %+v", l)
		}
	}
	if b, _ := json.Marshal(log); strings.Contains(string(b), "right-pw") || strings.Contains(string(b), tSecret) {
		t.Error("token log holds a secret")
	}
}

func TestSmartLockout(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := start(t, Options{LockoutThreshold: 3, LockoutDuration: time.Minute, Now: clock})
	e.addUser(t, User{UserPrincipalName: "a@contoso.com", Password: "right-pw"})
	// The same wrong password repeated counts once.
	for range 5 {
		checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "wrong-pw")), 50126, 400, "invalid_grant", "")
	}
	if st := e.Lockout("a@contoso.com"); st.Failures != 1 || st.Locked {
		t.Fatalf("after repeats: %+v", st)
	}
	e.token(t, tTenant, ropc("a@contoso.com", "wrong-pw2"))
	e.token(t, tTenant, ropc("a@contoso.com", "wrong-pw3"))
	if st := e.Lockout("a@contoso.com"); !st.Locked {
		t.Fatalf("not locked after 3 distinct failures: %+v", st)
	}
	checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "right-pw")), 50053, 400, "unauthorized_client", "")
	now = now.Add(61 * time.Second)
	if r := e.token(t, tTenant, ropc("a@contoso.com", "right-pw")); r.status != 200 {
		t.Fatalf("after lockout window: %d %s", r.status, r.raw)
	}
	e.SetIPBlocked(true)
	checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "right-pw")), 50053, 400, "unauthorized_client", "")
	e.SetIPBlocked(false)
	if got := e.TokenRequests("A@contoso.com"); got != 10 {
		t.Errorf("token requests for user = %d, want 10", got)
	}
}

func TestTokenFaults(t *testing.T) {
	e := start(t, Options{})
	e.addUser(t, User{UserPrincipalName: "a@contoso.com", Password: "right-pw"})
	e.InjectFault(RouteToken, Fault{Status: 429, RetryAfter: 7 * time.Second, Times: 1, User: "a@contoso.com"})
	r := e.token(t, tTenant, ropc("a@contoso.com", "right-pw"))
	if r.status != 429 || r.header.Get("Retry-After") != "7" {
		t.Errorf("429 fault: %d %q", r.status, r.header.Get("Retry-After"))
	}
	if r := e.token(t, tTenant, ropc("a@contoso.com", "right-pw")); r.status != 200 {
		t.Errorf("fault not used up: %d", r.status)
	}
	if n := e.TokenRequests("a@contoso.com"); n != 2 {
		t.Errorf("TokenRequests = %d, want 2 (the throttled one counts)", n)
	}
	e.InjectFault(RouteToken, Fault{AADSTS: 50196, Times: 1})
	checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "right-pw")), 50196, 400, "invalid_grant", "")
	e.FailNext(RouteToken, 1, 503)
	checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "right-pw")), 90033, 503, "temporarily_unavailable", "")

	e.InjectFault(RouteToken, Fault{Hang: true, Times: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.URL+"/"+tTenant+"/oauth2/v2.0/token", strings.NewReader(ropc("a@contoso.com", "right-pw").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	t0 := time.Now()
	_, err := e.hc.Do(req)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(t0) > 2*time.Second {
		t.Errorf("hang: err=%v after %v", err, time.Since(t0))
	}
	e.DropNext(RouteToken, 1)
	req, _ = http.NewRequest(http.MethodPost, e.URL+"/"+tTenant+"/oauth2/v2.0/token", strings.NewReader(ropc("a@contoso.com", "right-pw").Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if res, err := e.hc.Do(req); err == nil {
		res.Body.Close()
		t.Errorf("drop: got status %d, want a transport error", res.StatusCode)
	}
	e.InjectFault(RouteToken, Fault{Latency: 150 * time.Millisecond, Times: 1})
	t0 = time.Now()
	if r := e.token(t, tTenant, ropc("a@contoso.com", "right-pw")); r.status != 200 || time.Since(t0) < 150*time.Millisecond {
		t.Errorf("latency: %d after %v", r.status, time.Since(t0))
	}
}

func TestIPLockout(t *testing.T) {
	e := start(t, Options{IPLockoutThreshold: 3, LockoutThreshold: 100})
	for _, u := range []string{"a@contoso.com", "b@contoso.com", "c@contoso.com", "d@contoso.com"} {
		e.addUser(t, User{UserPrincipalName: u, Password: "right-pw"})
	}
	// A spray: one wrong password per user, counted per source IP.
	for _, u := range []string{"a@contoso.com", "b@contoso.com", "c@contoso.com"} {
		checkAADError(t, e.token(t, tTenant, ropc(u, "wrong-pw")), 50126, 400, "invalid_grant", "")
	}
	if !e.IPBlocked("127.0.0.1") {
		t.Fatal("IP not blocked after 3 failures")
	}
	checkAADError(t, e.token(t, tTenant, ropc("d@contoso.com", "right-pw")), 50053, 400, "unauthorized_client", "")
	if e.Lockout("d@contoso.com").Locked {
		t.Error("an IP block must not lock the user")
	}
	e.SetIPBlocked(false)
	if r := e.token(t, tTenant, ropc("d@contoso.com", "right-pw")); r.status != 200 {
		t.Errorf("after clearing: %d", r.status)
	}
}

// TestSmartLockoutAsDocumented: the first failure after a lockout locks
// again, for longer; only a success resets it; PTA tenants count repeated
// bad passwords; passwords with outer spaces never match (ROPC).
func TestSmartLockoutAsDocumented(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	e := start(t, Options{LockoutThreshold: 3, LockoutDuration: time.Minute, Now: clock})
	e.addUser(t, User{UserPrincipalName: "a@contoso.com", Password: "right-pw"})
	for _, pw := range []string{"w1", "w2", "w3"} {
		e.token(t, tTenant, ropc("a@contoso.com", pw))
	}
	first := e.Lockout("a@contoso.com")
	if !first.Locked {
		t.Fatalf("not locked: %+v", first)
	}
	now = first.LockedUntil.Add(time.Second)
	checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "w4")), 50126, 400, "invalid_grant", "")
	second := e.Lockout("a@contoso.com")
	if !second.Locked || second.Lockouts != 2 || second.LockedUntil.Sub(now).Round(time.Second) != 2*time.Minute {
		t.Fatalf("the first failure after a lockout did not lock again for longer: %+v", second)
	}
	now = second.LockedUntil.Add(time.Second)
	if r := e.token(t, tTenant, ropc("a@contoso.com", "right-pw")); r.status != 200 {
		t.Fatalf("right password after the lockout: %d", r.status)
	}
	e.token(t, tTenant, ropc("a@contoso.com", "w5"))
	if st := e.Lockout("a@contoso.com"); st.Locked || st.Failures != 1 {
		t.Fatalf("a success resets the relock: %+v", st)
	}
	// A password with a trailing space never matches, even the right one.
	checkAADError(t, e.token(t, tTenant, ropc("a@contoso.com", "right-pw ")), 50126, 400, "invalid_grant", "")

	pta := start(t, Options{LockoutThreshold: 3, CountRepeatedPasswords: true, Now: clock})
	pta.addUser(t, User{UserPrincipalName: "b@contoso.com", Password: "right-pw"})
	for range 3 {
		pta.token(t, tTenant, ropc("b@contoso.com", "same-wrong"))
	}
	if !pta.Lockout("b@contoso.com").Locked {
		t.Fatal("a PTA tenant counts repeats of the same bad password")
	}
}

// TestMFAFirst: in MFA-first mode an MFA-enforced user gets 50076 whatever
// the password.
func TestMFAFirst(t *testing.T) {
	e := start(t, Options{MFAFirst: true})
	e.addUser(t, User{UserPrincipalName: "m@contoso.com", Password: "right-pw", State: StateMFARequired})
	checkAADError(t, e.token(t, tTenant, ropc("m@contoso.com", "wrong")), 50076, 400, "invalid_grant", "basic_action")
	plain := start(t, Options{})
	plain.addUser(t, User{UserPrincipalName: "m@contoso.com", Password: "right-pw", State: StateMFARequired})
	checkAADError(t, plain.token(t, tTenant, ropc("m@contoso.com", "wrong")), 50126, 400, "invalid_grant", "")
}

// TestRenameAndReuseUPN: a rename keeps the object (ID, password); the old
// UPN is free for a new object, whose ID token names another oid.
func TestRenameAndReuseUPN(t *testing.T) {
	e := start(t, Options{})
	oldID := e.addUser(t, User{UserPrincipalName: "jsmith@contoso.com", Password: "old-pw"})
	if err := e.RenameUser("jsmith@contoso.com", "jsmith.old@contoso.com"); err != nil {
		t.Fatal(err)
	}
	newID := e.addUser(t, User{UserPrincipalName: "jsmith@contoso.com", Password: "new-hire-pw"})
	if newID == oldID || e.UserID("jsmith.old@contoso.com") != oldID || e.UserID("jsmith@contoso.com") != newID {
		t.Fatalf("ids: old %s new %s", oldID, newID)
	}
	oidOf := func(user, pw string) string {
		t.Helper()
		r := e.token(t, tTenant, ropc(user, pw))
		if r.status != 200 {
			t.Fatalf("%s: %d %s", user, r.status, r.raw)
		}
		parts := strings.Split(r.body["id_token"].(string), ".")
		pl, err := base64.RawURLEncoding.DecodeString(parts[1])
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			OID               string `json:"oid"`
			TID               string `json:"tid"`
			PreferredUsername string `json:"preferred_username"`
		}
		if err := json.Unmarshal(pl, &c); err != nil {
			t.Fatal(err)
		}
		if c.TID != tTenant || c.PreferredUsername != user {
			t.Errorf("%s: tid %q preferred_username %q", user, c.TID, c.PreferredUsername)
		}
		return c.OID
	}
	if got := oidOf("jsmith.old@contoso.com", "old-pw"); got != oldID {
		t.Errorf("renamed user's oid %s, want %s", got, oldID)
	}
	if got := oidOf("jsmith@contoso.com", "new-hire-pw"); got != newID {
		t.Errorf("new hire's oid %s, want %s", got, newID)
	}
	checkAADError(t, e.token(t, tTenant, ropc("jsmith@contoso.com", "old-pw")), 50126, 400, "invalid_grant", "")
	if err := e.RenameUser("jsmith.old@contoso.com", "jsmith@contoso.com"); err == nil {
		t.Error("renamed onto a UPN in use")
	}
}
