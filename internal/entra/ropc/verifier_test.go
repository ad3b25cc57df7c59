package ropc

import (
	"context"
	"entra2okta/internal/testkit/logbuf"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/entra"
)

const (
	tenantID = "11111111-2222-4333-8444-555555555555"
	clientID = "verifier-app"
	rightPW  = "Right-Pässword-1"
	wrongPW  = "Wrong-Password-2"
)

type fixture struct {
	fe   *fakeentra.Running
	v    *Verifier
	logs *logbuf.Buffer
}

func newFixture(t *testing.T, opts fakeentra.Options, mutate func(*Config)) *fixture {
	t.Helper()
	fe, err := fakeentra.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	hc := fe.HTTPClient(0)
	t.Cleanup(func() { hc.CloseIdleConnections(); _ = fe.Close() })
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(fe.AddTenant(fakeentra.Tenant{ID: tenantID, DisplayName: "Contoso"}))
	must(fe.AddDomain(tenantID, fakeentra.Domain{Name: "contoso.com"}))
	must(fe.AddDomain(tenantID, fakeentra.Domain{Name: "fabrikam.com", Federated: true}))
	must(fe.AddClient(fakeentra.Client{ID: clientID, Public: true, ConsentedScopes: []string{"User.Read"}, TenantID: tenantID}))
	logs := &logbuf.Buffer{}
	cfg := Config{
		AuthorityHost: fe.URL, TenantID: tenantID, ClientID: clientID, HTTPClient: hc,
		Policy: entra.DefaultPolicy(), Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	v, err := NewVerifier(cfg)
	must(err)
	return &fixture{fe: fe, v: v, logs: logs}
}

func (f *fixture) user(t *testing.T, u fakeentra.User) {
	t.Helper()
	if _, err := f.fe.AddUser(u); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) verify(t *testing.T, upn, pw string, budget time.Duration) entra.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), budget)
	defer cancel()
	r := f.v.VerifyPassword(ctx, upn, pw)
	if s := fmt.Sprintf("%+v", r); pw != "" && strings.Contains(s, pw) {
		t.Fatalf("result holds the password: %s", s)
	}
	return r
}

func (f *fixture) checkLogs(t *testing.T) {
	t.Helper()
	l := f.logs.String()
	for _, secret := range []string{rightPW, wrongPW, "access_token", "refresh_token", "eyJ"} {
		if strings.Contains(l, secret) {
			t.Errorf("log output contains %q", secret)
		}
	}
}

