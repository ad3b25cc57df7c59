package pwimport

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.temporal.io/api/common/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"entra2okta/internal/entra"
	"entra2okta/workflows"
)

const bindTenant = "11111111-2222-4333-8444-555555555555"

// fakeIdentities answers Describe and List from a map of workflow ID to
// recorded object ID; hang makes every call wait for its context.
type fakeIdentities struct {
	byID  map[string]string
	err   error
	hang  bool
	calls atomic.Int64
}

func (f *fakeIdentities) DescribeWorkflowExecution(ctx context.Context, id, _ string) (*workflowservice.DescribeWorkflowExecutionResponse, error) {
	f.calls.Add(1)
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	oid, ok := f.byID[id]
	if !ok {
		return nil, serviceerror.NewNotFound("not found")
	}
	fields := map[string]*common.Payload{}
	if oid != "" {
		p, _ := converter.GetDefaultDataConverter().ToPayload(oid)
		fields[workflows.MigrationEntraIDKey.GetName()] = p
	}
	return &workflowservice.DescribeWorkflowExecutionResponse{WorkflowExecutionInfo: &workflow.WorkflowExecutionInfo{
		SearchAttributes: &common.SearchAttributes{IndexedFields: fields}}}, nil
}

func (f *fakeIdentities) ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error) {
	f.calls.Add(1)
	if f.hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if f.err != nil {
		return nil, f.err
	}
	_, rest, _ := strings.Cut(req.GetQuery(), "STARTS_WITH '")
	prefix, _, _ := strings.Cut(rest, "'")
	resp := &workflowservice.ListWorkflowExecutionsResponse{}
	for id := range f.byID {
		if strings.HasPrefix(id, prefix) {
			// Two runs of each: continued-as-new runs are filtered by the
			// query, a re-run after a skip is not.
			for range 2 {
				resp.Executions = append(resp.Executions, &workflow.WorkflowExecutionInfo{Execution: &common.WorkflowExecution{WorkflowId: id}})
			}
		}
	}
	return resp, nil
}

// upnVerifier verifies pw for upn only, naming object oid in bindTenant.
func upnVerifier(upn, pw, oid string) *fakeVerifier {
	return &fakeVerifier{fn: func(_ context.Context, u, p string) entra.Result {
		if u == upn && p == pw {
			return entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK, ObjectID: oid, TenantID: bindTenant, Latency: time.Millisecond}
		}
		return entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword, Latency: time.Millisecond}
	}}
}

func bindingHandler(t *testing.T, ids *fakeIdentities, v Verifier, s Signaler) *Handler {
	return newTestHandler(t, Config{Budget: time.Second, Binding: BindingConfig{Source: ids, TenantID: bindTenant}}, v, s, nil)
}

func TestBinding_ShortNameAndAliasVerifyTheRecordedUPN(t *testing.T) {
	ids := &fakeIdentities{byID: map[string]string{
		workflows.UserWorkflowID("jsmith@contoso.com"): "oid-j",
		workflows.UserWorkflowID("pat@contoso.com"):    "oid-p",
	}}
	v := upnVerifier("jsmith@contoso.com", "Right-pw-1", "oid-j")
	s := &fakeSignaler{}
	h := bindingHandler(t, ids, v, s)
	for i, typed := range []string{"jsmith", "JSmith@contoso.onmicrosoft.com", "jsmith@contoso.com"} {
		if got := credentialOf(t, post(h, payload("e"+typed, typed, "Right-pw-1", "10.0.0.1"))); got != "VERIFIED" {
			t.Fatalf("%s: %s", typed, got)
		}
		if n := v.calls.Load(); n != int64(i+1) {
			t.Fatalf("%s: %d Entra checks", typed, n)
		}
	}
	for _, sig := range s.waitSignals(t, 3) {
		if sig.workflowID != workflows.UserWorkflowID("jsmith@contoso.com") || signalArg(t, sig).Outcome != workflows.OutcomeVerified {
			t.Fatalf("signal %+v", sig)
		}
	}
}

