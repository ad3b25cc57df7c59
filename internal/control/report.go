package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entra2okta/workflows"
)

// ReportRow is one user of a batch as the Temporal visibility store sees it:
// its search attributes, and the story its workflow publishes in its memo
// (workflows.ReportMemo). Users whose workflow has not published one yet
// (still importing, or started by a release before the report memo) have
// no reason and no sign-in columns; those that ended on such a release show
// the Okta user from their rollback memo.
type ReportRow struct {
	Login      string    `json:"login"`
	WorkflowID string    `json:"workflowId"`
	State      string    `json:"state"`
	Batch      string    `json:"batch"`
	Deadline   time.Time `json:"deadline,omitzero"`
	Execution  string    `json:"execution"` // Running, Completed, Failed, ...
	Started    time.Time `json:"started"`
	Closed     time.Time `json:"closed,omitzero"`

	// Reason says why the user is in State: why Ineligible, why Skipped,
	// what an AwaitingSignIn user waits for; for Expired, the deadline
	// policy applied and what the user's sign-ins came to (never signed
	// in, or the class of Entra's refusal).
	Reason string `json:"reason,omitempty"`
	// Policy is the deadline policy (applied when State is Expired).
	Policy string `json:"policy,omitempty"`
	// SignIn is what the user's sign-ins came to: SignInNone, or the last
	// one's SignInVerified, SignInRefused or SignInUndecided ("" when the
	// workflow published nothing).
	SignIn string `json:"signIn,omitempty"`
	// SignInClass is the last sign-in's class as the hook server read
	// Entra's answer ("wrong_password", "mfa_required", "locked", ...),
	// with its AADSTS code when there was one.
	SignInClass    string    `json:"signInClass,omitempty"`
	LastSignIn     time.Time `json:"lastSignIn,omitzero"`
	SignInAttempts int       `json:"signInAttempts,omitempty"`
	OktaUserID     string    `json:"oktaUserId,omitempty"`
	// OktaAction is what the migration did in Okta: "create" (a rollback
	// may delete the user), "adopt" (an existing user, never deleted), or
	// "" (nothing).
	OktaAction string `json:"oktaAction,omitempty"`
	// Error is the last failure the workflow saw (a Failed user's error).
	Error string `json:"error,omitempty"`
	// BelowPolicy lists, comma-separated, the Okta password policy rules
	// the captured password broke; PasswordExpired says the migration
	// expired it in Okta, so the user sets a new one at the next sign-in.
	BelowPolicy     string `json:"belowPolicy,omitempty"`
	PasswordExpired bool   `json:"passwordExpired,omitempty"`
	// OktaGroups are the Okta groups the batch's group mapping gave the
	// user, comma-separated; GroupsError why its last group step failed.
	OktaGroups  string `json:"oktaGroups,omitempty"`
	GroupsError string `json:"groupsError,omitempty"`
}

// What a user's sign-ins came to (ReportRow.SignIn).
const (
	SignInNone      = "never"     // no sign-in reached the hook server
	SignInVerified  = "verified"  // Entra ID accepted the last password
	SignInRefused   = "refused"   // Entra ID refused the last password
	SignInUndecided = "undecided" // Entra ID could not say (lockout, throttling, configuration)
)

// ListUsers pages through the MigrateUser workflows of a batch and calls fn
// for each. It reads the visibility store only (a page of 1,000 executions
// with their search attributes and memos per call), never a workflow: a
// query of a closed workflow replays its history on a worker.
func ListUsers(ctx context.Context, c client.Client, namespace, batch string, fn func(ReportRow) error) error {
	var token []byte
	for {
		pctx, cancel := context.WithTimeout(ctx, listPageTimeout)
		resp, err := c.ListWorkflow(pctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 1000, NextPageToken: token, Query: userQuery(batch),
		})
		cancel()
		if err != nil {
			return fmt.Errorf("list workflows of batch %s: %w", batch, err)
		}
		for _, e := range resp.GetExecutions() {
			if err := fn(reportRow(e)); err != nil {
				return err
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return nil
		}
	}
}

// listPageTimeout bounds one page of a visibility listing.
const listPageTimeout = time.Minute

