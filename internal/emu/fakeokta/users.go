package fakeokta

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"entra2okta/internal/okta"
)

// User statuses and credential provider types: the values of the domain
// package internal/okta, named here too so that tests of the emulator need
// one import.
const (
	StatusStaged          = okta.StatusStaged
	StatusProvisioned     = okta.StatusProvisioned
	StatusActive          = okta.StatusActive
	StatusRecovery        = okta.StatusRecovery
	StatusPasswordExpired = okta.StatusPasswordExpired
	StatusLockedOut       = okta.StatusLockedOut
	StatusSuspended       = okta.StatusSuspended
	StatusDeprovisioned   = okta.StatusDeprovisioned

	ProviderImport     = okta.ProviderImport
	ProviderOkta       = okta.ProviderOkta
	ProviderFederation = okta.ProviderFederation
	ProviderSocial     = okta.ProviderSocial
)

// passwordless reports whether a provider type supports no password or
// recovery question credential: "Creating users with a FEDERATION or SOCIAL
// provider sets the user status to either ACTIVE or STAGED based on the
// activate query parameter since these two providers don't support a
// password or recovery_question credential" (OAS Users tag, "User creation
// scenarios": https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
func passwordless(providerType string) bool {
	return providerType == ProviderFederation || providerType == ProviderSocial
}

// defaultUserTypeID is the id of the org's default user type.
const defaultUserTypeID = "oty1fakeoktadefault0"

// user is the emulator's record of an Okta user.
type user struct {
	id                 string
	status             string
	created, activated time.Time
	statusChanged      time.Time
	lastLogin          time.Time
	lastUpdated        time.Time
	passwordChanged    time.Time
	profile            map[string]any
	providerType       string
	providerName       string
	hook               bool   // credentials.password.hook: the next sign-in calls the import hook
	salt, hash         []byte // the stored password (nil when none)
	recoveryQuestion   string
	typeID             string
	// transitioning is the target of an asynchronous status change still
	// running (transitioningToStatus), which completes at transitionAt.
	transitioning string
	transitionAt  time.Time
}

// settle completes an asynchronous status change whose time has come. Every
// path that reads or changes a user settles it first (findUser, listUsers).
func (u *user) settle(now time.Time) {
	if u.transitioning != "" && !now.Before(u.transitionAt) {
		u.setStatus(u.transitioning, u.transitionAt)
		u.transitioning = ""
	}
}

func (u *user) login() string { s, _ := u.profile["login"].(string); return s }

func (u *user) hasPassword() bool { return u.hook || u.hash != nil }

func (u *user) setPassword(pw string, now time.Time) {
	u.salt = []byte(randomID("", 16, idAlphabet))
	u.hash = hashPassword(u.salt, pw)
	u.hook = false
	u.providerType, u.providerName = ProviderOkta, ProviderOkta
	u.passwordChanged = now
}

func (u *user) setHook(now time.Time) {
	u.hook = true
	u.salt, u.hash = nil, nil
	u.providerType, u.providerName = ProviderImport, ProviderImport
	u.passwordChanged = now
}

func (u *user) checkPassword(pw string) bool {
	return u.hash != nil && subtle.ConstantTimeCompare(hashPassword(u.salt, pw), u.hash) == 1
}

func (u *user) setStatus(status string, now time.Time) {
	if u.status != status {
		u.status = status
		u.statusChanged = now
	}
	u.lastUpdated = now
}

func hashPassword(salt []byte, pw string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pw))
	return h.Sum(nil)
}

// --- JSON shapes -----------------------------------------------------------

type userOut struct {
	ID              string  `json:"id"`
	Status          string  `json:"status"`
	Created         *string `json:"created"`
	Activated       *string `json:"activated"`
	StatusChanged   *string `json:"statusChanged"`
	LastLogin       *string `json:"lastLogin"`
	LastUpdated     *string `json:"lastUpdated"`
	PasswordChanged *string `json:"passwordChanged"`
	// TransitioningToStatus is only returned while the user's status is
	// transitioning (OAS User.transitioningToStatus).
	TransitioningToStatus *string        `json:"transitioningToStatus,omitempty"`
	Type                  map[string]any `json:"type"`
	Profile               map[string]any `json:"profile"`
	Credentials           credsOut       `json:"credentials"`
	Links                 map[string]any `json:"_links"`
}

