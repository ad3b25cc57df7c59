package fakeokta

import (
	"bytes"
	"encoding/json"
	"net/http"
	"time"
)

// Hook call outcomes (HookCall.Outcome).
const (
	HookVerified   = "VERIFIED"
	HookUnverified = "UNVERIFIED"
	HookFailed     = "FAILED" // no usable answer: time-out, non-2xx, redirect, garbage, error object
)

// HookCall records one firing of the password import hook (never the
// password).
type HookCall struct {
	HookID   string
	EventID  string
	Username string // as the user typed it
	UserID   string
	At       time.Time
	Attempts []HookAttempt
	Outcome  string // HookVerified, HookUnverified or HookFailed
	Reason   string // why the call failed, for HookFailed
	Stored   bool   // the password was stored (VERIFIED outside read-only mode)
}

// hookPayload is the request Okta sends to a password import hook
// (PasswordImportPayloadExample of
// https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
type hookPayload struct {
	EventID           string `json:"eventId"`
	EventTime         string `json:"eventTime"`
	EventType         string `json:"eventType"`
	EventTypeVersion  string `json:"eventTypeVersion"`
	ContentType       string `json:"contentType"`
	CloudEventVersion string `json:"cloudEventVersion"`
	Source            string `json:"source"`
	Data              struct {
		Context struct {
			Request struct {
				ID     string `json:"id"`
				Method string `json:"method"`
				URL    struct {
					Value string `json:"value"`
				} `json:"url"`
				IPAddress string `json:"ipAddress"`
			} `json:"request"`
			Credential struct {
				Username string `json:"username"`
				Password string `json:"password"`
			} `json:"credential"`
		} `json:"context"`
		Action struct {
			Credential string `json:"credential"`
		} `json:"action"`
	} `json:"data"`
}

// hookAnswer is what a password import hook returns (PasswordImportResponse of
// https://developer.okta.com/docs/api/openapi/okta-management/management/tags/inlinehook/webhooks/createpasswordimportinlinehook).
type hookAnswer struct {
	Commands []struct {
		Type  string `json:"type"`
		Value struct {
			Credential string `json:"credential"`
		} `json:"value"`
	} `json:"commands"`
	Error json.RawMessage `json:"error"`
}

// verdict interprets a hook call: VERIFIED, UNVERIFIED (explicit, or 204:
// the default action), or failed with a reason.
func verdict(res hookResult) (outcome, reason string) {
	if res.err != nil {
		return HookFailed, res.err.Error()
	}
	if res.status == http.StatusNoContent {
		return HookUnverified, ""
	}
	var ans hookAnswer
	dec := json.NewDecoder(bytes.NewReader(res.body))
	if err := dec.Decode(&ans); err != nil {
		return HookFailed, "hook response is not valid JSON"
	}
	if len(ans.Error) > 0 && string(ans.Error) != "null" {
		return HookFailed, "hook returned an error object"
	}
	for _, c := range ans.Commands {
		if c.Type != "com.okta.action.update" {
			continue
		}
		switch c.Value.Credential {
		case HookVerified:
			return HookVerified, ""
		case HookUnverified:
			return HookUnverified, ""
		}
	}
	return HookFailed, "hook response has no com.okta.action.update command"
}

var errAuthFailed = &apiError{status: http.StatusUnauthorized, code: "E0000004", summary: "Authentication failed"}

