package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"entra2okta/internal/apierr"
	"entra2okta/internal/buildinfo"
	"entra2okta/internal/entra"
	"entra2okta/internal/entra/ropc"
	"entra2okta/internal/graph"
	"entra2okta/internal/okta/oktaclient"
	"entra2okta/internal/preflight"
	"entra2okta/internal/redact"
	"entra2okta/internal/secretenv"
	"entra2okta/internal/settings"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

// preflightScopes are the Okta API scopes of preflight's own reads: the
// inline hooks (executing one needs .manage), the event hooks and the
// policies (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/InlineHook/,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/EventHook/,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
var preflightScopes = []string{"okta.inlineHooks.manage", "okta.eventHooks.read", "okta.policies.read"}

// preflightSettings are preflight's settings from the environment: most are
// the other binaries' variables, read to check them.
type preflightSettings struct {
	orgURL, token                       string
	canary, canaryPw, hookAdmin         string
	tenant, graphClient, verifierClient string
	authority, graphURL                 string
	createRPS                           float64
	lockout                             int
	budget                              time.Duration
}

// declare declares them; env (nil when only listing) gives the two client
// IDs their fallback, ENTRA_CLIENT_ID.
func (p *preflightSettings) declare(s *settings.Set, env Env) {
	type S = settings.Setting
	p.authority, p.graphURL = entra.DefaultAuthorityHost, graph.DefaultBaseURL
	p.createRPS, p.lockout, p.budget = worker.DefaultOktaCreateRPS, preflight.DefaultHookLockoutThreshold, preflight.DefaultHookBudget
	if env != nil {
		p.graphClient, p.verifierClient = env("ENTRA_CLIENT_ID"), env("ENTRA_CLIENT_ID")
	}
	s.String(&p.orgURL, S{Flag: "okta-org-url", Env: "OKTA_ORG_URL", Help: "Okta org URL, e.g. https://example.okta.com"})
	s.String(&p.token, S{FormerFlag: "okta-api-token", Env: "OKTA_API_TOKEN", Secret: true, Help: "Okta API token, or an OAuth service app: " +
		"OKTA_CLIENT_ID, OKTA_PRIVATE_KEY (or OKTA_PRIVATE_KEY_FILE), OKTA_PRIVATE_KEY_ID, OKTA_SCOPES"})
	s.String(&p.canary, S{Flag: "canary-user", Env: "PREFLIGHT_CANARY_USER",
		Help: "an Entra account of a managed domain to check the verifier app's ROPC flow with (preflight); its password comes from " +
			"PREFLIGHT_CANARY_PASSWORD or the file PREFLIGHT_CANARY_PASSWORD_FILE names, never from a flag"})
	s.String(&p.canaryPw, S{Env: "PREFLIGHT_CANARY_PASSWORD", Secret: true, Help: "the canary account's password (preflight)"})
	s.String(&p.hookAdmin, S{Flag: "hook-admin-url", Env: "HOOK_ADMIN_URL",
		Help: "the hook server's admin listener (its HOOK_ADMIN_ADDR) as http://host:port, for preflight to read /readyz"})
	s.EntraTenant(&p.tenant, &p.authority)
	s.String(&p.graphClient, S{Flag: "graph-client-id", Env: "GRAPH_CLIENT_ID", Default: "ENTRA_CLIENT_ID",
		Help: "the workers' Graph app registration, with ENTRA_CLIENT_SECRET (preflight)"})
	s.String(&p.verifierClient, S{Flag: "verifier-client-id", Env: "ENTRA_VERIFIER_CLIENT_ID", Default: "ENTRA_CLIENT_ID",
		Help: "the hook server's verifier app registration, a public client (preflight)"})
	s.String(&p.graphURL, S{Flag: "graph-base-url", Env: "GRAPH_BASE_URL", Help: "Microsoft Graph base URL"})
	s.Float(&p.createRPS, S{Flag: "okta-create-rps", Env: "OKTA_CREATE_RPS", Help: "the workers' Okta creates per second, compared with the token's limit"})
	s.Int(&p.lockout, S{Flag: "hook-lockout-threshold", Env: "HOOK_LOCKOUT_THRESHOLD",
		Help: "the hook server's HOOK_LOCKOUT_THRESHOLD, compared with Okta's password policy lockout"})
	s.Duration(&p.budget, S{Flag: "hook-budget", Env: "HOOK_BUDGET", Help: "the hook server's HOOK_BUDGET, compared with the hook's round trip through Okta"})
}

