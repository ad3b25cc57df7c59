package activities_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/internal/okta"
)

func busy(op string) error {
	return &apierr.Error{Kind: apierr.Busy, Service: "okta", Op: op, Status: 409, Code: "E0000112"}
}

// reads returns a GetUserFn answering the users in order (the last repeats)
// and a counter of its calls.
func reads(t *testing.T, users ...okta.User) (func(context.Context, string) (okta.User, error), *int) {
	n := new(int)
	return func(_ context.Context, id string) (okta.User, error) {
		assert.Equal(t, "00u1", id)
		u := users[min(*n, len(users)-1)]
		*n++
		return u, nil
	}, n
}

func TestActivateOktaUser_WaitsForAsynchronousActivation(t *testing.T) {
	get, n := reads(t,
		okta.User{ID: "00u1", Status: okta.StatusStaged, TransitioningToStatus: okta.StatusActive},
		okta.User{ID: "00u1", Status: okta.StatusStaged, TransitioningToStatus: okta.StatusActive},
		okta.User{ID: "00u1", Status: okta.StatusActive})
	activations := 0
	f := &fakeOkta{
		// An activation is already running (created with activate=true).
		ActivateUserFn: func(context.Context, string, bool) error { activations++; return busy("activate user") },
		GetUserFn:      get,
	}
	res, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
		activities.ActivateOktaUserInput{UserID: "00u1", Status: okta.StatusStaged})
	require.NoError(t, err)
	assert.False(t, res.AlreadyActive)
	assert.Equal(t, 1, activations, "E0000112 is waited out by reading, not by calling again")
	assert.Equal(t, 3, *n, "read until the transition is done")
}

func TestActivateOktaUser_SucceedsOnlyWhenActive(t *testing.T) {
	// Okta accepted the activation; the user is ACTIVE only once it is done.
	get, n := reads(t,
		okta.User{ID: "00u1", Status: okta.StatusStaged, TransitioningToStatus: okta.StatusActive},
		okta.User{ID: "00u1", Status: okta.StatusActive})
	f := &fakeOkta{ActivateUserFn: func(context.Context, string, bool) error { return nil }, GetUserFn: get}
	_, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
		activities.ActivateOktaUserInput{UserID: "00u1"})
	require.NoError(t, err)
	assert.Equal(t, 2, *n)
}

func TestActivateOktaUser_TransitionOutlastingTheAttemptIsBusy(t *testing.T) {
	get, _ := reads(t, okta.User{ID: "00u1", Status: okta.StatusStaged, TransitioningToStatus: okta.StatusActive})
	f := &fakeOkta{ActivateUserFn: func(context.Context, string, bool) error { return busy("activate user") }, GetUserFn: get}
	// An attempt with little time left: the activity gives up Busy at once
	// rather than being killed by its start-to-close timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err := (&activities.Activities{Okta: f}).ActivateOktaUser(ctx, activities.ActivateOktaUserInput{UserID: "00u1"})
	appErr := requireAppError(t, err, activities.ErrTypeBusy, false)
	assert.Equal(t, 5*time.Second, appErr.NextRetryDelay(), "retried after a short wait")
	assert.Contains(t, appErr.Error(), "STAGED to ACTIVE")
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestActivateOktaUser_ReactivatesAUserLeftProvisioned(t *testing.T) {
	// An enrollment policy left the activated user PROVISIONED.
	get, _ := reads(t,
		okta.User{ID: "00u1", Status: okta.StatusProvisioned, HasPassword: true, ProviderType: okta.ProviderImport},
		okta.User{ID: "00u1", Status: okta.StatusActive, HasPassword: true, ProviderType: okta.ProviderImport})
	reactivations := 0
	f := &fakeOkta{
		ActivateUserFn: func(context.Context, string, bool) error { return nil },
		ReactivateUserFn: func(_ context.Context, id string, sendEmail bool) error {
			assert.False(t, sendEmail, "a user on the import hook needs no activation email")
			reactivations++
			return nil
		},
		GetUserFn: get,
	}
	res, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
		activities.ActivateOktaUserInput{UserID: "00u1"})
	require.NoError(t, err)
	assert.True(t, res.Reactivated)
	assert.False(t, res.AlreadyActive)
	assert.Equal(t, 1, reactivations)
}

