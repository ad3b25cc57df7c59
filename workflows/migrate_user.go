package workflows

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"entra2okta/activities"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// a names the activities by method value, checked by the compiler, rather than
// by string; it is never dereferenced.
var a *activities.Activities

// confirmDelays are the waits before each check that Okta stored a password
// Entra verified: at once (the hook answers Okta before it signals us, so the
// password is normally stored already), then twice more in case Okta is slow.
// After the last check the user keeps waiting: Okta in read-only mode calls the
// hook again at the next sign-in ("if the Okta service is in read-only mode, it
// might not be possible to set the password":
// https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
var confirmDelays = []time.Duration{0, time.Minute, 10 * time.Minute}

// errOktaUserGone marks an Okta user deleted while the migration waited.
var errOktaUserGone = errors.New("the Okta user no longer exists")

// errApplyingPolicy refuses an update that arrives while the deadline policy
// is being applied: it could no longer change the outcome.
var errApplyingPolicy = errors.New("the deadline policy is being applied to this user; the update cannot change it any more")

// MigrateUser migrates one user from Entra ID to Okta: it checks eligibility,
// creates or adopts the Okta user on the password import hook, then waits for
// the first sign-in (which moves the password into Okta) or the deadline.
// Its ID is UserWorkflowID(in.Login); it answers QueryStatus and accepts
// SignalPasswordVerified, SignalPasswordImportEvent, UpdateExtendDeadline and
// UpdateSkip.
func MigrateUser(ctx workflow.Context, in MigrateUserInput) (MigrateUserResult, error) {
	m := &userMigration{}
	if err := m.setup(ctx, in); err != nil {
		return MigrateUserResult{}, err
	}
	res, err := m.run(ctx)
	if err != nil {
		m.abort(ctx, err)
	}
	return res, err
}

// userChange is the GetVersion change ID of the campaign-scale user: version
// 1 reports once (a signal to a batch continuing as new reaches its next
// run; one to a closed batch cannot succeed) with the batch run and its
// sequence number, waits for its last report before it closes (Temporal
// drops a signal whose sender has closed), reports its end when cancelled or
// failed, re-checks Okta and applies the deadline policy in one activity,
// and skips the start-up upsert of the search attributes its batch set.
const userChange = "campaign-scale"

// userRelease is the GetVersion change ID of the user workflow's fourth
// release. A run that records it takes the new path of every earlier change
// without recording their markers: one marker and one TemporalChangeVersion
// upsert per run instead of up to five (each GetVersion that records a
// version also upserts that search attribute, and a campaign pays it per
// user). Its own changes: the search attributes are upserted only when a
// value differs from the execution's current one (a batch's child starts
// with its batch, deadline, Entra object ID and Importing state already
// set), and the rollback memo is written in the same UpsertMemo as the first
// report memo after the import.
const userRelease = "user-release-4"

// confirmEventChange is the GetVersion change ID under which a
// user.import.password SUCCESS event is confirmed against Okta before the
// migration ends.
const confirmEventChange = "confirm-import-event"

// entraIDChange is the GetVersion change ID under which a user records the
// Entra object ID it read (MigrationEntraIDKey), for the hook server's
// identity binding.
const entraIDChange = "record-entra-id"

// rollbackMemoChange is the GetVersion change ID under which a user whose
// import has ended writes what a rollback needs into its memo (MemoRollback),
// so that rollback reads the visibility store instead of querying, and
// replaying, closed workflows.
const rollbackMemoChange = "rollback-memo"

// MemoRollback is the memo key of a RollbackMemo.
const MemoRollback = "rollback"

// identityHoldChange is the GetVersion change ID under which an
// identity-mismatch outcome holds the migration (UserStatus.Hold, MemoHold);
// before, it was recorded as any unverified attempt.
const identityHoldChange = "identity-hold"

// belowPolicyChange is the GetVersion change ID under which a user whose
// verified password broke the Okta password policy (the hook server's
// PasswordVerifiedSignal.BelowPolicy) has that password expired once Okta
// stored it. Okta does not apply its password policy to a password imported
// through the hook (https://developer.okta.com/docs/reference/password-hook/);
// an expired password makes Okta ask the user for a new one, which the
// policy then governs, at the next sign-in
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/expirePassword).
// It is evaluated on that path only, so other users record no marker; it
// shipped with userRelease, whose runs take it without a marker.
const belowPolicyChange = "expire-below-policy"

// RollbackMemo is what a rollback needs to know about a user whose import
// has ended; ListWorkflow returns it with the execution.
type RollbackMemo struct {
	Login      string
	Batch      string
	OktaUserID string
	OktaAction string // "create", "adopt" or "" (nothing done in Okta)
	State      State  // at the end of the import
	// Groups are the group memberships the migration added and the groups
	// it created (none without a group mapping).
	Groups []activities.GroupMembership `json:",omitempty"`
}

// userMigration is MigrateUser's state: setup validates the input and registers
// the handlers, then run does the business steps in order.
type userMigration struct {
	in        MigrateUserInput
	st        UserStatus
	maps      []AttributeMapping
	every     time.Duration
	federated bool   // eligible only because FederatedToDeadline is set
	skip      string // reason of an accepted skip, applied by the main loop
	logger    log.Logger
	verified  workflow.ReceiveChannel
	events    workflow.ReceiveChannel
	wake      workflow.Channel // nudged by update handlers
	v         workflow.Version
	// rel is the version of userRelease (see version).
	rel workflow.Version
	// rollbackWritten is set once the rollback memo is in the memo
	// (userRelease; a resumed run carries it from the run before).
	rollbackWritten bool
	// applying is set while the deadline policy is being applied: updates
	// are refused then rather than accepted and ignored.
	applying bool
	// reporting is the last report not yet confirmed (version 1).
	reporting workflow.Future
	// rv is the version of reportMemoChange; published the ReportMemo
	// last upserted (nil: none yet).
	rv        workflow.Version
	published *ReportMemo
}