func runPreflight(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("preflight",
		"preflight [--deadline 60d] [--group ID] [--canary-user UPN] [--hook-admin-url http://host:port] [--json]", io)
	var tf temporalFlags
	tf.register(fs, env)
	var ps preflightSettings
	set := settings.Attach(fs)
	ps.declare(set, env)
	if err := set.ApplyEnv(env); err != nil {
		return usageErr(io, "%v", err)
	}
	orgURL, token := &ps.orgURL, &ps.token
	deadline := fs.String("deadline", fmt.Sprintf("%dd", workflows.DefaultDeadlineAfter/(24*time.Hour)),
		"the campaign's planned deadline (the batch's --deadline): 60d, 36h or an RFC 3339 time")
	jsonOut := fs.Bool("json", false, "print the checks as a JSON array of {name, status, detail, fix}")
	group := fs.String("group", "", "an Entra group object id whose members the Graph app must read (e.g. the batch's --group)")
	canary, hookAdmin, tenant, graphClient, verifierClient := &ps.canary, &ps.hookAdmin, &ps.tenant, &ps.graphClient, &ps.verifierClient
	authority, graphURL, createRPS, lockout, budget := &ps.authority, &ps.graphURL, &ps.createRPS, &ps.lockout, &ps.budget
	timeout := fs.Duration("timeout", preflight.DefaultTimeout, "deadline of each group of checks")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	after, at, err := ParseDeadline(*deadline)
	if err != nil {
		return usageErr(io, "%v", err)
	}
	if !at.IsZero() {
		after = time.Until(at)
	}
	if *timeout <= 0 {
		return usageErr(io, "--timeout must be positive")
	}
	canaryPw := ps.canaryPw

	cfg := preflight.Config{
		Deadline:             after,
		DeadlineSpread:       workflows.DefaultDeadlineSpread,
		OktaOrgURL:           *orgURL,
		OktaCreateRPS:        *createRPS,
		HookLockoutThreshold: *lockout,
		HookBudget:           *budget,
		GroupID:              *group,
		CanaryUser:           *canary,
		CanaryPassword:       redact.New(canaryPw),
		HookAdminURL:         *hookAdmin,
		Version:              buildinfo.Version(),
		Timeout:              *timeout,
		SearchAttributes:     wantedSearchAttributes(),
	}
	for _, k := range append(secretenv.Names(), "PREFLIGHT_CANARY_PASSWORD") {
		if v := env(k); v != "" {
			cfg.Secrets = append(cfg.Secrets, v)
		}
	}
	cfg.Secrets = append(cfg.Secrets, *token, canaryPw)

	// Temporal: a failed dial is the reachability check's FAIL.
	if c, err := tf.dial(ctx); err != nil {
		cfg.Temporal, cfg.Namespace = unreachable{err}, tf.namespace
	} else {
		defer c.Close()
		cfg.Temporal, cfg.Namespace = temporalReader{c}, tf.namespace
	}
	if cfg.Namespace == "" {
		cfg.Namespace = envOr(env, "TEMPORAL_NAMESPACE", "default")
	}

	setupOkta(ctx, &cfg, env, *orgURL, *token)
	setupEntra(&cfg, env, *tenant, *graphClient, *verifierClient, *authority, *graphURL)

	checks := preflight.Run(ctx, cfg)
	if *jsonOut {
		if err := preflight.WriteJSON(io.Out, checks); err != nil {
			return fail(io, "%v", err)
		}
	} else {
		if err := preflight.WriteText(io.Out, checks); err != nil {
			return fail(io, "%v", err)
		}
		counts := map[preflight.Status]int{}
		for _, c := range checks {
			counts[c.Status]++
		}
		fmt.Fprintf(io.Out, "%d ok, %d warn, %d FAIL, %d skipped\n", counts[preflight.StatusOK], counts[preflight.StatusWarn],
			counts[preflight.StatusFail], counts[preflight.StatusSkip])
	}
	if preflight.Failed(checks) {
		return ExitError
	}
	return ExitOK
}

