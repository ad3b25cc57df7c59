package fakeokta_test

import (
	"net/http/httptest"
	"testing"
	"time"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/testkit/oktaspec"
)

// TestPoliciesMatchOpenAPI validates the Policies API reads against Okta's
// published OpenAPI description.
func TestPoliciesMatchOpenAPI(t *testing.T) {
	spec := oktaspec.Skip(t)
	rep := oktaspec.NewReport()
	s := fakeokta.New(fakeokta.Options{})
	hs := httptest.NewServer(spec.Middleware(s, rep))
	t.Cleanup(hs.Close)
	e := &env{t: t, srv: s, url: hs.URL}
	if _, err := s.AddPolicyRule("OKTA_SIGN_ON", fakeokta.PolicyRuleSpec{Name: "Passwordless",
		Conditions: map[string]any{"network": map[string]any{"connection": "ANYWHERE"}},
		Actions:    map[string]any{"signon": map[string]any{"access": "ALLOW", "primaryFactor": "PASSWORD_IDP_ANY_FACTOR", "requireFactor": false}}}); err != nil {
		t.Fatal(err)
	}
	// The IdP discovery rules' provider type OKTA is outside the
	// description's IdentityProviderType enum, yet it is what Okta answers
	// (the description's own example list-all-idp-discovery-policy-rule-response):
	// those rules are read without validation.
	plain := httptest.NewServer(s)
	t.Cleanup(plain.Close)
	for _, typ := range []string{"PASSWORD", "OKTA_SIGN_ON", "IDP_DISCOVERY"} {
		r := e.do("GET", "/api/v1/policies?type="+typ, nil)
		if r.status != 200 || len(r.arr) != 1 {
			t.Fatalf("%s: %d %s", typ, r.status, r.raw)
		}
		id := path(r.arr[0].(map[string]any), "id").(string)
		e.do("GET", "/api/v1/policies/"+id, nil)
		re := e
		if typ == "IDP_DISCOVERY" {
			re = &env{t: t, srv: s, url: plain.URL}
		}
		rules := re.do("GET", "/api/v1/policies/"+id+"/rules", nil)
		if rules.status != 200 || len(rules.arr) == 0 {
			t.Fatalf("%s rules: %d %s", typ, rules.status, rules.raw)
		}
	}
	e.do("GET", "/api/v1/policies/00pnosuchpolicy00000", nil)
	rep.AssertClean(t)
	for _, op := range []string{"listPolicies", "getPolicy", "listPolicyRules"} {
		rep.AssertSeen(t, op, 0)
	}
	rep.AssertSeen(t, "getPolicy", 404)
}

// TestPolicies: a new org's default policies; the password policy's lockout
// is the one /api/v1/authn enforces; a listing needs a type; added rules
// come before the default rule.
func TestPolicies(t *testing.T) {
	e := newEnv(t, fakeokta.Options{LockoutAttempts: 3, LockoutAutoUnlock: 90 * time.Second})
	e.do("GET", "/api/v1/policies", nil).wantStatus(t, 400, "E0000001")
	e.do("GET", "/api/v1/policies?type=NOPE", nil).wantStatus(t, 400, "E0000001")
	if r := e.do("GET", "/api/v1/policies?type=MFA_ENROLL", nil); r.status != 200 || len(r.arr) != 0 {
		t.Fatalf("MFA_ENROLL: %d %s", r.status, r.raw)
	}
	pw := e.do("GET", "/api/v1/policies?type=PASSWORD", nil)
	p := pw.arr[0].(map[string]any)
	lock := path(p, "settings", "password", "lockout").(map[string]any)
	if lock["maxAttempts"] != 3.0 || lock["autoUnlockMinutes"] != 2.0 || p["system"] != true || p["status"] != "ACTIVE" {
		t.Fatalf("password policy: %s", pw.raw)
	}
	everyone := s0(path(p, "conditions", "people", "groups", "include"))
	if everyone != e.srv.EveryoneGroupID() {
		t.Errorf("password policy applies to %v, want Everyone %s", everyone, e.srv.EveryoneGroupID())
	}
	if r := newEnv(t, fakeokta.Options{LockoutAttempts: -1}).do("GET", "/api/v1/policies?type=PASSWORD", nil); path(r.arr[0].(map[string]any),
		"settings", "password", "lockout", "maxAttempts") != 0.0 {
		t.Errorf("lockout off: %s", r.raw)
	}

	so := e.do("GET", "/api/v1/policies?type=OKTA_SIGN_ON", nil).arr[0].(map[string]any)
	id := so["id"].(string)
	rules := e.do("GET", "/api/v1/policies/"+id+"/rules", nil)
	if len(rules.arr) != 1 || path(rules.arr[0].(map[string]any), "actions", "signon", "primaryFactor") != "PASSWORD_IDP" {
		t.Fatalf("default sign-on rule: %s", rules.raw)
	}
	ruleID, err := e.srv.AddPolicyRule("OKTA_SIGN_ON", fakeokta.PolicyRuleSpec{Name: "Passwordless",
		Actions: map[string]any{"signon": map[string]any{"access": "ALLOW", "primaryFactor": "PASSWORD_IDP_ANY_FACTOR"}}})
	if err != nil {
		t.Fatal(err)
	}
	rules = e.do("GET", "/api/v1/policies/"+id+"/rules", nil)
	first := rules.arr[0].(map[string]any)
	if len(rules.arr) != 2 || first["id"] != ruleID || first["priority"] != 1.0 || first["status"] != "ACTIVE" ||
		path(rules.arr[1].(map[string]any), "priority") != 2.0 {
		t.Fatalf("after AddPolicyRule: %s", rules.raw)
	}
	if _, err := e.srv.AddPolicyRule("MFA_ENROLL", fakeokta.PolicyRuleSpec{Name: "x"}); err == nil {
		t.Error("AddPolicyRule accepted a type without a default policy")
	}
	e.do("GET", "/api/v1/policies/nope/rules", nil).wantStatus(t, 404, "E0000007")
}

func s0(v any) any {
	if l, ok := v.([]any); ok && len(l) > 0 {
		return l[0]
	}
	return nil
}