// setup validates the input, restores or initialises the state, and installs
// the query and update handlers.
func (m *userMigration) setup(ctx workflow.Context, in MigrateUserInput) error {
	m.rel = workflow.GetVersion(ctx, userRelease, workflow.DefaultVersion, 1)
	m.v = m.version(ctx, userChange)
	m.rv = m.version(ctx, reportMemoChange)
	in.Login = strings.TrimSpace(in.Login)
	if err := validateUserInput(in); err != nil {
		return err
	}
	m.in = in
	m.maps = in.Attributes
	if m.maps == nil {
		m.maps = DefaultAttributeMappings()
	}
	m.every = in.ReconcileEvery
	if m.every == 0 {
		m.every = DefaultReconcileEvery
	}
	now := workflow.Now(ctx)
	if in.Resume != nil {
		m.st = *in.Resume
		m.st.Runs++
		m.rollbackWritten = true // by the run that imported, when it did
	} else {
		policy := in.Policy
		if policy == "" {
			policy = PolicyNone
		}
		deadline := in.Deadline
		if deadline.IsZero() {
			deadline = now.Add(DefaultDeadlineAfter)
		}
		m.st = UserStatus{Login: in.Login, Batch: in.Batch, State: StatePending, Policy: policy, Deadline: deadline,
			StartedAt: now, UpdatedAt: now, Runs: 1}
		if in.ReportTo != "" {
			m.st.Reported = StateImporting // what the batch counts a started user as
		}
	}
	m.logger = log.With(workflow.GetLogger(ctx), "login", in.Login, "batch", in.Batch)
	m.verified = workflow.GetSignalChannel(ctx, SignalPasswordVerified)
	m.events = workflow.GetSignalChannel(ctx, SignalPasswordImportEvent)
	m.wake = workflow.NewBufferedChannel(ctx, 1)
	if m.rv >= 1 {
		m.loadReportMemo(ctx)
	}
	m.showDetails(ctx)

	if err := workflow.SetQueryHandler(ctx, QueryStatus, func() (UserStatus, error) { return m.st, nil }); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateExtendDeadline, m.extendDeadline,
		workflow.UpdateHandlerOptions{Validator: m.validateExtendDeadline}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateSkip, m.requestSkip,
		workflow.UpdateHandlerOptions{Validator: m.validateSkip}); err != nil {
		return err
	}
	if err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateReleaseHold, m.releaseHold,
		workflow.UpdateHandlerOptions{Validator: m.validateReleaseHold}); err != nil {
		return err
	}
	if in.Resume == nil && (m.v == workflow.DefaultVersion || in.BatchRun == "") {
		m.upsertSearchAttributes(ctx)
	}
	return nil
}

// version is changeID's version: 1 on a run that recorded userRelease;
// otherwise what GetVersion records or replays for the change itself, as on
// the runs recorded before. Only the changes that shipped with userRelease
// or before it may be asked here: a later change must not be taken by the
// runs that recorded userRelease without it, so it gets the next release's
// ID.
func (m *userMigration) version(ctx workflow.Context, changeID string) workflow.Version {
	if m.rel >= 1 {
		return 1
	}
	return workflow.GetVersion(ctx, changeID, workflow.DefaultVersion, 1)
}

// abort ends, as Failed, a migration whose workflow stops on an error (its
// cancellation, mostly), so that its batch counts it as ended; a
// continue-as-new is no end. It runs in a disconnected context: a cancelled
// workflow may still issue commands.
func (m *userMigration) abort(ctx workflow.Context, err error) {
	var can *workflow.ContinueAsNewError
	if m.v == workflow.DefaultVersion || errors.As(err, &can) || m.st.State.Terminal() {
		return
	}
	dctx, cancel := workflow.NewDisconnectedContext(ctx)
	defer cancel()
	m.st.LastError = describe(err)
	reason := "the migration stopped: " + m.st.LastError
	if temporal.IsCanceledError(err) {
		reason = "the migration was cancelled"
	}
	m.end(dctx, StateFailed, reason)
}

// validateUserInput rejects inputs no run could complete.
func validateUserInput(in MigrateUserInput) error {
	var problems []string
	if in.Login == "" {
		problems = append(problems, "Login is required")
	}
	if !in.Policy.Valid() {
		problems = append(problems, fmt.Sprintf("unknown deadline policy %q", in.Policy))
	}
	if in.ReconcileEvery != 0 && in.ReconcileEvery < MinReconcileEvery {
		problems = append(problems, fmt.Sprintf("ReconcileEvery must be at least %s", MinReconcileEvery))
	}
	if err := in.Groups.Validate(); err != nil {
		problems = append(problems, err.Error())
	}
	for _, am := range in.Attributes {
		if am.Graph == "" || am.Okta == "" {
			problems = append(problems, fmt.Sprintf("attribute mapping %q→%q needs both names", am.Graph, am.Okta))
		}
	}
	if len(problems) > 0 {
		return temporal.NewNonRetryableApplicationError("invalid MigrateUser input: "+strings.Join(problems, "; "), "InvalidInput", nil)
	}
	return nil
}

// run is the state machine, top to bottom: eligibility, Okta import, awaiting
// the first sign-in (confirm, reconcile, deadline). A resumed run (after
// continue-as-new) goes straight back to waiting.
func (m *userMigration) run(ctx workflow.Context) (MigrateUserResult, error) {
	if m.in.Resume == nil {
		user, err := m.checkEligibility(ctx)
		if err != nil {
			return MigrateUserResult{}, err
		}
		if !m.st.State.Terminal() {
			if err := m.importToOkta(ctx, user); err != nil {
				return MigrateUserResult{}, err
			}
		}
		// Only a batch with a group mapping: no command otherwise.
		if m.in.Groups.Enabled() && !m.st.State.Terminal() && m.st.OktaUserID != "" {
			if err := m.syncGroups(ctx, false); err != nil {
				return MigrateUserResult{}, err
			}
		}
		if m.rel == workflow.DefaultVersion && m.version(ctx, rollbackMemoChange) >= 1 {
			m.upsertRollbackMemo(ctx)
		}
	}
	if !m.st.State.Terminal() {
		if err := m.awaitSignIn(ctx); err != nil {
			return MigrateUserResult{}, err // continue-as-new or cancellation
		}
	}
	return m.result(), nil
}

