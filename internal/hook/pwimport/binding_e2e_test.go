package pwimport_test

import (
	"context"
	"entra2okta/internal/testkit/logbuf"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/workflows"
)

// migrations stands in for Temporal's DescribeWorkflowExecution and
// ListWorkflow over MigrateUser workflows: workflow ID → recorded Entra
// object ID ("" for a migration started by an earlier release).
type migrations struct {
	mu   sync.Mutex
	byID map[string]string
	held map[string]string // workflow ID → its workflows.MemoHold
	err  error             // answered to every call when set
}

func (m *migrations) DescribeWorkflowExecution(_ context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	oid, ok := m.byID[id]
	if !ok {
		return nil, serviceerror.NewNotFound("workflow not found")
	}
	fields := map[string]*common.Payload{}
	if oid != "" {
		p, err := converter.GetDefaultDataConverter().ToPayload(oid)
		if err != nil {
			return nil, err
		}
		fields[workflows.MigrationEntraIDKey.GetName()] = p
	}
	memo := map[string]*common.Payload{}
	if why := m.held[id]; why != "" {
		p, err := converter.GetDefaultDataConverter().ToPayload(why)
		if err != nil {
			return nil, err
		}
		memo[workflows.MemoHold] = p
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflow.WorkflowExecutionInfo{
		Execution:        &common.WorkflowExecution{WorkflowId: id, RunId: "run"},
		SearchAttributes: &common.SearchAttributes{IndexedFields: fields},
		Memo:             &common.Memo{Fields: memo},
	}}, nil
}

func (m *migrations) ListWorkflow(_ context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return nil, m.err
	}
	_, rest, ok := strings.Cut(req.GetQuery(), "WorkflowId STARTS_WITH '")
	prefix, _, ok2 := strings.Cut(rest, "'")
	if !ok || !ok2 {
		return nil, serviceerror.NewInvalidArgument("unexpected query " + req.GetQuery())
	}
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for id := range m.byID {
		if strings.HasPrefix(id, prefix) {
			resp.Executions = append(resp.Executions, &workflow.WorkflowExecutionInfo{Execution: &common.WorkflowExecution{WorkflowId: id}})
		}
	}
	return resp, nil
}

