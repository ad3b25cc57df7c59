package upgradetest

import (
	"fmt"
	"time"

	"entra2okta/internal/entra"
)

// DeadlinePolicy is what happens to a user who has not signed in to Okta when
// the batch's deadline passes (the straggler policy). Okta's guide ends a
// migration program by resetting the passwords of the users who never signed in
// (https://developer.okta.com/docs/guides/migrate-to-okta-password-hooks/main/).
type DeadlinePolicy string

// The deadline policies. The non-none values are activities.DeadlineAction names.
const (
	// PolicyNone leaves the user on the password hook.
	PolicyNone DeadlinePolicy = "none"
	// PolicyExpirePassword expires the Okta password.
	PolicyExpirePassword DeadlinePolicy = "expire-password"
	// PolicyResetPassword resets the password; Okta emails the user a link.
	PolicyResetPassword DeadlinePolicy = "reset-password"
	// PolicyDeactivate deactivates the Okta user.
	PolicyDeactivate DeadlinePolicy = "deactivate"
)

// Valid reports whether p is a known policy ("" counts as PolicyNone).
func (p DeadlinePolicy) Valid() bool {
	switch p {
	case "", PolicyNone, PolicyExpirePassword, PolicyResetPassword, PolicyDeactivate:
		return true
	}
	return false
}

// Defaults applied when an input leaves a field zero.
const (
	// DefaultDeadlineAfter is how long users have to sign in once.
	DefaultDeadlineAfter = 60 * 24 * time.Hour
	// DefaultReconcileEvery is how often a waiting user's Okta record is read,
	// so that a lost password-verified signal costs at most one period.
	DefaultReconcileEvery = 24 * time.Hour
	// MinReconcileEvery bounds the reconciliation rate per user.
	MinReconcileEvery = time.Minute
	// DefaultWindowSize is how many users of a batch are imported at once.
	DefaultWindowSize = 100
	// MaxWindowSize stays under Temporal's 2,000 pending children per
	// execution (https://docs.temporal.io/workflow-execution/limits).
	MaxWindowSize = 1000
	// DefaultPageSize is the Graph page size ($top, 1-999: Graph refuses 1000 with
	// "Must be between 1 and 999 inclusive",
	// https://learn.microsoft.com/en-us/answers/questions/1129204).
	DefaultPageSize = 100
	// DefaultUserHistoryLimit and DefaultBatchHistoryLimit are the history
	// lengths after which a workflow continues as new, well under the 10,240
	// events at which Temporal warns
	// (https://docs.temporal.io/workflow-execution/limits).
	DefaultUserHistoryLimit  = 2000
	DefaultBatchHistoryLimit = 8000
	// DefaultMaxPlanEntries caps the per-user lines of a dry run's result,
	// keeping it far below the 2 MB payload limit; counts cover every user.
	DefaultMaxPlanEntries = 1000
)

// MigrateUserInput starts the migration of one user. The workflow ID is
// UserWorkflowID(Login).
type MigrateUserInput struct {
	// Login is the user's Entra userPrincipalName, which becomes the Okta login.
	Login string
	// Batch names the batch the user belongs to ("" when started alone).
	Batch string
	// Deadline is when Policy applies; zero means DefaultDeadlineAfter after start.
	Deadline time.Time
	// Policy is the straggler policy; "" means PolicyNone.
	Policy DeadlinePolicy
	// ReconcileEvery is the reconciliation period; zero means DefaultReconcileEvery.
	ReconcileEvery time.Duration
	// Attributes maps Graph properties to Okta profile attributes; nil means
	// DefaultAttributeMappings().
	Attributes []AttributeMapping
	// FederatedToDeadline migrates users of federated domains (whose password
	// Entra cannot check) and leaves them to the deadline policy, instead of
	// ending them Ineligible.
	FederatedToDeadline bool
	// RefreshAttributesOnCapture copies the Graph attributes again once the
	// password is captured.
	RefreshAttributesOnCapture bool
	// FederatedDomains lists the tenant's federated domains when DomainsKnown;
	// otherwise the workflow reads them from Graph. A batch reads them once.
	FederatedDomains []string
	DomainsKnown     bool
	// ReportTo is the workflow ID of a batch to tell about state changes
	// (SignalUserReport); "" for none.
	ReportTo string
	// HistoryLimit overrides DefaultUserHistoryLimit.
	HistoryLimit int
	// Resume carries the state across continue-as-new; nil on a first run.
	Resume *UserStatus
}

// UserStatus is what the status query returns, and what a MigrateUser
// workflow carries across continue-as-new.
type UserStatus struct {
	Login string
	Batch string
	State State
	// Reason explains the state: why a user is ineligible, skipped or still
	// waiting, how the password was confirmed.
	Reason      string
	EntraUserID string
	OktaUserID  string
	// OktaAction is what the import did: "create" or "adopt" ("" before).
	OktaAction string
	Policy     DeadlinePolicy
	Deadline   time.Time
	// LastError is the last failure seen; a Failed user's error.
	LastError string

	StartedAt     time.Time
	UpdatedAt     time.Time
	ImportedAt    time.Time
	AwaitingSince time.Time
	CompletedAt   time.Time

	// SignInAttempts counts password-verified signals (any outcome).
	SignInAttempts int
	LastOutcome    string
	LastSignInAt   time.Time
	// Reconciliations counts the periodic reads of the Okta user.
	Reconciliations int
	NextReconcileAt time.Time
	// ConfirmAt is when to check again that Okta stored a verified password,
	// and ConfirmsLeft how many checks remain (zero: none pending).
	ConfirmAt    time.Time
	ConfirmsLeft int
	// Runs counts the workflow's runs (continue-as-new).
	Runs int
	// Reported is the state last reported to the batch.
	Reported State
}