// reportRow builds a user's row from its execution as ListWorkflow returns it.
func reportRow(e *workflowpb.WorkflowExecutionInfo) ReportRow {
	row := ReportRow{
		WorkflowID: e.GetExecution().GetWorkflowId(),
		Execution:  titleCase(strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")),
		Started:    e.GetStartTime().AsTime(),
	}
	row.Login, _ = workflows.LoginFromUserWorkflowID(row.WorkflowID)
	if e.GetCloseTime() != nil {
		row.Closed = e.GetCloseTime().AsTime()
	}
	fields := e.GetSearchAttributes().GetIndexedFields()
	row.State = payloadString(fields, workflows.MigrationStateKey.GetName())
	row.Batch = payloadString(fields, workflows.MigrationBatchKey.GetName())
	if p, ok := fields[workflows.MigrationDeadlineKey.GetName()]; ok {
		var t time.Time
		if converter.GetDefaultDataConverter().FromPayload(p, &t) == nil {
			row.Deadline = t
		}
	}
	memo := e.GetMemo().GetFields()
	if p, ok := memo[workflows.MemoReport]; ok {
		var m workflows.ReportMemo
		if converter.GetDefaultDataConverter().FromPayload(p, &m) == nil {
			row.explain(m)
			return row
		}
	}
	if p, ok := memo[workflows.MemoRollback]; ok {
		var m workflows.RollbackMemo
		if converter.GetDefaultDataConverter().FromPayload(p, &m) == nil {
			row.OktaUserID, row.OktaAction = m.OktaUserID, m.OktaAction
		}
	}
	return row
}

// explain fills the row's story from the user's report memo. The search
// attribute stays the authority on the state: the memo is published after
// it, so for a moment it may lag one state behind.
func (r *ReportRow) explain(m workflows.ReportMemo) {
	r.Policy = string(m.Policy)
	r.OktaUserID, r.OktaAction = m.OktaUserID, m.OktaAction
	r.SignInAttempts, r.Error = m.SignInAttempts, m.LastError
	r.BelowPolicy, r.PasswordExpired = m.BelowPolicy, m.PasswordExpired
	r.OktaGroups, r.GroupsError = m.Groups, m.GroupsError
	r.LastSignIn = m.LastSignInAt
	r.SignInClass = m.LastOutcomeReason
	if m.LastOutcomeCode != 0 {
		r.SignInClass = strings.TrimSpace(fmt.Sprintf("%s AADSTS%d", r.SignInClass, m.LastOutcomeCode))
	}
	switch {
	case m.SignInAttempts == 0:
		r.SignIn = SignInNone
	case m.LastOutcome == workflows.OutcomeVerified:
		r.SignIn = SignInVerified
	case m.LastOutcome == workflows.OutcomeUnverified:
		r.SignIn = SignInRefused
	default:
		r.SignIn = SignInUndecided
	}
	r.Reason = m.Reason
	if r.State == "" {
		r.State = string(m.State)
	}
	if workflows.State(r.State) == workflows.StateExpired && m.State == workflows.StateExpired {
		r.Reason = joinReason(m.Reason, r.expiredBecause())
	}
}

// expiredBecause says why an Expired user never migrated: what its sign-ins
// came to before the deadline.
func (r *ReportRow) expiredBecause() string {
	class := ""
	if r.SignInClass != "" {
		class = " (" + r.SignInClass + ")"
	}
	switch r.SignIn {
	case SignInNone:
		return "the user never signed in to Okta before the deadline"
	case SignInRefused:
		return "Entra ID refused the password of the last sign-in" + class
	case SignInUndecided:
		return "Entra ID could not check the password of the last sign-in" + class
	case SignInVerified:
		return "Entra ID verified the password of the last sign-in but Okta did not store it"
	}
	return ""
}

func joinReason(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

func payloadString(fields map[string]*commonpb.Payload, name string) string {
	p, ok := fields[name]
	if !ok {
		return ""
	}
	var s string
	if converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return ""
	}
	return s
}

func titleCase(s string) string {
	parts := strings.Split(strings.ToLower(s), "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
