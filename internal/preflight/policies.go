package preflight

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// Policies reads Okta's policies (the Policies API:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
type Policies interface {
	// Policies lists the policies of one type (GET /api/v1/policies?type=).
	Policies(ctx context.Context, policyType string) ([]Policy, error)
	// PolicyRules lists a policy's rules (GET /api/v1/policies/{id}/rules).
	PolicyRules(ctx context.Context, policyID string) ([]PolicyRule, error)
}

// The policy types preflight reads.
const (
	PolicyPassword     = "PASSWORD"
	PolicySignOn       = "OKTA_SIGN_ON"
	PolicyIdPDiscovery = "IDP_DISCOVERY"
)

// Policy is the part of a policy the checks read.
type Policy struct {
	ID, Name, Type, Status string
	Priority               int
	System                 bool
	// Groups are the groups the policy applies to (conditions.people.groups.include).
	Groups []string
	// Lockout is the password policy's settings.password.lockout; nil for
	// other types or when absent.
	Lockout *Lockout
}

// Lockout is a password policy's lockout settings
// (PasswordPolicyPasswordSettingsLockout): MaxAttempts failed sign-ins lock
// the user (0: no limit); a locked user unlocks after AutoUnlockMinutes (0:
// never by itself).
type Lockout struct {
	MaxAttempts       int
	AutoUnlockMinutes int
}

// PolicyRule is the part of a rule the checks read.
type PolicyRule struct {
	ID, Name, Status string
	Priority         int
	System           bool
	// Who and where the rule applies: conditions.people.users.include,
	// conditions.people.groups.include, conditions.network.connection
	// (ANYWHERE or ZONE), and whether it has an identityProvider condition
	// (provider other than ANY), a userIdentifier, app or platform condition.
	Users, Groups           []string
	Network                 string
	IdentityProvider        string
	UserIdentifier, App     bool
	Platform                bool
	SignOnAccess            string   // OKTA_SIGN_ON: actions.signon.access, ALLOW or DENY
	PrimaryFactor           string   // OKTA_SIGN_ON: actions.signon.primaryFactor, PASSWORD_IDP or PASSWORD_IDP_ANY_FACTOR (Identity Engine)
	IdPProviders            []string // IDP_DISCOVERY: actions.idp.providers[].type (OKTA, SAML2, OIDC, ...)
	IdPShouldFallBackToOkta bool
}

// narrowed reports what limits a rule to some users, "" when nothing does.
func (r PolicyRule) narrowed() string {
	var why []string
	if len(r.Users) > 0 {
		why = append(why, "some users")
	}
	if len(r.Groups) > 0 {
		why = append(why, "groups "+strings.Join(r.Groups, ", "))
	}
	if r.Network != "" && r.Network != "ANYWHERE" {
		why = append(why, "network zones")
	}
	if r.IdentityProvider != "" && r.IdentityProvider != "ANY" {
		why = append(why, "sign-ins through identity provider "+r.IdentityProvider)
	}
	if r.UserIdentifier {
		why = append(why, "usernames matching a pattern")
	}
	if r.App {
		why = append(why, "some apps")
	}
	if r.Platform {
		why = append(why, "some platforms")
	}
	return strings.Join(why, ", ")
}

// Check names of the policy group.
const (
	NamePasswordPolicy = "okta: password policy"
	NameSignOnPolicy   = "okta: sign-on policy"
	NameIdPRouting     = "okta: idp routing"
)

func checkPolicies(ctx context.Context, c *Config) []Check {
	if c.OktaConfigError != "" || c.Policies == nil {
		return []Check{skip(NamePasswordPolicy, "no Okta client"), skip(NameSignOnPolicy, "no Okta client"), skip(NameIdPRouting, "no Okta client")}
	}
	return []Check{c.passwordPolicyCheck(ctx), c.signOnCheck(ctx), c.idpRoutingCheck(ctx)}
}

const policyReadFix = "give these credentials read access to policies (scope okta.policies.read)"