// MigrateUserResult is the outcome of a user's migration. A Failed user's
// workflow completes (it does not fail), with Error set, so batches and
// reports read every outcome the same way.
type MigrateUserResult struct {
	Login      string
	State      State
	Reason     string
	OktaUserID string
	Error      string
	Status     UserStatus
}

// ExtendDeadlineRequest is the argument of UpdateExtendDeadline: exactly one of
// Deadline (absolute) or By (added to the current deadline).
type ExtendDeadlineRequest struct {
	Deadline time.Time
	By       time.Duration
}

// SkipRequest is the argument of UpdateSkip.
type SkipRequest struct {
	Reason string // required, at most MaxReasonLength characters
}

// MaxReasonLength bounds operator-supplied reasons.
const MaxReasonLength = 500

// SignalUserReport carries a UserReportSignal from a MigrateUser workflow to
// its batch each time the user's reported state changes.
const SignalUserReport = "user-report"

// UserReportSignal tells a batch that a user moved from one state to another,
// so the batch keeps per-state counts without remembering every user.
type UserReportSignal struct {
	Login  string
	From   State
	To     State
	Reason string
}

// MigrateBatchInput starts a batch. The workflow ID is BatchWorkflowID(Batch).
// A single input struct keeps the API compatible as fields are added
// (samples-go batch-sliding-window).
type MigrateBatchInput struct {
	Batch string
	// Source selects the users: exactly one of its fields is set.
	Source entra.Source
	// Deadline (absolute) or DeadlineAfter (from the batch's start); both zero
	// means DefaultDeadlineAfter.
	Deadline      time.Time
	DeadlineAfter time.Duration
	Policy        DeadlinePolicy
	// FederatedToDeadline, ReconcileEvery, Attributes and
	// RefreshAttributesOnCapture are passed to every MigrateUser.
	FederatedToDeadline        bool
	ReconcileEvery             time.Duration
	Attributes                 []AttributeMapping
	RefreshAttributesOnCapture bool
	// DryRun reads Graph and Okta, writes nothing, and reports per user what
	// would happen.
	DryRun bool
	// WindowSize is how many users are being imported at once (default
	// DefaultWindowSize, at most MaxWindowSize).
	WindowSize int
	// PageSize is the Graph page size (default DefaultPageSize, at most 999).
	PageSize int
	// MaxPlanEntries caps a dry run's per-user lines (default DefaultMaxPlanEntries).
	MaxPlanEntries int
	// HistoryLimit overrides DefaultBatchHistoryLimit.
	HistoryLimit int
	// Resume carries the state across continue-as-new; nil on a first run.
	Resume *BatchState
}

// BatchState is what a MigrateBatch workflow carries across continue-as-new.
type BatchState struct {
	Progress         BatchProgress
	Running          []string // logins in the import phase, sorted
	Plan             []PlanEntry
	PlanTruncated    bool
	FederatedDomains []string
	DomainsKnown     bool
}

// BatchProgress is what the progress query returns.
type BatchProgress struct {
	Batch    string
	DryRun   bool
	Policy   DeadlinePolicy
	Deadline time.Time
	// Listed counts users read from the source.
	Listed int
	// Started counts MigrateUser workflows this batch started.
	Started int
	// AlreadyRunning counts users whose MigrateUser workflow was already
	// running (in another batch, or listed twice).
	AlreadyRunning int
	// StartFailures counts users whose workflow could not be started.
	StartFailures int
	// States counts started users by their last reported state.
	States map[State]int
	// Importing is the number of users in the sliding window.
	Importing int
	// Planned counts a dry run's users by planned action.
	Planned map[PlanAction]int
	// Cursor is the source's next page; ListingDone is set after the last.
	Cursor      string
	ListingDone bool
	Runs        int
	LastError   string
}

// Done reports whether every started user reached a terminal state (for a
// dry run: whether every user was planned).
func (p BatchProgress) Done() bool {
	if !p.ListingDone {
		return false
	}
	if p.DryRun {
		return true
	}
	terminal := 0
	for _, s := range States() {
		if s.Terminal() {
			terminal += p.States[s]
		}
	}
	return terminal >= p.Started
}

// MigrateBatchResult is the outcome of a batch: the final progress and, for a
// dry run, the plan.
type MigrateBatchResult struct {
	Progress      BatchProgress
	Plan          []PlanEntry
	PlanTruncated bool
}

// PlanAction is what a dry run says would happen to a user.
type PlanAction string

// The plan actions.
const (
	// PlanCreate: no Okta user has the login; one would be created on the hook.
	PlanCreate PlanAction = "create"
	// PlanAdopt: an Okta user has the login and no Okta password; it would be
	// put on the hook (if needed), updated and activated (if STAGED).
	PlanAdopt PlanAction = "adopt"
	// PlanSkip: nothing would be done; Reason says why (ineligible, or Okta
	// already holds a password).
	PlanSkip PlanAction = "skip"
	// PlanError: the Okta lookup failed; Reason holds the error.
	PlanError PlanAction = "error"
)

// PlanEntry is a dry run's verdict on one user.
type PlanEntry struct {
	Login      string
	Action     PlanAction
	Reason     string
	OktaUserID string
	OktaStatus string
	Provider   string
}

// String renders an entry for logs and CLIs.
func (e PlanEntry) String() string {
	s := fmt.Sprintf("%s: %s", e.Login, e.Action)
	if e.Reason != "" {
		s += " (" + e.Reason + ")"
	}
	return s
}
