package pwimport

import (
	"context"
	"entra2okta/internal/hook"
	"errors"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"entra2okta/workflows"
)

// Identities is where the hook learns which Entra account an Okta user came
// from: the user's MigrateUser workflow, whose ID is derived from the login
// it migrates (workflows.UserWorkflowID) and whose MigrationEntraID search
// attribute holds the Entra object ID it read. Okta's hook request carries
// no user ID, only "the username that the end user supplied when attempting
// to sign in to Okta" (data.context.credential.username,
// https://developer.okta.com/docs/reference/password-hook/): the typed
// text, which Okta itself resolves to a user by login or, when unique, by
// the login's part before "@" (fakeokta models it). Temporal's client.Client
// satisfies Identities. DescribeWorkflowExecution is answered by the server
// from the workflow's mutable state (strongly consistent, no worker
// needed); ListWorkflow reads the visibility store.
type Identities interface {
	DescribeWorkflowExecution(ctx context.Context, workflowID, runID string) (*workflowservice.DescribeWorkflowExecutionResponse, error)
	ListWorkflow(ctx context.Context, request *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

// BindingConfig binds VERIFIED to the Entra account a user's migration read.
type BindingConfig struct {
	// Source, when set, turns binding on: the typed username is resolved to
	// the migration's login (the UPN it recorded), the password is checked
	// against that UPN, and VERIFIED requires the ID token's oid to be the
	// recorded object ID and its tid to be TenantID. Nil: the typed
	// username goes to Entra as typed and nothing is bound (earlier
	// releases; the benchmarks' fixed verifier).
	Source Identities
	// TenantID is the tenant the hook verifies against (ENTRA_TENANT_ID). A
	// GUID is compared with the token's tid; a domain name cannot be, and
	// then only the oid is (the authority is that tenant's either way).
	TenantID string
	// Timeout bounds one resolution (both Temporal calls; default 500 ms,
	// and never beyond the answer's deadline).
	Timeout time.Duration
	// CacheTTL is how long a resolved identity is remembered (default 30 s;
	// a recorded object ID never changes, and a short TTL bounds how long a
	// new migration of the same login stays unseen).
	CacheTTL time.Duration
	// CacheSize bounds the remembered identities (default 100,000).
	CacheSize int
	// MaxInFlight bounds concurrent resolutions (default 256); beyond it a
	// request is answered undecided.
	MaxInFlight int
}

func (c *BindingConfig) setDefaults() {
	if c.Timeout <= 0 {
		c.Timeout = 500 * time.Millisecond
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = 30 * time.Second
	}
	if c.CacheSize <= 0 {
		c.CacheSize = 100_000
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 256
	}
}

// Reasons of the identity step (metric label values of
// entra2okta_hook_identity_total, and outcome reasons when it decides).
const (
	identityBound       = "bound"                          // a migration with a recorded object ID: VERIFIED is bound to it
	identityUnrecorded  = "unrecorded"                     // a migration started by an earlier release: checked by its login, unbound
	identityNoWorkflow  = "no_workflow"                    // no migration for a full login: checked as typed, unbound
	identityOff         = "off"                            // binding not configured
	reasonIdentityUnk   = "identity_unknown"               // a short name no migration matches: undecided
	reasonIdentityAmbig = "identity_ambiguous"             // a name several migrations match: undecided
	reasonIdentityDown  = "identity_unavailable"           // Temporal failed or timed out: undecided
	reasonIdentityBusy  = "identity_overloaded"            // too many resolutions in flight: undecided
	reasonIdentityMatch = workflows.ReasonIdentityMismatch // the password is another Entra account's: UNVERIFIED, the migration held
	reasonIdentityHeld  = "identity_held"                  // the migration is held after a mismatch: undecided, Entra not asked
	reasonIdentityNoTok = "identity_no_token"              // Entra said "ok" without naming the account: undecided
)

// identity is what the hook knows about the Okta user behind a typed name.
type identity struct {
	login      string // what Entra is asked about: the migration's login, or the typed name when unbound
	workflowID string // the migration the outcome is signalled to
	objectID   string // the recorded Entra object ID, "" when unbound
	how        string // identityBound, identityUnrecorded, identityNoWorkflow or identityOff
	held       bool   // the migration is held (workflows.MemoHold): no check reaches Entra
}

type cachedIdentity struct {
	id      identity
	expires time.Time
}

// resolver resolves typed usernames to migrations, with a short cache.
type resolver struct {
	cfg BindingConfig
	sem chan struct{}

	mu    sync.Mutex
	cache *hook.LRU[string, cachedIdentity]
	// held are the migrations this process saw a mismatch for, until the
	// cache could show their hold memo (CacheTTL): the workflow writes it
	// a moment after the signal, and a cached identity predates it.
	held map[string]time.Time
}

func newResolver(cfg BindingConfig) *resolver {
	cfg.setDefaults()
	return &resolver{cfg: cfg, sem: make(chan struct{}, cfg.MaxInFlight), cache: hook.NewLRU[string, cachedIdentity](cfg.CacheSize),
		held: map[string]time.Time{}}
}

// markHeld holds workflowID's identity in this process for CacheTTL, after
// which the migration's own hold memo (or its release) is read again.
func (r *resolver) markHeld(workflowID string, now time.Time) {
	if r == nil || workflowID == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, until := range r.held { // bounded: one entry per mismatch within CacheTTL
		if !now.Before(until) {
			delete(r.held, id)
		}
	}
	r.held[workflowID] = now.Add(r.cfg.CacheTTL)
}

// heldLocked reports whether markHeld holds workflowID now; r.mu is held.
func (r *resolver) heldLocked(workflowID string, now time.Time) bool {
	until, ok := r.held[workflowID]
	return ok && now.Before(until)
}

// unbound is the identity of a name checked as typed.
func unbound(typed, how string) identity {
	return identity{login: typed, workflowID: workflows.UserWorkflowID(typed), how: how}
}

// resolve finds the migration of the Okta user who typed typed. why is
// non-empty when the hook must answer undecided: no single migration
// matches a short name, several match, or Temporal could not answer in time.
func (r *resolver) resolve(typed string, deadline time.Time) (id identity, why string) {
	if r == nil {
		return unbound(typed, identityOff), ""
	}
	key := normUser(typed)
	now := time.Now()
	r.mu.Lock()
	c, ok := r.cache.Get(key)
	hit := ok && now.Before(c.expires)
	if hit {
		c.id.held = c.id.held || r.heldLocked(c.id.workflowID, now)
	}
	r.mu.Unlock()
	if hit {
		return c.id, ""
	}
	select {
	case r.sem <- struct{}{}:
		defer func() { <-r.sem }()
	default:
		return identity{}, reasonIdentityBusy
	}
	if d := now.Add(r.cfg.Timeout); d.Before(deadline) {
		deadline = d
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	id, why = r.lookup(ctx, typed)
	if why != "" {
		return id, why
	}
	now = time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if id.how != identityNoWorkflow {
		// A missing migration is not remembered: one may start any moment.
		r.cache.Put(key, cachedIdentity{id: id, expires: now.Add(r.cfg.CacheTTL)})
	}
	id.held = id.held || r.heldLocked(id.workflowID, now)
	return id, ""
}

func (r *resolver) lookup(ctx context.Context, typed string) (identity, string) {
	// The exact login first.
	id, found, err := r.describe(ctx, workflows.UserWorkflowID(typed))
	if err != nil {
		return identity{}, reasonIdentityDown
	}
	if found {
		return id, ""
	}
	// A short name, or an alias in another domain (a proxy address, the
	// tenant's onmicrosoft.com name): the migrations whose login starts
	// with the same name and "@".
	name, _, hasAt := strings.Cut(normUser(typed), "@")
	ids, err := r.byName(ctx, name)
	if err != nil {
		return identity{}, reasonIdentityDown
	}
	switch {
	case len(ids) > 1:
		return identity{}, reasonIdentityAmbig
	case len(ids) == 1:
		id, found, err := r.describe(ctx, ids[0])
		if err != nil {
			return identity{}, reasonIdentityDown
		}
		if found {
			return id, ""
		}
	}
	if !hasAt {
		// No migration has this short name: Entra cannot check a short
		// name (and its "unknown user" would be an UNVERIFIED, a failed
		// sign-in towards Okta's lockout).
		return identity{}, reasonIdentityUnk
	}
	// A full login no migration knows: an Okta user imported by other
	// means, or one whose closed migration the namespace's retention has
	// removed. Checked as typed, as before binding, and counted.
	return unbound(typed, identityNoWorkflow), ""
}

// describe reads one migration's login and recorded object ID.
func (r *resolver) describe(ctx context.Context, workflowID string) (identity, bool, error) {
	resp, err := r.cfg.Source.DescribeWorkflowExecution(ctx, workflowID, "")
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return identity{}, false, nil
	}
	if err != nil {
		return identity{}, false, err
	}
	login, ok := workflows.LoginFromUserWorkflowID(workflowID)
	if !ok {
		return identity{}, false, nil
	}
	id := identity{login: login, workflowID: workflowID, how: identityUnrecorded}
	if p := resp.GetWorkflowExecutionInfo().GetMemo().GetFields()[workflows.MemoHold]; p != nil {
		var why string
		// A hold that cannot be read is a hold.
		id.held = converter.GetDefaultDataConverter().FromPayload(p, &why) != nil || why != ""
	}
	if p := resp.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()[workflows.MigrationEntraIDKey.GetName()]; p != nil {
		var oid string
		if converter.GetDefaultDataConverter().FromPayload(p, &oid) == nil && oid != "" {
			id.objectID, id.how = oid, identityBound
		}
	}
	return id, true, nil
}

// byName lists the distinct IDs of the migrations whose login is
// name@something (at most 2: one is an answer, two are ambiguous).
func (r *resolver) byName(ctx context.Context, name string) ([]string, error) {
	if name == "" || strings.ContainsAny(name, `'"\`) {
		// Not a name any login starts with that a query could quote.
		return nil, nil
	}
	prefix := workflows.UserWorkflowID(name) + "@"
	// Continued-as-new runs are the same migration; every other run counts
	// (a closed one too: a user whose deadline passed with policy none is
	// still on the hook).
	q := "WorkflowType = 'MigrateUser' AND WorkflowId STARTS_WITH '" + prefix + "' AND ExecutionStatus != 'ContinuedAsNew'"
	var ids []string
	var token []byte
	for page := 0; page < 4; page++ {
		resp, err := r.cfg.Source.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: q, PageSize: 10, NextPageToken: token})
		if err != nil {
			return nil, err
		}
		for _, e := range resp.GetExecutions() {
			wid := e.GetExecution().GetWorkflowId()
			if !strings.HasPrefix(wid, prefix) {
				continue
			}
			dup := false
			for _, x := range ids {
				dup = dup || x == wid
			}
			if !dup {
				ids = append(ids, wid)
			}
			if len(ids) > 1 {
				return ids, nil
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return ids, nil
		}
	}
	// Forty runs of one migration and more unread: not a name to guess on.
	return append(ids, ""), nil
}

// isGUID reports whether s looks like a tenant GUID (8-4-4-4-12 hex).
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
