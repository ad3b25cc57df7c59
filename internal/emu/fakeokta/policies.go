package fakeokta

import (
	"errors"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Policies: the reads of the Policies API (list by type, get one, list its
// rules), serving the policies a new Identity Engine org has: the default
// global session policy (OKTA_SIGN_ON) whose default rule asks for the
// password (primaryFactor PASSWORD_IDP), the default password policy whose
// lockout is the emulator's own (Options.LockoutAttempts and
// LockoutAutoUnlock, which /api/v1/authn enforces), and the IdP discovery
// policy whose default rule routes to Okta's sign-in
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
// Tests add rules with AddPolicyRule; there is no policy CRUD.

// The Policies API routes.
const (
	RouteListPolicies    Route = "GET /api/v1/policies"
	RouteGetPolicy       Route = "GET /api/v1/policies/{policyId}"
	RouteListPolicyRules Route = "GET /api/v1/policies/{policyId}/rules"
)

// The policy types of the PolicyType enum.
var policyTypes = []string{
	"ACCESS_POLICY", "ENTITY_RISK", "IDP_DISCOVERY", "MFA_ENROLL", "OKTA_SIGN_ON", "PASSWORD", "POST_AUTH_SESSION",
	"PROFILE_ENROLLMENT", "DEVICE_SIGNAL_COLLECTION", "SESSION_VIOLATION_DETECTION", "CLIENT_UPDATE", "IDENTITY_CLAIM_SOURCING",
}

// policyState is the emulator's policies (Server.policies), guarded by
// Server.mu and created on first use.
type policyState struct {
	everyone string // the Everyone group's id
	policies []*policy
}

type policy struct {
	id, typ, name, description string
	status                     string
	priority                   int
	system                     bool
	conditions                 map[string]any
	// complexity is a password policy's settings.password.complexity; nil
	// renders a new org's default.
	complexity           map[string]any
	created, lastUpdated time.Time
	rules                []*policyRule
}

type policyRule struct {
	id, typ, name, status string
	priority              int
	system                bool
	conditions, actions   map[string]any
	created, lastUpdated  time.Time
}

func (s *Server) addPolicyRoutes() {
	s.handle(RouteListPolicies, s.listPolicies)
	s.handle(RouteGetPolicy, onObject(s, s.policyByPath, s.getPolicy))
	s.handle(RouteListPolicyRules, onObject(s, s.policyByPath, s.listPolicyRules))
}

// policiesLocked returns the policies, creating the defaults of a new org
// on first use. The caller holds s.mu.
func (s *Server) policiesLocked() *policyState {
	ps := &s.policies
	if ps.everyone != "" {
		return ps
	}
	now := s.now()
	ps.everyone = oktaID("00g")
	everyone := map[string]any{"groups": map[string]any{"include": []string{ps.everyone}}}
	anywhere := map[string]any{"connection": "ANYWHERE"}
	noUsers := map[string]any{"users": map[string]any{"exclude": []string{}}}
	rule := func(typ string, conditions, actions map[string]any) *policyRule {
		return &policyRule{id: oktaID("0pr"), typ: typ, name: "Default Rule", status: "ACTIVE", priority: 1, system: true,
			conditions: conditions, actions: actions, created: now, lastUpdated: now}
	}
	ps.policies = []*policy{
		{id: oktaID("00p"), typ: "OKTA_SIGN_ON", name: "Default Policy", description: "The default policy applies in all situations if no other policy applies.",
			status: "ACTIVE", priority: 1, system: true, conditions: map[string]any{"people": everyone}, created: now, lastUpdated: now,
			rules: []*policyRule{rule("SIGN_ON",
				map[string]any{"people": noUsers, "network": anywhere, "authContext": map[string]any{"authType": "ANY"},
					"identityProvider": map[string]any{"provider": "ANY"}},
				map[string]any{"signon": map[string]any{"access": "ALLOW", "requireFactor": false, "primaryFactor": "PASSWORD_IDP",
					"rememberDeviceByDefault": false, "session": map[string]any{"usePersistentCookie": false,
						"maxSessionIdleMinutes": 120, "maxSessionLifetimeMinutes": 0}}})}},
		{id: oktaID("00p"), typ: "PASSWORD", name: "Default Policy", description: "The default policy applies in all situations if no other policy applies.",
			status: "ACTIVE", priority: 1, system: true, created: now, lastUpdated: now,
			conditions: map[string]any{"people": everyone, "authProvider": map[string]any{"provider": "OKTA"}},
			rules: []*policyRule{rule("PASSWORD", map[string]any{"people": noUsers, "network": anywhere},
				map[string]any{"passwordChange": map[string]any{"access": "ALLOW"},
					"selfServicePasswordReset": map[string]any{"access": "ALLOW"},
					"selfServiceUnlock":        map[string]any{"access": "DENY"}})}},
		{id: oktaID("00p"), typ: "IDP_DISCOVERY", name: "Idp Discovery Policy", status: "ACTIVE", priority: 1, system: true,
			created: now, lastUpdated: now,
			rules: []*policyRule{rule("IDP_DISCOVERY", map[string]any{"network": anywhere},
				map[string]any{"idp": map[string]any{"providers": []map[string]any{{"type": "OKTA"}}}})}},
	}
	return ps
}

// lockout renders the password policy's lockout from the emulator's own
// lockout settings: maxAttempts 0 means no limit, autoUnlockMinutes 0 never.
func (s *Server) lockout() map[string]any {
	attempts := s.opts.LockoutAttempts
	switch {
	case attempts == 0:
		attempts = 10
	case attempts < 0:
		attempts = 0
	}
	unlock := int((s.opts.LockoutAutoUnlock + time.Minute - 1) / time.Minute)
	return map[string]any{"maxAttempts": attempts, "autoUnlockMinutes": unlock, "showLockoutFailures": false,
		"userLockoutNotificationChannels": []string{}}
}

func (s *Server) renderPolicy(p *policy, base string) map[string]any {
	self := base + "/api/v1/policies/" + p.id
	out := map[string]any{
		"id": p.id, "type": p.typ, "name": p.name, "status": p.status, "priority": p.priority, "system": p.system,
		"created": fmtTime(p.created), "lastUpdated": fmtTime(p.lastUpdated),
		"_links": map[string]any{"self": link{Href: self, Hints: map[string]any{"allow": []string{"GET", "PUT", "DELETE"}}},
			"rules": link{Href: self + "/rules", Hints: map[string]any{"allow": []string{"GET", "POST"}}}},
	}
	if p.description != "" {
		out["description"] = p.description
	}
	if p.conditions != nil {
		out["conditions"] = p.conditions
	}
	if p.typ == "PASSWORD" {
		out["settings"] = map[string]any{
			"password": map[string]any{
				"complexity": complexity(p),
				"age":        map[string]any{"maxAgeDays": 0, "expireWarnDays": 0, "minAgeMinutes": 0, "historyCount": 4},
				"lockout":    s.lockout(),
			},
			"recovery": map[string]any{"factors": map[string]any{
				"recovery_question": map[string]any{"status": "ACTIVE", "properties": map[string]any{"complexity": map[string]any{"minLength": 4}}},
				"okta_email":        map[string]any{"status": "ACTIVE", "properties": map[string]any{"recoveryToken": map[string]any{"tokenLifetimeMinutes": 60}}},
				"okta_sms":          map[string]any{"status": "INACTIVE"},
				"okta_call":         map[string]any{"status": "INACTIVE"},
			}},
			"delegation": map[string]any{"options": map[string]any{"skipUnlock": false}},
		}
	}
	return out
}

// complexity renders a password policy's complexity: the one set with
// SetPasswordComplexity or AddPasswordPolicy, else a new org's default.
func complexity(p *policy) map[string]any {
	if p.complexity != nil {
		return p.complexity
	}
	return map[string]any{"minLength": 8, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 0,
		"excludeUsername": true, "dictionary": map[string]any{"common": map[string]any{"exclude": false}}, "excludeAttributes": []string{}}
}

func renderRule(p *policy, r *policyRule, base string) map[string]any {
	self := base + "/api/v1/policies/" + p.id + "/rules/" + r.id
	post := map[string]any{"allow": []string{"POST"}}
	links := map[string]any{"self": link{Href: self, Hints: map[string]any{"allow": []string{"GET", "PUT", "DELETE"}}}}
	if r.status == "ACTIVE" {
		links["deactivate"] = link{Href: self + "/lifecycle/deactivate", Hints: post}
	} else {
		links["activate"] = link{Href: self + "/lifecycle/activate", Hints: post}
	}
	return map[string]any{
		"id": r.id, "type": r.typ, "name": r.name, "status": r.status, "priority": r.priority, "system": r.system,
		"conditions": r.conditions, "actions": r.actions, "created": fmtTime(r.created), "lastUpdated": fmtTime(r.lastUpdated),
		"_links": links,
	}
}

// listPolicies answers GET /api/v1/policies?type=T: the type is required
// (OAS listPolicies), the policies come in priority order.
func (s *Server) listPolicies(w http.ResponseWriter, r *http.Request) {
	typ := r.URL.Query().Get("type")
	if !slices.Contains(policyTypes, typ) {
		s.fail(w, validationFailed("type", "type: The policy type is required and must be one of the PolicyType values"))
		return
	}
	status := r.URL.Query().Get("status")
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []*policy
	for _, p := range s.policiesLocked().policies {
		if p.typ == typ && (status == "" || p.status == status) {
			found = append(found, p)
		}
	}
	slices.SortStableFunc(found, func(a, b *policy) int { return a.priority - b.priority })
	out := []map[string]any{}
	for _, p := range found {
		out = append(out, s.renderPolicy(p, info(r).base))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) policyByPath(r *http.Request) (*policy, *apiError) {
	id := r.PathValue("policyId")
	for _, p := range s.policiesLocked().policies {
		if p.id == id {
			return p, nil
		}
	}
	return nil, notFound(id, "Policy")
}

func (s *Server) getPolicy(w http.ResponseWriter, r *http.Request, p *policy, _ time.Time) error {
	writeJSON(w, http.StatusOK, s.renderPolicy(p, info(r).base))
	return nil
}

func (s *Server) listPolicyRules(w http.ResponseWriter, r *http.Request, p *policy, _ time.Time) error {
	rules := slices.Clone(p.rules)
	slices.SortStableFunc(rules, func(a, b *policyRule) int { return a.priority - b.priority })
	out := make([]map[string]any, 0, len(rules))
	for _, rule := range rules {
		out = append(out, renderRule(p, rule, info(r).base))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// PolicyRuleSpec is a rule AddPolicyRule adds, as the Policies API takes it
// (OktaSignOnPolicyRule, PasswordPolicyRule, IdpDiscoveryPolicyRule).
type PolicyRuleSpec struct {
	Name string
	// Status is ACTIVE (the default) or INACTIVE.
	Status string
	// Conditions and Actions are the rule's JSON objects, e.g. for a
	// global session policy rule Actions {"signon": {"access": "ALLOW",
	// "primaryFactor": "PASSWORD_IDP_ANY_FACTOR"}}.
	Conditions, Actions map[string]any
}

// AddPolicyRule adds a rule to the default policy of policyType (OKTA_SIGN_ON,
// PASSWORD or IDP_DISCOVERY), evaluated before the default rule, and returns
// its id.
func (s *Server) AddPolicyRule(policyType string, spec PolicyRuleSpec) (string, error) {
	if spec.Name == "" {
		return "", errors.New("fakeokta: a policy rule needs a name")
	}
	if spec.Status == "" {
		spec.Status = "ACTIVE"
	}
	ruleType := map[string]string{"OKTA_SIGN_ON": "SIGN_ON", "PASSWORD": "PASSWORD", "IDP_DISCOVERY": "IDP_DISCOVERY"}[policyType]
	if ruleType == "" {
		return "", errors.New("fakeokta: no default policy of type " + policyType)
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.policiesLocked().policies {
		if p.typ != policyType || !p.system {
			continue
		}
		for _, r := range p.rules {
			r.priority++
		}
		r := &policyRule{id: oktaID("0pr"), typ: ruleType, name: spec.Name, status: spec.Status, priority: 1,
			conditions: maps.Clone(spec.Conditions), actions: maps.Clone(spec.Actions), created: now, lastUpdated: now}
		p.rules = append(p.rules, r)
		p.lastUpdated = now
		return r.id, nil
	}
	return "", errors.New("fakeokta: no default policy of type " + policyType)
}

// EveryoneGroupID returns the id of the Everyone group the default policies
// apply to.
func (s *Server) EveryoneGroupID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.policiesLocked().everyone
}

// SetPasswordComplexity replaces the default password policy's
// settings.password.complexity with c, a PasswordPolicyPasswordSettingsComplexity
// object as the Policies API takes it (minLength, minLowerCase,
// minUpperCase, minNumber, minSymbol, excludeUsername, excludeAttributes,
// dictionary.common.exclude); absent fields are left absent, so a client
// applies the API's defaults.
func (s *Server) SetPasswordComplexity(c map[string]any) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.policiesLocked().policies {
		if p.typ == "PASSWORD" && p.system {
			p.complexity, p.lastUpdated = maps.Clone(c), now
		}
	}
}

// PasswordPolicySpec is a password policy AddPasswordPolicy adds.
type PasswordPolicySpec struct {
	Name string
	// Status is ACTIVE (the default) or INACTIVE.
	Status string
	// Priority is the policy's place (1 first); the policies at and after
	// it move down one, as the Policies API does. Zero puts it just before
	// the default policy.
	Priority int
	// Groups are conditions.people.groups.include.
	Groups []string
	// AuthProvider is conditions.authProvider.provider (default OKTA).
	AuthProvider string
	// Complexity is settings.password.complexity (see SetPasswordComplexity).
	Complexity map[string]any
	// PasswordChange is its default rule's actions.passwordChange.access
	// (default ALLOW).
	PasswordChange string
}

// AddPasswordPolicy adds a password policy with one rule for all its users,
// and returns its id.
func (s *Server) AddPasswordPolicy(spec PasswordPolicySpec) (string, error) {
	if spec.Name == "" {
		return "", errors.New("fakeokta: a password policy needs a name")
	}
	if spec.Status == "" {
		spec.Status = "ACTIVE"
	}
	if spec.AuthProvider == "" {
		spec.AuthProvider = "OKTA"
	}
	if spec.PasswordChange == "" {
		spec.PasswordChange = "ALLOW"
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	ps := s.policiesLocked()
	last := 0
	for _, p := range ps.policies {
		if p.typ == "PASSWORD" {
			last = max(last, p.priority)
		}
	}
	prio := spec.Priority
	if prio <= 0 || prio > last {
		prio = last // just before the default, which moves down
	}
	for _, p := range ps.policies {
		if p.typ == "PASSWORD" && p.priority >= prio {
			p.priority++
		}
	}
	p := &policy{id: oktaID("00p"), typ: "PASSWORD", name: spec.Name, status: spec.Status, priority: prio,
		conditions: map[string]any{"people": map[string]any{"groups": map[string]any{"include": slices.Clone(spec.Groups)}},
			"authProvider": map[string]any{"provider": spec.AuthProvider}},
		complexity: maps.Clone(spec.Complexity), created: now, lastUpdated: now,
		rules: []*policyRule{{id: oktaID("0pr"), typ: "PASSWORD", name: spec.Name + " rule", status: "ACTIVE", priority: 1,
			conditions: map[string]any{"people": map[string]any{"users": map[string]any{"exclude": []string{}}},
				"network": map[string]any{"connection": "ANYWHERE"}},
			actions: map[string]any{"passwordChange": map[string]any{"access": spec.PasswordChange},
				"selfServicePasswordReset": map[string]any{"access": "ALLOW"},
				"selfServiceUnlock":        map[string]any{"access": "DENY"}},
			created: now, lastUpdated: now}},
	}
	ps.policies = append(ps.policies, p)
	return p.id, nil
}