// checkEligibility reads the user (and, unless the batch did, the tenant's
// domains) from Graph and ends disabled, guest, federated and login-less users
// as Ineligible.
func (m *userMigration) checkEligibility(ctx workflow.Context) (entra.User, error) {
	gctx := workflow.WithActivityOptions(ctx, GraphActivityOptions())
	federated := m.in.FederatedDomains
	if !m.in.DomainsKnown {
		var dr activities.GetEntraDomainsResult
		if err := workflow.ExecuteActivity(gctx, a.GetEntraDomains, activities.GetEntraDomainsInput{}).Get(ctx, &dr); err != nil {
			return entra.User{}, m.fail(ctx, "read the Entra domains", err)
		}
		federated = federatedDomainNames(dr.Domains)
	}
	var ur activities.GetEntraUserResult
	if m.v >= 1 && m.in.Listed != nil {
		// The batch's listing read the user with every mapped property a
		// moment ago: one Graph call and one activity fewer per user.
		ur.User = *m.in.Listed
	} else {
		in := activities.GetEntraUserInput{IDOrUPN: m.in.Login, Attributes: graphProperties(m.maps)}
		if err := workflow.ExecuteActivity(gctx, a.GetEntraUser, in).Get(ctx, &ur); err != nil {
			return entra.User{}, m.fail(ctx, "read the Entra user", err)
		}
	}
	m.st.EntraUserID = ur.User.ID
	if ur.User.ID != "" && m.rel == workflow.DefaultVersion && m.version(ctx, entraIDChange) >= 1 {
		// The object the hook server binds this user's sign-ins to.
		if err := workflow.UpsertTypedSearchAttributes(ctx, MigrationEntraIDKey.ValueSet(ur.User.ID)); err != nil {
			m.logger.Warn("cannot upsert the Entra object ID", "error", err)
		}
	}
	reason, federatedOK := eligibility(ur.User, federated, m.in.FederatedToDeadline)
	if reason != "" {
		m.end(ctx, StateIneligible, reason)
		return ur.User, nil
	}
	m.federated = federatedOK
	return ur.User, nil
}

// importToOkta creates the Okta user on the password hook, or adopts the one
// that has the login, never touching a user whose password Okta already holds.
// A new user costs one Okta call and one activity: the create, which sets
// the hook, the attributes and activation at once (POST /api/v1/users with
// credentials.password.hook,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
// A user whose login Okta already has costs the refused create and a lookup
// by login (a read bucket of its own), then the adoption's update. Before
// userRelease every user was looked up first: two calls for a new user.
func (m *userMigration) importToOkta(ctx workflow.Context, user entra.User) error {
	if m.skipIfRequested(ctx) {
		return nil
	}
	m.setState(ctx, StateImporting, "")
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())

	// A time before the lookup: a user with this login that Okta created
	// since, as we would have, is ours (CreateOktaUserInput.NotBefore).
	notBefore := workflow.Now(ctx)
	// From userRelease on, the user is created without a lookup (found
	// stays empty): a create whose login exists answers with the existing
	// user (CreateOktaUserResult.Existed), planned then as a found one.
	var found activities.FindOktaUserResult
	if m.rel == workflow.DefaultVersion {
		in := activities.FindOktaUserInput{IDOrLogin: user.UserPrincipalName}
		if err := workflow.ExecuteActivity(octx, a.FindOktaUser, in).Get(ctx, &found); err != nil {
			return m.fail(ctx, "look up the Okta user", err)
		}
	}
	// plan is oktaPlan, except on the paths the histories recorded before a
	// change took: before changeIdPIneligible the users of an identity
	// provider were adopted, and before changeAdoptIdentity the login alone
	// decided an adoption.
	plan := func(found bool, u okta.User) (PlanAction, string) {
		action, why := oktaPlan(found, u, user)
		switch {
		case action == PlanSkip && strings.HasPrefix(why, ReasonOktaIdP) &&
			m.version(ctx, changeIdPIneligible) == workflow.DefaultVersion:
			return oktaPlanBeforeIdP(found, u)
		case action == PlanSkip && strings.HasPrefix(why, ReasonOktaIdentity) &&
			m.version(ctx, changeAdoptIdentity) == workflow.DefaultVersion:
			return oktaPlanBeforeIdentity(found, u)
		}
		return action, why
	}
	current := found.User
	action, why := plan(found.Found, found.User)
	if action == PlanCreate {
		nu := okta.NewUser{Profile: newUserProfile(user, m.maps), PasswordHook: true, Activate: true}
		var cr activities.CreateOktaUserResult
		cctx := workflow.WithActivityOptions(ctx, OktaCreateActivityOptions())
		in := activities.CreateOktaUserInput{User: nu, NotBefore: notBefore}
		if err := workflow.ExecuteActivity(cctx, a.CreateOktaUser, in).Get(ctx, &cr); err != nil {
			return m.fail(ctx, "create the Okta user", err)
		}
		current = cr.User
		switch {
		case cr.Existed && cr.CreatedByUs &&
			m.version(ctx, changeCreateRecognised) >= 1:
			// An earlier attempt created it and its answer was lost: a
			// create (which a rollback may undo), with nothing to adopt.
			m.st.OktaAction = "create"
		case cr.Existed: // created meanwhile by someone else
			action, why = plan(true, cr.User)
		default:
			m.st.OktaAction = "create"
		}
	}
	m.st.OktaUserID = current.ID
	switch action {
	case PlanSkip:
		if HoldsOktaPassword(current) {
			m.end(ctx, StateAlreadyMigrated, why)
		} else {
			m.end(ctx, StateIneligible, why)
		}
		return nil
	case PlanAdopt:
		m.st.OktaAction = "adopt"
		// One partial update (POST /api/v1/users/{id}, which keeps the attributes it
		// does not name, unlike PUT) sets the hook and copies the attributes.
		update := okta.UserUpdate{Profile: mappedProfile(user, m.maps), SetPasswordHook: current.ProviderType != okta.ProviderImport}
		if m.skipIfRequested(ctx) {
			return nil
		}
		if len(update.Profile) > 0 || update.SetPasswordHook {
			var ur activities.UpdateOktaUserResult
			in := activities.UpdateOktaUserInput{UserID: current.ID, Update: update}
			if err := workflow.ExecuteActivity(octx, a.UpdateOktaUser, in).Get(ctx, &ur); err != nil {
				return m.fail(ctx, "prepare the Okta user", err)
			}
			if ur.User.Status != "" {
				current.Status = ur.User.Status
			}
		}
	}
	// Okta activates only STAGED or DEPROVISIONED users
	// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/); a created user is
	// normally ACTIVE already. An Identity Engine enrollment policy can leave
	// it PROVISIONED instead, unable to sign in until it is reactivated.
	activate := current.Status == okta.StatusStaged
	if current.Status == okta.StatusProvisioned &&
		m.version(ctx, changeReactivateProvisioned) >= 1 {
		activate = true
	}
	if activate {
		if m.skipIfRequested(ctx) {
			return nil
		}
		in := activities.ActivateOktaUserInput{UserID: current.ID, Status: current.Status}
		if err := workflow.ExecuteActivity(octx, a.ActivateOktaUser, in).Get(ctx, nil); err != nil {
			return m.fail(ctx, "activate the Okta user", err)
		}
	}
	m.st.ImportedAt = workflow.Now(ctx)
	return nil
}

