package oktaclient

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	oktasdk "github.com/okta/okta-sdk-golang/v2/okta"
	"github.com/okta/okta-sdk-golang/v2/okta/query"
)

// The reads of the org's configuration that starter preflight makes: a
// one-user read for the credentials and the rate-limit headers, the inline
// and event hooks, an inline hook's execution, and the policies. They go
// through the SDK's request executor with our own JSON types, which read
// exactly the fields the management API describes
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/EventHook/).

// maxConfigPages bounds the pages a configuration listing follows.
const maxConfigPages = 20

// ProbeUsers reads one user (GET /api/v1/users?limit=1): the cheapest read
// that proves the credentials, in the bucket user creates use
// (RateBucketUsers). It returns what the answer's rate-limit headers said,
// as the adapter reads them for Config.RateObserver (false when it had
// none).
func (c *Client) ProbeUsers(ctx context.Context) (RateObservation, bool, error) {
	var (
		obs   RateObservation
		found bool
	)
	err := c.call(ctx, "list users", func(ctx context.Context) (*oktasdk.Response, error) {
		_, resp, err := c.sdk.User.ListUsers(ctx, query.NewQueryParams(query.WithLimit(1)))
		if resp != nil && resp.Response != nil && resp.Request != nil {
			obs, found = rateObservation(resp.Request, resp.Response)
		}
		return resp, err
	})
	return obs, found, err
}

// InlineHook is an inline hook as Okta lists it.
type InlineHook struct {
	ID, Name, Type, Status string
	URI                    string // channel.config.uri
}

