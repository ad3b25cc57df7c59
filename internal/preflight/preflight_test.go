package preflight_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/apierr"
	"entra2okta/internal/preflight"
	"entra2okta/internal/redact"
)

// fakes: function fields, each defaulting to a healthy answer.

type fakeTemporal struct {
	ns    preflight.Namespace
	nsErr error
	sas   map[string]string
}

func (f *fakeTemporal) Namespace(context.Context, string) (preflight.Namespace, error) {
	return f.ns, f.nsErr
}
func (f *fakeTemporal) SearchAttributes(context.Context, string) (map[string]string, error) {
	return f.sas, nil
}

type fakeOkta struct {
	rl       preflight.RateLimit
	probeErr error
	hooks    []preflight.InlineHook
	execute  func(id string, payload []byte) (preflight.HookExecution, error)
	events   []preflight.EventHook
	policies map[string][]preflight.Policy
	rules    map[string][]preflight.PolicyRule
}

func (f *fakeOkta) ProbeUsers(context.Context) (preflight.RateLimit, error) { return f.rl, f.probeErr }
func (f *fakeOkta) InlineHooks(_ context.Context, typ string) ([]preflight.InlineHook, error) {
	return f.hooks, nil
}
func (f *fakeOkta) ExecuteInlineHook(_ context.Context, id string, payload []byte) (preflight.HookExecution, error) {
	return f.execute(id, payload)
}
func (f *fakeOkta) EventHooks(context.Context) ([]preflight.EventHook, error) { return f.events, nil }
func (f *fakeOkta) Policies(_ context.Context, typ string) ([]preflight.Policy, error) {
	return f.policies[typ], nil
}
func (f *fakeOkta) PolicyRules(_ context.Context, id string) ([]preflight.PolicyRule, error) {
	return f.rules[id], nil
}

type fakeDirectory struct {
	userErr, groupErr, domainErr error
	domains                      []preflight.Domain
}

func (f *fakeDirectory) OneUser(context.Context) (string, error) {
	return "alice@contoso.com", f.userErr
}
func (f *fakeDirectory) GroupMembers(context.Context, string) (int, error) {
	return 7, f.groupErr
}
func (f *fakeDirectory) Domains(context.Context) ([]preflight.Domain, error) {
	return f.domains, f.domainErr
}

type fakeVerifier struct{ r preflight.VerifyResult }

func (f fakeVerifier) VerifyPassword(context.Context, string, string) preflight.VerifyResult {
	return f.r
}

type fakeScopes struct {
	granted map[string]bool
	err     error
}

func (f fakeScopes) GrantedScopes(context.Context, []string) (map[string]bool, error) {
	return f.granted, f.err
}

var wantSAs = map[string]string{"MigrationState": "Keyword", "MigrationDeadline": "Datetime"}

