package workflows

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/workflow"
)

// reportMemoChange is the GetVersion change ID under which a user publishes
// its story in its memo (MemoReport) at each state change and, while it
// waits for the first sign-in, whenever the story has changed (a sign-in's
// outcome, a confirmation) before it sleeps: starter report lists a batch
// from the visibility store, which returns each execution's memo, instead of
// querying every user. Each publication is one UpsertMemo command, so the
// path that records none stays on DefaultVersion.
const reportMemoChange = "report-memo"

// MemoReport is the memo key of a ReportMemo.
const MemoReport = "report"

// Bounds of the memo's free-text fields. Temporal warns above 2 KB of memo
// per event (limit.memoSize.warn) and each publication upserts the whole
// ReportMemo; an operator's skip reason may be MaxReasonLength long.
const (
	maxMemoReason = 600
	maxMemoError  = 300
)

// ReportMemo is what starter report shows of a user: why it is in its state,
// what its sign-ins came to, and what the migration did in Okta.
// ListWorkflowExecutions returns it with each execution.
type ReportMemo struct {
	State State `json:"state"`
	// Reason is UserStatus.Reason: why the user is in State (why
	// ineligible, which deadline policy was applied, what is awaited).
	Reason string `json:"reason,omitempty"`
	// Policy is the deadline policy (the one applied when State is Expired).
	Policy     DeadlinePolicy `json:"policy,omitempty"`
	OktaUserID string         `json:"oktaUserId,omitempty"`
	// OktaAction is "create" or "adopt" ("" when nothing was done in Okta).
	OktaAction string `json:"oktaAction,omitempty"`
	// SignInAttempts counts the hook's outcomes for this user; zero means
	// the user never signed in to Okta with a password the hook saw.
	SignInAttempts int `json:"signIns,omitempty"`
	// LastOutcome is the last sign-in's outcome (OutcomeVerified,
	// OutcomeUnverified: Entra refused the password, OutcomeIndeterminate:
	// Entra could not say); LastOutcomeReason its class ("wrong_password",
	// "mfa_required", "locked", ...), LastOutcomeCode Entra's AADSTS code.
	LastOutcome       string    `json:"lastOutcome,omitempty"`
	LastOutcomeReason string    `json:"lastOutcomeReason,omitempty"`
	LastOutcomeCode   int       `json:"lastOutcomeCode,omitempty"`
	LastSignInAt      time.Time `json:"lastSignInAt,omitzero"`
	// LastError is the last failure seen (a Failed user's error).
	LastError string `json:"lastError,omitempty"`
	// BelowPolicy lists, comma-separated, the Okta password policy rules
	// the captured password broke; PasswordExpired says the migration
	// expired it, so that Okta asks for a new one at the next sign-in.
	BelowPolicy     string `json:"belowPolicy,omitempty"`
	PasswordExpired bool   `json:"passwordExpired,omitempty"`
	// Groups are the Okta groups the group mapping gave the user,
	// comma-separated; GroupsError why the last group step failed.
	Groups      string `json:"groups,omitempty"`
	GroupsError string `json:"groupsError,omitempty"`
}

// reportMemo is the ReportMemo of a status.
func reportMemo(st UserStatus) ReportMemo {
	return ReportMemo{
		State: st.State, Reason: clip(st.Reason, maxMemoReason), Policy: st.Policy,
		OktaUserID: st.OktaUserID, OktaAction: st.OktaAction,
		SignInAttempts: st.SignInAttempts, LastOutcome: st.LastOutcome,
		LastOutcomeReason: st.LastOutcomeReason, LastOutcomeCode: st.LastOutcomeCode,
		LastSignInAt: st.LastSignInAt, LastError: clip(st.LastError, maxMemoError),
		BelowPolicy: strings.Join(st.BelowPolicy, ","), PasswordExpired: !st.PasswordExpiredAt.IsZero(),
		Groups: clip(groupNames(st.Groups), maxMemoReason), GroupsError: clip(st.GroupsError, maxMemoError),
	}
}

// same reports whether two memos say the same thing (times compared as
// instants: a memo decoded from JSON carries another location).
func (r ReportMemo) same(o ReportMemo) bool {
	a, b := r, o
	a.LastSignInAt, b.LastSignInAt = time.Time{}, time.Time{}
	return a == b && r.LastSignInAt.Equal(o.LastSignInAt)
}