// setupOkta builds the Okta client (API token or OAuth service app); with
// OAuth, the scope prober first, and the client then asks only for the
// scopes Okta grants, so that one missing scope does not fail every read.
func setupOkta(ctx context.Context, cfg *preflight.Config, env Env, orgURL, token string) {
	if token == "" {
		token = env("OKTA_API_TOKEN")
	}
	oc := oktaclient.Config{OrgURL: orgURL, APIToken: token}
	oauth := oktaclient.OAuthConfig{ClientID: env("OKTA_CLIENT_ID"), PrivateKey: env("OKTA_PRIVATE_KEY"), KeyID: env("OKTA_PRIVATE_KEY_ID"),
		Scopes: oktaclient.ParseScopes(env("OKTA_SCOPES"))}
	if token == "" && (oauth.ClientID != "" || oauth.PrivateKey != "") {
		oc.APIToken, oc.OAuth = "", oauth
		cfg.RequiredScopes = oauth.Scopes
		if len(cfg.RequiredScopes) == 0 {
			cfg.RequiredScopes = oktaclient.DefaultScopes()
		}
		cfg.PreflightScopes = preflightScopes
	}
	switch {
	case orgURL == "":
		cfg.OktaConfigError = "OKTA_ORG_URL is not set"
		return
	case oc.APIToken == "" && !(oauth.ClientID != "" || oauth.PrivateKey != ""):
		cfg.OktaConfigError = "neither OKTA_API_TOKEN nor an OAuth service app (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY) is set"
		return
	}
	if oc.APIToken == "" {
		prober := &scopeProber{base: oc}
		cfg.Scopes = prober
		oc.OAuth.Scopes = append(append([]string{}, cfg.RequiredScopes...), cfg.PreflightScopes...)
		// Ask for the granted ones only: the probe runs here, before the
		// checks, each of its calls under its own deadline; the scopes
		// check then reports its result.
		oc.OAuth.Scopes = prober.granted(ctx, oc.OAuth.Scopes)
	}
	c, err := oktaclient.New(ctx, oc)
	if err != nil {
		cfg.OktaConfigError = err.Error()
		return
	}
	a := oktaReader{c}
	cfg.OktaAccess, cfg.InlineHooks, cfg.EventHooks, cfg.Policies = a, a, a, a
}

func setupEntra(cfg *preflight.Config, env Env, tenant, graphClient, verifierClient, authority, graphURL string) {
	secret := env("ENTRA_CLIENT_SECRET")
	if tenant == "" || graphClient == "" || secret == "" {
		cfg.EntraConfigError = "ENTRA_TENANT_ID, the Graph app's client ID (GRAPH_CLIENT_ID or ENTRA_CLIENT_ID) and ENTRA_CLIENT_SECRET must all be set"
	} else if gc, err := graph.New(graph.Config{BaseURL: graphURL, AuthorityHost: authority, TenantID: tenant,
		ClientID: graphClient, ClientSecret: secret}); err != nil {
		cfg.EntraConfigError = err.Error()
	} else {
		cfg.Directory = graphReader{gc}
	}
	if cfg.CanaryUser != "" && tenant != "" && verifierClient != "" {
		if v, err := ropc.NewVerifier(ropc.Config{AuthorityHost: authority, TenantID: tenant, ClientID: verifierClient,
			Policy: entra.DefaultPolicy()}); err == nil {
			cfg.Verifier = verifierReader{v}
		}
	}
}

// wantedSearchAttributes are the workflows' search attributes by name and
// type, as preflight compares them.
func wantedSearchAttributes() map[string]string {
	out := map[string]string{}
	for key := range workflows.SearchAttributes().GetUntypedValues() {
		out[key.GetName()] = saType(key.GetValueType())
	}
	return out
}

// saType names a search attribute type as the temporal CLI's --type does
// (INDEXED_VALUE_TYPE_KEYWORD_LIST: KeywordList).
func saType(t enumspb.IndexedValueType) string {
	s, long := strings.CutPrefix(t.String(), "INDEXED_VALUE_TYPE_")
	if !long {
		return s // the API's String() gives the short name already
	}
	var b strings.Builder
	for _, part := range strings.Split(s, "_") {
		if part != "" {
			b.WriteString(part[:1] + strings.ToLower(part[1:]))
		}
	}
	return b.String()
}

// temporalReader adapts a Temporal client to preflight.Temporal.
type temporalReader struct{ c client.Client }

func (t temporalReader) Namespace(ctx context.Context, name string) (preflight.Namespace, error) {
	resp, err := t.c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: name})
	var nf *serviceerror.NamespaceNotFound
	if errors.As(err, &nf) {
		return preflight.Namespace{}, preflight.ErrNamespaceNotFound
	}
	if err != nil {
		return preflight.Namespace{}, err
	}
	state := map[enumspb.NamespaceState]string{enumspb.NAMESPACE_STATE_REGISTERED: "Registered",
		enumspb.NAMESPACE_STATE_DEPRECATED: "Deprecated", enumspb.NAMESPACE_STATE_DELETED: "Deleted"}[resp.GetNamespaceInfo().GetState()]
	return preflight.Namespace{Name: name, State: state, Retention: resp.GetConfig().GetWorkflowExecutionRetentionTtl().AsDuration()}, nil
}

