package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"

	"entra2okta/internal/apierr"
	"entra2okta/internal/okta"
)

// FindOktaUserInput names the user to look up by id or login.
type FindOktaUserInput struct {
	IDOrLogin string
}

// FindOktaUserResult says whether the user exists and, if so, what Okta holds.
type FindOktaUserResult struct {
	Found bool
	User  okta.User
}

// FindOktaUser reads one Okta user (GET /api/v1/users/{idOrLogin}, a read bucket
// of its own: https://developer.okta.com/docs/reference/rate-limits/). A
// missing user is a result, not an error.
func (a *Activities) FindOktaUser(ctx context.Context, in FindOktaUserInput) (FindOktaUserResult, error) {
	u, err := a.Okta.GetUser(ctx, in.IDOrLogin)
	if apierr.Is(err, apierr.NotFound) {
		return FindOktaUserResult{}, nil
	}
	if err != nil {
		return FindOktaUserResult{}, fail(ctx, err)
	}
	return FindOktaUserResult{Found: true, User: u}, nil
}

// CreateOktaUserInput is the user to create.
type CreateOktaUserInput struct {
	User okta.NewUser
	// NotBefore is a time before the lookup that found no Okta user with
	// this login (the workflow's time when it decided to create it). Okta
	// records when it creates a user, so an existing user created since,
	// with the credential and every profile value this call sends, is the
	// one an earlier attempt of this call created: see CreatedByUs. Zero
	// turns the check off.
	NotBefore time.Time
}

// CreateOktaUserResult is the user Okta holds after the call. Existed is true
// when the login was already taken and User is that existing user.
type CreateOktaUserResult struct {
	User    okta.User
	Existed bool
	// CreatedByUs, with Existed, says that the existing user is the one an
	// earlier attempt of this call created (its answer was lost: a time-out,
	// a dropped connection, a 5xx after the write): a create, not an
	// adoption of someone else's user.
	CreatedByUs bool
}

// createClockSkew is how far Okta's clock (a user's created) may be behind
// the Temporal server's (NotBefore) for a user to count as ours.
const createClockSkew = time.Minute

// createdByEarlierAttempt tells whether existing is the user an earlier
// attempt of this create made: created by Okta since in.NotBefore (less the
// clock skew), on the import hook if the create asked for it, and holding
// every profile value the create sent (the login case-insensitively, as
// Okta compares logins). Anything else is someone else's user.
func createdByEarlierAttempt(existing okta.User, in CreateOktaUserInput) bool {
	if in.NotBefore.IsZero() || existing.Created.IsZero() || existing.Created.Before(in.NotBefore.Add(-createClockSkew)) {
		return false
	}
	if in.User.PasswordHook && (existing.ProviderType != okta.ProviderImport || !existing.HasPassword) {
		return false
	}
	for k, want := range in.User.Profile {
		got, ok := existing.Profile[k]
		if !ok {
			return false
		}
		if k == "login" {
			if !strings.EqualFold(fmt.Sprint(got), fmt.Sprint(want)) {
				return false
			}
		} else if fmt.Sprint(got) != fmt.Sprint(want) {
			return false
		}
	}
	return true
}

// CreateOktaUser creates a user (POST /api/v1/users,
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/). It is
// idempotent: when the login already exists (a retry after a lost response,
// or a user created meanwhile) it returns the existing user with Existed set,
// so that the workflow adopts it: a retried activity is harmless.
func (a *Activities) CreateOktaUser(ctx context.Context, in CreateOktaUserInput) (CreateOktaUserResult, error) {
	u, err := a.Okta.CreateUser(ctx, in.User)
	if err == nil {
		return CreateOktaUserResult{User: u}, nil
	}
	if !apierr.Is(err, apierr.Conflict) {
		return CreateOktaUserResult{}, fail(ctx, err)
	}
	login, _ := in.User.Profile["login"].(string)
	existing, gerr := a.Okta.GetUser(ctx, login)
	if gerr != nil {
		// Conflict but unreadable (e.g. a login only fetchable by id): report
		// the lookup's failure, which says why adoption is impossible.
		return CreateOktaUserResult{}, fail(ctx, gerr)
	}
	if createdByEarlierAttempt(existing, in) {
		activity.GetLogger(ctx).Info("okta user created by an earlier attempt whose answer was lost", "oktaUserID", existing.ID)
		return CreateOktaUserResult{User: existing, Existed: true, CreatedByUs: true}, nil
	}
	activity.GetLogger(ctx).Info("okta login already exists; adopting", "oktaUserID", existing.ID)
	return CreateOktaUserResult{User: existing, Existed: true}, nil
}

