// Package pwpolicy checks a password against an Okta password policy's
// complexity settings, in memory. Okta does not apply its password policy
// to a password imported through the password import inline hook
// (https://developer.okta.com/docs/reference/password-hook/): the hook
// server uses this package to notice a legacy password that the policy would
// refuse, so that the migration can expire it in Okta.
//
// The package imports no SDK: the Okta adapter fills its types from the
// Policies API
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
package pwpolicy

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Complexity is a password policy's settings.password.complexity
// (PasswordPolicyPasswordSettingsComplexity). The Okta adapter applies the
// API's defaults to absent fields (Defaults).
type Complexity struct {
	MinLength    int
	MinLowerCase int // 0: no lower-case letter needed, 1: at least one
	MinUpperCase int
	MinNumber    int
	MinSymbol    int
	// ExcludeUsername forbids the username in the password.
	ExcludeUsername bool
	// ExcludeAttributes names profile attributes whose values the password
	// must not contain (Okta supports firstName and lastName).
	ExcludeAttributes []string
	// DictionaryCommon is dictionary.common.exclude: the password must not
	// be a commonly used one.
	DictionaryCommon bool
	// MaxConsecutiveCharacters caps runs of one repeated character (0: no
	// cap; an Identity Engine setting in limited availability).
	MaxConsecutiveCharacters int
}

// Defaults is the complexity of a policy whose complexity object omits
// every field: the defaults of PasswordPolicyPasswordSettingsComplexity and
// PasswordDictionaryCommon in Okta's OpenAPI description.
func Defaults() Complexity {
	return Complexity{MinLength: 8, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1, ExcludeUsername: true}
}

// The rule names a check reports: the complexity fields' names in the
// Policies API, so that an operator finds them in the policy.
const (
	RuleMinLength        = "minLength"
	RuleMinLowerCase     = "minLowerCase"
	RuleMinUpperCase     = "minUpperCase"
	RuleMinNumber        = "minNumber"
	RuleMinSymbol        = "minSymbol"
	RuleExcludeUsername  = "excludeUsername"
	RuleExcludeAttribute = "excludeAttributes"
	RuleCommon           = "dictionary.common"
	RuleMaxConsecutive   = "maxConsecutiveCharacters"
)

// symbols are the characters Okta counts as symbols: ASCII punctuation (the
// policy settings' example is "!@#$%^&*").
const symbols = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"

// Subject is what a check knows of the user besides the password.
type Subject struct {
	// Username is the Okta login.
	Username string
	// Attributes are profile values by attribute name (firstName,
	// lastName); a missing one is not checked.
	Attributes map[string]string
}

// Check returns the names of the rules password breaks, in the order of
// the constants above; nil when it meets them all. The result names rules
// only: nothing in it is derived from the password beyond which rules it
// breaks.
func (c Complexity) Check(password string, who Subject) []string {
	var broken []string
	var lower, upper, number, symbol int
	for _, r := range password {
		switch {
		case unicode.IsLower(r):
			lower++
		case unicode.IsUpper(r):
			upper++
		case unicode.IsDigit(r):
			number++
		case r < utf8.RuneSelf && strings.ContainsRune(symbols, r):
			symbol++
		}
	}
	if utf8.RuneCountInString(password) < c.MinLength {
		broken = append(broken, RuleMinLength)
	}
	if lower < c.MinLowerCase {
		broken = append(broken, RuleMinLowerCase)
	}
	if upper < c.MinUpperCase {
		broken = append(broken, RuleMinUpperCase)
	}
	if number < c.MinNumber {
		broken = append(broken, RuleMinNumber)
	}
	if symbol < c.MinSymbol {
		broken = append(broken, RuleMinSymbol)
	}
	folded := strings.ToLower(password)
	if c.ExcludeUsername && containsUsername(folded, who.Username) {
		broken = append(broken, RuleExcludeUsername)
	}
	for _, attr := range c.ExcludeAttributes {
		if v := strings.ToLower(strings.TrimSpace(who.Attributes[attr])); v != "" && strings.Contains(folded, v) {
			broken = append(broken, RuleExcludeAttribute)
			break
		}
	}
	if c.DictionaryCommon && IsCommon(password) {
		broken = append(broken, RuleCommon)
	}
	if c.MaxConsecutiveCharacters > 0 && longestRun(password) > c.MaxConsecutiveCharacters {
		broken = append(broken, RuleMaxConsecutive)
	}
	return broken
}