func TestActivateOktaUser_ProvisionedInputStartsWithReactivate(t *testing.T) {
	get, _ := reads(t, okta.User{ID: "00u1", Status: okta.StatusActive})
	f := &fakeOkta{ // no ActivateUserFn: activating a PROVISIONED user is refused by Okta
		ReactivateUserFn: func(context.Context, string, bool) error { return nil },
		GetUserFn:        get,
	}
	res, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
		activities.ActivateOktaUserInput{UserID: "00u1", Status: okta.StatusProvisioned})
	require.NoError(t, err)
	assert.True(t, res.Reactivated)
}

func TestActivateOktaUser_ProvisionedForGoodFails(t *testing.T) {
	t.Run("without a password", func(t *testing.T) {
		get, _ := reads(t, okta.User{ID: "00u1", Status: okta.StatusProvisioned})
		f := &fakeOkta{ReactivateUserFn: func(context.Context, string, bool) error { return nil }, GetUserFn: get}
		_, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
			activities.ActivateOktaUserInput{UserID: "00u1", Status: okta.StatusProvisioned})
		appErr := requireAppError(t, err, activities.ErrTypeInvalid, true)
		assert.Contains(t, appErr.Error(), "no password")
	})
	t.Run("still PROVISIONED after its reactivation", func(t *testing.T) {
		get, _ := reads(t, okta.User{ID: "00u1", Status: okta.StatusProvisioned, HasPassword: true})
		reactivations := 0
		f := &fakeOkta{
			ActivateUserFn:   func(context.Context, string, bool) error { return nil },
			ReactivateUserFn: func(context.Context, string, bool) error { reactivations++; return nil },
			GetUserFn:        get,
		}
		_, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
			activities.ActivateOktaUserInput{UserID: "00u1"})
		requireAppError(t, err, activities.ErrTypeInvalid, true)
		assert.Equal(t, 1, reactivations, "one reactivation per attempt")
	})
}

func TestCreateOktaUser_RecognisesItsOwnEarlierCreate(t *testing.T) {
	notBefore := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	sent := okta.NewUser{Profile: okta.Profile{"login": "alice@contoso.com", "email": "alice@contoso.com",
		"firstName": "Alice", "lastName": "Example"}, PasswordHook: true, Activate: true}
	ours := okta.User{ID: "00u9", Status: okta.StatusActive, Login: "alice@contoso.com", ProviderType: okta.ProviderImport,
		HasPassword: true, Created: notBefore.Add(3 * time.Second),
		Profile: okta.Profile{"login": "Alice@contoso.com", "email": "alice@contoso.com", "firstName": "Alice", "lastName": "Example"}}
	run := func(t *testing.T, existing okta.User, notBefore time.Time) activities.CreateOktaUserResult {
		t.Helper()
		f := &fakeOkta{
			CreateUserFn: func(context.Context, okta.NewUser) (okta.User, error) {
				return okta.User{}, oktaErr(apierr.Conflict, "create user")
			},
			GetUserFn: func(context.Context, string) (okta.User, error) { return existing, nil },
		}
		res, err := execute[activities.CreateOktaUserResult](t, &activities.Activities{Okta: f}, "CreateOktaUser",
			activities.CreateOktaUserInput{User: sent, NotBefore: notBefore})
		require.NoError(t, err)
		require.True(t, res.Existed)
		assert.Equal(t, existing.ID, res.User.ID)
		return res
	}
	t.Run("created since, on the hook, with our profile", func(t *testing.T) {
		assert.True(t, run(t, ours, notBefore).CreatedByUs)
	})
	t.Run("Okta's clock a little behind", func(t *testing.T) {
		u := ours
		u.Created = notBefore.Add(-30 * time.Second)
		assert.True(t, run(t, u, notBefore).CreatedByUs)
	})
	t.Run("created before the lookup", func(t *testing.T) {
		u := ours
		u.Created = notBefore.Add(-time.Hour)
		assert.False(t, run(t, u, notBefore).CreatedByUs)
	})
	t.Run("not on the import hook", func(t *testing.T) {
		u := ours
		u.ProviderType, u.HasPassword = okta.ProviderOkta, false // e.g. the Office 365 app imported it meanwhile
		assert.False(t, run(t, u, notBefore).CreatedByUs)
	})
	t.Run("another profile", func(t *testing.T) {
		u := ours
		u.Profile = okta.Profile{"login": "alice@contoso.com", "email": "alice@contoso.com", "firstName": "Alicia", "lastName": "Example"}
		assert.False(t, run(t, u, notBefore).CreatedByUs)
	})
	t.Run("no marker from an older workflow", func(t *testing.T) {
		assert.False(t, run(t, ours, time.Time{}).CreatedByUs)
	})
}