func TestVerifyMatrix(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	states := []struct {
		name  string
		state fakeentra.State
		dis   bool
		nopw  bool
	}{
		{"normal", fakeentra.StateNormal, false, false}, {"mfa", fakeentra.StateMFARequired, false, false},
		{"enroll", fakeentra.StateMFAEnrollment, false, false}, {"interrupt", fakeentra.StateMFAInterrupt, false, false},
		{"duo", fakeentra.StateExternalChallenge, false, false}, {"expired", fakeentra.StatePasswordExpired, false, false},
		{"ca", fakeentra.StateConditionalAccess, false, false}, {"risky", fakeentra.StateCompromised, false, false},
		{"unassigned", fakeentra.StateNotAssigned, false, false}, {"admlocked", fakeentra.StateLocked, false, false},
		{"disabled", fakeentra.StateNormal, true, false}, {"nopw", fakeentra.StateNormal, false, true},
	}
	for _, s := range states {
		pw := rightPW
		if s.nopw {
			pw = ""
		}
		f.user(t, fakeentra.User{UserPrincipalName: s.name + "@contoso.com", Password: pw, State: s.state, Disabled: s.dis})
	}
	f.user(t, fakeentra.User{UserPrincipalName: "fed@fabrikam.com", Password: rightPW})
	cases := []struct {
		upn, pw string
		verdict entra.Verdict
		reason  string
		code    int
	}{
		{"normal@contoso.com", rightPW, entra.Verified, entra.ReasonOK, 0},
		{"normal@contoso.com", wrongPW, entra.Rejected, entra.ReasonWrongPassword, 50126},
		{"ghost@contoso.com", rightPW, entra.Rejected, entra.ReasonUnknownUser, 50034},
		{"mfa@contoso.com", rightPW, entra.Verified, entra.ReasonMFARequired, 50076},
		{"mfa@contoso.com", wrongPW, entra.Rejected, entra.ReasonWrongPassword, 50126},
		{"enroll@contoso.com", rightPW, entra.Verified, entra.ReasonMFAEnrollment, 50079},
		{"interrupt@contoso.com", rightPW, entra.Verified, entra.ReasonMFAInterrupt, 50074},
		{"duo@contoso.com", rightPW, entra.Verified, entra.ReasonExternalChallenge, 50158},
		{"expired@contoso.com", rightPW, entra.Rejected, entra.ReasonPasswordExpired, 50055},
		{"ca@contoso.com", rightPW, entra.Rejected, entra.ReasonConditionalAccess, 53003},
		{"ca@contoso.com", wrongPW, entra.Rejected, entra.ReasonWrongPassword, 50126},
		{"risky@contoso.com", rightPW, entra.Rejected, entra.ReasonCompromised, 50135},
		{"unassigned@contoso.com", rightPW, entra.Indeterminate, entra.ReasonNotAssigned, 50105},
		{"admlocked@contoso.com", rightPW, entra.Indeterminate, entra.ReasonLocked, 50053},
		{"disabled@contoso.com", rightPW, entra.Rejected, entra.ReasonDisabled, 50057},
		{"nopw@contoso.com", rightPW, entra.Rejected, entra.ReasonNoPassword, 50056},
		{"fed@fabrikam.com", rightPW, entra.Indeterminate, entra.ReasonFederated, 0},
		{"someone@unknown.example", rightPW, entra.Rejected, entra.ReasonUnknownDomain, 0},
		{"normal@contoso.com", "", entra.Rejected, entra.ReasonEmptyCredentials, 0},
		{" ", rightPW, entra.Rejected, entra.ReasonEmptyCredentials, 0},
	}
	for _, c := range cases {
		t.Run(c.upn+"/"+c.reason, func(t *testing.T) {
			r := f.verify(t, c.upn, c.pw, 5*time.Second)
			if r.Verdict != c.verdict || r.Reason != c.reason || r.Code != c.code {
				t.Errorf("got %s/%s/%d, want %s/%s/%d", r.Verdict, r.Reason, r.Code, c.verdict, c.reason, c.code)
			}
			if r.Latency <= 0 && c.reason != entra.ReasonEmptyCredentials {
				t.Error("latency not measured")
			}
			// Only a token-bearing success names the account (ID token
			// oid and tid); an interrupt or a failure names none.
			wantOID, wantTID := "", ""
			if c.reason == entra.ReasonOK {
				wantOID, wantTID = f.fe.UserID(c.upn), tenantID
			}
			if r.ObjectID != wantOID || !strings.EqualFold(r.TenantID, wantTID) || (c.reason == entra.ReasonOK && wantOID == "") {
				t.Errorf("oid/tid %q/%q, want %q/%q", r.ObjectID, r.TenantID, wantOID, wantTID)
			}
		})
	}
	if n := f.fe.TokenRequests(" "); n != 0 {
		t.Errorf("empty username reached Entra")
	}
	// Federated and unknown domains never reach the token endpoint, and MSAL
	// is stopped before it follows the federation metadata URL.
	if n := f.fe.TokenRequests("fed@fabrikam.com") + f.fe.TokenRequests("someone@unknown.example"); n != 0 {
		t.Errorf("token requests for federated/unknown = %d", n)
	}
	if n := f.fe.Calls(fakeentra.RouteOther); n != 0 {
		t.Errorf("MSAL followed the federation metadata URL (%d requests)", n)
	}
	f.checkLogs(t)
}

func TestVerifyPolicyOverrides(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, func(c *Config) {
		c.Policy = entra.Policy{MFAVerified: false, PasswordExpiredVerified: true, ConditionalAccessVerified: true}
	})
	f.user(t, fakeentra.User{UserPrincipalName: "mfa@contoso.com", Password: rightPW, State: fakeentra.StateMFARequired})
	f.user(t, fakeentra.User{UserPrincipalName: "exp@contoso.com", Password: rightPW, State: fakeentra.StatePasswordExpired})
	f.user(t, fakeentra.User{UserPrincipalName: "ca@contoso.com", Password: rightPW, State: fakeentra.StateConditionalAccess})
	for upn, want := range map[string]entra.Verdict{"mfa@contoso.com": entra.Rejected, "exp@contoso.com": entra.Verified, "ca@contoso.com": entra.Verified} {
		if r := f.verify(t, upn, rightPW, 5*time.Second); r.Verdict != want {
			t.Errorf("%s: %s (%s), want %s", upn, r.Verdict, r.Reason, want)
		}
	}
}