func active(ps []Policy) []Policy {
	return slices.DeleteFunc(slices.Clone(ps), func(p Policy) bool { return p.Status != "ACTIVE" })
}

// passwordPolicyCheck: the hook answers UNVERIFIED only when Entra rejected
// the password, at most the hook's per-user budget a day (half of
// HOOK_LOCKOUT_THRESHOLD by default), and every UNVERIFIED is a failed
// sign-in for Okta's lockout. The budgets assume Okta locks no earlier than
// HOOK_LOCKOUT_THRESHOLD, and a lock that never lifts turns a user's typing
// mistakes into a help desk call.
func (c *Config) passwordPolicyCheck(ctx context.Context) Check {
	ps, err := c.Policies.Policies(ctx, PolicyPassword)
	if err != nil {
		return failed(NamePasswordPolicy, "GET /api/v1/policies?type=PASSWORD: "+errText(err), policyReadFix)
	}
	ps = active(ps)
	if len(ps) == 0 {
		return warn(NamePasswordPolicy, "no ACTIVE password policy", "check the org's password policies (Security > Authenticators > Password)")
	}
	var notes, warns, fixes []string
	for _, p := range ps {
		if p.Lockout == nil {
			notes = append(notes, fmt.Sprintf("%q: no lockout settings", p.Name))
			continue
		}
		l := *p.Lockout
		notes = append(notes, fmt.Sprintf("%q: maxAttempts %d, autoUnlockMinutes %d", p.Name, l.MaxAttempts, l.AutoUnlockMinutes))
		if l.MaxAttempts > 0 && l.MaxAttempts < c.HookLockoutThreshold {
			warns = append(warns, fmt.Sprintf("%q locks a user after %d failed sign-ins, fewer than the hook's lockout threshold of %d "+
				"(HOOK_LOCKOUT_THRESHOLD), which its per-user budgets assume Okta allows", p.Name, l.MaxAttempts, c.HookLockoutThreshold))
			fixes = append(fixes, fmt.Sprintf("raise %q's lockout to at least %d attempts, or set HOOK_LOCKOUT_THRESHOLD=%d on the hook server",
				p.Name, c.HookLockoutThreshold, l.MaxAttempts))
		}
		if l.MaxAttempts > 0 && l.AutoUnlockMinutes == 0 {
			warns = append(warns, fmt.Sprintf("%q never unlocks a locked user by itself: each UNVERIFIED answer of the hook is a failed "+
				"Okta sign-in, so a user who mistypes their password %d times stays LOCKED_OUT until unlocked", p.Name, l.MaxAttempts))
			fixes = append(fixes, fmt.Sprintf("set %q's autoUnlockMinutes (e.g. 30), or allow self-service unlock, or plan help desk unlocks", p.Name))
		}
	}
	if len(warns) > 0 {
		return warn(NamePasswordPolicy, strings.Join(warns, "; "), strings.Join(fixes, "; "))
	}
	return ok(NamePasswordPolicy, strings.Join(notes, "; "))
}