func unverified(string, []byte) (preflight.HookExecution, error) {
	return preflight.HookExecution{Status: 200, Elapsed: 120 * time.Millisecond,
		Body: []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"UNVERIFIED"}}]}`)}, nil
}

// healthy returns a configuration in which every check passes.
func healthy(t *testing.T) (preflight.Config, *fakeTemporal, *fakeOkta, *fakeDirectory) {
	t.Helper()
	tm := &fakeTemporal{ns: preflight.Namespace{Name: "default", State: "Registered", Retention: 90 * 24 * time.Hour},
		sas: map[string]string{"MigrationState": "Keyword", "MigrationDeadline": "Datetime", "WorkflowId": "Keyword"}}
	ok := &fakeOkta{
		rl:      preflight.RateLimit{Known: true, Limit: 600, Remaining: 590},
		hooks:   []preflight.InlineHook{{ID: "cal1", Name: "Password import", Type: preflight.HookTypePasswordImport, Status: "ACTIVE", URI: "https://hook.example.com/okta/password-import"}},
		execute: unverified,
		events: []preflight.EventHook{{ID: "who1", Name: "entra2okta events", Status: "ACTIVE", VerificationStatus: "VERIFIED",
			URI: "https://hook.example.com/okta/events", Events: []string{preflight.EventAppMembershipAdd, preflight.EventPasswordImport}}},
		policies: map[string][]preflight.Policy{
			preflight.PolicyPassword: {{ID: "pw", Name: "Default Policy", Status: "ACTIVE", System: true,
				Lockout: &preflight.Lockout{MaxAttempts: 10, AutoUnlockMinutes: 30}}},
			preflight.PolicySignOn:       {{ID: "so", Name: "Default Policy", Status: "ACTIVE", System: true, Groups: []string{"00gEveryone"}}},
			preflight.PolicyIdPDiscovery: {{ID: "idp", Name: "Idp Discovery Policy", Status: "ACTIVE", System: true}},
		},
		rules: map[string][]preflight.PolicyRule{
			"so":  {{Name: "Default Rule", Status: "ACTIVE", Network: "ANYWHERE", SignOnAccess: "ALLOW", PrimaryFactor: "PASSWORD_IDP"}},
			"idp": {{Name: "Default Rule", Status: "ACTIVE", IdPProviders: []string{"OKTA"}}},
		},
	}
	dir := &fakeDirectory{domains: []preflight.Domain{{Name: "contoso.com", AuthenticationType: "Managed", Verified: true}}}
	cfg := preflight.Config{
		Temporal: tm, Namespace: "default", SearchAttributes: wantSAs, Deadline: 60 * 24 * time.Hour,
		OktaOrgURL: "https://example.okta.com", OktaAccess: ok, InlineHooks: ok, EventHooks: ok, Policies: ok, OktaCreateRPS: 5,
		Directory: dir, GroupID: "g1", Verifier: fakeVerifier{preflight.VerifyResult{Verdict: "verified", Reason: "ok"}},
		CanaryUser: "canary@contoso.com", CanaryPassword: redact.New("canary-Pw-1"),
	}
	return cfg, tm, ok, dir
}

func run(t *testing.T, cfg preflight.Config) map[string]preflight.Check {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out := map[string]preflight.Check{}
	for _, c := range preflight.Run(ctx, cfg) {
		if _, dup := out[c.Name]; dup {
			t.Fatalf("two checks named %q", c.Name)
		}
		out[c.Name] = c
	}
	return out
}

func expect(t *testing.T, checks map[string]preflight.Check, name string, st preflight.Status, detail string) {
	t.Helper()
	c, found := checks[name]
	if !found {
		t.Fatalf("no check %q", name)
	}
	if c.Status != st || !strings.Contains(c.Detail+" "+c.Fix, detail) {
		t.Errorf("%s: %s %q (fix %q), want %s containing %q", name, c.Status, c.Detail, c.Fix, st, detail)
	}
	if (st == preflight.StatusFail || st == preflight.StatusWarn) && c.Fix == "" {
		t.Errorf("%s: %s without a fix", name, st)
	}
}

func TestHealthyConfigurationPasses(t *testing.T) {
	cfg, _, _, _ := healthy(t)
	checks := run(t, cfg)
	for name, c := range checks {
		want := preflight.StatusOK
		if name == preflight.NameOktaScopes || name == preflight.NameHookServer {
			want = preflight.StatusSkip // an API token; no admin URL
		}
		if c.Status != want {
			t.Errorf("%s: %s %q (fix %q), want %s", name, c.Status, c.Detail, c.Fix, want)
		}
	}
	expect(t, checks, preflight.NameOktaScopes, preflight.StatusSkip, "oauth: not configured")
	expect(t, checks, preflight.NameTemporalRetention, preflight.StatusOK, "retention 90d; the campaign needs 68d")
	if len(checks) != 18 {
		t.Errorf("%d checks, want 18", len(checks))
	}
}

func TestTemporalChecks(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		cfg, tm, _, _ := healthy(t)
		tm.nsErr = errors.New("connect to Temporal at localhost:7233: connection refused")
		c := run(t, cfg)
		expect(t, c, preflight.NameTemporalReachable, preflight.StatusFail, "connection refused")
		expect(t, c, preflight.NameTemporalSearch, preflight.StatusSkip, "not reached")
	})
	t.Run("no namespace", func(t *testing.T) {
		cfg, tm, _, _ := healthy(t)
		tm.nsErr = preflight.ErrNamespaceNotFound
		expect(t, run(t, cfg), preflight.NameTemporalNamespace, preflight.StatusFail, "--retention 1632h")
	})
	t.Run("retention too short", func(t *testing.T) {
		cfg, tm, _, _ := healthy(t)
		tm.ns.Retention = 30 * 24 * time.Hour
		expect(t, run(t, cfg), preflight.NameTemporalRetention, preflight.StatusFail, "retention 30d; the campaign needs 68d")
		cfg.Deadline = 10 * 24 * time.Hour // 10 + 1 + 7 = 18 days fit in 30
		expect(t, run(t, cfg), preflight.NameTemporalRetention, preflight.StatusOK, "needs 18d")
	})
	t.Run("missing search attribute", func(t *testing.T) {
		cfg, tm, _, _ := healthy(t)
		delete(tm.sas, "MigrationDeadline")
		expect(t, run(t, cfg), preflight.NameTemporalSearch, preflight.StatusFail,
			"--name MigrationDeadline --type Datetime")
	})
	t.Run("search attribute whose type the server does not say", func(t *testing.T) {
		cfg, tm, _, _ := healthy(t)
		tm.sas["MigrationDeadline"] = ""
		expect(t, run(t, cfg), preflight.NameTemporalSearch, preflight.StatusOK, "all 2 registered")
	})
	t.Run("search attribute of another type", func(t *testing.T) {
		cfg, tm, _, _ := healthy(t)
		tm.sas["MigrationState"] = "Text"
		expect(t, run(t, cfg), preflight.NameTemporalSearch, preflight.StatusFail, "MigrationState is Text, not Keyword")
	})
}

func TestOktaAccessChecks(t *testing.T) {
	t.Run("refused credentials", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.probeErr = &apierr.Error{Kind: apierr.Unauthorized, Service: "okta", Op: "list users", Status: 401, Code: "E0000011"}
		c := run(t, cfg)
		expect(t, c, preflight.NameOktaCredentials, preflight.StatusFail, "refused the credentials")
		expect(t, c, preflight.NameOktaRateLimit, preflight.StatusSkip, "")
	})
	t.Run("not configured", func(t *testing.T) {
		cfg, _, _, _ := healthy(t)
		cfg.OktaConfigError = "OKTA_ORG_URL is not set"
		c := run(t, cfg)
		expect(t, c, preflight.NameOktaCredentials, preflight.StatusFail, "OKTA_ORG_URL is not set")
		expect(t, c, preflight.NameInlineHook, preflight.StatusSkip, "")
	})
	t.Run("creates above the token's share", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.rl = preflight.RateLimit{Known: true, Limit: 300, Remaining: 299}
		cfg.OktaCreateRPS = 9.7
		c := run(t, cfg)
		expect(t, c, preflight.NameOktaRateLimit, preflight.StatusWarn, "set OKTA_CREATE_RPS to at most 5.00")
		expect(t, c, preflight.NameOktaRateLimit, preflight.StatusWarn, "read from X-Rate-Limit-Limit: 300 requests/min for these credentials")
		expect(t, c, preflight.NameOktaRateLimit, preflight.StatusWarn, "not in Okta's headers; inferred: 600/min if these credentials have Okta's default 50 % share")
	})
	t.Run("bucket in use by another client", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.rl.Remaining = 12
		expect(t, run(t, cfg), preflight.NameOktaRateLimit, preflight.StatusWarn, "another client")
	})
	t.Run("no headers", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.rl = preflight.RateLimit{}
		expect(t, run(t, cfg), preflight.NameOktaRateLimit, preflight.StatusWarn, "no X-Rate-Limit headers")
	})
}

func TestScopeChecks(t *testing.T) {
	base := func(g map[string]bool, err error) preflight.Config {
		cfg, _, _, _ := healthy(t)
		cfg.Scopes = fakeScopes{granted: g, err: err}
		cfg.RequiredScopes = []string{"okta.users.read", "okta.users.manage"}
		cfg.PreflightScopes = []string{"okta.policies.read"}
		return cfg
	}
	all := map[string]bool{"okta.users.read": true, "okta.users.manage": true, "okta.policies.read": true}
	expect(t, run(t, base(all, nil)), preflight.NameOktaScopes, preflight.StatusOK, "okta.policies.read")
	expect(t, run(t, base(map[string]bool{"okta.users.read": true, "okta.policies.read": true}, nil)),
		preflight.NameOktaScopes, preflight.StatusFail, "the workers need them: okta.users.manage")
	expect(t, run(t, base(map[string]bool{"okta.users.read": true, "okta.users.manage": true}, nil)),
		preflight.NameOktaScopes, preflight.StatusWarn, "okta.policies.read")
	expect(t, run(t, base(nil, errors.New("invalid_client"))), preflight.NameOktaScopes, preflight.StatusFail, "invalid_client")
}

func TestInlineHookChecks(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.hooks = nil
		c := run(t, cfg)
		expect(t, c, preflight.NameInlineHook, preflight.StatusFail, "no password import inline hook")
		expect(t, c, preflight.NameHookExecute, preflight.StatusSkip, "no hook")
	})
	t.Run("inactive", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.hooks[0].Status = "INACTIVE"
		ok.execute = func(string, []byte) (preflight.HookExecution, error) {
			t.Error("an INACTIVE hook was executed")
			return preflight.HookExecution{}, nil
		}
		c := run(t, cfg)
		expect(t, c, preflight.NameInlineHook, preflight.StatusFail, "/api/v1/inlineHooks/cal1/lifecycle/activate")
		expect(t, c, preflight.NameHookExecute, preflight.StatusSkip, "not ACTIVE")
	})
	t.Run("sample payload", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		var got []byte
		ok.execute = func(id string, payload []byte) (preflight.HookExecution, error) {
			got = payload
			return unverified(id, payload)
		}
		expect(t, run(t, cfg), preflight.NameHookExecute, preflight.StatusOK, "answered UNVERIFIED")
		var p struct {
			EventType string `json:"eventType"`
			Source    string `json:"source"`
			Data      struct {
				Context struct {
					Credential struct{ Username, Password string }
				}
			}
		}
		if err := json.Unmarshal(got, &p); err != nil || p.EventType != preflight.HookTypePasswordImport ||
			p.Data.Context.Credential.Username != preflight.SampleUsername || p.Data.Context.Credential.Password == "" ||
			p.Source != "https://example.okta.com/api/v1/inlineHooks/cal1" {
			t.Errorf("payload %s: %+v %v", got, p, err)
		}
	})
	answers := []struct {
		name   string
		ex     preflight.HookExecution
		status preflight.Status
		detail string
	}{
		{"undecided 403", preflight.HookExecution{Status: 400, Code: "E0000001", Causes: []string{"hook answered HTTP 403"}, Elapsed: 80 * time.Millisecond},
			preflight.StatusWarn, "answered 403, undecided"},
		{"no command", preflight.HookExecution{Status: 200, Body: []byte(`{}`), Elapsed: time.Millisecond}, preflight.StatusOK, "no command"},
		{"empty commands", preflight.HookExecution{Status: 200, Body: []byte(`{"commands": [ ]}`)}, preflight.StatusOK, "no command"},
		{"wrong secret (401)", preflight.HookExecution{Status: 400, Code: "E0000001", Causes: []string{"hook answered HTTP 401"}},
			preflight.StatusFail, "HOOK_AUTH_SECRET"},
		{"time-out", preflight.HookExecution{Status: 400, Code: "E0000001", Causes: []string{"hook timed out after 3s"}, Elapsed: 6 * time.Second},
			preflight.StatusFail, "hook timed out after 3s"},
		{"verified a random password", preflight.HookExecution{Status: 200,
			Body: []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`)},
			preflight.StatusFail, "answered VERIFIED"},
		{"not a command", preflight.HookExecution{Status: 200, Body: []byte(`{"status":"ok"}`)}, preflight.StatusFail, "not a password import command"},
		{"slow", preflight.HookExecution{Status: 200, Body: []byte(`{}`), Elapsed: 3200 * time.Millisecond}, preflight.StatusFail, "past Okta's 3s"},
		{"over the budget", preflight.HookExecution{Status: 200, Body: []byte(`{}`), Elapsed: 2700 * time.Millisecond},
			preflight.StatusWarn, "more than the hook's budget"},
		{"undecided and slow", preflight.HookExecution{Status: 400, Causes: []string{"hook answered HTTP 403"}, Elapsed: 3100 * time.Millisecond},
			preflight.StatusFail, "past Okta's 3s"},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			cfg, _, ok, _ := healthy(t)
			ok.execute = func(string, []byte) (preflight.HookExecution, error) { return a.ex, nil }
			expect(t, run(t, cfg), preflight.NameHookExecute, a.status, a.detail)
		})
	}
	t.Run("execute refused", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.execute = func(string, []byte) (preflight.HookExecution, error) {
			return preflight.HookExecution{}, &apierr.Error{Kind: apierr.Unauthorized, Service: "okta", Op: "execute inline hook", Status: 403, Code: "insufficient_scope"}
		}
		expect(t, run(t, cfg), preflight.NameHookExecute, preflight.StatusFail, "okta.inlineHooks.manage")
	})
}