// clip shortens s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// loadReportMemo reads the memo a previous run published (continue-as-new
// carries the memo to the next run), so that an unchanged story is not
// published again.
func (m *userMigration) loadReportMemo(ctx workflow.Context) {
	memo := workflow.GetInfo(ctx).Memo
	if memo == nil {
		return
	}
	p, ok := memo.GetFields()[MemoReport]
	if !ok {
		return
	}
	var r ReportMemo
	if converter.GetDefaultDataConverter().FromPayload(p, &r) == nil {
		m.published = &r
	}
}

// publishReport upserts the ReportMemo when it differs from the last one
// published (version 1 of reportMemoChange; nothing on DefaultVersion), with
// the rollback memo in the same command when it is due (userRelease).
func (m *userMigration) publishReport(ctx workflow.Context) {
	if m.rv < 1 {
		return
	}
	memo := map[string]any{}
	r := reportMemo(m.st)
	if m.published == nil || !m.published.same(r) {
		memo[MemoReport] = r
	}
	rollback := m.rollbackDue()
	if rollback {
		memo[MemoRollback] = m.rollbackMemo()
	}
	if len(memo) == 0 {
		return
	}
	if err := workflow.UpsertMemo(ctx, memo); err != nil {
		m.logger.Warn("cannot upsert the report memo", "error", err)
		return
	}
	m.published = &r
	m.rollbackWritten = m.rollbackWritten || rollback
}

// showDetails sets the current details that the Temporal Web UI shows on the
// workflow's page (served by the built-in __temporal_workflow_metadata
// query: no command, so no version is needed): state, reason, deadline and
// policy, the Okta user, the last sign-in. Temporal renders them as
// Markdown.
func (m *userMigration) showDetails(ctx workflow.Context) {
	workflow.SetCurrentDetails(ctx, userDetails(m.st))
}

// userDetails renders a status as the Web UI's current details (with
// fmt.Sprintf: workflowcheck counts any fmt.Fprint as output).
func userDetails(st UserStatus) string {
	var b strings.Builder
	b.WriteString(fmt.Sprintf("**State:** %s\n\n", st.State))
	if st.Reason != "" {
		b.WriteString(fmt.Sprintf("**Reason:** %s\n\n", st.Reason))
	}
	policy := st.Policy
	if policy == "" {
		policy = PolicyNone
	}
	if !st.Deadline.IsZero() {
		b.WriteString(fmt.Sprintf("**Deadline:** %s (policy %s)\n\n", st.Deadline.UTC().Format(time.RFC3339), policy))
	}
	if st.OktaUserID != "" {
		b.WriteString(fmt.Sprintf("**Okta user:** %s", st.OktaUserID))
		switch st.OktaAction {
		case "create":
			b.WriteString(" (created by the migration)")
		case "adopt":
			b.WriteString(" (adopted by the migration)")
		}
		b.WriteString("\n\n")
	}
	if st.SignInAttempts > 0 {
		b.WriteString(fmt.Sprintf("**Last sign-in:** %s", st.LastOutcome))
		if st.LastOutcomeReason != "" {
			b.WriteString(fmt.Sprintf(" (%s)", st.LastOutcomeReason))
		}
		if !st.LastSignInAt.IsZero() {
			b.WriteString(fmt.Sprintf(" at %s", st.LastSignInAt.UTC().Format(time.RFC3339)))
		}
		b.WriteString(fmt.Sprintf(", %d attempt(s)\n\n", st.SignInAttempts))
	}
	if st.LastError != "" {
		b.WriteString(fmt.Sprintf("**Last error:** %s\n\n", st.LastError))
	}
	return strings.TrimRight(b.String(), "\n")
}

// UserSummary is the static summary of a user's workflow: the single line
// the Temporal Web UI shows as its title.
func UserSummary(login, batch string) string {
	if batch == "" {
		return "Migrate " + login + " from Entra ID to Okta"
	}
	return "Migrate " + login + " from Entra ID to Okta (batch " + batch + ")"
}

// userStaticDetails is the fixed description of a user's workflow started by
// a batch: the batch and the deadline and policy it started with (an
// extension moves the deadline: the current details show the one in force).
func userStaticDetails(batch string, deadline time.Time, policy DeadlinePolicy) string {
	if policy == "" {
		policy = PolicyNone
	}
	return fmt.Sprintf("Batch **%s**. Deadline at start: %s, then policy **%s**. The current details show the state, "+
		"its reason and the deadline in force.", batch, deadline.UTC().Format(time.RFC3339), policy)
}
