package pwpolicy_test

import (
	"slices"
	"testing"

	"entra2okta/internal/pwpolicy"
)

// strict is a policy with every documented complexity rule on.
func strict() pwpolicy.Complexity {
	return pwpolicy.Complexity{MinLength: 12, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1,
		ExcludeUsername: true, ExcludeAttributes: []string{"firstName", "lastName"}, DictionaryCommon: true,
		MaxConsecutiveCharacters: 3}
}

func TestCheckEachRule(t *testing.T) {
	who := pwpolicy.Subject{Username: "ada.lovelace@example.com",
		Attributes: map[string]string{"firstName": "Ada", "lastName": "Lovelace"}}
	for _, tc := range []struct {
		name, password string
		want           []string
	}{
		{"meets every rule", "Tr0ub4dor&3-Horse", nil},
		{"too short", "Tr0ub4d&3", []string{pwpolicy.RuleMinLength}},
		{"no lower case", "TR0UB4DOR&3-HORSE", []string{pwpolicy.RuleMinLowerCase}},
		{"no upper case", "tr0ub4dor&3-horse", []string{pwpolicy.RuleMinUpperCase}},
		{"no number", "Troubador&x-Horse", []string{pwpolicy.RuleMinNumber}},
		{"no symbol", "Tr0ub4dor3xHorse", []string{pwpolicy.RuleMinSymbol}},
		// The username holds both names: its rule and the names' rule break.
		{"the username's local part", "X1!ADA.LOVELACEz", []string{pwpolicy.RuleExcludeUsername, pwpolicy.RuleExcludeAttribute}},
		{"the whole username", "Q9#ada.lovelace@example.com", []string{pwpolicy.RuleExcludeUsername, pwpolicy.RuleExcludeAttribute}},
		{"the last name", "Q9#mrsLovelaceZ", []string{pwpolicy.RuleExcludeAttribute}},
		{"the first name", "Q9#zzAdazzYYYq", []string{pwpolicy.RuleExcludeAttribute}},
		{"a run of four", "Tr0ub4dor&3-Hoooorse", []string{pwpolicy.RuleMaxConsecutive}},
		{"everything wrong", "aaaa", []string{pwpolicy.RuleMinLength, pwpolicy.RuleMinUpperCase, pwpolicy.RuleMinNumber,
			pwpolicy.RuleMinSymbol, pwpolicy.RuleMaxConsecutive}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := strict().Check(tc.password, who); !slices.Equal(got, tc.want) {
				t.Errorf("Check = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestCheckCommonDictionary(t *testing.T) {
	c := pwpolicy.Complexity{DictionaryCommon: true}
	if got := c.Check("Password123", pwpolicy.Subject{}); !slices.Equal(got, []string{pwpolicy.RuleCommon}) {
		t.Errorf("a common password (other case): %v", got)
	}
	if got := c.Check("correct horse battery staple", pwpolicy.Subject{}); got != nil {
		t.Errorf("an uncommon password: %v", got)
	}
	c.DictionaryCommon = false
	if got := c.Check("password", pwpolicy.Subject{}); got != nil {
		t.Errorf("dictionary off: %v", got)
	}
}

func TestCheckZeroRulesAndUnknownAttributes(t *testing.T) {
	c := pwpolicy.Complexity{ExcludeAttributes: []string{"firstName"}}
	if got := c.Check("x", pwpolicy.Subject{Username: ""}); got != nil {
		t.Errorf("no rule set, no attribute known: %v", got)
	}
	// Length counts characters, not bytes.
	c = pwpolicy.Complexity{MinLength: 4}
	if got := c.Check("äöüß", pwpolicy.Subject{}); got != nil {
		t.Errorf("four characters, eight bytes: %v", got)
	}
	// Okta's defaults: 8 characters, one of each class.
	if got := pwpolicy.Defaults().Check("Abcdefg1", pwpolicy.Subject{}); !slices.Equal(got, []string{pwpolicy.RuleMinSymbol}) {
		t.Errorf("defaults: %v", got)
	}
}

func TestSelect(t *testing.T) {
	const everyone, migrated, sales = "00gEVERYONE", "00gMIGRATED", "00gSALES"
	def := pwpolicy.Policy{ID: "def", Status: "ACTIVE", Priority: 3, System: true, Groups: []string{everyone}, AuthProvider: "OKTA",
		Rules: []pwpolicy.Rule{{Name: "Default Rule", Status: "ACTIVE", Priority: 1, PasswordChange: "ALLOW"}}}
	salesOnly := pwpolicy.Policy{ID: "sales", Status: "ACTIVE", Priority: 1, Groups: []string{sales}, AuthProvider: "OKTA"}
	ad := pwpolicy.Policy{ID: "ad", Status: "ACTIVE", Priority: 1, Groups: []string{everyone}, AuthProvider: "ACTIVE_DIRECTORY"}
	inactive := pwpolicy.Policy{ID: "off", Status: "INACTIVE", Priority: 1, Groups: []string{everyone}, AuthProvider: "OKTA"}
	forMigrated := pwpolicy.Policy{ID: "mig", Status: "ACTIVE", Priority: 2, Groups: []string{migrated}, AuthProvider: "OKTA",
		Rules: []pwpolicy.Rule{
			{Name: "some users", Status: "ACTIVE", Priority: 1, Users: []string{"00u1"}, PasswordChange: "ALLOW"},
			{Name: "no change", Status: "ACTIVE", Priority: 2, PasswordChange: "DENY"}}}
	everyoneFirst := pwpolicy.Policy{ID: "all", Status: "ACTIVE", Priority: 2, Groups: []string{everyone}}

	for _, tc := range []struct {
		name       string
		policies   []pwpolicy.Policy
		groups     []string
		want       string
		wantChange bool
	}{
		{"only the default", []pwpolicy.Policy{def}, nil, "def", true},
		{"a group policy for others, an AD and an inactive one", []pwpolicy.Policy{def, salesOnly, ad, inactive}, nil, "def", true},
		{"a higher policy for Everyone", []pwpolicy.Policy{def, everyoneFirst, salesOnly}, nil, "all", true},
		{"the migrated users' group, given", []pwpolicy.Policy{def, forMigrated}, []string{migrated}, "mig", false},
		{"the migrated users' group, not given", []pwpolicy.Policy{def, forMigrated}, nil, "def", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := pwpolicy.Select(tc.policies, tc.groups)
			if !ok || got.Policy.ID != tc.want || got.ChangeAllowed != tc.wantChange {
				t.Errorf("Select = %q change %v (ok %v), want %q change %v", got.Policy.ID, got.ChangeAllowed, ok, tc.want, tc.wantChange)
			}
		})
	}
	if _, ok := pwpolicy.Select(nil, nil); ok {
		t.Error("Select found a policy among none")
	}
}