func TestEventHookChecks(t *testing.T) {
	t.Run("none", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.events = []preflight.EventHook{{ID: "x", Status: "ACTIVE", VerificationStatus: "VERIFIED", Events: []string{"user.lifecycle.create"}}}
		expect(t, run(t, cfg), preflight.NameEventHook, preflight.StatusWarn, "no event hook is subscribed")
	})
	t.Run("unverified", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.events[0].VerificationStatus = "UNVERIFIED"
		expect(t, run(t, cfg), preflight.NameEventHook, preflight.StatusFail, "/api/v1/eventHooks/who1/lifecycle/verify")
	})
	t.Run("inactive", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.events[0].Status = "INACTIVE"
		expect(t, run(t, cfg), preflight.NameEventHook, preflight.StatusFail, "it is INACTIVE")
	})
	t.Run("one type missing", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.events[0].Events = []string{preflight.EventAppMembershipAdd}
		expect(t, run(t, cfg), preflight.NameEventHook, preflight.StatusFail, "not subscribed to user.import.password")
	})
}

func TestPolicyChecks(t *testing.T) {
	t.Run("lockout below the hook's threshold", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.policies[preflight.PolicyPassword][0].Lockout = &preflight.Lockout{MaxAttempts: 3, AutoUnlockMinutes: 30}
		expect(t, run(t, cfg), preflight.NamePasswordPolicy, preflight.StatusWarn, "HOOK_LOCKOUT_THRESHOLD=3")
	})
	t.Run("never unlocks", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.policies[preflight.PolicyPassword][0].Lockout = &preflight.Lockout{MaxAttempts: 10}
		expect(t, run(t, cfg), preflight.NamePasswordPolicy, preflight.StatusWarn, "never unlocks")
	})
	t.Run("no lockout at all", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.policies[preflight.PolicyPassword][0].Lockout = &preflight.Lockout{}
		expect(t, run(t, cfg), preflight.NamePasswordPolicy, preflight.StatusOK, "maxAttempts 0")
	})
	passwordless := preflight.PolicyRule{Name: "Passwordless", Status: "ACTIVE", Network: "ANYWHERE", SignOnAccess: "ALLOW",
		PrimaryFactor: "PASSWORD_IDP_ANY_FACTOR"}
	t.Run("passwordless for everyone", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.rules["so"] = append([]preflight.PolicyRule{passwordless}, ok.rules["so"]...)
		expect(t, run(t, cfg), preflight.NameSignOnPolicy, preflight.StatusFail, `rule "Passwordless" of "Default Policy"`)
	})
	t.Run("passwordless for a group", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		r := passwordless
		r.Groups = []string{"00gPilot"}
		ok.rules["so"] = append([]preflight.PolicyRule{r}, ok.rules["so"]...)
		expect(t, run(t, cfg), preflight.NameSignOnPolicy, preflight.StatusWarn, "groups 00gPilot")
	})
	t.Run("passwordless rule inactive or denying", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		off, deny := passwordless, passwordless
		off.Status, deny.SignOnAccess = "INACTIVE", "DENY"
		ok.rules["so"] = append([]preflight.PolicyRule{off, deny}, ok.rules["so"]...)
		expect(t, run(t, cfg), preflight.NameSignOnPolicy, preflight.StatusOK, "none lets a session start without the password")
	})
	t.Run("routing everyone to an identity provider", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.rules["idp"] = append([]preflight.PolicyRule{{Name: "To Entra", Status: "ACTIVE", Network: "ANYWHERE", IdPProviders: []string{"SAML2"}}},
			ok.rules["idp"]...)
		expect(t, run(t, cfg), preflight.NameIdPRouting, preflight.StatusFail, `"To Entra" sends users to SAML2 for everyone`)
	})
	t.Run("routing some usernames", func(t *testing.T) {
		cfg, _, ok, _ := healthy(t)
		ok.rules["idp"] = append([]preflight.PolicyRule{{Name: "Partners", Status: "ACTIVE", UserIdentifier: true, IdPProviders: []string{"OIDC"}}},
			ok.rules["idp"]...)
		expect(t, run(t, cfg), preflight.NameIdPRouting, preflight.StatusWarn, "usernames matching a pattern")
	})
}

