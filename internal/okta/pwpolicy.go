package okta

import (
	"context"
	"net/url"

	"entra2okta/internal/pwpolicy"
)

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

// PasswordPolicies lists the org's password policies with their complexity
// settings and rules: GET /api/v1/policies?type=PASSWORD, then each
// policy's GET /api/v1/policies/{id}/rules.
func (c *Client) PasswordPolicies(ctx context.Context) ([]pwpolicy.Policy, error) {
	var raw []policyJSON
	if err := getAll(ctx, c, "list password policies", "/api/v1/policies?type=PASSWORD", &raw); err != nil {
		return nil, err
	}
	out := make([]pwpolicy.Policy, 0, len(raw))
	for _, p := range raw {
		pol := pwpolicy.Policy{ID: p.ID, Name: p.Name, Status: p.Status, Priority: p.Priority, System: p.System,
			AuthProvider: "OKTA", Complexity: pwpolicy.Defaults()}
		if cd := p.Conditions; cd != nil {
			if cd.People != nil && cd.People.Groups != nil {
				pol.Groups = cd.People.Groups.Include
			}
			if cd.AuthProvider != nil && cd.AuthProvider.Provider != "" {
				pol.AuthProvider = cd.AuthProvider.Provider
			}
		}
		if s := p.Settings; s != nil && s.Password != nil {
			pol.Complexity = s.Password.Complexity.complexity()
		}
		var rules []passwordRuleJSON
		if err := getAll(ctx, c, "list password policy rules", "/api/v1/policies/"+url.PathEscape(p.ID)+"/rules", &rules); err != nil {
			return nil, err
		}
		for _, r := range rules {
			rule := pwpolicy.Rule{Name: r.Name, Status: r.Status, Priority: r.Priority}
			if cd := r.Conditions; cd != nil && cd.People != nil {
				if cd.People.Users != nil {
					rule.Users = cd.People.Users.Include
				}
				if cd.People.Groups != nil {
					rule.Groups = cd.People.Groups.Include
				}
			}
			if a := r.Actions; a != nil && a.PasswordChange != nil {
				rule.PasswordChange = a.PasswordChange.Access
			}
			pol.Rules = append(pol.Rules, rule)
		}
		out = append(out, pol)
	}
	return out, nil
}
