package activities_test

import (
	"context"
	"errors"
	"time"

	"entra2okta/activities"
	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// fakeOkta is a function-field fake of activities.OktaUsers:
// each test sets only the functions it expects to be called.
type fakeOkta struct {
	GetUserFn              func(ctx context.Context, idOrLogin string) (okta.User, error)
	CreateUserFn           func(ctx context.Context, u okta.NewUser) (okta.User, error)
	UpdateUserFn           func(ctx context.Context, id string, u okta.UserUpdate) (okta.User, error)
	ActivateUserFn         func(ctx context.Context, id string, sendEmail bool) error
	ReactivateUserFn       func(ctx context.Context, id string, sendEmail bool) error
	DeactivateUserFn       func(ctx context.Context, id string) error
	ExpirePasswordFn       func(ctx context.Context, id string) error
	ResetPasswordFn        func(ctx context.Context, id string, sendEmail bool) error
	PasswordImportEventsFn func(ctx context.Context, userID string, since time.Time) ([]okta.LogEvent, error)
}

var _ activities.OktaUsers = (*fakeOkta)(nil)

func unexpected(name string) error { return errors.New("fake: unexpected call to " + name) }

func (f *fakeOkta) GetUser(ctx context.Context, idOrLogin string) (okta.User, error) {
	if f.GetUserFn == nil {
		return okta.User{}, unexpected("GetUser")
	}
	return f.GetUserFn(ctx, idOrLogin)
}

func (f *fakeOkta) CreateUser(ctx context.Context, u okta.NewUser) (okta.User, error) {
	if f.CreateUserFn == nil {
		return okta.User{}, unexpected("CreateUser")
	}
	return f.CreateUserFn(ctx, u)
}

func (f *fakeOkta) UpdateUser(ctx context.Context, id string, u okta.UserUpdate) (okta.User, error) {
	if f.UpdateUserFn == nil {
		return okta.User{}, unexpected("UpdateUser")
	}
	return f.UpdateUserFn(ctx, id, u)
}

func (f *fakeOkta) ActivateUser(ctx context.Context, id string, sendEmail bool) error {
	if f.ActivateUserFn == nil {
		return unexpected("ActivateUser")
	}
	return f.ActivateUserFn(ctx, id, sendEmail)
}

func (f *fakeOkta) ReactivateUser(ctx context.Context, id string, sendEmail bool) error {
	if f.ReactivateUserFn == nil {
		return unexpected("ReactivateUser")
	}
	return f.ReactivateUserFn(ctx, id, sendEmail)
}

func (f *fakeOkta) DeactivateUser(ctx context.Context, id string) error {
	if f.DeactivateUserFn == nil {
		return unexpected("DeactivateUser")
	}
	return f.DeactivateUserFn(ctx, id)
}

func (f *fakeOkta) ExpirePassword(ctx context.Context, id string) error {
	if f.ExpirePasswordFn == nil {
		return unexpected("ExpirePassword")
	}
	return f.ExpirePasswordFn(ctx, id)
}

func (f *fakeOkta) ResetPassword(ctx context.Context, id string, sendEmail bool) error {
	if f.ResetPasswordFn == nil {
		return unexpected("ResetPassword")
	}
	return f.ResetPasswordFn(ctx, id, sendEmail)
}

func (f *fakeOkta) PasswordImportEvents(ctx context.Context, userID string, since time.Time) ([]okta.LogEvent, error) {
	if f.PasswordImportEventsFn == nil {
		return nil, unexpected("PasswordImportEvents")
	}
	return f.PasswordImportEventsFn(ctx, userID, since)
}

// fakeEntra is a function-field fake of activities.EntraDirectory.
type fakeEntra struct {
	UserFn      func(ctx context.Context, idOrUPN string, attrs []string) (entra.User, error)
	ListUsersFn func(ctx context.Context, src entra.Source, attrs []string, cursor string, pageSize int) (entra.UserPage, error)
	DomainsFn   func(ctx context.Context) ([]entra.Domain, error)
}

var _ activities.EntraDirectory = (*fakeEntra)(nil)

func (f *fakeEntra) User(ctx context.Context, idOrUPN string, attrs []string) (entra.User, error) {
	if f.UserFn == nil {
		return entra.User{}, unexpected("User")
	}
	return f.UserFn(ctx, idOrUPN, attrs)
}

func (f *fakeEntra) ListUsers(ctx context.Context, src entra.Source, attrs []string, cursor string, pageSize int) (entra.UserPage, error) {
	if f.ListUsersFn == nil {
		return entra.UserPage{}, unexpected("ListUsers")
	}
	return f.ListUsersFn(ctx, src, attrs, cursor, pageSize)
}

func (f *fakeEntra) Domains(ctx context.Context) ([]entra.Domain, error) {
	if f.DomainsFn == nil {
		return nil, unexpected("Domains")
	}
	return f.DomainsFn(ctx)
}