// UpdateOktaUserInput is a partial update of one user.
type UpdateOktaUserInput struct {
	UserID string
	Update okta.UserUpdate
}

// UpdateOktaUserResult is the user after the update.
type UpdateOktaUserResult struct {
	User okta.User
}

// UpdateOktaUser applies a partial update (POST /api/v1/users/{id}: profile
// merge and, optionally, the password hook in the same call;
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/). Repeating it is harmless.
func (a *Activities) UpdateOktaUser(ctx context.Context, in UpdateOktaUserInput) (UpdateOktaUserResult, error) {
	u, err := a.Okta.UpdateUser(ctx, in.UserID, in.Update)
	if err != nil {
		return UpdateOktaUserResult{}, fail(ctx, err)
	}
	return UpdateOktaUserResult{User: u}, nil
}

// ActivateOktaUserInput names the user to activate.
type ActivateOktaUserInput struct {
	UserID string
	// Status is the user's status as the caller last read it (optional): a
	// PROVISIONED user is reactivated rather than activated, which saves
	// the call Okta would refuse.
	Status string
}

// ActivateOktaUserResult says whether the user was already active, and
// whether it had to be reactivated.
type ActivateOktaUserResult struct {
	AlreadyActive bool
	// Reactivated says that Okta left the user PROVISIONED (an Identity
	// Engine enrollment policy) and a reactivation made it ACTIVE.
	Reactivated bool
}

// transitionWaits are the pauses between reads of a user whose activation
// Okta is still performing, within one attempt; the last one repeats. When
// the attempt's deadline is near, the activity fails Busy and Temporal
// retries it later (errors.go).
var transitionWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}