// awaitSignIn waits for the password to reach Okta: the hook server's signal
// (then confirmed against Okta), an Okta event hook's user.import.password
// event, or a periodic reconciliation; until the deadline applies the policy.
// It continues as new when the history grows long, carrying the state.
func (m *userMigration) awaitSignIn(ctx workflow.Context) error {
	if m.st.State != StateAwaitingSignIn {
		now := workflow.Now(ctx)
		m.st.AwaitingSince = now
		m.st.NextReconcileAt = now.Add(m.every)
		reason := "waiting for the first Okta sign-in"
		if m.federated {
			reason = ReasonFederated + ": Entra cannot verify the password; waiting for the deadline policy"
		}
		m.setState(ctx, StateAwaitingSignIn, reason)
	}
	for {
		if err := m.drainSignals(ctx); err != nil {
			return err
		}
		if m.st.State.Terminal() || m.skipIfRequested(ctx) {
			return nil
		}
		now := workflow.Now(ctx)
		var err error
		switch {
		case m.st.ConfirmsLeft > 0 && !now.Before(m.st.ConfirmAt):
			err = m.confirm(ctx)
		case !now.Before(m.st.Deadline) && m.st.Hold == "":
			err = m.applyDeadline(ctx)
		case !now.Before(m.st.NextReconcileAt):
			err = m.reconcile(ctx)
		case m.continueAsNewDue(ctx):
			err = m.continueAsNew(ctx)
		default:
			// What the signals and checks since the last sleep changed.
			m.publishReport(ctx)
			err = m.sleepUntil(ctx, m.nextWake())
		}
		if err != nil {
			return err
		}
	}
}

// drainSignals handles every pending signal without blocking.
func (m *userMigration) drainSignals(ctx workflow.Context) error {
	for !m.st.State.Terminal() {
		var s PasswordVerifiedSignal
		if !m.verified.ReceiveAsync(&s) {
			break
		}
		m.onPasswordVerified(ctx, s)
	}
	for !m.st.State.Terminal() {
		var e PasswordImportEventSignal
		if !m.events.ReceiveAsync(&e) {
			break
		}
		if err := m.onPasswordImportEvent(ctx, e); err != nil {
			return err
		}
	}
	var nudge struct{}
	for m.wake.ReceiveAsync(&nudge) {
	}
	return nil
}

// onPasswordVerified records a hook outcome. Verified starts the confirmation
// checks: Entra accepting the password does not prove Okta stored it.
func (m *userMigration) onPasswordVerified(ctx workflow.Context, s PasswordVerifiedSignal) {
	now := workflow.Now(ctx)
	m.st.SignInAttempts++
	m.st.LastOutcome = s.Outcome
	m.st.LastOutcomeReason = s.Reason
	m.st.LastOutcomeCode = s.Code
	m.st.LastSignInAt = s.At
	if m.st.LastSignInAt.IsZero() {
		m.st.LastSignInAt = now
	}
	if s.Outcome == OutcomeVerified {
		if len(s.BelowPolicy) > 0 {
			m.st.BelowPolicy = s.BelowPolicy
		}
		m.st.ConfirmAt = now
		m.st.ConfirmsLeft = len(confirmDelays)
		m.touch(ctx, "Entra verified the password; confirming that Okta stored it")
		return
	}
	reason := "sign-in attempt: " + s.Outcome
	if s.Reason != "" {
		reason += " (" + s.Reason + ")"
	}
	m.touch(ctx, reason)
	if s.Reason == ReasonIdentityMismatch && m.st.Hold == "" &&
		m.version(ctx, identityHoldChange) >= 1 {
		m.hold(ctx, "identity mismatch at "+m.st.LastSignInAt.UTC().Format(time.RFC3339)+
			": Entra accepted, for this login, the password of another account than the one this migration read "+
			"(a renamed and reused user principal name?); check the Entra account, then release or skip the user")
	}
}

// hold stops the user's sign-in checks and its deadline until an operator
// releases or skips it, and alerts: the memo tells the hook server.
func (m *userMigration) hold(ctx workflow.Context, why string) {
	m.st.Hold = why
	m.touch(ctx, "held: "+why)
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoHold: why}); err != nil {
		m.logger.Warn("cannot upsert the hold memo", "error", err)
	}
	m.logger.Error("migration held: identity mismatch; an operator must release or skip it", "entraUserID", m.st.EntraUserID)
}

// validateReleaseHold rejects a release of a migration that is not held.
func (m *userMigration) validateReleaseHold(_ workflow.Context, req ReleaseHoldRequest) error {
	reason := strings.TrimSpace(req.Reason)
	switch {
	case m.st.State.Terminal():
		return fmt.Errorf("the migration has ended (%s)", m.st.State)
	case m.st.Hold == "":
		return errors.New("the migration is not held")
	case reason == "":
		return errors.New("a reason is required")
	case len(reason) > MaxReasonLength:
		return fmt.Errorf("the reason exceeds %d characters", MaxReasonLength)
	}
	return nil
}