func TestEntraChecks(t *testing.T) {
	t.Run("federated domains", func(t *testing.T) {
		cfg, _, _, dir := healthy(t)
		dir.domains = append(dir.domains, preflight.Domain{Name: "fabrikam.com", AuthenticationType: "Federated", Verified: true},
			preflight.Domain{Name: "unverified.example", AuthenticationType: "Federated"})
		c := run(t, cfg)
		expect(t, c, preflight.NameDomains, preflight.StatusWarn, "federated: fabrikam.com (1 managed)")
		if strings.Contains(c[preflight.NameDomains].Detail, "unverified.example") {
			t.Error("an unverified domain is listed")
		}
	})
	t.Run("graph permissions missing", func(t *testing.T) {
		cfg, _, _, dir := healthy(t)
		denied := &apierr.Error{Kind: apierr.Unauthorized, Service: "graph", Op: "list users", Status: 403, Code: "Authorization_RequestDenied"}
		dir.userErr, dir.domainErr = denied, denied
		dir.groupErr = &apierr.Error{Kind: apierr.NotFound, Service: "graph", Op: "list group members", Status: 404}
		c := run(t, cfg)
		expect(t, c, preflight.NameGraphUser, preflight.StatusFail, "User.Read.All")
		expect(t, c, preflight.NameDomains, preflight.StatusFail, "Domain.Read.All")
		expect(t, c, preflight.NameGraphGroup, preflight.StatusFail, "check the group's object ID")
	})
	t.Run("no group, no canary", func(t *testing.T) {
		cfg, _, _, _ := healthy(t)
		cfg.GroupID, cfg.CanaryUser = "", ""
		c := run(t, cfg)
		expect(t, c, preflight.NameGraphGroup, preflight.StatusSkip, "no --group")
		expect(t, c, preflight.NameVerifierApp, preflight.StatusSkip, "no --canary-user")
	})
	for _, tc := range []struct {
		r      preflight.VerifyResult
		status preflight.Status
		detail string
	}{
		{preflight.VerifyResult{Verdict: "indeterminate", Reason: "app_not_public_client", Code: 7000218}, preflight.StatusFail, "Allow public client flows"},
		{preflight.VerifyResult{Verdict: "rejected", Reason: "wrong_password", Code: 50126}, preflight.StatusWarn, "AADSTS50126"},
		{preflight.VerifyResult{Verdict: "verified", Reason: "mfa_required", Code: 50076}, preflight.StatusOK, "mfa_required"},
		{preflight.VerifyResult{Verdict: "indeterminate", Reason: "timeout"}, preflight.StatusFail, "timeout"},
	} {
		t.Run("canary "+tc.r.Reason, func(t *testing.T) {
			cfg, _, _, _ := healthy(t)
			cfg.Verifier = fakeVerifier{tc.r}
			expect(t, run(t, cfg), preflight.NameVerifierApp, tc.status, tc.detail)
		})
	}
	t.Run("canary without password", func(t *testing.T) {
		cfg, _, _, _ := healthy(t)
		cfg.CanaryPassword = redact.String{}
		expect(t, run(t, cfg), preflight.NameVerifierApp, preflight.StatusFail, "PREFLIGHT_CANARY_PASSWORD")
	})
}