type inlineHookJSON struct {
	ID      string `json:"id"`
	Name    string `json:"name"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	Channel struct {
		Config struct {
			URI string `json:"uri"`
		} `json:"config"`
	} `json:"channel"`
}

// InlineHooks lists the org's inline hooks of hookType ("" for all).
func (c *Client) InlineHooks(ctx context.Context, hookType string) ([]InlineHook, error) {
	path := "/api/v1/inlineHooks"
	if hookType != "" {
		path += "?type=" + url.QueryEscape(hookType)
	}
	var raw []inlineHookJSON
	if err := getAll(ctx, c, "list inline hooks", path, &raw); err != nil {
		return nil, err
	}
	out := make([]InlineHook, 0, len(raw))
	for _, h := range raw {
		out = append(out, InlineHook{ID: h.ID, Name: h.Name, Type: h.Type, Status: h.Status, URI: h.Channel.Config.URI})
	}
	return out, nil
}

// HookExecution is Okta's answer to an inline hook execution: the hook's
// own answer (Status 200, Body: a PasswordImportResponse, {} when the hook
// sent no body), or Okta's 400 when the hook could
// not be called or did not answer 2xx, with what failed in Causes
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/#tag/InlineHook/operation/executeInlineHook).
type HookExecution struct {
	Status  int
	Body    []byte
	Code    string
	Summary string
	Causes  []string
	Elapsed time.Duration
}

// ExecuteInlineHook makes Okta call the inline hook with payload
// (POST /api/v1/inlineHooks/{id}/execute). Okta's 400 about the hook's
// failure is a HookExecution, not an error; other failures are
// *apierr.Error.
func (c *Client) ExecuteInlineHook(ctx context.Context, id string, payload []byte) (HookExecution, error) {
	var ex HookExecution
	start := time.Now()
	err := c.call(ctx, "execute inline hook", func(ctx context.Context) (*oktasdk.Response, error) {
		re := c.sdk.CloneRequestExecutor()
		req, err := re.WithAccept("application/json").WithContentType("application/json").
			NewRequest(http.MethodPost, "/api/v1/inlineHooks/"+url.PathEscape(id)+"/execute", payload)
		if err != nil {
			return nil, err
		}
		var body json.RawMessage
		resp, err := re.Do(ctx, req, &body)
		var oe *oktasdk.Error
		if err != nil && resp != nil && resp.Response != nil && resp.StatusCode == http.StatusBadRequest && errors.As(err, &oe) {
			ex.Status, ex.Code, ex.Summary = resp.StatusCode, oe.ErrorCode, oe.ErrorSummary
			for _, cause := range oe.ErrorCauses {
				if s, ok := cause["errorSummary"].(string); ok {
					ex.Causes = append(ex.Causes, s)
				}
			}
			return resp, nil
		}
		if err != nil {
			return resp, err
		}
		ex.Status, ex.Body = resp.StatusCode, body
		return resp, nil
	})
	ex.Elapsed = time.Since(start)
	if err != nil {
		return HookExecution{}, err
	}
	return ex, nil
}

// EventHook is an event hook as Okta lists it.
type EventHook struct {
	ID, Name, Status   string
	VerificationStatus string
	URI                string
	Events             []string // events.items: the subscribed event types
}

type eventHookJSON struct {
	ID                 string `json:"id"`
	Name               string `json:"name"`
	Status             string `json:"status"`
	VerificationStatus string `json:"verificationStatus"`
	Events             struct {
		Items []string `json:"items"`
	} `json:"events"`
	Channel struct {
		Config struct {
			URI string `json:"uri"`
		} `json:"config"`
	} `json:"channel"`
}

// EventHooks lists the org's event hooks (GET /api/v1/eventHooks).
func (c *Client) EventHooks(ctx context.Context) ([]EventHook, error) {
	var raw []eventHookJSON
	if err := getAll(ctx, c, "list event hooks", "/api/v1/eventHooks", &raw); err != nil {
		return nil, err
	}
	out := make([]EventHook, 0, len(raw))
	for _, h := range raw {
		out = append(out, EventHook{ID: h.ID, Name: h.Name, Status: h.Status, VerificationStatus: h.VerificationStatus,
			URI: h.Channel.Config.URI, Events: h.Events.Items})
	}
	return out, nil
}

// Policy is the part of a policy preflight reads.
type Policy struct {
	ID, Name, Type, Status string
	Priority               int
	System                 bool
	Groups                 []string // conditions.people.groups.include
	// Lockout is a password policy's settings.password.lockout; nil
	// otherwise.
	Lockout *Lockout
}

// Lockout is PasswordPolicyPasswordSettingsLockout: MaxAttempts failed
// sign-ins lock the user (0: no limit); AutoUnlockMinutes later Okta unlocks
// it (0: never).
type Lockout struct {
	MaxAttempts       int
	AutoUnlockMinutes int
}

// policyJSON is the part of a Policy the adapter reads: its people
// condition and a password policy's lockout
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
type policyJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Status     string `json:"status"`
	Priority   int    `json:"priority"`
	System     bool   `json:"system"`
	Conditions *struct {
		People *struct {
			Groups *struct {
				Include []string `json:"include"`
			} `json:"groups"`
		} `json:"people"`
	} `json:"conditions"`
	Settings *struct {
		Password *struct {
			Lockout *struct {
				MaxAttempts       *int `json:"maxAttempts"`
				AutoUnlockMinutes *int `json:"autoUnlockMinutes"`
			} `json:"lockout"`
		} `json:"password"`
	} `json:"settings"`
}

// Policies lists the policies of policyType (PASSWORD, OKTA_SIGN_ON,
// IDP_DISCOVERY, ...): GET /api/v1/policies?type=.
func (c *Client) Policies(ctx context.Context, policyType string) ([]Policy, error) {
	var raw []policyJSON
	if err := getAll(ctx, c, "list policies", "/api/v1/policies?type="+url.QueryEscape(policyType), &raw); err != nil {
		return nil, err
	}
	out := make([]Policy, 0, len(raw))
	for _, p := range raw {
		pol := Policy{ID: p.ID, Name: p.Name, Type: p.Type, Status: p.Status, Priority: p.Priority, System: p.System}
		if p.Conditions != nil && p.Conditions.People != nil && p.Conditions.People.Groups != nil {
			pol.Groups = p.Conditions.People.Groups.Include
		}
		if p.Settings != nil && p.Settings.Password != nil && p.Settings.Password.Lockout != nil {
			l := p.Settings.Password.Lockout
			// Absent fields take the API's defaults: maxAttempts 10,
			// autoUnlockMinutes 0.
			pol.Lockout = &Lockout{MaxAttempts: 10}
			if l.MaxAttempts != nil {
				pol.Lockout.MaxAttempts = *l.MaxAttempts
			}
			if l.AutoUnlockMinutes != nil {
				pol.Lockout.AutoUnlockMinutes = *l.AutoUnlockMinutes
			}
		}
		out = append(out, pol)
	}
	return out, nil
}

// PolicyRule is the part of a policy rule preflight reads: who it applies
// to and, for global session and IdP discovery rules, what it allows.
type PolicyRule struct {
	ID, Name, Status string
	Priority         int
	System           bool
	Users, Groups    []string // conditions.people.users.include, .groups.include
	Network          string   // conditions.network.connection: ANYWHERE or ZONE
	IdentityProvider string   // conditions.identityProvider.provider: ANY, OKTA, SPECIFIC_IDP
	// UserIdentifier, App and Platform report an IdP discovery rule's
	// non-empty userIdentifier patterns, app and platform conditions.
	UserIdentifier, App, Platform bool
	SignOnAccess                  string   // actions.signon.access: ALLOW or DENY
	PrimaryFactor                 string   // actions.signon.primaryFactor: PASSWORD_IDP or PASSWORD_IDP_ANY_FACTOR
	IdPProviders                  []string // actions.idp.providers[].type
	IdPShouldFallBackToOkta       bool     // actions.idp.shouldFallBackToOkta
}

type includeExclude struct {
	Include []json.RawMessage `json:"include"`
	Exclude []json.RawMessage `json:"exclude"`
}

func (ie *includeExclude) set() bool {
	return ie != nil && (len(ie.Include) > 0 || len(ie.Exclude) > 0)
}

type ruleJSON struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	Status     string `json:"status"`
	Priority   int    `json:"priority"`
	System     bool   `json:"system"`
	Conditions *struct {
		People *struct {
			Users *struct {
				Include []string `json:"include"`
			} `json:"users"`
			Groups *struct {
				Include []string `json:"include"`
			} `json:"groups"`
		} `json:"people"`
		Network *struct {
			Connection string `json:"connection"`
		} `json:"network"`
		IdentityProvider *struct {
			Provider string `json:"provider"`
		} `json:"identityProvider"`
		UserIdentifier *struct {
			Patterns []json.RawMessage `json:"patterns"`
		} `json:"userIdentifier"`
		App      *includeExclude `json:"app"`
		Platform *includeExclude `json:"platform"`
	} `json:"conditions"`
	Actions *struct {
		Signon *struct {
			Access        string `json:"access"`
			PrimaryFactor string `json:"primaryFactor"`
		} `json:"signon"`
		IdP *struct {
			Providers []struct {
				Type string `json:"type"`
			} `json:"providers"`
			ShouldFallBackToOkta bool `json:"shouldFallBackToOkta"`
		} `json:"idp"`
	} `json:"actions"`
}

// PolicyRules lists a policy's rules: GET /api/v1/policies/{id}/rules.
func (c *Client) PolicyRules(ctx context.Context, policyID string) ([]PolicyRule, error) {
	var raw []ruleJSON
	if err := getAll(ctx, c, "list policy rules", "/api/v1/policies/"+url.PathEscape(policyID)+"/rules", &raw); err != nil {
		return nil, err
	}
	out := make([]PolicyRule, 0, len(raw))
	for _, r := range raw {
		pr := PolicyRule{ID: r.ID, Name: r.Name, Status: r.Status, Priority: r.Priority, System: r.System}
		if cd := r.Conditions; cd != nil {
			if cd.People != nil && cd.People.Users != nil {
				pr.Users = cd.People.Users.Include
			}
			if cd.People != nil && cd.People.Groups != nil {
				pr.Groups = cd.People.Groups.Include
			}
			if cd.Network != nil {
				pr.Network = cd.Network.Connection
			}
			if cd.IdentityProvider != nil {
				pr.IdentityProvider = cd.IdentityProvider.Provider
			}
			pr.UserIdentifier = cd.UserIdentifier != nil && len(cd.UserIdentifier.Patterns) > 0
			pr.App, pr.Platform = cd.App.set(), cd.Platform.set()
		}
		if a := r.Actions; a != nil {
			if a.Signon != nil {
				pr.SignOnAccess, pr.PrimaryFactor = a.Signon.Access, a.Signon.PrimaryFactor
			}
			if a.IdP != nil {
				for _, p := range a.IdP.Providers {
					pr.IdPProviders = append(pr.IdPProviders, p.Type)
				}
				pr.IdPShouldFallBackToOkta = a.IdP.ShouldFallBackToOkta
			}
		}
		out = append(out, pr)
	}
	return out, nil
}

// getAll GETs path and the next pages its Link headers name (at most
// maxConfigPages), appending each page's JSON array to *into.
func getAll[T any](ctx context.Context, c *Client, op, path string, into *[]T) error {
	var resp *oktasdk.Response
	err := c.call(ctx, op, func(ctx context.Context) (*oktasdk.Response, error) {
		re := c.sdk.CloneRequestExecutor()
		req, err := re.WithAccept("application/json").NewRequest(http.MethodGet, path, nil)
		if err != nil {
			return nil, err
		}
		var page []T
		r, err := re.Do(ctx, req, &page)
		resp = r
		*into = append(*into, page...)
		return r, err
	})
	for n := 1; err == nil && resp != nil && resp.HasNextPage() && n < maxConfigPages; n++ {
		prev := resp
		err = c.call(ctx, op, func(ctx context.Context) (*oktasdk.Response, error) {
			var page []T
			r, err := prev.Next(ctx, &page)
			resp = r
			*into = append(*into, page...)
			return r, err
		})
	}
	return err
}