type credsOut struct {
	Password         *struct{}         `json:"password,omitempty"`
	RecoveryQuestion map[string]string `json:"recovery_question,omitempty"`
	Provider         providerOut       `json:"provider"`
}

type providerOut struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// render returns the user as Okta answers it. full adds the lifecycle links
// of a single-user answer; collections carry only self (OAS Users "Links").
func (u *user) render(base string, full bool) userOut {
	self := base + "/api/v1/users/" + u.id
	links := map[string]any{"self": link{Href: self}}
	if full {
		lc := func(name, op string) {
			links[name] = link{Href: self + "/lifecycle/" + op, Hints: map[string]any{"allow": []string{"POST"}}}
		}
		switch u.status {
		case StatusStaged, StatusDeprovisioned:
			lc("activate", "activate")
		case StatusProvisioned:
			lc("reactivate", "reactivate")
		}
		if u.status != StatusDeprovisioned {
			lc("deactivate", "deactivate")
		}
		if u.status == StatusActive || u.status == StatusPasswordExpired || u.status == StatusRecovery {
			lc("resetPassword", "reset_password")
			lc("expirePassword", "expire_password")
		}
		links["type"] = link{Href: base + "/api/v1/meta/types/user/" + u.typeID}
		links["schema"] = link{Href: base + "/api/v1/meta/schemas/user/" + u.typeID}
	}
	out := userOut{
		ID:              u.id,
		Status:          u.status,
		Created:         nullTime(u.created),
		Activated:       nullTime(u.activated),
		StatusChanged:   nullTime(u.statusChanged),
		LastLogin:       nullTime(u.lastLogin),
		LastUpdated:     nullTime(u.lastUpdated),
		PasswordChanged: nullTime(u.passwordChanged),
		Type:            map[string]any{"id": u.typeID},
		Profile:         cloneMap(u.profile),
		Credentials:     credsOut{Provider: providerOut{Type: u.providerType, Name: u.providerName}},
		Links:           links,
	}
	if u.hasPassword() {
		out.Credentials.Password = &struct{}{}
	}
	if u.recoveryQuestion != "" {
		out.Credentials.RecoveryQuestion = map[string]string{"question": u.recoveryQuestion}
	}
	if u.transitioning != "" {
		t := u.transitioning
		out.TransitioningToStatus = &t
	}
	return out
}

func cloneMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

type credsIn struct {
	Password *struct {
		Value *string         `json:"value"`
		Hash  json.RawMessage `json:"hash"`
		Hook  *struct {
			Type string `json:"type"`
		} `json:"hook"`
	} `json:"password"`
	RecoveryQuestion *struct {
		Question string `json:"question"`
		Answer   string `json:"answer"`
	} `json:"recovery_question"`
	Provider *struct {
		Type string `json:"type"`
		Name string `json:"name"`
	} `json:"provider"`
}

type userIn struct {
	Profile     map[string]any `json:"profile"`
	Credentials *credsIn       `json:"credentials"`
	GroupIDs    []string       `json:"groupIds"`
	Type        *struct {
		ID string `json:"id"`
	} `json:"type"`
}

// --- profile validation ----------------------------------------------------

