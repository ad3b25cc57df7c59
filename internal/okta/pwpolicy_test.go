package okta_test

import (
	"slices"
	"testing"

	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/okta"
	"entra2okta/internal/pwpolicy"
)

// TestPasswordPolicies reads password policies through the SDK from
// fakeokta: a new org's default policy, complexity objects as the Policies
// API documents them (absent fields take the API's defaults), a policy
// scoped to a group, its rule's passwordChange, and the priority order.
func TestPasswordPolicies(t *testing.T) {
	fk, _ := startFake(t)
	c, err := okta.New(t.Context(), okta.Config{OrgURL: fk.URL, APIToken: fakeokta.DefaultAPIToken, HTTPClient: fk.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	pols, err := c.PasswordPolicies(t.Context())
	if err != nil || len(pols) != 1 {
		t.Fatalf("password policies: %+v %v", pols, err)
	}
	want := pwpolicy.Complexity{MinLength: 8, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, ExcludeUsername: true, ExcludeAttributes: []string{}}
	if d := pols[0]; !d.System || d.AuthProvider != "OKTA" || len(d.Groups) != 1 || d.Groups[0] != fk.EveryoneGroupID() ||
		!equalComplexity(d.Complexity, want) || len(d.Rules) != 1 || d.Rules[0].PasswordChange != "ALLOW" {
		t.Fatalf("default policy: %+v", d)
	}

	// Only minLength given: the other fields take the API's defaults.
	fk.SetPasswordComplexity(map[string]any{"minLength": 14})
	id, err := fk.AddPasswordPolicy(fakeokta.PasswordPolicySpec{Name: "Migrated", Groups: []string{"00gmigrated"},
		PasswordChange: "DENY", Complexity: map[string]any{"minLength": 10, "minSymbol": 1, "excludeUsername": false,
			"excludeAttributes": []string{"firstName", "lastName"}, "maxConsecutiveCharacters": 2,
			"dictionary": map[string]any{"common": map[string]any{"exclude": true}}}})
	if err != nil {
		t.Fatal(err)
	}
	pols, err = c.PasswordPolicies(t.Context())
	if err != nil || len(pols) != 2 || pols[0].ID != id || pols[0].Priority != 1 || pols[1].Priority != 2 {
		t.Fatalf("password policies, in priority order: %+v %v", pols, err)
	}
	if got, want := pols[0].Complexity, (pwpolicy.Complexity{MinLength: 10, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1,
		ExcludeAttributes: []string{"firstName", "lastName"}, DictionaryCommon: true, MaxConsecutiveCharacters: 2}); !equalComplexity(got, want) {
		t.Errorf("group policy's complexity: %+v, want %+v", got, want)
	}
	if !slices.Equal(pols[0].Groups, []string{"00gmigrated"}) || pols[0].Rules[0].PasswordChange != "DENY" {
		t.Errorf("group policy: %+v", pols[0])
	}
	if got, want := pols[1].Complexity, (pwpolicy.Complexity{MinLength: 14, MinLowerCase: 1, MinUpperCase: 1, MinNumber: 1, MinSymbol: 1,
		ExcludeUsername: true}); !equalComplexity(got, want) {
		t.Errorf("default policy's complexity with defaults: %+v, want %+v", got, want)
	}
}

func equalComplexity(a, b pwpolicy.Complexity) bool {
	return slices.Equal(a.ExcludeAttributes, b.ExcludeAttributes) && a.MinLength == b.MinLength &&
		a.MinLowerCase == b.MinLowerCase && a.MinUpperCase == b.MinUpperCase && a.MinNumber == b.MinNumber &&
		a.MinSymbol == b.MinSymbol && a.ExcludeUsername == b.ExcludeUsername && a.DictionaryCommon == b.DictionaryCommon &&
		a.MaxConsecutiveCharacters == b.MaxConsecutiveCharacters
}