// signOnCheck looks for a global session policy rule that lets a user
// establish an Okta session without typing a password: an ACTIVE ALLOW rule
// of an ACTIVE policy whose primaryFactor is PASSWORD_IDP_ANY_FACTOR (the
// app's authentication policy then decides, and may accept another factor
// alone). The password import hook fires only when Okta checks a typed
// password, so such users are never migrated. A rule that applies to
// everyone (no user, group, network or identity provider condition, in a
// policy for everyone: the system default, or one without groups) is a
// FAIL; a narrower one a warn. Which group is Everyone is not looked up:
// a non-default policy limited to groups counts as narrowed.
func (c *Config) signOnCheck(ctx context.Context) Check {
	ps, err := c.Policies.Policies(ctx, PolicySignOn)
	if err != nil {
		return failed(NameSignOnPolicy, "GET /api/v1/policies?type=OKTA_SIGN_ON: "+errText(err), policyReadFix)
	}
	ps = active(ps)
	var broad, narrow []string
	rules := 0
	for _, p := range ps {
		rs, err := c.Policies.PolicyRules(ctx, p.ID)
		if err != nil {
			return failed(NameSignOnPolicy, "GET /api/v1/policies/"+p.ID+"/rules: "+errText(err), policyReadFix)
		}
		for _, r := range rs {
			if r.Status != "ACTIVE" || r.SignOnAccess == "DENY" {
				continue
			}
			rules++
			if r.PrimaryFactor != "PASSWORD_IDP_ANY_FACTOR" {
				continue
			}
			what := fmt.Sprintf("rule %q of %q allows a session with any factor the app's authentication policy accepts "+
				"(primaryFactor PASSWORD_IDP_ANY_FACTOR)", r.Name, p.Name)
			why := r.narrowed()
			if why == "" && !p.System && len(p.Groups) > 0 {
				why = "the policy's groups " + strings.Join(p.Groups, ", ")
			}
			if why == "" {
				broad = append(broad, what+" for everyone")
			} else {
				narrow = append(narrow, what+" for "+why)
			}
		}
	}
	const fix = "set primaryFactor to PASSWORD_IDP (Security > Global Session Policy: \"Password / IdP\") for the users being migrated, " +
		"or make their apps' authentication policies require the password"
	const why = ": users who sign in without typing a password never reach the password import hook and are not migrated"
	switch {
	case len(broad) > 0:
		return failed(NameSignOnPolicy, strings.Join(append(broad, narrow...), "; ")+why, fix)
	case len(narrow) > 0:
		return warn(NameSignOnPolicy, strings.Join(narrow, "; ")+why, fix)
	}
	return ok(NameSignOnPolicy, fmt.Sprintf("%d ACTIVE allow rules in %d ACTIVE global session policies; none lets a session start without the password", rules, len(ps)))
}

// idpRoutingCheck looks for an identity provider routing rule (IdP
// discovery policy) that sends users to another identity provider instead
// of Okta's own sign-in: they authenticate there, Okta never checks a
// password, and the hook never fires. A rule without conditions routes
// everyone: FAIL; one with conditions: warn.
func (c *Config) idpRoutingCheck(ctx context.Context) Check {
	ps, err := c.Policies.Policies(ctx, PolicyIdPDiscovery)
	if err != nil {
		return failed(NameIdPRouting, "GET /api/v1/policies?type=IDP_DISCOVERY: "+errText(err), policyReadFix)
	}
	var broad, narrow []string
	for _, p := range active(ps) {
		rs, err := c.Policies.PolicyRules(ctx, p.ID)
		if err != nil {
			return failed(NameIdPRouting, "GET /api/v1/policies/"+p.ID+"/rules: "+errText(err), policyReadFix)
		}
		for _, r := range rs {
			if r.Status != "ACTIVE" || len(r.IdPProviders) == 0 || slices.Contains(r.IdPProviders, "OKTA") {
				continue
			}
			what := fmt.Sprintf("routing rule %q sends users to %s", r.Name, strings.Join(r.IdPProviders, ", "))
			if why := r.narrowed(); why != "" {
				narrow = append(narrow, what+" for "+why)
			} else {
				broad = append(broad, what+" for everyone")
			}
		}
	}
	const fix = "keep the users being migrated on Okta's sign-in: restrict or deactivate the routing rule (Security > Identity Providers > Routing rules)"
	const why = ": they authenticate at that identity provider, Okta checks no password and the hook never fires"
	switch {
	case len(broad) > 0:
		return failed(NameIdPRouting, strings.Join(append(broad, narrow...), "; ")+why, fix)
	case len(narrow) > 0:
		return warn(NameIdPRouting, strings.Join(narrow, "; ")+why, fix)
	}
	return ok(NameIdPRouting, "no ACTIVE routing rule sends users to another identity provider")
}
