package activities_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"entra2okta/activities"
	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// execute runs one activity in Temporal's test activity environment, so the
// error is what a workflow would see.
func execute[T any](t *testing.T, a *activities.Activities, name string, in any) (T, error) {
	t.Helper()
	var ts testsuite.WorkflowTestSuite
	env := ts.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	var out T
	v, err := env.ExecuteActivity(name, in)
	if err == nil {
		require.NoError(t, v.Get(&out))
	}
	return out, err
}

// requireAppError asserts err is an ApplicationError of the given type and
// retryability, and returns it.
func requireAppError(t *testing.T, err error, errType string, nonRetryable bool) *temporal.ApplicationError {
	t.Helper()
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, errType, appErr.Type())
	assert.Equal(t, nonRetryable, appErr.NonRetryable(), "NonRetryable")
	return appErr
}

func oktaErr(kind apierr.Kind, op string) error {
	return &apierr.Error{Kind: kind, Service: "okta", Op: op, Status: 400, Code: "E0000001"}
}

func TestFindOktaUser(t *testing.T) {
	alice := okta.User{ID: "00u1", Login: "alice@contoso.com", Status: okta.StatusStaged}
	t.Run("found", func(t *testing.T) {
		f := &fakeOkta{GetUserFn: func(_ context.Context, login string) (okta.User, error) {
			assert.Equal(t, "alice@contoso.com", login)
			return alice, nil
		}}
		res, err := execute[activities.FindOktaUserResult](t, &activities.Activities{Okta: f}, "FindOktaUser",
			activities.FindOktaUserInput{IDOrLogin: "alice@contoso.com"})
		require.NoError(t, err)
		assert.True(t, res.Found)
		assert.Equal(t, "00u1", res.User.ID)
	})
	t.Run("missing is a result", func(t *testing.T) {
		f := &fakeOkta{GetUserFn: func(context.Context, string) (okta.User, error) {
			return okta.User{}, &apierr.Error{Kind: apierr.NotFound, Service: "okta", Op: "get user", Status: 404}
		}}
		res, err := execute[activities.FindOktaUserResult](t, &activities.Activities{Okta: f}, "FindOktaUser",
			activities.FindOktaUserInput{IDOrLogin: "bob@contoso.com"})
		require.NoError(t, err)
		assert.False(t, res.Found)
	})
	t.Run("transient is retryable", func(t *testing.T) {
		f := &fakeOkta{GetUserFn: func(context.Context, string) (okta.User, error) {
			return okta.User{}, &apierr.Error{Kind: apierr.Transient, Service: "okta", Op: "get user", Status: 503}
		}}
		_, err := execute[activities.FindOktaUserResult](t, &activities.Activities{Okta: f}, "FindOktaUser",
			activities.FindOktaUserInput{IDOrLogin: "bob@contoso.com"})
		requireAppError(t, err, activities.ErrTypeTransient, false)
	})
}

