package control

import (
	"net/url"
	"strings"
	"testing"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/types/known/timestamppb"

	"entra2okta/workflows"
)

// execution is a MigrateUser execution as ListWorkflow returns it, with the
// given state search attribute and memo fields.
func execution(t *testing.T, login string, state workflows.State, memo map[string]any) *workflowpb.WorkflowExecutionInfo {
	t.Helper()
	dc := converter.GetDefaultDataConverter()
	payload := func(v any) *commonpb.Payload {
		p, err := dc.ToPayload(v)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	deadline := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	e := &workflowpb.WorkflowExecutionInfo{
		Execution: &commonpb.WorkflowExecution{WorkflowId: workflows.UserWorkflowID(login), RunId: "r1"},
		Status:    enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED,
		StartTime: timestamppb.New(deadline.Add(-60 * 24 * time.Hour)),
		CloseTime: timestamppb.New(deadline),
		SearchAttributes: &commonpb.SearchAttributes{IndexedFields: map[string]*commonpb.Payload{
			workflows.MigrationStateKey.GetName():    payload(string(state)),
			workflows.MigrationBatchKey.GetName():    payload("wave1"),
			workflows.MigrationDeadlineKey.GetName(): payload(deadline),
		}},
		Memo: &commonpb.Memo{Fields: map[string]*commonpb.Payload{}},
	}
	for k, v := range memo {
		e.Memo.Fields[k] = payload(v)
	}
	return e
}

// TestReportRowSaysWhy: each row carries the reason for its state from the
// user's report memo; an Expired user's reason adds what its sign-ins came
// to (never, or Entra's refusal and its class) to the policy applied.
func TestReportRowSaysWhy(t *testing.T) {
	signIn := time.Date(2027, 1, 20, 8, 30, 0, 0, time.UTC)
	expired := workflows.ReportMemo{State: workflows.StateExpired, Reason: "deadline passed; policy reset-password applied",
		Policy: workflows.PolicyResetPassword, OktaUserID: "00u1", OktaAction: "create"}
	refused := expired
	refused.SignInAttempts, refused.LastOutcome, refused.LastOutcomeReason, refused.LastOutcomeCode, refused.LastSignInAt =
		2, workflows.OutcomeUnverified, "wrong_password", 50126, signIn
	undecided := expired
	undecided.SignInAttempts, undecided.LastOutcome, undecided.LastOutcomeReason, undecided.LastOutcomeCode =
		1, workflows.OutcomeIndeterminate, "locked", 50053
	verified := expired
	verified.SignInAttempts, verified.LastOutcome = 1, workflows.OutcomeVerified
	for _, c := range []struct {
		name       string
		state      workflows.State
		memo       map[string]any
		reason     string
		signIn     string
		class      string
		attempts   int
		oktaID     string
		oktaAction string
	}{
		{"expired, never signed in", workflows.StateExpired, map[string]any{workflows.MemoReport: expired},
			"deadline passed; policy reset-password applied; the user never signed in to Okta before the deadline",
			SignInNone, "", 0, "00u1", "create"},
		{"expired, refused", workflows.StateExpired, map[string]any{workflows.MemoReport: refused},
			"deadline passed; policy reset-password applied; Entra ID refused the password of the last sign-in (wrong_password AADSTS50126)",
			SignInRefused, "wrong_password AADSTS50126", 2, "00u1", "create"},
		{"expired, undecided", workflows.StateExpired, map[string]any{workflows.MemoReport: undecided},
			"deadline passed; policy reset-password applied; Entra ID could not check the password of the last sign-in (locked AADSTS50053)",
			SignInUndecided, "locked AADSTS50053", 1, "00u1", "create"},
		{"expired, verified but not stored", workflows.StateExpired, map[string]any{workflows.MemoReport: verified},
			"deadline passed; policy reset-password applied; Entra ID verified the password of the last sign-in but Okta did not store it",
			SignInVerified, "", 1, "00u1", "create"},
		{"ineligible", workflows.StateIneligible, map[string]any{workflows.MemoReport: workflows.ReportMemo{
			State: workflows.StateIneligible, Reason: "disabled: the Entra account is disabled", Policy: workflows.PolicyNone}},
			"disabled: the Entra account is disabled", SignInNone, "", 0, "", ""},
		{"adopted, waiting", workflows.StateAwaitingSignIn, map[string]any{workflows.MemoReport: workflows.ReportMemo{
			State: workflows.StateAwaitingSignIn, Reason: "waiting for the first Okta sign-in", OktaUserID: "00u2", OktaAction: "adopt"}},
			"waiting for the first Okta sign-in", SignInNone, "", 0, "00u2", "adopt"},
		// The memo lags the search attribute for a moment: the state is the
		// search attribute's, the reason not extended with an expiry story.
		{"memo one state behind", workflows.StateExpired, map[string]any{workflows.MemoReport: workflows.ReportMemo{
			State: workflows.StateAwaitingSignIn, Reason: "waiting for the first Okta sign-in"}},
			"waiting for the first Okta sign-in", SignInNone, "", 0, "", ""},
		// A user that ended on a release before the report memo: the rollback
		// memo still tells the Okta user and what the migration did to it.
		{"earlier release", workflows.StateMigrated, map[string]any{workflows.MemoRollback: workflows.RollbackMemo{
			Login: "x@contoso.com", Batch: "wave1", OktaUserID: "00u3", OktaAction: "create", State: workflows.StateAwaitingSignIn}},
			"", "", "", 0, "00u3", "create"},
		{"no memo", workflows.StateImporting, nil, "", "", "", 0, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := reportRow(execution(t, "X@contoso.com", c.state, c.memo))
			if r.Login != "x@contoso.com" || r.State != string(c.state) || r.Batch != "wave1" || r.Execution != "Completed" || r.Deadline.IsZero() {
				t.Errorf("visibility columns: %+v", r)
			}
			if r.Reason != c.reason {
				t.Errorf("reason:\n got %q\nwant %q", r.Reason, c.reason)
			}
			if r.SignIn != c.signIn || r.SignInClass != c.class || r.SignInAttempts != c.attempts {
				t.Errorf("sign-in: got %q %q %d, want %q %q %d", r.SignIn, r.SignInClass, r.SignInAttempts, c.signIn, c.class, c.attempts)
			}
			if r.OktaUserID != c.oktaID || r.OktaAction != c.oktaAction {
				t.Errorf("okta: got %q %q, want %q %q", r.OktaUserID, r.OktaAction, c.oktaID, c.oktaAction)
			}
		})
	}
	r := reportRow(execution(t, "y@contoso.com", workflows.StateExpired, map[string]any{workflows.MemoReport: refused}))
	if !r.LastSignIn.Equal(signIn) || r.Policy != "reset-password" {
		t.Errorf("last sign-in %s, policy %q", r.LastSignIn, r.Policy)
	}
	weak := workflows.ReportMemo{State: workflows.StateMigrated, Reason: "Okta holds the password (provider OKTA)",
		SignInAttempts: 1, LastOutcome: workflows.OutcomeVerified, BelowPolicy: "minLength,dictionary.common", PasswordExpired: true}
	r = reportRow(execution(t, "z@contoso.com", workflows.StateMigrated, map[string]any{workflows.MemoReport: weak}))
	if r.BelowPolicy != "minLength,dictionary.common" || !r.PasswordExpired {
		t.Errorf("a password below the policy: %q expired %v", r.BelowPolicy, r.PasswordExpired)
	}
}

