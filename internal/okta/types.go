// Package okta holds the Okta domain types the migration speaks: users,
// profiles, statuses, credential providers, groups, the user schema and
// System Log events. It imports no SDK: the adapter over
// github.com/okta/okta-sdk-golang/v2 is entra2okta/internal/okta/oktaclient,
// and the hook server's password policy reader is
// entra2okta/internal/okta/oktapolicy.
package okta

import "time"

// User statuses (the UserStatus enum of the Users API:
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
const (
	StatusStaged          = "STAGED"
	StatusProvisioned     = "PROVISIONED"
	StatusActive          = "ACTIVE"
	StatusRecovery        = "RECOVERY"
	StatusPasswordExpired = "PASSWORD_EXPIRED"
	StatusLockedOut       = "LOCKED_OUT"
	StatusSuspended       = "SUSPENDED"
	StatusDeprovisioned   = "DEPROVISIONED"
)

// Credential provider types. A user put on the password import hook has
// provider IMPORT until Okta stores a verified password and moves it to OKTA
// (https://developer.okta.com/docs/guides/migrate-to-okta-password-hooks/main/).
const (
	// ProviderImport marks a user whose password will be checked by the
	// password import inline hook at its next sign-in.
	ProviderImport = "IMPORT"
	// ProviderOkta marks a user whose password Okta holds.
	ProviderOkta = "OKTA"
	// ProviderFederation and ProviderSocial mark users who sign in through
	// an identity provider; Okta supports no password for them.
	ProviderFederation = "FEDERATION"
	ProviderSocial     = "SOCIAL"
)

// Profile is an Okta user profile: login, email, firstName, lastName and any
// other base or custom attribute, as JSON values.
type Profile map[string]any

// User is the part of an Okta user the migration needs.
type User struct {
	ID     string
	Status string
	// TransitioningToStatus is the target of an asynchronous status change
	// still running (ACTIVE during an activation, DEPROVISIONED, PROVISIONED);
	// "" when none. Lifecycle calls on such a user answer E0000112 (apierr
	// Busy) until it is done (OAS User.transitioningToStatus, activateUser).
	TransitioningToStatus string
	Login                 string
	Profile               Profile
	ProviderType          string // IMPORT, OKTA, ACTIVE_DIRECTORY, FEDERATION, SOCIAL, LDAP; "" if none
	ProviderName          string
	// HasPassword reports that credentials.password is present: Okta holds a
	// password, a hash or the import hook for the user. A user the Office 365
	// app imported STAGED has provider OKTA but no password. Okta shows
	// "password": {} for any password, hash or hook (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
	HasPassword     bool
	Created         time.Time
	Activated       time.Time // zero when never activated
	PasswordChanged time.Time // zero when never set
	LastLogin       time.Time // zero when never signed in
}

// NewUser is what CreateUser sends.
type NewUser struct {
	Profile Profile // must hold at least login, email, firstName, lastName
	// PasswordHook creates the user with credentials.password.hook.type=default,
	// so that its first sign-in calls the password import inline hook.
	PasswordHook bool
	// Activate maps to the activate query parameter.
	Activate bool
}

// UserUpdate is a partial update (POST /api/v1/users/{id}); nil/false fields
// are left as they are.
type UserUpdate struct {
	Profile Profile // merged into the existing profile
	// SetPasswordHook puts the user on the password import hook
	// (credentials.password.hook.type=default in a partial update: https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
	SetPasswordHook bool
}

// LogEvent is a System Log event (GET /api/v1/logs).
type LogEvent struct {
	UUID      string
	EventType string // e.g. user.import.password
	Published time.Time
	Outcome   string // SUCCESS, FAILURE, ...
	Reason    string
	ActorID   string
	TargetIDs []string // ids of the event's targets (the user for user.import.password)
}

// EventTypePasswordImport is the System Log event type Okta writes each time
// the password import hook runs; outcome SUCCESS means the password was stored
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
const EventTypePasswordImport = "user.import.password"