// releaseHold lifts the hold: the memo entry is removed (a nil value removes
// a memo field), and the main loop resumes, applying a passed deadline.
func (m *userMigration) releaseHold(ctx workflow.Context, req ReleaseHoldRequest) (UserStatus, error) {
	m.st.Hold = ""
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoHold: nil}); err != nil {
		m.logger.Warn("cannot remove the hold memo", "error", err)
	}
	m.touch(ctx, "hold released by an operator: "+strings.TrimSpace(req.Reason))
	m.logger.Info("hold released", "reason", strings.TrimSpace(req.Reason))
	m.wake.SendAsync(struct{}{})
	return m.st, nil
}

// onPasswordImportEvent handles Okta's user.import.password event: SUCCESS
// means Okta stored the password; FAILURE means it will call the hook again at
// the next sign-in
// (https://developer.okta.com/docs/reference/password-hook/). An event hook
// call could be forged, so a SUCCESS starts the same confirmation against
// Okta as a verified sign-in (version 1 of confirmEventChange) rather than
// ending the migration on the event's word.
func (m *userMigration) onPasswordImportEvent(ctx workflow.Context, e PasswordImportEventSignal) error {
	if strings.EqualFold(e.Outcome, "SUCCESS") {
		if m.version(ctx, confirmEventChange) == workflow.DefaultVersion {
			return m.migrated(ctx, "user.import.password SUCCESS event "+e.EventID)
		}
		if m.st.ConfirmsLeft == 0 {
			m.st.ConfirmAt = workflow.Now(ctx)
			m.st.ConfirmsLeft = len(confirmDelays)
		}
		m.touch(ctx, "Okta reported user.import.password SUCCESS (event "+e.EventID+"); confirming against Okta")
		return nil
	}
	m.st.LastError = "user.import.password " + e.Outcome + " event " + e.EventID
	m.touch(ctx, "Okta could not import the password; waiting for the next sign-in")
	return nil
}

// confirm checks that Okta stored a password Entra verified: provider OKTA, or
// a user.import.password SUCCESS event. Not stored after the last check (Okta
// in read-only mode) leaves the user waiting for the next sign-in.
func (m *userMigration) confirm(ctx workflow.Context) error {
	m.st.ConfirmsLeft--
	stored, how, err := m.passwordStored(ctx, true)
	if err != nil {
		if stop, err := m.checkFailed(ctx, "confirm the password", err); stop {
			return err
		}
	} else if stored {
		return m.migrated(ctx, how)
	}
	if m.st.ConfirmsLeft > 0 {
		m.st.ConfirmAt = workflow.Now(ctx).Add(confirmDelays[len(confirmDelays)-m.st.ConfirmsLeft])
		m.touch(ctx, "Entra verified the password; Okta has not stored it yet")
		return nil
	}
	m.st.ConfirmAt = time.Time{}
	m.touch(ctx, "Entra verified the password but Okta did not store it (read-only mode?); waiting for the next sign-in")
	return nil
}

// reconcile reads the Okta user on a schedule, so that a lost signal costs at
// most one period: provider OKTA means the password was captured.
func (m *userMigration) reconcile(ctx workflow.Context) error {
	m.st.Reconciliations++
	m.st.NextReconcileAt = workflow.Now(ctx).Add(m.every)
	stored, how, err := m.passwordStored(ctx, false)
	if err != nil {
		_, err = m.checkFailed(ctx, "reconcile", err)
		return err
	}
	if stored {
		return m.migrated(ctx, "reconciled: "+how)
	}
	if m.in.Groups.Sync && m.in.Groups.Enabled() && m.st.OktaUserID != "" {
		if err := m.syncGroups(ctx, true); err != nil {
			return err
		}
	}
	m.touch(ctx, m.st.Reason)
	return nil
}

// checkFailed handles a failed Okta read while waiting: cancellation stops the
// workflow, a deleted user fails the migration (stop is true for both);
// anything else is recorded and tried again at the next check.
func (m *userMigration) checkFailed(ctx workflow.Context, what string, err error) (stop bool, _ error) {
	switch {
	case temporal.IsCanceledError(err):
		return true, err
	case errors.Is(err, errOktaUserGone):
		m.st.LastError = err.Error()
		m.end(ctx, StateFailed, "the Okta user was deleted while waiting for the first sign-in")
		return true, nil
	}
	m.st.LastError = what + ": " + describe(err)
	m.logger.Warn("okta check failed; trying again at the next check", "step", what, "error", m.st.LastError)
	return false, nil
}

// passwordStored reads the Okta user and, when useLog is set and the provider
// is not OKTA yet, its user.import.password events (the System Log has a small
// rate-limit bucket of its own, so reconciliations do not read it).
func (m *userMigration) passwordStored(ctx workflow.Context, useLog bool) (bool, string, error) {
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())
	var f activities.FindOktaUserResult
	if err := workflow.ExecuteActivity(octx, a.FindOktaUser, activities.FindOktaUserInput{IDOrLogin: m.st.OktaUserID}).Get(ctx, &f); err != nil {
		return false, "", err
	}
	if !f.Found {
		return false, "", errOktaUserGone
	}
	if HoldsOktaPassword(f.User) {
		return true, "Okta holds the password (provider OKTA)", nil
	}
	if !useLog {
		return false, "", nil
	}
	var ev activities.GetOktaPasswordImportEventsResult
	in := activities.GetOktaPasswordImportEventsInput{UserID: m.st.OktaUserID, Since: m.st.AwaitingSince}
	if err := workflow.ExecuteActivity(octx, a.GetOktaPasswordImportEvents, in).Get(ctx, &ev); err != nil {
		return false, "", err
	}
	if ev.Succeeded {
		return true, "user.import.password SUCCESS in the System Log", nil
	}
	return false, "", nil
}

// applyDeadline ends a user who did not sign in by the deadline: a last check
// (a lost signal must not cost a migrated user its password), then the policy.
func (m *userMigration) applyDeadline(ctx workflow.Context) error {
	if m.v >= 1 {
		return m.applyDeadlineRechecked(ctx)
	}
	stored, how, err := m.passwordStored(ctx, false)
	if err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		if errors.Is(err, errOktaUserGone) {
			m.st.LastError = err.Error()
			m.end(ctx, StateFailed, "the Okta user was deleted before the deadline")
			return nil
		}
		return m.fail(ctx, "check the Okta user before the deadline policy", err)
	}
	if stored {
		return m.migrated(ctx, "at the deadline: "+how)
	}
	if m.st.Policy == PolicyNone || m.st.Policy == "" {
		m.end(ctx, StateExpired, "deadline passed; policy none: the user stays on the password hook")
		return nil
	}
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())
	in := activities.ApplyOktaDeadlinePolicyInput{UserID: m.st.OktaUserID, Action: activities.DeadlineAction(m.st.Policy)}
	if err := workflow.ExecuteActivity(octx, a.ApplyOktaDeadlinePolicy, in).Get(ctx, nil); err != nil {
		return m.fail(ctx, "apply the deadline policy "+string(m.st.Policy), err)
	}
	m.end(ctx, StateExpired, "deadline passed; policy "+string(m.st.Policy)+" applied")
	return nil
}