// authn serves POST /api/v1/authn (Classic primary authentication), the
// sign-in that fires the password import hook for users on provider IMPORT.
func (s *Server) authn(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decodeBody(r, &in, true); err != nil {
		s.fail(w, err)
		return
	}
	now := s.now()
	s.mu.Lock()
	u := s.findUser(in.Username)
	if u == nil || in.Username == "" || in.Password == "" {
		s.mu.Unlock()
		s.fail(w, errAuthFailed)
		return
	}
	s.autoUnlockLocked(u, now)
	if u.status == StatusPasswordExpired && !u.hook {
		s.expiredSignInLocked(w, r, u, in.Password, now)
		s.mu.Unlock()
		return
	}
	if u.status != StatusActive {
		s.addEventLocked(r, EventSessionStart, "User login to Okta", "FAILURE", "INVALID_CREDENTIALS", u)
		s.mu.Unlock()
		s.fail(w, errAuthFailed)
		return
	}
	if !u.hook {
		ok := u.checkPassword(in.Password)
		s.finishSignInLocked(w, r, u, ok, now)
		s.mu.Unlock()
		return
	}
	hook := s.passwordHookLocked(true)
	if hook == nil {
		// No ACTIVE password import hook: the hook is not called and an
		// IMPORT user cannot sign in.
		s.addEventLocked(r, EventSessionStart, "User login to Okta", "FAILURE", "INVALID_CREDENTIALS", u)
		s.mu.Unlock()
		s.fail(w, errAuthFailed)
		return
	}
	snap := *hook
	userID := u.id
	s.mu.Unlock()

	ri := info(r)
	var p hookPayload
	p.EventID = randomID("", 22, idAlphabet)
	p.EventTime = fmtTime(now)
	p.EventType = HookTypePasswordImport
	p.EventTypeVersion = "1.0"
	p.ContentType = "application/json"
	p.CloudEventVersion = "0.1"
	p.Source = ri.base + "/api/v1/inlineHooks/" + snap.id
	p.Data.Context.Request.ID = ri.id
	p.Data.Context.Request.Method = http.MethodPost
	p.Data.Context.Request.URL.Value = "/api/v1/authn"
	p.Data.Context.Request.IPAddress = clientIP(r)
	p.Data.Context.Credential.Username = in.Username
	p.Data.Context.Credential.Password = in.Password
	p.Data.Action.Credential = HookUnverified
	body, err := json.Marshal(p)
	if err != nil {
		s.fail(w, err)
		return
	}
	res := s.callHook(r.Context(), &snap, body)
	outcome, reason := verdict(res)

	now = s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	call := HookCall{HookID: snap.id, EventID: p.EventID, Username: in.Username, UserID: userID, At: now,
		Attempts: res.attempts, Outcome: outcome, Reason: reason}
	u = s.users[userID]
	if u == nil {
		s.hookCalls = append(s.hookCalls, call)
		s.fail(w, errAuthFailed)
		return
	}
	switch outcome {
	case HookVerified:
		if s.readOnly {
			// Okta could not store the password: the hook runs again at the
			// next sign-in and the import event says FAILURE (OAS "Password
			// inline hook and Okta read-only mode").
			s.addEventLocked(r, EventPasswordImport, "Import user password", "FAILURE", "Okta is in read-only mode", u)
		} else if u.hook {
			u.setPassword(in.Password, now)
			u.lastUpdated = now
			call.Stored = true
			s.addEventLocked(r, EventPasswordImport, "Import user password", "SUCCESS", "", u)
		}
		s.finishSignInLocked(w, r, u, true, now)
	case HookUnverified:
		s.addEventLocked(r, EventPasswordImport, "Import user password", "FAILURE", "Credential not verified by the inline hook", u)
		s.finishSignInLocked(w, r, u, false, now)
	default:
		// A failed hook call says nothing about the password: the sign-in
		// fails but is not counted towards the lockout (Okta does not
		// document it; this is the model the hook's answers rely on).
		if res.err != nil { // no usable HTTP answer: the execution failed
			s.appendEventLocked(r, EventInlineHookExecuted, "Inline hook execution failed", "FAILURE", reason,
				LogActor{ID: snap.id, Type: "InlineHook", AlternateID: snap.name, DisplayName: snap.name},
				[]LogTarget{{ID: snap.id, Type: "InlineHook", AlternateID: snap.uri, DisplayName: snap.name}, userEntity(u)},
				map[string]any{"inlineHookEventId": p.EventID, "attempts": len(res.attempts)})
		}
		s.addEventLocked(r, EventPasswordImport, "Import user password", "FAILURE", "Inline hook failed: "+reason, u)
		s.addEventLocked(r, EventSessionStart, "User login to Okta", "FAILURE", "INVALID_CREDENTIALS", u)
		s.fail(w, errAuthFailed)
	}
	s.hookCalls = append(s.hookCalls, call)
}