// TestBindingThroughEmulators: fakeokta → hook → MSAL → fakeentra, with the
// hook bound to the migrations' recorded Entra objects.
//   - jsmith@ was migrated (object A); during the campaign an administrator
//     renames A and gives the UPN to a new hire (object B, another
//     password). B's password signs in to Entra as jsmith@, but it is not
//     A's: UNVERIFIED for A's Okta account, nothing stored, the workflow
//     told identity_mismatch, an alert logged.
//   - Alice signs in to Okta with her short name; Entra is asked about her
//     recorded UPN: VERIFIED (UNVERIFIED before binding: Entra cannot check
//     a short name).
//   - Temporal down: undecided, Entra not asked, no Okta lockout count.
func TestBindingThroughEmulators(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end")
	}
	const tenant = "11111111-2222-4333-8444-555555555555"
	const oldPW, newHirePW, alicePW, patPW = "Old-Password-1", "New-Hire-Password-2", "Alice-Password-3", "Pat-Password-4"
	const secret = "Basic b2t0YTpiaW5kaW5nLXNlY3JldA=="
	const budget = time.Second
	var (
		jsmithA, jsmithB string
		logs             logbuf.Buffer
		signals          = &recordingSignaler{}
		// What the migrations recorded when they read the users (filled by
		// the seed).
		migs = &migrations{}
	)
	seed := func(_ *fakeokta.Server, fe *fakeentra.Server) (devstack.Tenant, error) {
		ids := map[string]string{}
		err := errors.Join(fe.AddTenant(fakeentra.Tenant{ID: tenant, DisplayName: "Contoso"}),
			fe.AddDomain(tenant, fakeentra.Domain{Name: "contoso.com", Default: true}),
			fe.AddDomain(tenant, fakeentra.Domain{Name: "contoso.onmicrosoft.com"}),
			fe.AddClient(fakeentra.Client{ID: "hook-app", Public: true, ConsentedScopes: []string{"User.Read"}}))
		for _, u := range []fakeentra.User{{UserPrincipalName: "jsmith@contoso.com", Password: oldPW},
			{UserPrincipalName: "alice@contoso.com", Password: alicePW}, {UserPrincipalName: "pat@contoso.com", Password: patPW},
			{UserPrincipalName: "pat@contoso.onmicrosoft.com", Password: patPW}, {UserPrincipalName: "carol@contoso.com", Password: alicePW},
			{UserPrincipalName: "dana@contoso.com", Password: patPW}} {
			id, aerr := fe.AddUser(u)
			ids[workflows.UserWorkflowID(u.UserPrincipalName)], err = id, errors.Join(err, aerr)
		}
		jsmithA = ids[workflows.UserWorkflowID("jsmith@contoso.com")]
		migs.byID = ids
		migs.held = map[string]string{
			// Held after a mismatch seen by another replica or before a restart.
			workflows.UserWorkflowID("dana@contoso.com"): "identity mismatch at 2026-12-01T10:00:00Z",
		}
		// The campaign goes on: A renamed, the UPN reused by a new hire.
		err = errors.Join(err, fe.RenameUser("jsmith@contoso.com", "jsmith.old@contoso.com"))
		var aerr error
		jsmithB, aerr = fe.AddUser(fakeentra.User{UserPrincipalName: "jsmith@contoso.com", Password: newHirePW})
		return devstack.Tenant{TenantID: tenant, PublicClientID: "hook-app"}, errors.Join(err, aerr)
	}
	st := startHookStack(t, devstack.Options{Seed: seed, Okta: fakeokta.Options{HookTimeout: 3 * time.Second},
		Hook: &devstack.HookOptions{Secret: secret, Signaler: signals,
			Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			Configure: func(_ *devstack.Stack, cfg *hookserver.ServerConfig) error {
				cfg.Hook.Budget = budget
				cfg.Hook.Binding = pwimport.BindingConfig{Source: migs, TenantID: tenant}
				return nil
			}}})
	if jsmithB == jsmithA {
		t.Fatal("the new hire has the renamed user's object ID")
	}
	fe, fo := st.Entra(), st.Okta()
	seedImportHookUsers(t, fo, "jsmith@contoso.com", "alice@contoso.com", "pat@contoso.com", "pat@contoso.onmicrosoft.com", "carol@contoso.com", "dana@contoso.com")
	signIn := func(user, password string) int { return st.signIn(t, user, password) }
	lastHookCall := func(typed string) fakeokta.HookCall {
		return lastCall(fo, typed, func(a, b string) bool { return a == b })
	}
	provider := func(login string) string {
		u, _ := fo.User(login)
		return u.ProviderType
	}

	// 1. The new hire's password for the old user's Okta account.
	if code := signIn("jsmith@contoso.com", newHirePW); code != http.StatusUnauthorized {
		t.Fatalf("the new hire's password: HTTP %d", code)
	}
	if c := lastHookCall("jsmith@contoso.com"); c.Outcome != fakeokta.HookUnverified || c.Stored {
		t.Fatalf("the new hire's password: hook call %+v", c)
	}
	if p := provider("jsmith@contoso.com"); p != fakeokta.ProviderImport {
		t.Fatalf("jsmith's provider %q after another account's password", p)
	}
	if s := signals.wait(t, "jsmith@contoso.com", 1)[0]; s.Outcome != workflows.OutcomeUnverified || s.Reason != "identity_mismatch" {
		t.Fatalf("jsmith's signal %+v", s)
	}
	if !strings.Contains(logs.String(), "identity mismatch") || !strings.Contains(logs.String(), jsmithA) {
		t.Fatal("no alert line naming the expected object")
	}
	// A repeat is a failed hook call (403), not another failed sign-in.
	entraBefore := fe.TokenRequests("jsmith@contoso.com")
	if code := signIn("jsmith@contoso.com", newHirePW); code != http.StatusUnauthorized {
		t.Fatalf("repeat: HTTP %d", code)
	}
	if c := lastHookCall("jsmith@contoso.com"); c.Outcome != fakeokta.HookFailed || fe.TokenRequests("jsmith@contoso.com") != entraBefore {
		t.Fatalf("repeat: hook call %+v, Entra asked again: %v", c, fe.TokenRequests("jsmith@contoso.com") != entraBefore)
	}
	// The migration is held from the mismatch on (here before its workflow
	// could write the hold memo): any other password is not checked either.
	if code := signIn("jsmith@contoso.com", oldPW); code != http.StatusUnauthorized {
		t.Fatalf("held: HTTP %d", code)
	}
	if c := lastHookCall("jsmith@contoso.com"); c.Outcome != fakeokta.HookFailed || fe.TokenRequests("jsmith@contoso.com") != entraBefore {
		t.Fatalf("held: hook call %+v, Entra asked: %v", c, fe.TokenRequests("jsmith@contoso.com") != entraBefore)
	}
	if s := signals.wait(t, "jsmith@contoso.com", 3)[2]; s.Outcome != workflows.OutcomeIndeterminate || s.Reason != "identity_held" {
		t.Fatalf("held: jsmith's signal %+v", s)
	}
	// A migration whose memo says it is held: its right password is not
	// checked, Okta stores nothing.
	if code := signIn("dana@contoso.com", patPW); code != http.StatusUnauthorized {
		t.Fatalf("dana (held): HTTP %d", code)
	}
	if c := lastHookCall("dana@contoso.com"); c.Outcome != fakeokta.HookFailed || fe.TokenRequests("dana@contoso.com") != 0 || provider("dana@contoso.com") != fakeokta.ProviderImport {
		t.Fatalf("dana (held): hook call %+v, Entra asked %d times, provider %s", c, fe.TokenRequests("dana@contoso.com"), provider("dana@contoso.com"))
	}

	// 2. Alice by her short name (fakeokta, as Okta, finds her by it and
	// sends it as typed): her recorded UPN is checked. (An alias is tested
	// in identity_test.go: fakeokta knows no aliases.)
	if code := signIn("alice", "not-"+alicePW); code != http.StatusUnauthorized {
		t.Fatalf("alice's wrong password by short name: HTTP %d", code)
	}
	if c := lastHookCall("alice"); c.Outcome != fakeokta.HookUnverified {
		t.Fatalf("alice's wrong password by short name: %+v", c)
	}
	if code := signIn("alice", alicePW); code != http.StatusOK {
		t.Fatalf("alice's right password by short name: HTTP %d", code)
	}
	if p := provider("alice@contoso.com"); p != fakeokta.ProviderOkta {
		t.Fatalf("alice's provider %q after her right password", p)
	}
	if n := fe.TokenRequests("alice"); n != 0 {
		t.Fatalf("the short name went to Entra %d times", n)
	}
	if s := signals.wait(t, "alice@contoso.com", 2); s[1].Outcome != workflows.OutcomeVerified {
		t.Fatalf("alice's signals %+v", s)
	}

	// 3. A full login whose short name is ambiguous still verifies (the
	// ambiguous short name itself, which fakeokta refuses as Okta does, is
	// tested in identity_test.go).
	if code := signIn("pat@contoso.onmicrosoft.com", patPW); code != http.StatusOK {
		t.Fatalf("pat@contoso.onmicrosoft.com: HTTP %d", code)
	}

	// 4. Temporal down: undecided, Entra not asked, within the budget.
	migs.mu.Lock()
	migs.err = serviceerror.NewUnavailable("connection refused")
	migs.mu.Unlock()
	entraBefore = fe.TokenRequests("carol@contoso.com")
	if code := signIn("carol@contoso.com", alicePW); code != http.StatusUnauthorized {
		t.Fatalf("carol while Temporal is down: HTTP %d", code)
	}
	c := lastHookCall("carol@contoso.com")
	if c.Outcome != fakeokta.HookFailed || len(c.Attempts) != 1 || c.Attempts[0].Status != pwimport.StatusUndecided ||
		fe.TokenRequests("carol@contoso.com") != entraBefore {
		t.Fatalf("carol's hook call %+v", c)
	}
	if p := provider("carol@contoso.com"); p != fakeokta.ProviderImport {
		t.Fatalf("carol's provider %q", p)
	}

	for _, pw := range []string{oldPW, newHirePW, alicePW, patPW} {
		if strings.Contains(logs.String(), pw) {
			t.Fatal("a password appears in the hook server's log")
		}
	}
}