// baseAttributes are the attributes of Okta's base user profile schema
// (OAS UserProfile) with their length limits (0: none).
var baseAttributes = map[string][2]int{
	"login": {5, 100}, "email": {5, 100}, "secondEmail": {0, 100},
	"firstName": {1, 50}, "lastName": {1, 50}, "middleName": {}, "honorificPrefix": {},
	"honorificSuffix": {}, "title": {}, "displayName": {}, "nickName": {}, "profileUrl": {},
	"primaryPhone": {0, 100}, "mobilePhone": {0, 100}, "streetAddress": {0, 1024}, "city": {0, 128},
	"state": {0, 128}, "zipCode": {0, 50}, "postalAddress": {0, 4096}, "countryCode": {0, 2},
	"preferredLanguage": {}, "locale": {}, "timezone": {}, "userType": {}, "employeeNumber": {},
	"costCenter": {}, "organization": {}, "division": {}, "department": {}, "managerId": {},
	"manager": {},
}

// requiredAttributes are required by the default user schema.
var requiredAttributes = []string{"login", "email", "firstName", "lastName"}

// validateProfile checks a complete profile as Okta's default schema does;
// selfID is the user being updated ("" on create), for the uniqueness check.
// The caller holds s.mu.
func (s *Server) validateProfile(p map[string]any, selfID string) *apiError {
	if p == nil {
		return validationFailed("profile", "profile: The field cannot be left blank")
	}
	var fields, causes []string
	bad := func(field, msg string) {
		if !slices.Contains(fields, field) {
			fields = append(fields, field)
		}
		causes = append(causes, field+": "+msg)
	}
	for _, f := range requiredAttributes {
		if v, ok := p[f]; !ok || v == nil || v == "" {
			bad(f, "The field cannot be left blank")
		}
	}
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		v := p[k]
		lim, base := baseAttributes[k]
		if !base && !s.profileExt[k] {
			bad(k, fmt.Sprintf("Property name '%s' is not defined in profile", k))
			continue
		}
		if v == nil {
			continue
		}
		if !base {
			if msg := s.customValueProblem(k, v); msg != "" {
				bad(k, msg)
			}
			continue
		}
		str, ok := v.(string)
		if !ok {
			bad(k, "Does not match required type string")
			continue
		}
		if str == "" && slices.Contains(requiredAttributes, k) {
			continue // reported above
		}
		n := len([]rune(str))
		if (lim[0] > 0 && n < lim[0]) || (lim[1] > 0 && n > lim[1]) {
			bad(k, fmt.Sprintf("The field must be between %d and %d characters", lim[0], lim[1]))
			continue
		}
		switch k {
		case "login":
			if !looksLikeEmail(str) {
				bad(k, "Username must be in the form of an email address")
				continue
			}
			if id, taken := s.logins[foldLogin(str)]; taken && id != selfID {
				bad(k, "An object with this field already exists in the current organization")
			}
		case "email", "secondEmail":
			if str != "" && !looksLikeEmail(str) {
				bad(k, "Does not match required pattern")
			}
		}
	}
	if len(causes) == 0 {
		return nil
	}
	return validationFailed(strings.Join(fields, ", "), causes...)
}

func looksLikeEmail(s string) bool {
	local, domain, ok := strings.Cut(s, "@")
	return ok && local != "" && domain != "" && !strings.ContainsAny(s, " \t\r\n") && !strings.Contains(domain, "@")
}

// foldLogin folds case and common Latin diacritics: Okta logins are not
// unique if they differ only in case and/or diacritical marks.
func foldLogin(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if f, ok := diacritics[r]; ok {
			r = f
		}
		b.WriteRune(r)
	}
	return b.String()
}

var diacritics = func() map[rune]rune {
	m := map[rune]rune{}
	for base, list := range map[rune]string{
		'a': "àáâãäåāăą", 'c': "çćĉċč", 'd': "ďđ", 'e': "èéêëēĕėęě", 'g': "ĝğġģ", 'h': "ĥħ",
		'i': "ìíîïĩīĭįı", 'j': "ĵ", 'k': "ķ", 'l': "ĺļľŀł", 'n': "ñńņňŉ", 'o': "òóôõöøōŏő",
		'r': "ŕŗř", 's': "śŝşšș", 't': "ţťŧț", 'u': "ùúûüũūŭůűų", 'w': "ŵ", 'y': "ýÿŷ", 'z': "źżž",
	} {
		for _, r := range list {
			m[r] = base
		}
	}
	return m
}()