func TestCreateOktaUser(t *testing.T) {
	newUser := okta.NewUser{Profile: okta.Profile{"login": "alice@contoso.com"}, PasswordHook: true, Activate: true}
	t.Run("created", func(t *testing.T) {
		f := &fakeOkta{CreateUserFn: func(_ context.Context, u okta.NewUser) (okta.User, error) {
			assert.True(t, u.PasswordHook)
			assert.True(t, u.Activate)
			return okta.User{ID: "00u1", Status: okta.StatusActive, ProviderType: okta.ProviderImport}, nil
		}}
		res, err := execute[activities.CreateOktaUserResult](t, &activities.Activities{Okta: f}, "CreateOktaUser",
			activities.CreateOktaUserInput{User: newUser})
		require.NoError(t, err)
		assert.False(t, res.Existed)
		assert.Equal(t, "00u1", res.User.ID)
	})
	t.Run("conflict adopts the existing user", func(t *testing.T) {
		f := &fakeOkta{
			CreateUserFn: func(context.Context, okta.NewUser) (okta.User, error) {
				return okta.User{}, oktaErr(apierr.Conflict, "create user")
			},
			GetUserFn: func(_ context.Context, login string) (okta.User, error) {
				assert.Equal(t, "alice@contoso.com", login)
				return okta.User{ID: "00u9", Status: okta.StatusStaged}, nil
			},
		}
		res, err := execute[activities.CreateOktaUserResult](t, &activities.Activities{Okta: f}, "CreateOktaUser",
			activities.CreateOktaUserInput{User: newUser})
		require.NoError(t, err)
		assert.True(t, res.Existed)
		assert.Equal(t, "00u9", res.User.ID)
	})
	t.Run("conflict with an unreadable user fails", func(t *testing.T) {
		f := &fakeOkta{
			CreateUserFn: func(context.Context, okta.NewUser) (okta.User, error) {
				return okta.User{}, oktaErr(apierr.Conflict, "create user")
			},
			GetUserFn: func(context.Context, string) (okta.User, error) {
				return okta.User{}, &apierr.Error{Kind: apierr.NotFound, Service: "okta", Op: "get user", Status: 404}
			},
		}
		_, err := execute[activities.CreateOktaUserResult](t, &activities.Activities{Okta: f}, "CreateOktaUser",
			activities.CreateOktaUserInput{User: newUser})
		requireAppError(t, err, activities.ErrTypeNotFound, true)
	})
	t.Run("invalid profile is not retried", func(t *testing.T) {
		f := &fakeOkta{CreateUserFn: func(context.Context, okta.NewUser) (okta.User, error) {
			return okta.User{}, oktaErr(apierr.Invalid, "create user")
		}}
		_, err := execute[activities.CreateOktaUserResult](t, &activities.Activities{Okta: f}, "CreateOktaUser",
			activities.CreateOktaUserInput{User: newUser})
		appErr := requireAppError(t, err, activities.ErrTypeInvalid, true)
		assert.Contains(t, appErr.Error(), "E0000001")
	})
	t.Run("rate limited carries the reset time", func(t *testing.T) {
		reset := time.Now().Add(42 * time.Second)
		f := &fakeOkta{CreateUserFn: func(context.Context, okta.NewUser) (okta.User, error) {
			return okta.User{}, &apierr.Error{Kind: apierr.RateLimited, Service: "okta", Op: "create user", Status: 429, RetryAt: reset}
		}}
		_, err := execute[activities.CreateOktaUserResult](t, &activities.Activities{Okta: f}, "CreateOktaUser",
			activities.CreateOktaUserInput{User: newUser})
		appErr := requireAppError(t, err, activities.ErrTypeRateLimited, false)
		assert.InDelta(t, 42*time.Second, appErr.NextRetryDelay(), float64(5*time.Second))
	})
}

func TestUpdateOktaUser(t *testing.T) {
	f := &fakeOkta{UpdateUserFn: func(_ context.Context, id string, u okta.UserUpdate) (okta.User, error) {
		assert.Equal(t, "00u1", id)
		assert.True(t, u.SetPasswordHook)
		assert.Equal(t, "Alice", u.Profile["firstName"])
		return okta.User{ID: id, ProviderType: okta.ProviderImport}, nil
	}}
	res, err := execute[activities.UpdateOktaUserResult](t, &activities.Activities{Okta: f}, "UpdateOktaUser",
		activities.UpdateOktaUserInput{UserID: "00u1", Update: okta.UserUpdate{Profile: okta.Profile{"firstName": "Alice"}, SetPasswordHook: true}})
	require.NoError(t, err)
	assert.Equal(t, okta.ProviderImport, res.User.ProviderType)
}

