package upgradetest

import (
	"net/url"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Task queues. Okta- and Graph-calling activities run on their own queues so
// that the server enforces each API's rate limit across all workers
// (TaskQueueActivitiesPerSecond, enforced by Temporal's matching service:
// https://docs.temporal.io/design-patterns/downstream-rate-limiting).
const (
	// TaskQueue runs the workflows and the activities that call no rate-limited API.
	TaskQueue = "entra2okta"
	// OktaTaskQueue runs every activity that calls the Okta Management API.
	OktaTaskQueue = "entra2okta-okta"
	// OktaCreateTaskQueue runs CreateOktaUser alone: the writes a migration
	// spends Okta's create bucket on (POST /api/v1/users has a per-minute
	// limit of its own: https://developer.okta.com/docs/reference/rate-limits/),
	// paced by a server-side
	// limit of their own, whatever the mix of lookups and creates.
	OktaCreateTaskQueue = "entra2okta-okta-create"
	// GraphTaskQueue runs every activity that calls Microsoft Graph.
	GraphTaskQueue = "entra2okta-graph"
)

// Message names.
const (
	// SignalPasswordVerified carries a PasswordVerifiedSignal from the hook
	// server to a user's MigrateUser workflow: the outcome only, never a password.
	SignalPasswordVerified = "password-verified"
	// SignalPasswordImportEvent carries a PasswordImportEventSignal: Okta's
	// System Log event user.import.password, delivered by an Okta event hook.
	SignalPasswordImportEvent = "password-import-event"
	// QueryStatus returns a MigrateUser workflow's UserStatus.
	QueryStatus = "status"
	// QueryProgress returns a MigrateBatch workflow's BatchProgress.
	QueryProgress = "progress"
	// UpdateExtendDeadline moves a user's (or a batch's) deadline.
	UpdateExtendDeadline = "extend-deadline"
	// UpdateSkip ends a user's migration as Skipped.
	UpdateSkip = "skip"
)

// Workflow ID prefixes.
const (
	userWorkflowPrefix  = "migrate-user/"
	batchWorkflowPrefix = "migrate-batch/"
)

// UserWorkflowID is the ID of the MigrateUser workflow of an Okta login. The hook
// server derives it from the username Okta sends, so the login is lower-cased
// (Okta treats logins that differ only in case as the same login:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/). The SDK sends the
// ID in a gRPC header, which allows printable ASCII only, so any other byte
// (and '%') is percent-encoded: the ID stays readable and one-to-one.
func UserWorkflowID(login string) string {
	l := strings.ToLower(strings.TrimSpace(login))
	var b strings.Builder
	b.Grow(len(userWorkflowPrefix) + len(l))
	b.WriteString(userWorkflowPrefix)
	for i := 0; i < len(l); i++ {
		c := l[i]
		if c <= ' ' || c > '~' || c == '%' {
			const hex = "0123456789ABCDEF"
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// LoginFromUserWorkflowID is the inverse of UserWorkflowID (the lower-cased
// login); ok is false for an ID that UserWorkflowID did not make.
func LoginFromUserWorkflowID(id string) (login string, ok bool) {
	rest, found := strings.CutPrefix(id, userWorkflowPrefix)
	if !found {
		return "", false
	}
	l, err := url.PathUnescape(rest)
	if err != nil {
		return "", false
	}
	return l, true
}

// BatchWorkflowID is the ID of the MigrateBatch workflow of a batch name.
func BatchWorkflowID(batch string) string { return batchWorkflowPrefix + batch }

// Search attributes shown in the Temporal Web UI and used by the starter's
// status, report and rollback commands.
var (
	// MigrationStateKey holds the user's State.
	MigrationStateKey = temporal.NewSearchAttributeKeyKeyword("MigrationState")
	// MigrationBatchKey holds the batch name.
	MigrationBatchKey = temporal.NewSearchAttributeKeyKeyword("MigrationBatch")
	// MigrationDeadlineKey holds the time the deadline policy applies.
	MigrationDeadlineKey = temporal.NewSearchAttributeKeyTime("MigrationDeadline")
)

// SearchAttributes lists our search attributes, for registration on a namespace.
func SearchAttributes() temporal.SearchAttributes {
	return temporal.NewSearchAttributes(
		MigrationStateKey.ValueSet(""),
		MigrationBatchKey.ValueSet(""),
		MigrationDeadlineKey.ValueSet(time.Time{}),
	)
}

// State is a user's migration state (the MigrationState search attribute).
type State string

// The states, in the order a user normally passes through them.
const (
	StatePending         State = "Pending"         // started, nothing done yet
	StateImporting       State = "Importing"       // creating/adopting, preparing, activating the Okta user
	StateAwaitingSignIn  State = "AwaitingSignIn"  // waiting for the first Okta sign-in
	StateMigrated        State = "Migrated"        // password captured in Okta (terminal)
	StateAlreadyMigrated State = "AlreadyMigrated" // Okta already held a password (terminal)
	StateIneligible      State = "Ineligible"      // disabled, guest, federated, no usable login (terminal)
	StateExpired         State = "Expired"         // the deadline passed; policy applied (terminal)
	StateSkipped         State = "Skipped"         // an operator skipped the user (terminal)
	StateFailed          State = "Failed"          // a non-retryable error (terminal)
)

// States lists every State, for per-state counts.
func States() []State {
	return []State{StatePending, StateImporting, StateAwaitingSignIn, StateMigrated, StateAlreadyMigrated,
		StateIneligible, StateExpired, StateSkipped, StateFailed}
}

// Terminal reports whether s is a final state.
func (s State) Terminal() bool {
	switch s {
	case StateMigrated, StateAlreadyMigrated, StateIneligible, StateExpired, StateSkipped, StateFailed:
		return true
	}
	return false
}

// Password verification outcomes carried by PasswordVerifiedSignal.
const (
	OutcomeVerified      = "verified"
	OutcomeUnverified    = "unverified"
	OutcomeIndeterminate = "indeterminate"
)

// PasswordVerifiedSignal is what the hook server tells a user's workflow after
// answering Okta. It carries the outcome of the check only: never a password,
// a hash of one, or a token.
type PasswordVerifiedSignal struct {
	Outcome string        // OutcomeVerified, OutcomeUnverified or OutcomeIndeterminate
	Code    int           // the AADSTS code of Entra's answer, 0 on success
	Reason  string        // short log-safe reason, e.g. "mfa_required"
	Latency time.Duration // time spent verifying against Entra
	At      time.Time     // when the hook answered Okta
	EventID string        // Okta's inline hook eventId
}

// PasswordImportEventSignal relays an Okta System Log user.import.password event.
type PasswordImportEventSignal struct {
	EventID   string    // Okta event uuid
	Outcome   string    // SUCCESS or FAILURE
	Published time.Time // when Okta recorded it
}