// ActivateOktaUser makes the user ACTIVE without sending an email: a user on
// the password hook needs no activation token ("Don't generate or send a one-time
// activation token when activating users with an password inline hook",
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/). It ends
// only when Okta says ACTIVE with no transition running, so it handles:
//   - asynchronous activation: while transitioningToStatus is set, calls
//     answer 409 E0000112 (apierr Busy); it reads the user until the
//     transition is done, and fails Busy (retried shortly) if the attempt
//     runs out first;
//   - a user Okta left PROVISIONED (an enrollment policy that requires the
//     password authenticator): activate is only for STAGED and DEPROVISIONED
//     users; reactivate restarts the activation, which makes a user holding
//     a password, such as the import hook, ACTIVE
//     (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/reactivateUser);
//   - a retry after a lost answer: Okta refuses to activate an ACTIVE user
//     (E0000016), and the read shows it ACTIVE.
//
// Each attempt activates and reactivates at most once; a status no call of
// ours can move to ACTIVE (SUSPENDED, a PROVISIONED user without a password,
// one still PROVISIONED after its reactivation) fails non-retryably.
func (a *Activities) ActivateOktaUser(ctx context.Context, in ActivateOktaUserInput) (ActivateOktaUserResult, error) {
	var res ActivateOktaUserResult
	activated, reactivated := false, false
	var refused error // the last Invalid answer, which explains a final failure
	// call makes one lifecycle call; Busy (a transition already running) and
	// Invalid (not allowed in the user's status) are answered by the read
	// that follows.
	call := func(reactivate bool) error {
		var err error
		if reactivate {
			reactivated, res.Reactivated = true, true
			err = a.Okta.ReactivateUser(ctx, in.UserID, false)
		} else {
			activated = true
			err = a.Okta.ActivateUser(ctx, in.UserID, false)
		}
		switch {
		case err == nil, apierr.Is(err, apierr.Busy):
			refused = nil
			return nil
		case apierr.Is(err, apierr.Invalid):
			refused = err
			return nil
		}
		return fail(ctx, err)
	}
	if err := call(in.Status == okta.StatusProvisioned); err != nil {
		return res, err
	}
	res.AlreadyActive = refused != nil
	waits := transitionWaits
	for {
		u, err := a.Okta.GetUser(ctx, in.UserID)
		if err != nil {
			return res, fail(ctx, err)
		}
		switch {
		case u.TransitioningToStatus != "":
			d := waits[0]
			if len(waits) > 1 {
				waits = waits[1:]
			}
			if err := sleepWithin(ctx, d); err != nil {
				return res, fail(ctx, &apierr.Error{Kind: apierr.Busy, Service: "okta", Op: "activate user",
					Err: fmt.Errorf("Okta is still moving the user from %s to %s: %w", u.Status, u.TransitioningToStatus, err)})
			}
			continue
		case u.Status == okta.StatusActive:
			return res, nil
		case u.Status == okta.StatusProvisioned && u.HasPassword && !reactivated:
			res.AlreadyActive = false
			if err := call(true); err != nil {
				return res, err
			}
			continue
		case (u.Status == okta.StatusStaged || u.Status == okta.StatusDeprovisioned) && !activated:
			res.AlreadyActive = false
			if err := call(false); err != nil {
				return res, err
			}
			continue
		}
		if refused == nil {
			why := "Okta left it there"
			if u.Status == okta.StatusProvisioned && !u.HasPassword {
				why = "it has no password credential, so only Okta's own activation flow can complete it"
			}
			refused = &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "activate user",
				Err: fmt.Errorf("the user is %s after activation: %s", u.Status, why)}
		}
		return res, fail(ctx, refused)
	}
}

// errNoTimeToWait says that a wait would outlast the attempt's deadline.
var errNoTimeToWait = errors.New("no time left in this attempt to wait for it")