// --- lookups -----------------------------------------------------------------

// findUser resolves an id, a login or a login short name (the part before
// "@", when unique). The caller holds s.mu.
func (s *Server) findUser(key string) *user {
	u := s.lookupUser(key)
	if u != nil {
		u.settle(s.now())
	}
	return u
}

func (s *Server) lookupUser(key string) *user {
	if u, ok := s.users[key]; ok {
		return u
	}
	if id, ok := s.logins[foldLogin(key)]; ok {
		return s.users[id]
	}
	if strings.Contains(key, "@") {
		return nil
	}
	var found *user
	short := foldLogin(key)
	for login, id := range s.logins {
		if l, _, _ := strings.Cut(login, "@"); l == short {
			if found != nil {
				return nil // ambiguous short name
			}
			found = s.users[id]
		}
	}
	return found
}

func (s *Server) userByPath(r *http.Request) (*user, *apiError) {
	key := r.PathValue("id")
	if u := s.findUser(key); u != nil {
		return u, nil
	}
	return nil, notFound(key, "User")
}

// --- handlers ------------------------------------------------------------------

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) {
	activate, err := queryBool(r, "activate", true)
	if err != nil {
		s.fail(w, err)
		return
	}
	useProvider, err := queryBool(r, "provider", false)
	if err != nil {
		s.fail(w, err)
		return
	}
	nextLogin := r.URL.Query().Get("nextLogin")
	var in userIn
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.validateProfile(in.Profile, ""); e != nil {
		s.fail(w, e)
		return
	}
	u := &user{
		id:           oktaID("00u"),
		created:      now,
		lastUpdated:  now,
		profile:      cloneMap(in.Profile),
		providerType: ProviderOkta,
		providerName: ProviderOkta,
		typeID:       defaultUserTypeID,
	}
	if in.Type != nil && in.Type.ID != "" {
		u.typeID = in.Type.ID
	}
	if e := applyCredentials(u, in.Credentials, now); e != nil {
		s.fail(w, e)
		return
	}
	federated := false
	if useProvider && in.Credentials != nil && in.Credentials.Provider != nil && in.Credentials.Provider.Type != "" {
		u.providerType, u.providerName = in.Credentials.Provider.Type, in.Credentials.Provider.Name
		if u.providerName == "" {
			u.providerName = u.providerType
		}
		federated = passwordless(u.providerType)
		if federated && (u.hasPassword() || u.recoveryQuestion != "") {
			s.fail(w, noPasswordForProvider(u.providerType))
			return
		}
	}
	switch {
	case nextLogin != "" && nextLogin != "changePassword":
		s.fail(w, validationFailed("nextLogin", "nextLogin: must be changePassword"))
		return
	case nextLogin != "" && !activate:
		s.fail(w, &apiError{status: 400, code: "E0000125", summary: "Could not create user. To create a user and expire their password immediately, `activate` must be true.",
			causes: []string{"Could not create user. To create a user and expire their password immediately, `activate` must be true."}})
		return
	case nextLogin != "" && !u.hasPassword():
		s.fail(w, &apiError{status: 400, code: "E0000124", summary: "Could not create user. To create a user and expire their password immediately, a password must be specified.",
			causes: []string{"Could not create user. To create a user and expire their password immediately, a password must be specified."}})
		return
	}
	// Creation scenarios (OAS Users tag): STAGED without activation; with it,
	// ACTIVE when the user has a password (a hook counts) or an external
	// provider, else PROVISIONED (the user must complete activation); see
	// activationTarget for the enrollment policy and the asynchronous case.
	switch {
	case !activate:
		u.status = StatusStaged
	case nextLogin == "changePassword":
		u.status = StatusPasswordExpired
	case s.activationDelay > 0:
		// Created, then activated asynchronously (OAS createUser).
		u.status = StatusStaged
		u.transitioning, u.transitionAt = s.activationTarget(u), now.Add(s.activationDelay)
	default:
		u.status = s.activationTarget(u)
	}
	s.users[u.id] = u
	s.logins[foldLogin(u.login())] = u.id
	base := info(r).base
	s.addEventLocked(r, "user.lifecycle.create", "Create okta user", "SUCCESS", "", u)
	if activate {
		s.addEventLocked(r, "user.lifecycle.activate", "Activate Okta user", "SUCCESS", "", u)
	}
	writeJSON(w, http.StatusOK, u.render(base, true))
}

