package fakeokta

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// The Authentication API's expired-password flow
// (https://developer.okta.com/docs/reference/api/authn/#response-example-for-expired-password):
// a user whose password was expired (POST
// /api/v1/users/{id}/lifecycle/expire_password) and who signs in with it
// gets a PASSWORD_EXPIRED transaction, not a session: a state token, the
// password policy's complexity, and a changePassword link. POSTing the old
// and a new password with the state token to
// /api/v1/authn/credentials/change_password sets the new password (it must
// meet the default password policy's length and character classes and
// differ from the old one: E0000080 otherwise), makes the user ACTIVE again
// and answers SUCCESS with a session token.

// RouteAuthnChangePassword is the Authentication API's change of an
// expired password.
const RouteAuthnChangePassword Route = "POST /api/v1/authn/credentials/change_password"

func (s *Server) addAuthnExpiredRoutes() {
	s.handle(RouteAuthnChangePassword, s.authnChangePassword)
}

// authnStateLifetime is how long a PASSWORD_EXPIRED transaction's state
// token is valid in the emulator (the transaction's expiresAt).
const authnStateLifetime = 5 * time.Minute

type authnState struct {
	userID  string
	expires time.Time
}

// signIn reports whether route is one of the Authentication API's, which
// take no API token and carry passwords.
func signIn(route Route) bool { return route == RouteAuthn || route == RouteAuthnChangePassword }

// expiredSignInLocked answers a sign-in of a PASSWORD_EXPIRED user: a wrong
// password fails as any other; the right one starts the change. The caller
// holds s.mu.
func (s *Server) expiredSignInLocked(w http.ResponseWriter, r *http.Request, u *user, password string, now time.Time) {
	if !u.checkPassword(password) {
		s.addEventLocked(r, EventSessionStart, "User login to Okta", "FAILURE", "INVALID_CREDENTIALS", u)
		s.fail(w, errAuthFailed)
		return
	}
	if s.authnStates == nil {
		s.authnStates = map[string]authnState{}
	}
	for tok, st := range s.authnStates {
		if now.After(st.expires) {
			delete(s.authnStates, tok)
		}
	}
	tok := randomID("", 40, idAlphabet)
	s.authnStates[tok] = authnState{userID: u.id, expires: now.Add(authnStateLifetime)}
	base := info(r).base
	var cx map[string]any
	for _, p := range s.policiesLocked().policies {
		if p.typ == "PASSWORD" && p.system {
			cx = complexity(p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"stateToken": tok,
		"expiresAt":  fmtTime(now.Add(authnStateLifetime)),
		"status":     "PASSWORD_EXPIRED",
		"_embedded": map[string]any{
			"user":   map[string]any{"id": u.id, "passwordChanged": nullTime(u.passwordChanged), "profile": map[string]any{"login": u.login()}},
			"policy": map[string]any{"complexity": cx},
		},
		"_links": map[string]any{
			"next":   map[string]any{"name": "changePassword", "href": base + string(RouteAuthnChangePassword)[len("POST "):], "hints": map[string]any{"allow": []string{"POST"}}},
			"cancel": map[string]any{"href": base + "/api/v1/authn/cancel", "hints": map[string]any{"allow": []string{"POST"}}},
		},
	})
}

var errInvalidState = &apiError{status: http.StatusForbidden, code: "E0000011", summary: "Invalid token provided"}

// authnChangePassword serves POST /api/v1/authn/credentials/change_password.
func (s *Server) authnChangePassword(w http.ResponseWriter, r *http.Request) {
	var in struct {
		StateToken  string `json:"stateToken"`
		OldPassword string `json:"oldPassword"`
		NewPassword string `json:"newPassword"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	st, ok := s.authnStates[in.StateToken]
	if !ok || now.After(st.expires) {
		s.fail(w, errInvalidState)
		return
	}
	u := s.users[st.userID]
	if u == nil || u.status != StatusPasswordExpired {
		delete(s.authnStates, in.StateToken)
		s.fail(w, errInvalidState)
		return
	}
	if !u.checkPassword(in.OldPassword) {
		s.fail(w, &apiError{status: http.StatusForbidden, code: "E0000014", summary: "Update of credentials failed",
			causes: []string{"oldPassword: The credentials provided were incorrect."}})
		return
	}
	var cx map[string]any
	for _, p := range s.policiesLocked().policies {
		if p.typ == "PASSWORD" && p.system {
			cx = complexity(p)
		}
	}
	if why := unmetComplexity(cx, in.NewPassword, u.login()); why != "" || in.NewPassword == in.OldPassword {
		if why == "" {
			why = "Password has been used too recently"
		}
		s.fail(w, &apiError{status: http.StatusForbidden, code: "E0000080",
			summary: "The password does not meet the complexity requirements of the current password policy.",
			causes:  []string{"password: " + why}})
		return
	}
	delete(s.authnStates, in.StateToken)
	u.setPassword(in.NewPassword, now)
	u.setStatus(StatusActive, now)
	u.lastUpdated = now
	s.addEventLocked(r, "user.account.update_password", "User update password for Okta", "SUCCESS", "", u)
	s.finishSignInLocked(w, r, u, true, now)
}

// complexityDefaults are PasswordPolicyPasswordSettingsComplexity's
// defaults, which apply to the fields a policy leaves out.
var complexityDefaults = map[string]int{"minLength": 8, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 1}

// unmetComplexity returns why pw fails the rendered complexity's length,
// character class and username rules ("" when it meets them).
func unmetComplexity(cx map[string]any, pw, login string) string {
	n := func(k string) int {
		switch v := cx[k].(type) {
		case int:
			return v
		case float64:
			return int(v)
		}
		return complexityDefaults[k]
	}
	count := func(f func(rune) bool) int { return len(strings.FieldsFunc(pw, func(r rune) bool { return !f(r) })) }
	switch {
	case len([]rune(pw)) < n("minLength"):
		return "Password requirements were not met: at least " + strconv.Itoa(n("minLength")) + " characters"
	case n("minLowerCase") > 0 && count(unicode.IsLower) == 0:
		return "Password requirements were not met: a lowercase letter"
	case n("minUpperCase") > 0 && count(unicode.IsUpper) == 0:
		return "Password requirements were not met: an uppercase letter"
	case n("minNumber") > 0 && count(unicode.IsDigit) == 0:
		return "Password requirements were not met: a number"
	case n("minSymbol") > 0 && count(func(r rune) bool { return r < 128 && unicode.IsPunct(r) || unicode.IsSymbol(r) }) == 0:
		return "Password requirements were not met: a symbol"
	case cx["excludeUsername"] != false && strings.Contains(strings.ToLower(pw), strings.ToLower(strings.Split(login, "@")[0])):
		return "Password requirements were not met: no parts of your username"
	}
	return ""
}
