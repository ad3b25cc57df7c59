package upgradetest

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
	return m.run(ctx)
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
}

// setup validates the input, restores or initialises the state, and installs
// the query and update handlers.
func (m *userMigration) setup(ctx workflow.Context, in MigrateUserInput) error {
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
	if in.Resume == nil {
		m.upsertSearchAttributes(ctx)
	}
	return nil
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
	in := activities.GetEntraUserInput{IDOrUPN: m.in.Login, Attributes: graphProperties(m.maps)}
	if err := workflow.ExecuteActivity(gctx, a.GetEntraUser, in).Get(ctx, &ur); err != nil {
		return entra.User{}, m.fail(ctx, "read the Entra user", err)
	}
	m.st.EntraUserID = ur.User.ID
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
// A new user costs two Okta calls: the lookup (a read bucket of its own) and
// the create, which sets the hook, the attributes and activation at once
// (POST /api/v1/users with credentials.password.hook; the lookup by login and
// the create count against different rate-limit buckets:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
func (m *userMigration) importToOkta(ctx workflow.Context, user entra.User) error {
	if m.skipIfRequested(ctx) {
		return nil
	}
	m.setState(ctx, StateImporting, "")
	octx := workflow.WithActivityOptions(ctx, OktaActivityOptions())

	var found activities.FindOktaUserResult
	if err := workflow.ExecuteActivity(octx, a.FindOktaUser, activities.FindOktaUserInput{IDOrLogin: user.UserPrincipalName}).Get(ctx, &found); err != nil {
		return m.fail(ctx, "look up the Okta user", err)
	}
	current := found.User
	action, why := oktaPlan(found.Found, found.User)
	if action == PlanCreate {
		nu := okta.NewUser{Profile: newUserProfile(user, m.maps), PasswordHook: true, Activate: true}
		var cr activities.CreateOktaUserResult
		cctx := workflow.WithActivityOptions(ctx, OktaCreateActivityOptions())
		if err := workflow.ExecuteActivity(cctx, a.CreateOktaUser, activities.CreateOktaUserInput{User: nu}).Get(ctx, &cr); err != nil {
			return m.fail(ctx, "create the Okta user", err)
		}
		current = cr.User
		if cr.Existed { // created meanwhile, or by an earlier attempt of ours
			action, why = oktaPlan(true, cr.User)
		} else {
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
	// normally ACTIVE already.
	if current.Status == okta.StatusStaged {
		if m.skipIfRequested(ctx) {
			return nil
		}
		in := activities.ActivateOktaUserInput{UserID: current.ID}
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
		case !now.Before(m.st.Deadline):
			err = m.applyDeadline(ctx)
		case !now.Before(m.st.NextReconcileAt):
			err = m.reconcile(ctx)
		case m.continueAsNewDue(ctx):
			err = m.continueAsNew(ctx)
		default:
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
	m.st.LastSignInAt = s.At
	if m.st.LastSignInAt.IsZero() {
		m.st.LastSignInAt = now
	}
	if s.Outcome == OutcomeVerified {
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
}

// onPasswordImportEvent handles Okta's user.import.password event: SUCCESS
// means Okta stored the password; FAILURE means it will call the hook again at
// the next sign-in ("If the import failed, Okta will continue retrying the
// import during every successful authentication attempt":
// https://developer.okta.com/docs/reference/api/event-types/).
func (m *userMigration) onPasswordImportEvent(ctx workflow.Context, e PasswordImportEventSignal) error {
	if strings.EqualFold(e.Outcome, "SUCCESS") {
		return m.migrated(ctx, "user.import.password SUCCESS event "+e.EventID)
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
	m.end(ctx, StateMigrated, how)
	return nil
}

// refreshAttributes copies the mapped Graph attributes to Okta again.
func (m *userMigration) refreshAttributes(ctx workflow.Context) error {
	gctx := workflow.WithActivityOptions(ctx, GraphActivityOptions())
	var ur activities.GetEntraUserResult
	if err := workflow.ExecuteActivity(gctx, a.GetEntraUser, activities.GetEntraUserInput{IDOrUPN: m.in.Login, Attributes: graphProperties(m.maps)}).Get(ctx, &ur); err != nil {
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
	if m.st.NextReconcileAt.Before(next) {
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
		m.report(ctx)
	}
}

// touch updates the reason and the update time.
func (m *userMigration) touch(ctx workflow.Context, reason string) {
	m.st.Reason = reason
	m.st.UpdatedAt = workflow.Now(ctx)
}

// upsertSearchAttributes publishes the state, batch and deadline to the
// Temporal visibility store, where List filters and the Web UI read them.
func (m *userMigration) upsertSearchAttributes(ctx workflow.Context) {
	err := workflow.UpsertTypedSearchAttributes(ctx,
		MigrationStateKey.ValueSet(string(m.st.State)),
		MigrationBatchKey.ValueSet(m.st.Batch),
		MigrationDeadlineKey.ValueSet(m.st.Deadline))
	if err != nil {
		m.logger.Warn("cannot upsert search attributes", "error", err)
	}
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

// result is the workflow's result.
func (m *userMigration) result() MigrateUserResult {
	res := MigrateUserResult{Login: m.st.Login, State: m.st.State, Reason: m.st.Reason, OktaUserID: m.st.OktaUserID, Status: m.st}
	if m.st.State == StateFailed {
		res.Error = m.st.LastError
	}
	return res
}