// noPasswordForProvider is Okta's validation failure for a password on a
// FEDERATION or SOCIAL user, which "don't support a password or
// recovery_question credential" (OAS Users tag, "User creation scenarios").
// Okta documents no dedicated code; E0000001 is its validation failure.
func noPasswordForProvider(providerType string) *apiError {
	return validationFailed("password", "password: Users with a "+providerType+" provider do not support a password credential")
}

// applyCredentials applies credentials from a create or update request.
func applyCredentials(u *user, c *credsIn, now time.Time) *apiError {
	if c == nil {
		return nil
	}
	if c.Password != nil && passwordless(u.providerType) {
		return noPasswordForProvider(u.providerType)
	}
	if p := c.Password; p != nil {
		switch {
		case len(p.Hash) > 0 && string(p.Hash) != "null":
			return validationFailed("password", "password.hash: imported password hashes are not emulated by fakeokta")
		case p.Hook != nil:
			if p.Hook.Type != "default" {
				return validationFailed("password", "password.hook.type: must be default")
			}
			u.setHook(now)
		case p.Value != nil:
			if len([]rune(*p.Value)) < 8 {
				return validationFailed("password", "password: Password requirements were not met. Password requirements: at least 8 characters.")
			}
			u.setPassword(*p.Value, now)
		}
	}
	if q := c.RecoveryQuestion; q != nil && q.Question != "" {
		u.recoveryQuestion = q.Question
	}
	return nil
}

// userOp handles a request on /api/v1/users/{id}[/...]: it runs under the
// lock with the user the path names (onUser answers 404 when there is none);
// a returned error is answered as Okta's error body.
type userOp func(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error

func (s *Server) onUser(op userOp) http.HandlerFunc { return onObject(s, s.userByPath, op) }

// onObject is the handler shape every /api/v1/{collection}/{id}[/...] route
// shares: under the lock, find the object the path names (find answers
// Okta's 404 when there is none), run op, and answer a returned error as
// Okta's error body.
func onObject[T any](s *Server, find func(*http.Request) (T, *apiError),
	op func(w http.ResponseWriter, r *http.Request, obj T, now time.Time) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		now := s.now()
		s.mu.Lock()
		defer s.mu.Unlock()
		obj, e := find(r)
		if e != nil {
			s.fail(w, e)
			return
		}
		if err := op(w, r, obj, now); err != nil {
			s.fail(w, err)
		}
	}
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request, u *user, _ time.Time) error {
	w.Header().Set("ETag", etag(u))
	writeJSON(w, http.StatusOK, u.render(info(r).base, true))
	return nil
}

func etag(u *user) string {
	sum := sha256.Sum256([]byte(u.id + "/" + strconv.FormatInt(u.lastUpdated.UnixNano(), 10)))
	return `W/"` + hex.EncodeToString(sum[:8]) + `"`
}

// writeUser serves the partial update (POST: profile properties are merged,
// null removes one, credentials applied) or, with replace, the strict update
// (PUT: the profile is replaced).
func (s *Server) writeUser(replace bool) userOp {
	return func(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
		return s.writeUserAs(w, r, u, now, replace)
	}
}