func TestBinding_UndecidedWithoutASingleMigration(t *testing.T) {
	ids := &fakeIdentities{byID: map[string]string{
		workflows.UserWorkflowID("pat@contoso.com"):             "oid-1",
		workflows.UserWorkflowID("pat@contoso.onmicrosoft.com"): "oid-2",
	}}
	v := passwordVerifier("Right-pw-1")
	h := bindingHandler(t, ids, v, &fakeSignaler{})
	for _, typed := range []string{"pat", "pat@fabrikam.com", "nobody", "o'brien"} {
		// Ambiguous (two migrations named pat@), or no migration at all
		// for a short name: never VERIFIED, never UNVERIFIED.
		if got := credentialOf(t, post(h, payload("e-"+typed, typed, "Right-pw-1", "10.0.0.1"))); got != "UNDECIDED" {
			t.Fatalf("%s: %s", typed, got)
		}
	}
	if n := v.calls.Load(); n != 0 {
		t.Fatalf("%d Entra checks for names with no single migration", n)
	}
	// A full login no migration knows (imported by other means, or its
	// closed migration removed by retention) is checked as typed, unbound.
	if got := credentialOf(t, post(h, payload("e-x", "someone@contoso.com", "Right-pw-1", "10.0.0.1"))); got != "VERIFIED" {
		t.Fatalf("unknown full login: %s", got)
	}
}

func TestBinding_TemporalUnavailableIsUndecided(t *testing.T) {
	for _, ids := range []*fakeIdentities{{err: serviceerror.NewUnavailable("down")}, {hang: true}} {
		v := passwordVerifier("Right-pw-1")
		s := &fakeSignaler{}
		h := newTestHandler(t, Config{Budget: 2 * time.Second, Binding: BindingConfig{Source: ids, TenantID: bindTenant, Timeout: 200 * time.Millisecond}}, v, s, nil)
		start := time.Now()
		w := post(h, payload("e1", "jsmith@contoso.com", "Right-pw-1", "10.0.0.1"))
		if got := credentialOf(t, w); got != "UNDECIDED" || w.Code != http.StatusForbidden {
			t.Fatalf("hang=%v: %s", ids.hang, got)
		}
		if d := time.Since(start); d > time.Second {
			t.Fatalf("answered after %v", d)
		}
		if v.calls.Load() != 0 {
			t.Fatal("Entra asked while Temporal is unavailable")
		}
		if sig := signalArg(t, s.waitSignals(t, 1)[0]); sig.Outcome != workflows.OutcomeIndeterminate || sig.Reason != reasonIdentityDown {
			t.Fatalf("signal %+v", sig)
		}
	}
}

func TestBinding_MismatchIsUnverifiedAndSignalled(t *testing.T) {
	ids := &fakeIdentities{byID: map[string]string{
		workflows.UserWorkflowID("jsmith@contoso.com"): "oid-old",
		workflows.UserWorkflowID("carol@contoso.com"):  "oid-carol",
		workflows.UserWorkflowID("early@contoso.com"):  "", // started by an earlier release
	}}
	v := &fakeVerifier{fn: func(_ context.Context, u, p string) entra.Result {
		switch u {
		case "jsmith@contoso.com": // the UPN now belongs to a new hire
			return entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK, ObjectID: "oid-new", TenantID: bindTenant}
		case "carol@contoso.com": // the right object, another tenant's token
			return entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK, ObjectID: "OID-CAROL", TenantID: "99999999-2222-4333-8444-555555555555"}
		case "mfa@contoso.com": // verified by policy, no token
			return entra.Result{Verdict: entra.Verified, Code: 50076, Reason: entra.ReasonMFARequired}
		}
		return entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK, ObjectID: "oid-any", TenantID: bindTenant}
	}}
	ids.byID[workflows.UserWorkflowID("mfa@contoso.com")] = "oid-mfa"
	s := &fakeSignaler{}
	h := bindingHandler(t, ids, v, s)
	for _, c := range []struct{ user, want string }{
		{"jsmith@contoso.com", "UNVERIFIED"},
		{"carol@contoso.com", "UNVERIFIED"},
		{"early@contoso.com", "VERIFIED"}, // nothing recorded: unbound, as before
		{"mfa@contoso.com", "VERIFIED"},   // HOOK_POLICY_MFA: no token to bind (README)
	} {
		if got := credentialOf(t, post(h, payload("e-"+c.user, c.user, "New-hire-pw-1", "10.0.0.1"))); got != c.want {
			t.Fatalf("%s: %s, want %s", c.user, got, c.want)
		}
	}
	sent := s.waitSignals(t, 4)
	sig := signalFor(t, sent, "e-jsmith@contoso.com")
	if sig.Outcome != workflows.OutcomeUnverified || sig.Reason != reasonIdentityMatch || sig.Code != 0 {
		t.Fatalf("signal %+v", sig)
	}
	// The same password again: answered from memory (undecided), Entra not
	// asked, no second failed sign-in for Okta's lockout.
	before := v.calls.Load()
	if got := credentialOf(t, post(h, payload("e-again", "jsmith@contoso.com", "New-hire-pw-1", "10.0.0.1"))); got != "UNDECIDED" {
		t.Fatalf("repeat: %s", got)
	}
	if v.calls.Load() != before {
		t.Fatal("repeat reached Entra")
	}
}
