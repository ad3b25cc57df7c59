package activities

import (
	"context"
	"fmt"
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
// of its own: okta.md §4). A missing user is a result, not an error.
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
}

// CreateOktaUserResult is the user Okta holds after the call. Existed is true
// when the login was already taken and User is that existing user.
type CreateOktaUserResult struct {
	User    okta.User
	Existed bool
}

// CreateOktaUser creates a user (POST /api/v1/users, okta.md §3.1). It is
// idempotent: when the login already exists (a retry after a lost response,
// or a user created meanwhile) it returns the existing user with Existed set,
// so that the workflow adopts it (STYLE.md §4.3).
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
// merge and, optionally, the password hook in the same call; okta.md §3.3,
// §3.4). Repeating it is harmless.
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
}

// ActivateOktaUserResult says whether the user was already active.
type ActivateOktaUserResult struct {
	AlreadyActive bool
}

// ActivateOktaUser activates a STAGED user without sending an email: a user on
// the password hook needs no activation token (okta.md §3.1, §3.2). It is
// idempotent: when Okta refuses because the user is already ACTIVE (E0000016,
// e.g. on a retry after a lost response) it succeeds.
func (a *Activities) ActivateOktaUser(ctx context.Context, in ActivateOktaUserInput) (ActivateOktaUserResult, error) {
	err := a.Okta.ActivateUser(ctx, in.UserID, false)
	if err == nil {
		return ActivateOktaUserResult{}, nil
	}
	if reached, cerr := a.reachedStatus(ctx, err, in.UserID, okta.StatusActive); reached {
		return ActivateOktaUserResult{AlreadyActive: true}, nil
	} else if cerr != nil {
		return ActivateOktaUserResult{}, cerr
	}
	return ActivateOktaUserResult{}, fail(ctx, err)
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
// the System Log; outcome SUCCESS means Okta stored the password (okta.md §1.6).
// The System Log has a small rate-limit bucket (okta.md §4), so workflows call
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

// The deadline actions (okta.md §1.6 "End the migration program").
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
	Action DeadlineAction
}

// ApplyOktaDeadlinePolicyResult says whether the user was already in the
// action's resulting status.
type ApplyOktaDeadlinePolicyResult struct {
	AlreadyApplied bool
}

// ApplyOktaDeadlinePolicy applies a straggler action. It is idempotent: when
// Okta refuses the transition because the user already has the resulting
// status (a retry after a lost response), it succeeds.
func (a *Activities) ApplyOktaDeadlinePolicy(ctx context.Context, in ApplyOktaDeadlinePolicyInput) (ApplyOktaDeadlinePolicyResult, error) {
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