// TestWebUIUsersURL: the links carry the visibility filter in the query
// parameter the Web UI reads, encoded.
func TestWebUIUsersURL(t *testing.T) {
	got := WebUIUsersURL("http://localhost:8233/", "default", "wave1", workflows.StateExpired)
	u, err := url.Parse(got)
	if err != nil {
		t.Fatal(err)
	}
	if u.Scheme != "http" || u.Host != "localhost:8233" || u.Path != "/namespaces/default/workflows" {
		t.Errorf("link %s", got)
	}
	want := "WorkflowType = 'MigrateUser' AND MigrationBatch = 'wave1' AND MigrationState = 'Expired'"
	if q := u.Query().Get("query"); q != want {
		t.Errorf("filter %q, want %q", q, want)
	}
	if strings.ContainsAny(u.RawQuery, " '") {
		t.Errorf("filter not encoded: %s", u.RawQuery)
	}
	all := WebUIUsersURL("https://temporal.example.com", "prod ns", "", "")
	if !strings.HasPrefix(all, "https://temporal.example.com/namespaces/prod%20ns/workflows?query=") {
		t.Errorf("link %s", all)
	}
	if u, _ := url.Parse(all); u.Query().Get("query") != "WorkflowType = 'MigrateUser'" {
		t.Errorf("filter of every batch: %s", all)
	}
}