func TestVerifyNoCacheAndRequestsOnTheWire(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Verified {
		t.Fatalf("first check: %+v", r)
	}
	first := map[fakeentra.Route]int{}
	for _, rt := range []fakeentra.Route{fakeentra.RouteOpenIDConfig, fakeentra.RouteUserRealm, fakeentra.RouteToken, fakeentra.RouteInstanceDiscovery} {
		first[rt] = f.fe.Calls(rt)
	}
	if first[fakeentra.RouteOpenIDConfig] != 1 || first[fakeentra.RouteUserRealm] != 1 || first[fakeentra.RouteToken] != 1 || first[fakeentra.RouteInstanceDiscovery] != 0 {
		t.Errorf("first check requests: %v", first)
	}
	accts, err := f.v.client.Accounts(context.Background())
	if err != nil || len(accts) != 0 {
		t.Errorf("accounts kept after success: %d (%v)", len(accts), err)
	}
	// A wrong password after a success is still rejected: no cached answer.
	if r := f.verify(t, "alice@contoso.com", wrongPW, 5*time.Second); r.Verdict != entra.Rejected || r.Reason != entra.ReasonWrongPassword {
		t.Errorf("wrong password after success: %+v", r)
	}
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Verified {
		t.Errorf("right password again: %+v", r)
	}
	// After the first check: exactly one realm and one token request each.
	if d := f.fe.Calls(fakeentra.RouteUserRealm) - first[fakeentra.RouteUserRealm]; d != 2 {
		t.Errorf("realm requests for 2 checks = %d", d)
	}
	if d := f.fe.Calls(fakeentra.RouteToken) - first[fakeentra.RouteToken]; d != 2 {
		t.Errorf("token requests for 2 checks = %d", d)
	}
	if n := f.fe.Calls(fakeentra.RouteOpenIDConfig); n != 1 {
		t.Errorf("openid-configuration fetched %d times", n)
	}
	log := f.fe.TokenLog()
	if len(log) != 3 {
		t.Fatalf("token log: %d", len(log))
	}
	for _, l := range log {
		if l.GrantType != "password" || l.Username != "alice@contoso.com" || !l.HasPassword || l.HasClientSecret || l.ClientID != clientID || l.Tenant != tenantID {
			t.Errorf("token request %+v", l)
		}
		if !slices.Contains(strings.Fields(l.Scope), "User.Read") {
			t.Errorf("scope %q lacks User.Read", l.Scope)
		}
		if !slices.Equal(l.Fields, []string{"client_id", "client_info", "grant_type", "password", "scope", "username"}) {
			t.Errorf("form fields %v", l.Fields)
		}
	}
	accts, _ = f.v.client.Accounts(context.Background())
	if len(accts) != 0 {
		t.Errorf("accounts kept: %d", len(accts))
	}
	f.checkLogs(t)
}

func TestVerifyDeadlineWhenEntraHangs(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	f.fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Hang: true})
	budget := 400 * time.Millisecond
	t0 := time.Now()
	r := f.verify(t, "alice@contoso.com", rightPW, budget)
	el := time.Since(t0)
	if r.Verdict != entra.Indeterminate || r.Reason != entra.ReasonTimeout {
		t.Errorf("got %+v", r)
	}
	if el < budget || el > budget+time.Second {
		t.Errorf("answered after %v for a %v budget", el, budget)
	}
}

func TestVerifyThrottledAndUnavailable(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	f.fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Status: 429, RetryAfter: 7 * time.Second, Times: 1})
	r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second)
	if r.Verdict != entra.Indeterminate || r.Reason != entra.ReasonThrottled || r.RetryAfter != 7*time.Second {
		t.Errorf("429: %+v", r)
	}
	f.fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{AADSTS: 50196, Times: 1})
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Indeterminate || r.Reason != entra.ReasonThrottled || r.Code != 50196 {
		t.Errorf("50196: %+v", r)
	}
	f.fe.FailNext(fakeentra.RouteToken, 1, 503)
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Indeterminate || r.Reason != entra.ReasonTransient {
		t.Errorf("503: %+v", r)
	}
	f.fe.FailNext(fakeentra.RouteToken, 1, 500)
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Indeterminate {
		t.Errorf("500: %+v", r)
	}
	f.fe.DropNext(fakeentra.RouteToken, 1)
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Indeterminate || r.Reason != entra.ReasonUnavailable {
		t.Errorf("dropped connection: %+v", r)
	}
	f.fe.InjectFault(fakeentra.RouteUserRealm, fakeentra.Fault{Status: 429, RetryAfter: 2 * time.Second, Times: 1})
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Reason != entra.ReasonThrottled || r.RetryAfter != 2*time.Second {
		t.Errorf("429 on UserRealm: %+v", r)
	}
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Verified {
		t.Errorf("after faults: %+v", r)
	}
	f.checkLogs(t)
}