// applyDeadlineRechecked is applyDeadline on version 1: one activity checks
// that Okta still holds no password and applies the policy, so a user who
// signs in while the policy waits in the Okta task queue keeps the password.
// Updates are refused while it runs.
func (m *userMigration) applyDeadlineRechecked(ctx workflow.Context) error {
	m.applying = true
	defer func() { m.applying = false }()
	action := activities.DeadlineAction(m.st.Policy)
	if m.st.Policy == PolicyNone || m.st.Policy == "" {
		action = ""
	}
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())
	in := activities.ApplyOktaDeadlinePolicyInput{UserID: m.st.OktaUserID, Action: action, Recheck: true}
	var res activities.ApplyOktaDeadlinePolicyResult
	if err := workflow.ExecuteActivity(octx, a.ApplyOktaDeadlinePolicy, in).Get(ctx, &res); err != nil {
		var appErr *temporal.ApplicationError
		if errors.As(err, &appErr) && appErr.Type() == activities.ErrTypeNotFound {
			m.st.LastError = errOktaUserGone.Error()
			m.end(ctx, StateFailed, "the Okta user was deleted before the deadline")
			return nil
		}
		return m.fail(ctx, "apply the deadline policy "+string(m.st.Policy), err)
	}
	switch {
	case res.PasswordStored:
		return m.migrated(ctx, "at the deadline: Okta holds the password (provider OKTA)")
	case action == "":
		m.end(ctx, StateExpired, "deadline passed; policy none: the user stays on the password hook")
	default:
		m.end(ctx, StateExpired, "deadline passed; policy "+string(m.st.Policy)+" applied")
	}
	return nil
}

// migrated ends the migration once the password is in Okta, copying the Graph
// attributes again first if asked to. A failed refresh is recorded, not fatal:
// the password, which is what matters, is captured.
func (m *userMigration) migrated(ctx workflow.Context, how string) error {
	if m.in.RefreshAttributesOnCapture {
		if err := m.refreshAttributes(ctx); err != nil {
			if temporal.IsCanceledError(err) {
				return err
			}
			m.st.LastError = "refresh attributes: " + describe(err)
		}
	}
	if len(m.st.BelowPolicy) > 0 && m.version(ctx, belowPolicyChange) >= 1 {
		if err := m.expireBelowPolicy(ctx); err != nil {
			return err
		}
		how += "; " + m.st.Reason
	}
	m.end(ctx, StateMigrated, how)
	return nil
}

// expireBelowPolicy expires the captured password that broke the Okta
// password policy, through the deadline policy expire-password's activity.
// A failure is recorded, not fatal: the password is captured, and the
// operator sees the user in the report.
func (m *userMigration) expireBelowPolicy(ctx workflow.Context) error {
	rules := strings.Join(m.st.BelowPolicy, ", ")
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())
	in := activities.ApplyOktaDeadlinePolicyInput{UserID: m.st.OktaUserID, Action: activities.ActionExpirePassword}
	if err := workflow.ExecuteActivity(octx, a.ApplyOktaDeadlinePolicy, in).Get(ctx, nil); err != nil {
		if temporal.IsCanceledError(err) {
			return err
		}
		m.st.LastError = "expire the password below the Okta password policy: " + describe(err)
		m.logger.Warn("cannot expire a password below the Okta password policy", "rules", rules, "error", m.st.LastError)
		m.touch(ctx, "password below the Okta password policy ("+rules+"); expiring it failed")
		return nil
	}
	m.st.PasswordExpiredAt = workflow.Now(ctx)
	m.logger.Info("password below the Okta password policy expired", "rules", rules, "oktaUserID", m.st.OktaUserID)
	m.touch(ctx, "password below the Okta password policy ("+rules+") expired: Okta asks for a new one at the next sign-in")
	return nil
}

// refreshAttributes copies the mapped Graph attributes to Okta again.
func (m *userMigration) refreshAttributes(ctx workflow.Context) error {
	gctx := workflow.WithActivityOptions(ctx, GraphActivityOptions())
	// By the object ID read at the start: a UPN renamed and reused during
	// the campaign would name someone else (the same command either way).
	who := m.in.Login
	if m.v >= 1 && m.st.EntraUserID != "" {
		who = m.st.EntraUserID
	}
	var ur activities.GetEntraUserResult
	if err := workflow.ExecuteActivity(gctx, a.GetEntraUser, activities.GetEntraUserInput{IDOrUPN: who, Attributes: graphProperties(m.maps)}).Get(ctx, &ur); err != nil {
		return err
	}
	profile := mappedProfile(ur.User, m.maps)
	if len(profile) == 0 {
		return nil
	}
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())
	in := activities.UpdateOktaUserInput{UserID: m.st.OktaUserID, Update: okta.UserUpdate{Profile: profile}}
	return workflow.ExecuteActivity(octx, a.UpdateOktaUser, in).Get(ctx, nil)
}

// nextWake is the earliest of the deadline, the next reconciliation and a
// pending confirmation.
func (m *userMigration) nextWake() time.Time {
	next := m.st.Deadline
	if m.st.Hold != "" || m.st.NextReconcileAt.Before(next) {
		next = m.st.NextReconcileAt
	}
	if m.st.ConfirmsLeft > 0 && m.st.ConfirmAt.Before(next) {
		next = m.st.ConfirmAt
	}
	return next
}