// SearchAttributes reads the namespace's search attributes from the
// operator API or, where it refuses (Temporal Cloud: PermissionDenied or
// Unimplemented), from the custom search attribute aliases DescribeNamespace
// reports, each an alias of a typed field such as Keyword01 or Datetime01
// (https://docs.temporal.io/cloud/namespaces); a field whose name says no
// type gives "", a type preflight does not check.
func (t temporalReader) SearchAttributes(ctx context.Context, namespace string) (map[string]string, error) {
	resp, err := t.c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if code := status.Code(err); code == codes.PermissionDenied || code == codes.Unimplemented {
		d, derr := t.c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: namespace})
		if derr != nil {
			return nil, fmt.Errorf("the operator API refused (%v) and DescribeNamespace failed: %w", code, derr)
		}
		out := map[string]string{}
		for field, alias := range d.GetConfig().GetCustomSearchAttributeAliases() {
			out[alias] = fieldType(field)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for name, typ := range resp.GetSystemAttributes() {
		out[name] = saType(typ)
	}
	for name, typ := range resp.GetCustomAttributes() {
		out[name] = saType(typ)
	}
	return out, nil
}

// fieldType is the type of a visibility field named like Keyword01 or
// KeywordList02, as saType names it; "" when the name says none.
func fieldType(field string) string {
	// Longest prefixes first: KeywordList before Keyword.
	for _, t := range []enumspb.IndexedValueType{enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST, enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		enumspb.INDEXED_VALUE_TYPE_TEXT, enumspb.INDEXED_VALUE_TYPE_DATETIME, enumspb.INDEXED_VALUE_TYPE_INT,
		enumspb.INDEXED_VALUE_TYPE_DOUBLE, enumspb.INDEXED_VALUE_TYPE_BOOL} {
		if name := saType(t); strings.HasPrefix(field, name) {
			return name
		}
	}
	return ""
}

// unreachable is a Temporal that could not be dialled.
type unreachable struct{ err error }

func (u unreachable) Namespace(context.Context, string) (preflight.Namespace, error) {
	return preflight.Namespace{}, u.err
}
func (u unreachable) SearchAttributes(context.Context, string) (map[string]string, error) {
	return nil, u.err
}

// oktaReader adapts the Okta client to preflight's Okta interfaces.
type oktaReader struct{ c *oktaclient.Client }

func (o oktaReader) ProbeUsers(ctx context.Context) (preflight.RateLimit, error) {
	obs, found, err := o.c.ProbeUsers(ctx)
	if err != nil || !found {
		return preflight.RateLimit{}, err
	}
	return preflight.RateLimit{Known: true, Limit: obs.Limit, Remaining: obs.Remaining, Reset: obs.Reset}, nil
}

func (o oktaReader) InlineHooks(ctx context.Context, hookType string) ([]preflight.InlineHook, error) {
	hs, err := o.c.InlineHooks(ctx, hookType)
	out := make([]preflight.InlineHook, 0, len(hs))
	for _, h := range hs {
		out = append(out, preflight.InlineHook{ID: h.ID, Name: h.Name, Type: h.Type, Status: h.Status, URI: h.URI})
	}
	return out, err
}

func (o oktaReader) ExecuteInlineHook(ctx context.Context, id string, payload []byte) (preflight.HookExecution, error) {
	ex, err := o.c.ExecuteInlineHook(ctx, id, payload)
	return preflight.HookExecution{Status: ex.Status, Body: ex.Body, Code: ex.Code, Summary: ex.Summary, Causes: ex.Causes,
		Elapsed: ex.Elapsed}, err
}

func (o oktaReader) EventHooks(ctx context.Context) ([]preflight.EventHook, error) {
	hs, err := o.c.EventHooks(ctx)
	out := make([]preflight.EventHook, 0, len(hs))
	for _, h := range hs {
		out = append(out, preflight.EventHook{ID: h.ID, Name: h.Name, Status: h.Status, VerificationStatus: h.VerificationStatus,
			URI: h.URI, Events: h.Events})
	}
	return out, err
}