// finishSignInLocked answers a sign-in: the Authn API's SUCCESS transaction
// or 401 E0000004. The caller holds s.mu.
func (s *Server) finishSignInLocked(w http.ResponseWriter, r *http.Request, u *user, ok bool, now time.Time) {
	if !ok {
		s.addEventLocked(r, EventSessionStart, "User login to Okta", "FAILURE", "INVALID_CREDENTIALS", u)
		s.failedSignInLocked(r, u, now)
		s.fail(w, errAuthFailed)
		return
	}
	delete(s.signInLocks, u.id)
	u.lastLogin = now
	s.addEventLocked(r, EventSessionStart, "User login to Okta", "SUCCESS", "", u)
	locale, _ := u.profile["locale"].(string)
	if locale == "" {
		locale = "en_US"
	}
	tz, _ := u.profile["timezone"].(string)
	if tz == "" {
		tz = "America/Los_Angeles"
	}
	first, _ := u.profile["firstName"].(string)
	last, _ := u.profile["lastName"].(string)
	writeJSON(w, http.StatusOK, map[string]any{
		"expiresAt":    fmtTime(now.Add(5 * time.Minute)),
		"status":       "SUCCESS",
		"sessionToken": randomID("", 25, idAlphabet+"_"),
		"_embedded": map[string]any{"user": map[string]any{
			"id":              u.id,
			"passwordChanged": nullTime(u.passwordChanged),
			"profile": map[string]any{"login": u.login(), "firstName": first, "lastName": last,
				"locale": locale, "timeZone": tz},
		}},
	})
}

// EventUserLockedOut is written when the password policy locks a user out.
const EventUserLockedOut = "user.account.lock"

// signInLockout counts a user's failed sign-ins in a row.
type signInLockout struct {
	failures int
	lockedAt time.Time
}

// failedSignInLocked counts a failed sign-in and locks the user out at
// Options.LockoutAttempts, as the default password policy does
// (PasswordPolicyPasswordSettingsLockout: maxAttempts default 10,
// autoUnlockMinutes default 0, "no limit";
// https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Policy/).
// The sign-in answer stays E0000004: showLockoutFailures defaults to false.
// The caller holds s.mu.
func (s *Server) failedSignInLocked(r *http.Request, u *user, now time.Time) {
	limit := s.opts.LockoutAttempts
	if limit == 0 {
		limit = 10
	}
	if limit < 0 || u.status != StatusActive {
		return
	}
	if s.signInLocks == nil {
		s.signInLocks = map[string]*signInLockout{}
	}
	lk := s.signInLocks[u.id]
	if lk == nil {
		lk = &signInLockout{}
		s.signInLocks[u.id] = lk
	}
	lk.failures++
	if lk.failures >= limit {
		lk.failures, lk.lockedAt = 0, now
		u.status, u.statusChanged = StatusLockedOut, now
		s.addEventLocked(r, EventUserLockedOut, "Max sign in attempts exceeded", "FAILURE", "LOCKED_OUT", u)
	}
}

// autoUnlockLocked unlocks u when Options.LockoutAutoUnlock has passed since
// it was locked out. The caller holds s.mu.
func (s *Server) autoUnlockLocked(u *user, now time.Time) {
	lk := s.signInLocks[u.id]
	if u.status != StatusLockedOut || s.opts.LockoutAutoUnlock <= 0 || lk == nil || now.Sub(lk.lockedAt) < s.opts.LockoutAutoUnlock {
		return
	}
	u.status, u.statusChanged = StatusActive, now
	delete(s.signInLocks, u.id)
}