// sleepUntil blocks on a durable timer until t, a signal, or an update.
func (m *userMigration) sleepUntil(ctx workflow.Context, t time.Time) error {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel() // a timer that did not fire is cancelled
	timer := workflow.NewTimer(tctx, t.Sub(workflow.Now(ctx)))
	ignore := func(workflow.ReceiveChannel, bool) {} // drainSignals reads them
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(workflow.Future) {})
	sel.AddReceive(m.verified, ignore)
	sel.AddReceive(m.events, ignore)
	sel.AddReceive(m.wake, ignore)
	sel.Select(ctx)
	return ctx.Err()
}

// continueAsNewDue reports whether the history should be reset.
func (m *userMigration) continueAsNewDue(ctx workflow.Context) bool {
	limit := m.in.HistoryLimit
	if limit <= 0 {
		limit = DefaultUserHistoryLimit
	}
	info := workflow.GetInfo(ctx)
	return info.GetContinueAsNewSuggested() || info.GetCurrentHistoryLength() >= limit
}

// continueAsNew starts a new run carrying the state, once no handler runs and
// no signal is pending (those would be lost, as samples-go batch-sliding-window
// warns: https://github.com/temporalio/samples-go/tree/main/batch-sliding-window).
// When work is
// pending it returns nil and the main loop handles it first.
func (m *userMigration) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	if m.verified.Len() > 0 || m.events.Len() > 0 || m.skip != "" {
		return nil
	}
	m.awaitReport(ctx)
	in := m.in
	st := m.st
	in.Resume = &st
	m.logger.Info("continuing as new", "runs", st.Runs, "reconciliations", st.Reconciliations)
	return workflow.NewContinueAsNewError(ctx, MigrateUser, in)
}

// validateExtendDeadline rejects an extension of an ended migration, an
// ambiguous request and a deadline that is not later than the current one.
func (m *userMigration) validateExtendDeadline(ctx workflow.Context, req ExtendDeadlineRequest) error {
	if m.st.State.Terminal() {
		return fmt.Errorf("the migration has ended (%s)", m.st.State)
	}
	if m.applying {
		return errApplyingPolicy
	}
	if req.Deadline.IsZero() == (req.By == 0) {
		return errors.New("set exactly one of Deadline and By")
	}
	if req.By < 0 {
		return errors.New("By must be positive")
	}
	next := m.extended(req)
	if !next.After(m.st.Deadline) {
		return fmt.Errorf("the new deadline %s is not after the current one %s", next.Format(time.RFC3339), m.st.Deadline.Format(time.RFC3339))
	}
	if !next.After(workflow.Now(ctx)) {
		return fmt.Errorf("the new deadline %s has passed", next.Format(time.RFC3339))
	}
	return nil
}

func (m *userMigration) extended(req ExtendDeadlineRequest) time.Time {
	if req.By > 0 {
		return m.st.Deadline.Add(req.By)
	}
	return req.Deadline
}

// extendDeadline moves the deadline and wakes the main loop.
func (m *userMigration) extendDeadline(ctx workflow.Context, req ExtendDeadlineRequest) (UserStatus, error) {
	m.st.Deadline = m.extended(req)
	m.upsertSearchAttributes(ctx)
	m.touch(ctx, m.st.Reason)
	m.logger.Info("deadline extended", "deadline", m.st.Deadline)
	m.wake.SendAsync(struct{}{})
	return m.st, nil
}

// validateSkip rejects a skip of an ended migration and a skip without a reason.
func (m *userMigration) validateSkip(_ workflow.Context, req SkipRequest) error {
	reason := strings.TrimSpace(req.Reason)
	switch {
	case m.st.State.Terminal():
		return fmt.Errorf("the migration has ended (%s)", m.st.State)
	case m.applying:
		return errApplyingPolicy
	case m.skip != "":
		return errors.New("a skip is already pending")
	case reason == "":
		return errors.New("a reason is required")
	case len(reason) > MaxReasonLength:
		return fmt.Errorf("the reason exceeds %d characters", MaxReasonLength)
	}
	return nil
}

// requestSkip records the skip; the main loop ends the migration as Skipped at
// its next step (at once while waiting for the sign-in).
func (m *userMigration) requestSkip(_ workflow.Context, req SkipRequest) (UserStatus, error) {
	m.skip = strings.TrimSpace(req.Reason)
	m.logger.Info("skip requested", "reason", m.skip)
	m.wake.SendAsync(struct{}{})
	return m.st, nil
}

// skipIfRequested ends the migration as Skipped if an operator asked for it.
func (m *userMigration) skipIfRequested(ctx workflow.Context) bool {
	if m.skip == "" {
		return false
	}
	m.end(ctx, StateSkipped, "skipped by an operator: "+m.skip)
	return true
}

// fail ends the migration as Failed with err visible in the status and the
// result, unless err is a cancellation, which it returns.
func (m *userMigration) fail(ctx workflow.Context, what string, err error) error {
	if temporal.IsCanceledError(err) {
		return err
	}
	m.st.LastError = what + ": " + describe(err)
	m.logger.Error("migration failed", "step", what, "error", m.st.LastError)
	m.end(ctx, StateFailed, "could not "+what)
	return nil
}

// describe renders an activity error for the status: the application error's
// type and message when there is one.
func describe(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type() + ": " + appErr.Message()
	}
	var timeoutErr *temporal.TimeoutError
	if errors.As(err, &timeoutErr) {
		return "timeout: " + timeoutErr.Error()
	}
	return err.Error()
}

// end moves to a terminal state.
func (m *userMigration) end(ctx workflow.Context, s State, reason string) {
	m.st.CompletedAt = workflow.Now(ctx)
	m.setState(ctx, s, reason)
}

// setState records a state change: status, search attributes, log, and a
// report to the batch for the states it counts.
func (m *userMigration) setState(ctx workflow.Context, s State, reason string) {
	m.st.State = s
	m.touch(ctx, reason)
	m.upsertSearchAttributes(ctx)
	m.logger.Info("state changed", "state", s, "reason", reason, "oktaUserID", m.st.OktaUserID)
	if s != StatePending && s != StateImporting {
		m.publishReport(ctx)
		m.report(ctx)
	}
}

// touch updates the reason, the update time and the Web UI's details.
func (m *userMigration) touch(ctx workflow.Context, reason string) {
	m.st.Reason = reason
	m.st.UpdatedAt = workflow.Now(ctx)
	m.showDetails(ctx)
}

