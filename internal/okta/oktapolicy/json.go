package oktapolicy

import "entra2okta/internal/pwpolicy"

// The JSON the reader decodes: the part of the Policies API's
// PasswordPolicy and PasswordPolicyRule objects the password check reads
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).

// passwordPolicyJSON is the part of a PasswordPolicy the check reads: its
// people and authProvider conditions and its complexity settings.
type passwordPolicyJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Priority   int    `json:"priority"`
	System     bool   `json:"system"`
	Conditions *struct {
		People *struct {
			Groups *struct {
				Include []string `json:"include"`
			} `json:"groups"`
		} `json:"people"`
		AuthProvider *struct {
			Provider string `json:"provider"`
		} `json:"authProvider"`
	} `json:"conditions"`
	Settings *struct {
		Password *struct {
			Complexity *complexityJSON `json:"complexity"`
		} `json:"password"`
	} `json:"settings"`
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

// passwordRuleJSON is the part of a PasswordPolicyRule the check reads.
type passwordRuleJSON struct {
	Name       string `json:"name"`
	Status     string `json:"status"`
	Priority   int    `json:"priority"`
	Conditions *struct {
		People *struct {
			Users *struct {
				Include []string `json:"include"`
			} `json:"users"`
			Groups *struct {
				Include []string `json:"include"`
			} `json:"groups"`
		} `json:"people"`
	} `json:"conditions"`
	Actions *struct {
		PasswordChange *struct {
			Access string `json:"access"`
		} `json:"passwordChange"`
	} `json:"actions"`
}