// containsUsername reports whether the lower-cased password contains the
// username or, for an email-style login, its part before "@". Okta's
// description is "the Username must be excluded from the password"; it does
// not say how it matches, so both forms count, ignoring case.
func containsUsername(folded, username string) bool {
	u := strings.ToLower(strings.TrimSpace(username))
	if u == "" {
		return false
	}
	if strings.Contains(folded, u) {
		return true
	}
	local, _, found := strings.Cut(u, "@")
	return found && local != "" && strings.Contains(folded, local)
}

func longestRun(s string) int {
	longest, run := 0, 0
	var prev rune = -1
	for _, r := range s {
		if r == prev {
			run++
		} else {
			run = 1
		}
		prev = r
		longest = max(longest, run)
	}
	return longest
}

// Policy is the part of an Okta password policy that decides which users it
// applies to and what it requires of their passwords.
type Policy struct {
	ID, Name string
	Status   string // ACTIVE or INACTIVE
	Priority int    // 1 is evaluated first
	System   bool   // the org's default policy
	// Groups is conditions.people.groups.include: the groups whose members
	// the policy applies to.
	Groups []string
	// AuthProvider is conditions.authProvider.provider: OKTA (the default)
	// for users whose password Okta holds, ACTIVE_DIRECTORY or LDAP for
	// delegated authentication.
	AuthProvider string
	Complexity   Complexity
	// Rules are the policy's rules in priority order.
	Rules []Rule
}

// Rule is the part of a password policy rule that says whether its users
// may change their password (actions.passwordChange.access).
type Rule struct {
	Name     string
	Status   string
	Priority int
	// Users and Groups are conditions.people.users.include and
	// .groups.include; both empty means every user of the policy.
	Users, Groups []string
	// PasswordChange is ALLOW or DENY.
	PasswordChange string
}

// Applied is the policy a migrated user's password falls under.
type Applied struct {
	Policy Policy
	// ChangeAllowed reports whether the first active rule that applies to
	// every migrated user lets them change their password. Expiring the
	// password of a user who may not change it would leave the user unable
	// to sign in, so the hook server flags no password then.
	ChangeAllowed bool
	// Rule is that rule's name, "" when no rule applies.
	Rule string
}

// Select returns the policy Okta applies to a migrated user. Okta evaluates
// the password policies in priority order and applies the first ACTIVE one
// whose conditions the user meets
// (https://developer.okta.com/docs/concepts/policies/). What this takes for
// a migrated user:
//
//   - only policies for provider OKTA count: a migrated user's password is
//     held by Okta once imported, never by Active Directory or LDAP;
//   - a policy applies when its group condition includes the Everyone group
//     (every user is in it), one of groups (the Okta groups every migrated
//     user is known to be in, given by the operator), or no group at all;
//   - the Everyone group is the one the system default policy includes;
//   - when no other policy applies, the system default policy does, as Okta
//     says of it: it "applies in all situations if no other policy applies".
//
// Per-user group memberships are not known to the hook when it answers, so
// a policy scoped to some users' groups only is not taken; ok is false when
// there are no policies at all.
func Select(policies []Policy, groups []string) (Applied, bool) {
	sorted := slices.Clone(policies)
	slices.SortStableFunc(sorted, func(a, b Policy) int { return a.Priority - b.Priority })
	var everyone []string
	var fallback *Policy
	for i, p := range sorted {
		if p.System {
			everyone = p.Groups
			fallback = &sorted[i]
		}
	}
	for _, p := range sorted {
		if p.Status != "ACTIVE" || (p.AuthProvider != "" && p.AuthProvider != "OKTA") {
			continue
		}
		if len(p.Groups) == 0 || intersects(p.Groups, everyone) || intersects(p.Groups, groups) {
			return applied(p, everyone, groups), true
		}
	}
	if fallback != nil {
		return applied(*fallback, everyone, groups), true
	}
	return Applied{}, false
}

func applied(p Policy, everyone, groups []string) Applied {
	rules := slices.Clone(p.Rules)
	slices.SortStableFunc(rules, func(a, b Rule) int { return a.Priority - b.Priority })
	for _, r := range rules {
		if r.Status != "ACTIVE" || len(r.Users) > 0 {
			continue
		}
		if len(r.Groups) == 0 || intersects(r.Groups, everyone) || intersects(r.Groups, groups) {
			// Okta's default rule allows the change; absent, ALLOW.
			return Applied{Policy: p, ChangeAllowed: r.PasswordChange != "DENY", Rule: r.Name}
		}
	}
	return Applied{Policy: p, ChangeAllowed: true}
}

func intersects(a, b []string) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