func TestHookServerCheck(t *testing.T) {
	var mu sync.Mutex
	status, body := http.StatusOK, `{"status":"ok","version":"v1.4.0 abc"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	defer srv.Close()
	cfg, _, _, _ := healthy(t)
	cfg.HookAdminURL, cfg.Version = srv.URL+"/", "v1.4.0 abc"
	expect(t, run(t, cfg), preflight.NameHookServer, preflight.StatusOK, "ready, version v1.4.0 abc")
	cfg.Version = "v1.5.0"
	expect(t, run(t, cfg), preflight.NameHookServer, preflight.StatusWarn, "this starter is v1.5.0")
	mu.Lock()
	status, body = http.StatusServiceUnavailable, `{"status":"unavailable","temporal":"unreachable","version":"v1.4.0 abc"}`
	mu.Unlock()
	expect(t, run(t, cfg), preflight.NameHookServer, preflight.StatusFail, "temporal unreachable")
	cfg.HookAdminURL = ""
	expect(t, run(t, cfg), preflight.NameHookServer, preflight.StatusSkip, "no --hook-admin-url")
	cfg.HookAdminURL = "http://127.0.0.1:1"
	expect(t, run(t, cfg), preflight.NameHookServer, preflight.StatusFail, "HOOK_ADMIN_ADDR")
}

func TestOutputAndSecrets(t *testing.T) {
	const marker = "s3cr3t-MARKER"
	cfg, tm, _, _ := healthy(t)
	tm.nsErr = errors.New("dial: bad API key " + marker)
	cfg.Secrets = []string{marker, ""}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	checks := preflight.Run(ctx, cfg)
	if !preflight.Failed(checks) {
		t.Fatal("Failed: false with a FAIL")
	}
	var text, js bytes.Buffer
	if err := preflight.WriteText(&text, checks); err != nil {
		t.Fatal(err)
	}
	if err := preflight.WriteJSON(&js, checks); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text.String()+js.String(), marker) {
		t.Fatalf("a secret is printed:\n%s", text.String())
	}
	lines := strings.Split(strings.TrimRight(text.String(), "\n"), "\n")
	if len(lines) != len(checks) {
		t.Fatalf("%d lines for %d checks:\n%s", len(lines), len(checks), text.String())
	}
	// Aligned: every name starts in the same column.
	col := strings.Index(lines[0], checks[0].Name)
	for i, l := range lines {
		if strings.Index(l, checks[i].Name) != col || !strings.HasPrefix(l, string(checks[i].Status)) {
			t.Errorf("line %q not aligned at %d", l, col)
		}
	}
	if !strings.Contains(text.String(), "FAIL  temporal: reachable") || !strings.Contains(text.String(), "[redacted] — fix: check TEMPORAL_ADDRESS") {
		t.Errorf("text:\n%s", text.String())
	}
	var decoded []map[string]any
	if err := json.Unmarshal(js.Bytes(), &decoded); err != nil || len(decoded) != len(checks) {
		t.Fatalf("json: %v\n%s", err, js.String())
	}
	for _, k := range []string{"name", "status", "detail", "fix"} {
		if _, ok := decoded[0][k]; !ok {
			t.Errorf("json field %q missing: %v", k, decoded[0])
		}
	}
	cfg, _, _, _ = healthy(t)
	if preflight.Failed(preflight.Run(ctx, cfg)) {
		t.Error("Failed: true without a FAIL")
	}
}