func (o oktaReader) Policies(ctx context.Context, policyType string) ([]preflight.Policy, error) {
	ps, err := o.c.Policies(ctx, policyType)
	out := make([]preflight.Policy, 0, len(ps))
	for _, p := range ps {
		pp := preflight.Policy{ID: p.ID, Name: p.Name, Type: p.Type, Status: p.Status, Priority: p.Priority, System: p.System, Groups: p.Groups}
		if p.Lockout != nil {
			pp.Lockout = &preflight.Lockout{MaxAttempts: p.Lockout.MaxAttempts, AutoUnlockMinutes: p.Lockout.AutoUnlockMinutes}
		}
		out = append(out, pp)
	}
	return out, err
}

func (o oktaReader) PolicyRules(ctx context.Context, policyID string) ([]preflight.PolicyRule, error) {
	rs, err := o.c.PolicyRules(ctx, policyID)
	out := make([]preflight.PolicyRule, 0, len(rs))
	for _, r := range rs {
		out = append(out, preflight.PolicyRule{ID: r.ID, Name: r.Name, Status: r.Status, Priority: r.Priority, System: r.System,
			Users: r.Users, Groups: r.Groups, Network: r.Network, IdentityProvider: r.IdentityProvider,
			UserIdentifier: r.UserIdentifier, App: r.App, Platform: r.Platform, SignOnAccess: r.SignOnAccess,
			PrimaryFactor: r.PrimaryFactor, IdPProviders: r.IdPProviders, IdPShouldFallBackToOkta: r.IdPShouldFallBackToOkta})
	}
	return out, err
}

// scopeProber finds the scopes Okta grants an OAuth service app: one token
// request per scope (through a one-user read), bounded by the caller's
// deadline. Okta refuses a token request naming a scope the app was not
// granted with invalid_scope; a token that lacks the read's own scope gets
// insufficient_scope, which still proves the scope asked for was granted.
type scopeProber struct {
	base oktaclient.Config

	once   sync.Once
	result map[string]bool
	err    error
}

func (p *scopeProber) probe(ctx context.Context, scopes []string) {
	p.once.Do(func() {
		p.result = map[string]bool{}
		for _, s := range scopes {
			cfg := p.base
			cfg.OAuth.Scopes = []string{s}
			c, err := oktaclient.New(ctx, cfg)
			if err != nil {
				p.err = err
				return
			}
			pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
			_, _, err = c.ProbeUsers(pctx)
			cancel()
			var ae *apierr.Error
			switch {
			case err == nil:
				p.result[s] = true
			case errors.As(err, &ae) && ae.Code == "invalid_scope":
				p.result[s] = false
			case errors.As(err, &ae) && ae.Code == "insufficient_scope":
				p.result[s] = true
			default:
				p.err = err
				return
			}
		}
	})
}

// granted probes scopes and returns those Okta grants (all of them when
// the probe failed: the checks then report the failure).
func (p *scopeProber) granted(ctx context.Context, scopes []string) []string {
	p.probe(ctx, scopes)
	if p.err != nil {
		return scopes
	}
	var out []string
	for _, s := range scopes {
		if p.result[s] {
			out = append(out, s)
		}
	}
	return out
}

// GrantedScopes implements preflight.ScopeProber.
func (p *scopeProber) GrantedScopes(ctx context.Context, scopes []string) (map[string]bool, error) {
	p.probe(ctx, scopes)
	return p.result, p.err
}

// graphReader adapts the Graph client to preflight.Directory.
type graphReader struct{ c *graph.Client }

func (g graphReader) OneUser(ctx context.Context) (string, error) {
	page, err := g.c.ListUsers(ctx, entra.Source{All: true}, nil, "", 1)
	if err != nil || len(page.Users) == 0 {
		return "", err
	}
	return page.Users[0].UserPrincipalName, nil
}

func (g graphReader) GroupMembers(ctx context.Context, groupID string) (int, error) {
	page, err := g.c.ListUsers(ctx, entra.Source{GroupID: groupID}, nil, "", 10)
	return len(page.Users), err
}

func (g graphReader) Domains(ctx context.Context) ([]preflight.Domain, error) {
	ds, err := g.c.Domains(ctx)
	out := make([]preflight.Domain, 0, len(ds))
	for _, d := range ds {
		out = append(out, preflight.Domain{Name: d.ID, AuthenticationType: d.AuthenticationType, Verified: d.IsVerified})
	}
	return out, err
}

// verifierReader adapts the hook server's verifier to preflight.
type verifierReader struct{ v *ropc.Verifier }

func (v verifierReader) VerifyPassword(ctx context.Context, username, password string) preflight.VerifyResult {
	r := v.v.VerifyPassword(ctx, username, password)
	return preflight.VerifyResult{Verdict: string(r.Verdict), Reason: r.Reason, Code: r.Code}
}