// upsertSearchAttributes publishes the state, batch and deadline (and, from
// userRelease on, the Entra object ID) to the Temporal visibility store,
// where List filters and the Web UI read them. From userRelease on it sends
// only the values that differ from the execution's, and nothing when none
// does: each upsert is a history event and a visibility write.
func (m *userMigration) upsertSearchAttributes(ctx workflow.Context) {
	updates := []temporal.SearchAttributeUpdate{
		MigrationStateKey.ValueSet(string(m.st.State)),
		MigrationBatchKey.ValueSet(m.st.Batch),
		MigrationDeadlineKey.ValueSet(m.st.Deadline)}
	if m.rel >= 1 {
		updates = m.changedSearchAttributes(ctx)
		if len(updates) == 0 {
			return
		}
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		m.logger.Warn("cannot upsert search attributes", "error", err)
	}
}

// changedSearchAttributes are the updates that bring the execution's search
// attributes to the user's state, batch, deadline and Entra object ID.
func (m *userMigration) changedSearchAttributes(ctx workflow.Context) []temporal.SearchAttributeUpdate {
	sa := workflow.GetTypedSearchAttributes(ctx)
	var updates []temporal.SearchAttributeUpdate
	keyword := func(k temporal.SearchAttributeKeyKeyword, want string) {
		if got, ok := sa.GetKeyword(k); !ok || got != want {
			updates = append(updates, k.ValueSet(want))
		}
	}
	keyword(MigrationStateKey, string(m.st.State))
	keyword(MigrationBatchKey, m.st.Batch)
	if got, ok := sa.GetTime(MigrationDeadlineKey); !ok || !got.Equal(m.st.Deadline) {
		updates = append(updates, MigrationDeadlineKey.ValueSet(m.st.Deadline))
	}
	if m.st.EntraUserID != "" {
		// The object the hook server binds this user's sign-ins to.
		keyword(MigrationEntraIDKey, m.st.EntraUserID)
	}
	return updates
}

// upsertRollbackMemo publishes what a rollback needs (version 1 of
// rollbackMemoChange); continue-as-new carries the memo to the next run.
func (m *userMigration) upsertRollbackMemo(ctx workflow.Context) {
	if err := workflow.UpsertMemo(ctx, map[string]any{MemoRollback: m.rollbackMemo()}); err != nil {
		m.logger.Warn("cannot upsert the rollback memo", "error", err)
	}
}

// rollbackMemo is the RollbackMemo of the user's state.
func (m *userMigration) rollbackMemo() RollbackMemo {
	memo := RollbackMemo{Login: m.st.Login, Batch: m.st.Batch, OktaUserID: m.st.OktaUserID,
		OktaAction: m.st.OktaAction, State: m.st.State}
	for _, g := range m.st.Groups {
		if g.Added || g.CreatedGroup {
			memo.Groups = append(memo.Groups, g)
		}
	}
	memo.Groups = append(memo.Groups, m.st.CreatedGroups...)
	return memo
}

// rollbackDue reports whether the rollback memo is to be written with the
// next report memo (userRelease): once, when the import has ended.
func (m *userMigration) rollbackDue() bool {
	return m.rel >= 1 && !m.rollbackWritten && m.st.State != StatePending && m.st.State != StateImporting
}

// reportAttempts bounds the tries of one report to the batch.
const reportAttempts = 5

// report tells the batch that the user's state changed. A batch that has
// ended (or was terminated) cannot be told; the user's migration goes on.
func (m *userMigration) report(ctx workflow.Context) {
	if m.in.ReportTo == "" || m.st.Reported == m.st.State {
		return
	}
	sig := UserReportSignal{Login: m.st.Login, From: m.st.Reported, To: m.st.State, Reason: m.st.Reason}
	if m.v >= 1 {
		m.reportOnce(ctx, sig)
		return
	}
	// A signal can fail while the batch continues as new (its run closes just
	// as the signal lands); the batch's next run is current a moment later.
	// A lost report would leave the batch counting the user in its old state
	// for ever, so try a few times before concluding the batch is gone.
	var err error
	for attempt := 1; attempt <= reportAttempts; attempt++ {
		if err = workflow.SignalExternalWorkflow(ctx, m.in.ReportTo, "", SignalUserReport, sig).Get(ctx, nil); err == nil {
			m.st.Reported = m.st.State
			return
		}
		if attempt < reportAttempts {
			_ = workflow.Sleep(ctx, time.Duration(attempt)*time.Second)
		}
	}
	m.logger.Warn("cannot report to the batch", "batchWorkflowID", m.in.ReportTo, "error", err)
}

// reportOnce sends a report once (version 1). The server delivers a signal
// sent to a batch that is continuing as new to its next run, and refuses to
// close a run while a signal for it is pending, so a retry could only reach a
// batch that has ended. A final report is awaited: Temporal drops the signal
// of a workflow that has closed
// (https://github.com/temporalio/temporal/blob/main/service/history/transfer_queue_active_task_executor.go,
// processSignalExecution). Others are awaited before the next report or a
// continue-as-new (awaitReport).
func (m *userMigration) reportOnce(ctx workflow.Context, sig UserReportSignal) {
	m.awaitReport(ctx)
	sig.BatchRun, sig.Seq = m.in.BatchRun, m.in.BatchSeq
	m.reporting = workflow.SignalExternalWorkflow(ctx, m.in.ReportTo, "", SignalUserReport, sig)
	m.st.Reported = m.st.State
	if m.st.State.Terminal() {
		m.awaitReport(ctx)
	}
}

// awaitReport waits for the last report's delivery, logging a failure.
func (m *userMigration) awaitReport(ctx workflow.Context) {
	if m.reporting == nil {
		return
	}
	if err := m.reporting.Get(ctx, nil); err != nil {
		m.logger.Warn("cannot report to the batch", "batchWorkflowID", m.in.ReportTo, "error", err)
	}
	m.reporting = nil
}

// result is the workflow's result.
func (m *userMigration) result() MigrateUserResult {
	res := MigrateUserResult{Login: m.st.Login, State: m.st.State, Reason: m.st.Reason, OktaUserID: m.st.OktaUserID, Status: m.st}
	if m.st.State == StateFailed {
		res.Error = m.st.LastError
	}
	return res
}
