package oktapolicy

import "entra2okta/internal/pwpolicy"

// The JSON the reader decodes: the part of the Policies API's
// PasswordPolicy and PasswordPolicyRule objects the password check reads
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).

// passwordPolicyJSON is the part of a PasswordPolicy the check reads: its
// conditions and its complexity settings. Untagged fields match the API's
// camelCase names (encoding/json matches names without regard to case).
type passwordPolicyJSON struct {
	ID, Name, Status string
	Priority         int
	System           bool
	Conditions       conditionsJSON
	Settings         struct {
		Password struct {
			Complexity *complexityJSON
		}
	}
}

// conditionsJSON is the part of a policy's or a rule's conditions the
// check reads: people.users, people.groups and authProvider.provider.
type conditionsJSON struct {
	People struct {
		Users, Groups *includesJSON
	}
	AuthProvider struct {
		Provider string
	}
}

// includesJSON is a people.users or people.groups condition.
type includesJSON struct {
	Include []string
}

// list returns the included ids, nil when the condition is absent.
func (i *includesJSON) list() []string {
	if i == nil {
		return nil
	}
	return i.Include
}

// complexityJSON is PasswordPolicyPasswordSettingsComplexity; nil fields
// take the API's defaults.
type complexityJSON struct {
	MinLength                *int     `json:"minLength"`
	MinLowerCase             *int     `json:"minLowerCase"`
	MinUpperCase             *int     `json:"minUpperCase"`
	MinNumber                *int     `json:"minNumber"`
	MinSymbol                *int     `json:"minSymbol"`
	ExcludeUsername          *bool    `json:"excludeUsername"`
	ExcludeAttributes        []string `json:"excludeAttributes"`
	MaxConsecutiveCharacters *int     `json:"maxConsecutiveCharacters"`
	Dictionary               *struct {
		Common *struct {
			Exclude *bool `json:"exclude"`
		} `json:"common"`
	} `json:"dictionary"`
}

func (j *complexityJSON) complexity() pwpolicy.Complexity {
	c := pwpolicy.Defaults()
	if j == nil {
		return c
	}
	for _, f := range []struct {
		v   *int
		dst *int
	}{{j.MinLength, &c.MinLength}, {j.MinLowerCase, &c.MinLowerCase}, {j.MinUpperCase, &c.MinUpperCase},
		{j.MinNumber, &c.MinNumber}, {j.MinSymbol, &c.MinSymbol}, {j.MaxConsecutiveCharacters, &c.MaxConsecutiveCharacters}} {
		if f.v != nil {
			*f.dst = *f.v
		}
	}
	if j.ExcludeUsername != nil {
		c.ExcludeUsername = *j.ExcludeUsername
	}
	c.ExcludeAttributes = j.ExcludeAttributes
	if d := j.Dictionary; d != nil && d.Common != nil && d.Common.Exclude != nil {
		c.DictionaryCommon = *d.Common.Exclude
	}
	return c
}

// passwordRuleJSON is the part of a PasswordPolicyRule the check reads:
// whom it applies to and whether it lets users change their password.
type passwordRuleJSON struct {
	Name, Status string
	Priority     int
	Conditions   conditionsJSON
	Actions      struct {
		PasswordChange struct {
			Access string
		}
	}
}
