package fakeokta

import (
	"errors"
	"maps"
	"slices"
	"time"
)

// UserState is a snapshot of an emulated user, for tests.
type UserState struct {
	ID     string
	Login  string
	Status string
	// TransitioningToStatus is the target of an asynchronous status change
	// still running ("" when none).
	TransitioningToStatus string
	ProviderType          string // IMPORT, OKTA, FEDERATION, ...
	ProviderName          string
	Profile               map[string]any
	HasPassword           bool // a password is stored (hashed)
	OnImportHook          bool // credentials.password.hook is set
	Created               time.Time
	Activated             time.Time
	StatusChanged         time.Time
	LastLogin             time.Time
	LastUpdated           time.Time
	PasswordChanged       time.Time
}

func (u *user) state() UserState {
	return UserState{
		ID: u.id, Login: u.login(), Status: u.status, TransitioningToStatus: u.transitioning,
		ProviderType: u.providerType, ProviderName: u.providerName,
		Profile: cloneMap(u.profile), HasPassword: u.hash != nil, OnImportHook: u.hook,
		Created: u.created, Activated: u.activated, StatusChanged: u.statusChanged, LastLogin: u.lastLogin,
		LastUpdated: u.lastUpdated, PasswordChanged: u.passwordChanged,
	}
}

// User returns the user with this login, id or short name.
func (s *Server) User(loginOrID string) (UserState, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.findUser(loginOrID); u != nil {
		return u.state(), true
	}
	return UserState{}, false
}

// Users returns every user, ordered by id.
func (s *Server) Users() []UserState {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]UserState, 0, len(s.users))
	now := s.now()
	for _, id := range slices.Sorted(maps.Keys(s.users)) {
		s.users[id].settle(now)
		out = append(out, s.users[id].state())
	}
	return out
}

// CheckPassword reports whether the user has a stored password equal to pw.
func (s *Server) CheckPassword(login, pw string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.findUser(login)
	return u != nil && u.checkPassword(pw)
}

// Calls returns how many requests reached route (RouteAny: all of them),
// including those answered with a fault or a 429.
func (s *Server) Calls(route Route) int {
	if route == RouteAny {
		return s.calls.Total()
	}
	return s.calls.Get(route)
}

// RequestLog returns the most recent requests received (at most
// Options.RequestLogLimit), oldest first.
func (s *Server) RequestLog() []RecordedRequest {
	return s.requests.All()
}

// HookCalls returns every password import hook firing, oldest first.
func (s *Server) HookCalls() []HookCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.hookCalls)
}

// Events returns the System Log, oldest first.
func (s *Server) Events() []LogEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.events)
}

// SetReadOnly switches Okta's read-only mode: a VERIFIED hook answer then
// signs the user in without storing the password (the user stays on
// provider IMPORT and the import event's outcome is FAILURE).
func (s *Server) SetReadOnly(on bool) { s.locked(func() { s.readOnly = on }) }

// AddProfileAttribute defines a custom attribute in the org's user schema.
func (s *Server) AddProfileAttribute(name string) { s.locked(func() { s.profileExt[name] = true }) }

// SeedUser describes a user created directly, bypassing the API (no rate
// limit, no event): for example STAGED users imported by the Office 365 app,
// or users already on provider OKTA with a password.
type SeedUser struct {
	// Profile must hold login, email, firstName and lastName.
	Profile map[string]any
	// Status defaults to STAGED.
	Status string
	// Password, when set, is stored (hashed) with provider OKTA.
	Password string
	// ImportHook puts the user on the password import hook (provider IMPORT).
	ImportHook bool
	// ProviderType overrides the provider (e.g. FEDERATION); default OKTA.
	// FEDERATION and SOCIAL users hold no password: Password and ImportHook
	// are refused with them.
	ProviderType string
	// ProviderName is the provider's name (e.g. an identity provider's);
	// default ProviderType.
	ProviderName string
	// Created defaults to now.
	Created time.Time
}

// SeedUser creates a user and returns its state. The profile is validated
// as the API does (login uniqueness included).
func (s *Server) SeedUser(in SeedUser) (UserState, error) {
	now := s.now()
	if in.Created.IsZero() {
		in.Created = now
	}
	if in.Status == "" {
		in.Status = StatusStaged
	}
	if in.Password != "" && in.ImportHook {
		return UserState{}, errors.New("fakeokta: seed user: Password and ImportHook are exclusive")
	}
	if passwordless(in.ProviderType) && (in.Password != "" || in.ImportHook) {
		return UserState{}, errors.New("fakeokta: seed user: a " + in.ProviderType + " user holds no password")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.validateProfile(in.Profile, ""); e != nil {
		return UserState{}, e
	}
	u := &user{
		id: oktaID("00u"), status: in.Status, created: in.Created, lastUpdated: in.Created,
		profile: cloneMap(in.Profile), providerType: ProviderOkta, providerName: ProviderOkta, typeID: defaultUserTypeID,
	}
	switch {
	case in.Password != "":
		u.setPassword(in.Password, in.Created)
	case in.ImportHook:
		u.setHook(in.Created)
	}
	if in.ProviderType != "" {
		u.providerType, u.providerName = in.ProviderType, in.ProviderType
	}
	if in.ProviderName != "" {
		u.providerName = in.ProviderName
	}
	if in.Status != StatusStaged {
		u.activated, u.statusChanged = in.Created, in.Created
	}
	s.users[u.id] = u
	s.logins[foldLogin(u.login())] = u.id
	return u.state(), nil
}