func TestActivateOktaUser(t *testing.T) {
	t.Run("never sends an email", func(t *testing.T) {
		f := &fakeOkta{ActivateUserFn: func(_ context.Context, id string, sendEmail bool) error {
			assert.Equal(t, "00u1", id)
			assert.False(t, sendEmail)
			return nil
		}, GetUserFn: func(context.Context, string) (okta.User, error) { // the read that confirms ACTIVE
			return okta.User{ID: "00u1", Status: okta.StatusActive}, nil
		}}
		res, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
			activities.ActivateOktaUserInput{UserID: "00u1"})
		require.NoError(t, err)
		assert.False(t, res.AlreadyActive)
	})
	refused := func(context.Context, string, bool) error {
		return &apierr.Error{Kind: apierr.Invalid, Service: "okta", Op: "activate user", Status: 403, Code: "E0000016"}
	}
	t.Run("already active succeeds", func(t *testing.T) {
		f := &fakeOkta{ActivateUserFn: refused, GetUserFn: func(context.Context, string) (okta.User, error) {
			return okta.User{ID: "00u1", Status: okta.StatusActive}, nil
		}}
		res, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
			activities.ActivateOktaUserInput{UserID: "00u1"})
		require.NoError(t, err)
		assert.True(t, res.AlreadyActive)
	})
	t.Run("refused for another status fails", func(t *testing.T) {
		f := &fakeOkta{ActivateUserFn: refused, GetUserFn: func(context.Context, string) (okta.User, error) {
			return okta.User{ID: "00u1", Status: okta.StatusSuspended}, nil
		}}
		_, err := execute[activities.ActivateOktaUserResult](t, &activities.Activities{Okta: f}, "ActivateOktaUser",
			activities.ActivateOktaUserInput{UserID: "00u1"})
		requireAppError(t, err, activities.ErrTypeInvalid, true)
	})
}

func TestGetOktaPasswordImportEvents(t *testing.T) {
	since := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeOkta{PasswordImportEventsFn: func(_ context.Context, id string, s time.Time) ([]okta.LogEvent, error) {
		assert.Equal(t, "00u1", id)
		assert.True(t, s.Equal(since))
		return []okta.LogEvent{
			{UUID: "e1", EventType: okta.EventTypePasswordImport, Outcome: "FAILURE"},
			{UUID: "e2", EventType: "user.session.start", Outcome: "SUCCESS"},
		}, nil
	}}
	res, err := execute[activities.GetOktaPasswordImportEventsResult](t, &activities.Activities{Okta: f}, "GetOktaPasswordImportEvents",
		activities.GetOktaPasswordImportEventsInput{UserID: "00u1", Since: since})
	require.NoError(t, err)
	require.Len(t, res.Events, 1)
	assert.False(t, res.Succeeded, "a FAILURE and an unrelated SUCCESS are no stored password")

	f.PasswordImportEventsFn = func(context.Context, string, time.Time) ([]okta.LogEvent, error) {
		return []okta.LogEvent{{UUID: "e3", EventType: okta.EventTypePasswordImport, Outcome: "SUCCESS"}}, nil
	}
	res, err = execute[activities.GetOktaPasswordImportEventsResult](t, &activities.Activities{Okta: f}, "GetOktaPasswordImportEvents",
		activities.GetOktaPasswordImportEventsInput{UserID: "00u1", Since: since})
	require.NoError(t, err)
	assert.True(t, res.Succeeded)
}

func TestApplyOktaDeadlinePolicy(t *testing.T) {
	var calls []string
	f := &fakeOkta{
		ExpirePasswordFn: func(context.Context, string) error { calls = append(calls, "expire"); return nil },
		ResetPasswordFn: func(_ context.Context, _ string, sendEmail bool) error {
			assert.True(t, sendEmail, "Okta sends the reset email")
			calls = append(calls, "reset")
			return nil
		},
		DeactivateUserFn: func(context.Context, string) error { calls = append(calls, "deactivate"); return nil },
	}
	a := &activities.Activities{Okta: f}
	for _, action := range []activities.DeadlineAction{activities.ActionExpirePassword, activities.ActionResetPassword, activities.ActionDeactivate} {
		_, err := execute[activities.ApplyOktaDeadlinePolicyResult](t, a, "ApplyOktaDeadlinePolicy",
			activities.ApplyOktaDeadlinePolicyInput{UserID: "00u1", Action: action})
		require.NoError(t, err, action)
	}
	assert.Equal(t, []string{"expire", "reset", "deactivate"}, calls)

	_, err := execute[activities.ApplyOktaDeadlinePolicyResult](t, a, "ApplyOktaDeadlinePolicy",
		activities.ApplyOktaDeadlinePolicyInput{UserID: "00u1", Action: "delete"})
	requireAppError(t, err, activities.ErrTypeInvalid, true)

	t.Run("already deactivated succeeds", func(t *testing.T) {
		f := &fakeOkta{
			DeactivateUserFn: func(context.Context, string) error { return oktaErr(apierr.Invalid, "deactivate user") },
			GetUserFn: func(context.Context, string) (okta.User, error) {
				return okta.User{ID: "00u1", Status: okta.StatusDeprovisioned}, nil
			},
		}
		res, err := execute[activities.ApplyOktaDeadlinePolicyResult](t, &activities.Activities{Okta: f}, "ApplyOktaDeadlinePolicy",
			activities.ApplyOktaDeadlinePolicyInput{UserID: "00u1", Action: activities.ActionDeactivate})
		require.NoError(t, err)
		assert.True(t, res.AlreadyApplied)
	})
}