func (s *Server) writeUserAs(w http.ResponseWriter, r *http.Request, u *user, now time.Time, replace bool) error {
	var in userIn
	if err := decodeBody(r, &in, true); err != nil {
		return err
	}
	profile := cloneMap(u.profile)
	switch {
	case replace:
		profile = in.Profile
	case in.Profile != nil:
		for k, v := range in.Profile {
			if v == nil {
				delete(profile, k)
			} else {
				profile[k] = v
			}
		}
	}
	if e := s.validateProfile(profile, u.id); e != nil {
		return e
	}
	// Apply credentials to a copy so that a rejected request changes nothing.
	next := *u
	if e := applyCredentials(&next, in.Credentials, now); e != nil {
		return e
	}
	*u = next
	delete(s.logins, foldLogin(u.login()))
	u.profile = cloneMap(profile)
	s.logins[foldLogin(u.login())] = u.id
	u.lastUpdated = now
	s.addEventLocked(r, "user.account.update_profile", "Update user profile for Okta", "SUCCESS", "", u)
	writeJSON(w, http.StatusOK, u.render(info(r).base, true))
	return nil
}

// deleteUser deactivates a user on the first call and deletes a
// DEPROVISIONED user on the second (OAS deleteUser).
func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
	if u.status != StatusDeprovisioned {
		u.setStatus(StatusDeprovisioned, now)
		s.addEventLocked(r, "user.lifecycle.deactivate", "Deactivate Okta user", "SUCCESS", "", u)
	} else {
		delete(s.users, u.id)
		delete(s.logins, foldLogin(u.login()))
		s.dropMembershipsLocked(u.id, now) // groups.go
		s.addEventLocked(r, "user.lifecycle.delete.initiated", "Delete Okta user initiated", "SUCCESS", "", u)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) activateUser(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
	sendEmail, err := queryBool(r, "sendEmail", true)
	if err != nil {
		return err
	}
	switch u.status {
	case StatusStaged, StatusDeprovisioned:
	case StatusActive:
		return &apiError{status: http.StatusForbidden, code: "E0000016",
			summary: "Activation failed because the user is already active"}
	default:
		return notAllowedInStatus()
	}
	s.activateLocked(u, s.activationTarget(u), now)
	s.addEventLocked(r, "user.lifecycle.activate", "Activate Okta user", "SUCCESS", "", u)
	writeActivation(w, r, sendEmail)
	return nil
}

// writeActivation answers an activation: an empty object when Okta emails
// the user, the activation link and token otherwise (OAS UserActivationToken).
func writeActivation(w http.ResponseWriter, r *http.Request, sendEmail bool) {
	if sendEmail {
		writeJSON(w, http.StatusOK, struct{}{})
		return
	}
	token := randomID("", 20, idAlphabet)
	writeJSON(w, http.StatusOK, map[string]string{
		"activationUrl":   info(r).base + "/tokens/" + token + "/verify",
		"activationToken": token,
	})
}

// activationTarget is the status an activation leads to. Users with a
// password (the hook counts) or an external provider become ACTIVE; the
// others must complete the welcome flow, PROVISIONED ("Users who don't have
// a password must complete the welcome flow by visiting the activation link
// to complete the transition to ACTIVE status":
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/activateUser).
// Under an Identity Engine enrollment policy that requires the password
// authenticator (Options.ProvisionOnActivate), a user created or activated
// with a password is left PROVISIONED and sent a one-time token instead (OAS
// Users tag, "Create user with optional password":
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/).
func (s *Server) activationTarget(u *user) string {
	switch {
	case passwordless(u.providerType):
		return StatusActive
	case u.hasPassword() && s.provisionOnActivate:
		return StatusProvisioned
	case u.hasPassword():
		return StatusActive
	}
	return StatusProvisioned
}

// activateLocked moves u towards status: at once, or, with an activation
// delay (Options.ActivationDelay), asynchronously: "Activation of a user is
// an asynchronous operation. The user has the transitioningToStatus property
// with an ACTIVE value during activation" (OAS activateUser, createUser).
func (s *Server) activateLocked(u *user, status string, now time.Time) {
	u.activated = now
	u.lastUpdated = now
	if s.activationDelay <= 0 {
		u.setStatus(status, now)
		return
	}
	u.transitioning, u.transitionAt = status, now.Add(s.activationDelay)
}