func TestVerifySmartLockout(t *testing.T) {
	f := newFixture(t, fakeentra.Options{LockoutThreshold: 4, LockoutDuration: time.Hour}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	for i := range 4 {
		if r := f.verify(t, "alice@contoso.com", fmt.Sprintf("%s-%d", wrongPW, i), 5*time.Second); r.Reason != entra.ReasonWrongPassword {
			t.Fatalf("failure %d: %+v", i, r)
		}
	}
	r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second)
	if r.Verdict != entra.Indeterminate || r.Reason != entra.ReasonLocked || r.Code != 50053 {
		t.Errorf("right password while locked: %+v", r)
	}
}

func TestVerifyConfigErrors(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	check := func(name string, mutate func(*Config), reason string) {
		t.Helper()
		cfg := Config{AuthorityHost: f.fe.URL, TenantID: tenantID, ClientID: clientID, HTTPClient: f.fe.HTTPClient(0), Policy: entra.DefaultPolicy()}
		mutate(&cfg)
		v, err := NewVerifier(cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if r := v.VerifyPassword(ctx, "alice@contoso.com", rightPW); r.Verdict != entra.Indeterminate || r.Reason != reason {
			t.Errorf("%s: %+v, want entra.Indeterminate/%s", name, r, reason)
		}
	}
	check("unknown app", func(c *Config) { c.ClientID = "nope" }, entra.ReasonAppNotFound)
	check("unconsented scope", func(c *Config) { c.Scopes = []string{"Mail.Read"} }, entra.ReasonConsentMissing)
	check("unknown tenant", func(c *Config) { c.TenantID = "00000000-0000-4000-8000-000000000000" }, entra.ReasonTenantNotFound)
	check("full-URI scope", func(c *Config) { c.Scopes = []string{"https://graph.microsoft.com/User.Read"} }, entra.ReasonScopeDeclined)
	if _, err := NewVerifier(Config{TenantID: "common", ClientID: "x"}); err == nil {
		t.Error("common tenant accepted")
	}
	if _, err := NewVerifier(Config{AuthorityHost: "http://127.0.0.1:1", TenantID: "t", ClientID: "x"}); err == nil {
		t.Error("http authority accepted")
	}
}

func TestClassifyTable(t *testing.T) {
	for code, want := range map[int][2]string{
		50126: {"rejected", entra.ReasonWrongPassword}, 50034: {"rejected", entra.ReasonUnknownUser}, 50076: {"verified", entra.ReasonMFARequired},
		50072: {"verified", entra.ReasonMFAEnrollment}, 53003: {"rejected", entra.ReasonConditionalAccess}, 50144: {"rejected", entra.ReasonPasswordExpired},
		50053: {"indeterminate", entra.ReasonLocked}, 530035: {"indeterminate", entra.ReasonSecurityDefaults}, 7000218: {"indeterminate", entra.ReasonAppNotPublic},
		700025: {"indeterminate", entra.ReasonClientCredential}, 9001023: {"indeterminate", entra.ReasonBadAuthority}, 80007: {"indeterminate", entra.ReasonTransient},
		16000: {"rejected", entra.ReasonExternalUser}, 12345: {"indeterminate", entra.ReasonUnknownCode},
	} {
		v, r := entra.Classify(code, entra.DefaultPolicy())
		if string(v) != want[0] || r != want[1] {
			t.Errorf("Classify(%d) = %s/%s, want %s/%s", code, v, r, want[0], want[1])
		}
	}
	if got := pickCode([]int{70002, 50126}); got != 50126 {
		t.Errorf("pickCode([70002 50126]) = %d", got)
	}
	if got := parseRetryAfter("Wed, 21 Oct 2015 07:28:10 GMT", time.Date(2015, 10, 21, 7, 28, 0, 0, time.UTC)); got != 10*time.Second {
		t.Errorf("parseRetryAfter(date) = %v", got)
	}
}

// Documented Entra bodies the emulator does not produce by itself, served
// verbatim: the verifier must decide by error_codes (or the AADSTS code of
// the description when a body has none).
func TestVerifyForeignBodies(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	desc := func(code int, text string) string {
		return fmt.Sprintf(`AADSTS%d: %s\r\nTrace ID: 0b6a4c2e-1111-4222-8333-444455556666\r\nCorrelation ID: 7f1e2d3c-aaaa-4bbb-8ccc-ddddeeeeffff\r\nTimestamp: 2024-05-02 10:11:12Z`, code, text)
	}
	cases := []struct {
		name    string
		status  int
		body    string
		verdict entra.Verdict
		reason  string
		code    int
	}{
		{"legacy two codes", 400, `{"error":"invalid_grant","error_description":"` + desc(50126, "Error validating credentials due to invalid username or password.") +
			`","error_codes":[70002,50126],"timestamp":"2024-05-02 10:11:12Z","trace_id":"0b6a4c2e-1111-4222-8333-444455556666","correlation_id":"7f1e2d3c-aaaa-4bbb-8ccc-ddddeeeeffff"}`,
			entra.Rejected, entra.ReasonWrongPassword, 50126},
		{"mfa interaction_required 2020 style", 400, `{"error":"interaction_required","error_description":"` + desc(50076, "Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '00000003-0000-0000-c000-000000000000'.") +
			`","error_codes":[50076],"timestamp":"2024-05-02 10:11:12Z","trace_id":"x","correlation_id":"y","error_uri":"https://login.microsoftonline.com/error?code=50076","suberror":"basic_action"}`,
			entra.Verified, entra.ReasonMFARequired, 50076},
		{"no error_codes", 400, `{"error":"unauthorized_client","error_description":"` + desc(50053, "The account is locked.") + `"}`,
			entra.Indeterminate, entra.ReasonLocked, 50053},
		{"7000218 invalid_client 401", 401, `{"error":"invalid_client","error_description":"` + desc(7000218, "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.") +
			`","error_codes":[7000218]}`, entra.Indeterminate, entra.ReasonAppNotPublic, 7000218},
		{"200 carrying an error", 200, `{"error":"invalid_grant","error_description":"` + desc(50126, "Error validating credentials due to invalid username or password.") + `","error_codes":[50126]}`,
			entra.Rejected, entra.ReasonWrongPassword, 50126},
		{"200 without expires_in", 200, `{"token_type":"Bearer","access_token":"abc"}`, entra.Indeterminate, entra.ReasonBadResponse, 0},
		{"html 502", 502, `<html><body>Bad Gateway</body></html>`, entra.Indeterminate, entra.ReasonUnavailable, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := ""
			if strings.HasPrefix(c.body, "<") {
				ct = "text/html"
			}
			f.fe.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Status: c.status, Body: c.body, ContentType: ct, Times: 1})
			r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second)
			if r.Verdict != c.verdict || r.Reason != c.reason || r.Code != c.code {
				t.Errorf("got %s/%s/%d, want %s/%s/%d", r.Verdict, r.Reason, r.Code, c.verdict, c.reason, c.code)
			}
		})
	}
}

