package activities

import (
	"context"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/okta"
)

// OktaUsers is the part of the Okta adapter (*oktaclient.Client) the activities call
// (a small interface defined by its consumer, so that tests fake only what is
// called).
// Every method returns *apierr.Error on failure.
type OktaUsers interface {
	// GetUser returns apierr NotFound when no user has that id or login.
	GetUser(ctx context.Context, idOrLogin string) (okta.User, error)
	// CreateUser returns apierr Conflict when the login is taken.
	CreateUser(ctx context.Context, u okta.NewUser) (okta.User, error)
	// UpdateUser is a partial update (POST /api/v1/users/{id}).
	UpdateUser(ctx context.Context, id string, u okta.UserUpdate) (okta.User, error)
	// ActivateUser returns apierr Busy while an asynchronous activation of
	// the user runs (E0000112).
	ActivateUser(ctx context.Context, id string, sendEmail bool) error
	// ReactivateUser restarts the activation of a PROVISIONED user.
	ReactivateUser(ctx context.Context, id string, sendEmail bool) error
	DeactivateUser(ctx context.Context, id string) error
	ExpirePassword(ctx context.Context, id string) error
	ResetPassword(ctx context.Context, id string, sendEmail bool) error
	// PasswordImportEvents returns the user.import.password System Log events
	// of a user published since a time.
	PasswordImportEvents(ctx context.Context, userID string, since time.Time) ([]okta.LogEvent, error)
}

// EntraDirectory is the part of the Microsoft Graph adapter (*graph.Client)
// the activities call. Every method returns *apierr.Error on failure.
type EntraDirectory interface {
	// User returns apierr NotFound when no user has that id or UPN.
	User(ctx context.Context, idOrUPN string, attrs []string) (entra.User, error)
	ListUsers(ctx context.Context, src entra.Source, attrs []string, cursor string, pageSize int) (entra.UserPage, error)
	Domains(ctx context.Context) ([]entra.Domain, error)
}