func TestGetEntraUser(t *testing.T) {
	f := &fakeEntra{UserFn: func(_ context.Context, upn string, attrs []string) (entra.User, error) {
		assert.Equal(t, []string{"givenName", "manager"}, attrs)
		if upn == "ghost@contoso.com" {
			return entra.User{}, &apierr.Error{Kind: apierr.NotFound, Service: "graph", Op: "get user", Status: 404, Code: "Request_ResourceNotFound"}
		}
		return entra.User{ID: "e1", UserPrincipalName: upn, AccountEnabled: true}, nil
	}}
	a := &activities.Activities{Entra: f}
	res, err := execute[activities.GetEntraUserResult](t, a, "GetEntraUser",
		activities.GetEntraUserInput{IDOrUPN: "alice@contoso.com", Attributes: []string{"givenName", "manager"}})
	require.NoError(t, err)
	assert.Equal(t, "e1", res.User.ID)

	_, err = execute[activities.GetEntraUserResult](t, a, "GetEntraUser",
		activities.GetEntraUserInput{IDOrUPN: "ghost@contoso.com", Attributes: []string{"givenName", "manager"}})
	appErr := requireAppError(t, err, activities.ErrTypeNotFound, true)
	assert.Contains(t, appErr.Error(), "Request_ResourceNotFound")
}

func TestListEntraUsers(t *testing.T) {
	src := entra.Source{GroupID: "g1"}
	f := &fakeEntra{ListUsersFn: func(_ context.Context, s entra.Source, _ []string, cursor string, pageSize int) (entra.UserPage, error) {
		assert.Equal(t, src, s)
		assert.Equal(t, 50, pageSize)
		if cursor == "" {
			return entra.UserPage{Users: []entra.User{{UserPrincipalName: "a@contoso.com"}}, Next: "c2"}, nil
		}
		assert.Equal(t, "c2", cursor)
		return entra.UserPage{Users: []entra.User{{UserPrincipalName: "b@contoso.com"}}}, nil
	}}
	a := &activities.Activities{Entra: f}
	res, err := execute[activities.ListEntraUsersResult](t, a, "ListEntraUsers",
		activities.ListEntraUsersInput{Source: src, PageSize: 50})
	require.NoError(t, err)
	assert.Equal(t, "c2", res.Next)
	res, err = execute[activities.ListEntraUsersResult](t, a, "ListEntraUsers",
		activities.ListEntraUsersInput{Source: src, PageSize: 50, Cursor: res.Next})
	require.NoError(t, err)
	assert.Equal(t, "", res.Next)
	assert.Equal(t, "b@contoso.com", res.Users[0].UserPrincipalName)
}

func TestGetEntraDomains(t *testing.T) {
	f := &fakeEntra{DomainsFn: func(context.Context) ([]entra.Domain, error) {
		return nil, &apierr.Error{Kind: apierr.Unauthorized, Service: "graph", Op: "list domains", Status: 403}
	}}
	_, err := execute[activities.GetEntraDomainsResult](t, &activities.Activities{Entra: f}, "GetEntraDomains",
		activities.GetEntraDomainsInput{})
	// First attempt: retryable, bounded by UnauthorizedMaxAttempts (errors_test.go).
	requireAppError(t, err, activities.ErrTypeUnauthorized, false)
	require.False(t, errors.Is(err, context.Canceled))
}