// reactivateUser restarts the activation of a PROVISIONED or RECOVERY user
// (OAS reactivateUser, sendEmail default false): "Users that don't have a
// password must complete the flow by completing the Reset password flow and
// MFA enrollment steps to transition the user to ACTIVE status", so a user
// who has one (the import hook counts) becomes ACTIVE
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/UserLifecycle/#tag/UserLifecycle/operation/reactivateUser).
// Other statuses get E0000038, which Okta documents for an operation "not
// allowed in the user's current status".
func (s *Server) reactivateUser(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
	sendEmail, err := queryBool(r, "sendEmail", false)
	if err != nil {
		return err
	}
	if u.status != StatusProvisioned && u.status != StatusRecovery {
		return notAllowedInStatus()
	}
	if u.hasPassword() {
		s.activateLocked(u, StatusActive, now)
	}
	s.addEventLocked(r, "user.lifecycle.reactivate", "Reactivate Okta user", "SUCCESS", "", u)
	writeActivation(w, r, sendEmail)
	return nil
}

// stillActivating is Okta's answer to a change of a user whose asynchronous
// activation is running (https://developer.okta.com/docs/reference/error-codes/#E0000112).
func stillActivating() *apiError {
	return &apiError{status: http.StatusConflict, code: "E0000112",
		summary: "Cannot update this user because they are still being activated. Please try again in a few minutes."}
}

// onUserChange is onUser for the calls that change a user: while an
// asynchronous status change runs they answer 409 E0000112.
func (s *Server) onUserChange(op userOp) http.HandlerFunc {
	return s.onUser(func(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
		if u.transitioning != "" {
			return stillActivating()
		}
		return op(w, r, u, now)
	})
}

func (s *Server) deactivateUser(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
	if u.status == StatusDeprovisioned {
		return notAllowedInStatus()
	}
	u.setStatus(StatusDeprovisioned, now)
	s.addEventLocked(r, "user.lifecycle.deactivate", "Deactivate Okta user", "SUCCESS", "", u)
	w.WriteHeader(http.StatusOK) // 200 with an empty body (OAS deactivateUser)
	return nil
}

// resetPassword moves the user to RECOVERY; the password (or the import
// hook) no longer signs them in until they complete the reset.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
	if r.URL.Query().Get("sendEmail") == "" {
		return validationFailed("sendEmail", "sendEmail: The field cannot be left blank")
	}
	sendEmail, err := queryBool(r, "sendEmail", false)
	if err != nil {
		return err
	}
	switch u.status {
	case StatusStaged, StatusDeprovisioned, StatusSuspended:
		return notAllowedInStatus()
	}
	u.setStatus(StatusRecovery, now)
	u.hook = false
	u.salt, u.hash = nil, nil
	u.providerType, u.providerName = ProviderOkta, ProviderOkta
	s.addEventLocked(r, "user.account.reset_password", "Reset Okta user password", "SUCCESS", "", u)
	if sendEmail {
		writeJSON(w, http.StatusOK, struct{}{})
		return nil
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"resetPasswordUrl": info(r).base + "/reset_password/" + randomID("", 20, idAlphabet),
	})
	return nil
}

func (s *Server) expirePassword(w http.ResponseWriter, r *http.Request, u *user, now time.Time) error {
	switch u.status {
	case StatusActive, StatusPasswordExpired, StatusRecovery, StatusLockedOut:
	default:
		return notAllowedInStatus()
	}
	u.setStatus(StatusPasswordExpired, now)
	s.addEventLocked(r, "user.account.expire_password", "Expire Okta user password", "SUCCESS", "", u)
	writeJSON(w, http.StatusOK, u.render(info(r).base, true))
	return nil
}