// Concurrent checks of managed, federated and wrong-password users must not
// see each other's realm or results (the realm state is per call).
func TestVerifyConcurrent(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	for i := range 4 {
		f.user(t, fakeentra.User{UserPrincipalName: fmt.Sprintf("m%d@contoso.com", i), Password: rightPW})
		f.user(t, fakeentra.User{UserPrincipalName: fmt.Sprintf("f%d@fabrikam.com", i), Password: rightPW})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for i := range 24 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var upn, pw, want string
			switch i % 3 {
			case 0:
				upn, pw, want = fmt.Sprintf("m%d@contoso.com", i%4), rightPW, entra.ReasonOK
			case 1:
				upn, pw, want = fmt.Sprintf("f%d@fabrikam.com", i%4), rightPW, entra.ReasonFederated
			default:
				upn, pw, want = fmt.Sprintf("m%d@contoso.com", i%4), fmt.Sprintf("%s-%d", wrongPW, i), entra.ReasonWrongPassword
			}
			if r := f.v.VerifyPassword(ctx, upn, pw); r.Reason != want {
				errs <- fmt.Sprintf("%s: %s, want %s", upn, r.Reason, want)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if accts, _ := f.v.client.Accounts(context.Background()); len(accts) != 0 {
		t.Errorf("%d accounts left in MSAL's cache", len(accts))
	}
}

// A failed OpenID-configuration fetch is not cached: the next check works.
func TestVerifyDiscoveryFailureNotCached(t *testing.T) {
	f := newFixture(t, fakeentra.Options{}, nil)
	f.user(t, fakeentra.User{UserPrincipalName: "alice@contoso.com", Password: rightPW})
	f.fe.FailNext(fakeentra.RouteOpenIDConfig, 1, 503)
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Indeterminate {
		t.Errorf("discovery 503: %+v", r)
	}
	if n := f.fe.TokenRequests("alice@contoso.com"); n != 0 {
		t.Errorf("token endpoint reached without discovery: %d", n)
	}
	if r := f.verify(t, "alice@contoso.com", rightPW, 5*time.Second); r.Verdict != entra.Verified {
		t.Errorf("after discovery recovered: %+v", r)
	}
}