// sleepWithin waits d unless the context ends first or its deadline leaves
// less than d plus a margin for the next call.
func sleepWithin(ctx context.Context, d time.Duration) error {
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < d+5*time.Second {
		return errNoTimeToWait
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// GetOktaPasswordImportEventsInput selects a user's password import events.
type GetOktaPasswordImportEventsInput struct {
	UserID string
	Since  time.Time
}

// GetOktaPasswordImportEventsResult lists the user.import.password events found
// and whether one of them succeeded.
type GetOktaPasswordImportEventsResult struct {
	Events    []okta.LogEvent
	Succeeded bool
}

// GetOktaPasswordImportEvents reads the user's user.import.password events from
// the System Log; outcome SUCCESS means Okta stored the password ("it's safe to
// delete it from your previous user store": https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
// The System Log has a small rate-limit bucket of its own
// (https://developer.okta.com/docs/reference/rate-limits/), so workflows call
// this only when the user's provider does not already say OKTA.
func (a *Activities) GetOktaPasswordImportEvents(ctx context.Context, in GetOktaPasswordImportEventsInput) (GetOktaPasswordImportEventsResult, error) {
	events, err := a.Okta.PasswordImportEvents(ctx, in.UserID, in.Since)
	if err != nil {
		return GetOktaPasswordImportEventsResult{}, fail(ctx, err)
	}
	var res GetOktaPasswordImportEventsResult
	for _, e := range events {
		if e.EventType != okta.EventTypePasswordImport {
			continue
		}
		res.Events = append(res.Events, e)
		if e.Outcome == "SUCCESS" {
			res.Succeeded = true
		}
	}
	return res, nil
}

// DeadlineAction is what ApplyOktaDeadlinePolicy does to a user who did not sign
// in before the deadline. Its values are the workflows' DeadlinePolicy names.
type DeadlineAction string

// The deadline actions. Okta's guide ends a migration program by resetting the
// passwords of the users still on the hook
// (https://developer.okta.com/docs/guides/migrate-to-okta-password-hooks/main/).
const (
	// ActionExpirePassword expires the password: the user must choose a new
	// one at the next sign-in.
	ActionExpirePassword DeadlineAction = "expire-password"
	// ActionResetPassword resets the password and has Okta email the user a
	// reset link.
	ActionResetPassword DeadlineAction = "reset-password"
	// ActionDeactivate deactivates the user.
	ActionDeactivate DeadlineAction = "deactivate"
)

// ApplyOktaDeadlinePolicyInput names the user and the action.
type ApplyOktaDeadlinePolicyInput struct {
	UserID string
	// Action is "" to check only (the deadline policy none).
	Action DeadlineAction
	// Recheck reads the user first and does nothing when Okta holds its
	// password: a user who signed in while the policy waited in the task
	// queue keeps it.
	Recheck bool
}

// ApplyOktaDeadlinePolicyResult says whether the user was already in the
// action's resulting status, or (Recheck) already held an Okta password.
type ApplyOktaDeadlinePolicyResult struct {
	AlreadyApplied bool
	PasswordStored bool
}

// ApplyOktaDeadlinePolicy applies a straggler action. It is idempotent: when
// Okta refuses the transition because the user already has the resulting
// status (a retry after a lost response), it succeeds.
//
// With Recheck, the check that Okta holds no password and the action are one
// activity, a moment apart, rather than two separated by a wait in the task
// queue. Each attempt checks again.
func (a *Activities) ApplyOktaDeadlinePolicy(ctx context.Context, in ApplyOktaDeadlinePolicyInput) (ApplyOktaDeadlinePolicyResult, error) {
	if in.Recheck {
		u, err := a.Okta.GetUser(ctx, in.UserID)
		if err != nil {
			return ApplyOktaDeadlinePolicyResult{}, fail(ctx, err)
		}
		// Okta holds the password: provider OKTA with a credential.
		if u.ProviderType == okta.ProviderOkta && u.HasPassword {
			return ApplyOktaDeadlinePolicyResult{PasswordStored: true}, nil
		}
		if in.Action == "" {
			return ApplyOktaDeadlinePolicyResult{}, nil
		}
	}
	var err error
	var want string
	switch in.Action {
	case ActionExpirePassword:
		want = okta.StatusPasswordExpired
		err = a.Okta.ExpirePassword(ctx, in.UserID)
	case ActionResetPassword:
		want = okta.StatusRecovery
		err = a.Okta.ResetPassword(ctx, in.UserID, true) // Okta emails the reset link
	case ActionDeactivate:
		want = okta.StatusDeprovisioned
		err = a.Okta.DeactivateUser(ctx, in.UserID)
	default:
		return ApplyOktaDeadlinePolicyResult{}, fail(ctx, &apierr.Error{
			Kind: apierr.Invalid, Service: "okta", Op: "deadline policy",
			Err: fmt.Errorf("unknown deadline action %q", in.Action)})
	}
	if err == nil {
		return ApplyOktaDeadlinePolicyResult{}, nil
	}
	if reached, cerr := a.reachedStatus(ctx, err, in.UserID, want); reached {
		return ApplyOktaDeadlinePolicyResult{AlreadyApplied: true}, nil
	} else if cerr != nil {
		return ApplyOktaDeadlinePolicyResult{}, cerr
	}
	return ApplyOktaDeadlinePolicyResult{}, fail(ctx, err)
}

// reachedStatus tells, after Okta refused a lifecycle transition as Invalid,
// whether the user already has the status the transition leads to. Other
// errors are not looked into. A failed lookup is returned as the error.
func (a *Activities) reachedStatus(ctx context.Context, err error, userID, status string) (bool, error) {
	if !apierr.Is(err, apierr.Invalid) {
		return false, nil
	}
	u, gerr := a.Okta.GetUser(ctx, userID)
	if gerr != nil {
		return false, fail(ctx, gerr)
	}
	return u.Status == status, nil
}