// listUsers serves GET /api/v1/users with filter, search, q, limit and the
// after cursor, ordered by id, paging with Link headers. search uses the same
// expression language with any attribute and operator; Okta documents it as
// eventually consistent, the emulator answers from current state.
func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 200
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			s.fail(w, validationFailed("limit", "limit: must be a positive integer"))
			return
		}
		limit = min(n, 200)
	}
	var match []func(*user) bool
	if f := q.Get("filter"); f != "" {
		e, err := parseExpr(f, userFilterAttr)
		if err != nil {
			s.fail(w, invalidSearch())
			return
		}
		match = append(match, func(u *user) bool { return e.eval(u.attr) })
	}
	if f := q.Get("search"); f != "" {
		e, err := parseExpr(f, nil)
		if err != nil {
			s.fail(w, invalidSearch())
			return
		}
		match = append(match, func(u *user) bool { return e.eval(u.attr) })
	}
	if qq := strings.ToLower(q.Get("q")); qq != "" {
		match = append(match, func(u *user) bool {
			for _, k := range []string{"login", "email", "firstName", "lastName"} {
				if v, _ := u.profile[k].(string); strings.HasPrefix(strings.ToLower(v), qq) {
					return true
				}
			}
			return false
		})
	}
	if q.Get("filter") == "" && q.Get("search") == "" {
		match = append(match, func(u *user) bool { return u.status != StatusDeprovisioned })
	}
	after := q.Get("after")

	s.mu.Lock()
	ids := make([]string, 0, len(s.users))
	for id := range s.users {
		if id > after {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	base := info(r).base
	page := make([]userOut, 0, min(limit, len(ids)))
	more := false
	now := s.now()
	for _, id := range ids {
		u := s.users[id]
		u.settle(now)
		if !matchAll(match, u) {
			continue
		}
		if len(page) == limit {
			more = true
			break
		}
		page = append(page, u.render(base, false))
	}
	s.mu.Unlock()

	self := *r.URL
	w.Header().Add("Link", "<"+base+self.RequestURI()+`>; rel="self"`)
	if more {
		next := url.Values{}
		for k, v := range q {
			next[k] = v
		}
		next.Set("after", page[len(page)-1].ID)
		next.Set("limit", strconv.Itoa(limit))
		w.Header().Add("Link", "<"+base+"/api/v1/users?"+next.Encode()+`>; rel="next"`)
	}
	writeJSON(w, http.StatusOK, page)
}

func matchAll(ms []func(*user) bool, u *user) bool {
	for _, m := range ms {
		if !m(u) {
			return false
		}
	}
	return true
}

// attr returns a user attribute for filter and search expressions.
func (u *user) attr(name string) ([]string, bool) {
	switch name {
	case "id":
		return []string{u.id}, true
	case "status":
		return []string{u.status}, true
	case "created":
		return []string{fmtTime(u.created)}, true
	case "lastUpdated":
		return []string{fmtTime(u.lastUpdated)}, true
	case "activated", "statusChanged", "passwordChanged", "lastLogin":
		t := map[string]time.Time{"activated": u.activated, "statusChanged": u.statusChanged,
			"passwordChanged": u.passwordChanged, "lastLogin": u.lastLogin}[name]
		if t.IsZero() {
			return nil, false
		}
		return []string{fmtTime(t)}, true
	case "type.id":
		return []string{u.typeID}, true
	case "credentials.provider.type":
		return []string{u.providerType}, true
	}
	if k, ok := strings.CutPrefix(name, "profile."); ok {
		v, present := u.profile[k]
		if !present || v == nil {
			return nil, false
		}
		return []string{fmt.Sprint(v)}, true
	}
	return nil, false
}

// userFilterAttr lists what the filter parameter accepts
// (https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/):
// eq on every attribute, ranges on lastUpdated.
func userFilterAttr(attr, op string) bool {
	switch attr {
	case "status", "id", "profile.login", "profile.email", "profile.firstName", "profile.lastName":
		return op == "eq"
	case "lastUpdated":
		return op == "eq" || op == "gt" || op == "ge" || op == "lt" || op == "le"
	}
	return false
}
