package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"context"

	"entra2okta/internal/control"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/pwpolicy"
	"entra2okta/workflows"
)

// TestWeakPasswordsExpiredAndChanged runs a batch with the hook's password
// policy check on, under a password policy stricter than the legacy
// passwords: users whose Entra password breaks it sign in (VERIFIED: they
// get in), end Migrated with their Okta password expired, and at their next
// sign-in Okta's Authentication API makes them change it before they get a
// session; users whose password meets it end Migrated and ACTIVE as before.
// The report shows both, and no password reaches a log or a history.
func TestWeakPasswordsExpiredAndChanged(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	complexity := map[string]any{"minLength": 12, "minLowerCase": 1, "minUpperCase": 1, "minNumber": 1, "minSymbol": 0,
		"excludeUsername": true, "excludeAttributes": []string{}, "dictionary": map[string]any{"common": map[string]any{"exclude": true}}}
	h := newHarness(t, ctx, harnessOptions{users: 12, passwordPolicy: complexity})
	users := h.ordinaryUsers(5)
	local := func(i int) string { return strings.Split(users[i].UserPrincipalName, "@")[0] }
	// Legacy passwords: three below the policy (each for other rules), two
	// that meet it. Entra accepts them all.
	pw := []string{
		"password123",                   // too short, no upper case, common
		"Winter2025",                    // too short, common
		"Aa1-" + local(2) + "-Zz9-Long", // the username's part before "@"
		"Corr3ct-Horse-Battery",
		"Another-L0ng-Passphrase",
	}
	wantBelow := [][]string{
		{pwpolicy.RuleMinLength, pwpolicy.RuleMinUpperCase, pwpolicy.RuleCommon},
		{pwpolicy.RuleMinLength, pwpolicy.RuleCommon},
		{pwpolicy.RuleExcludeUsername},
		nil, nil,
	}
	for i, u := range users {
		if err := h.entra.SetPassword(u.UserPrincipalName, pw[i]); err != nil {
			t.Fatal(err)
		}
		h.addPassword(pw[i])
	}
	h.waitLog("hook: password policy for migrated users", 30*time.Second)
	h.startWorker()
	// The others never sign in and expire at the deadline.
	h.startBatch("e2e-weak", 100*time.Second)
	h.waitImported("e2e-weak", 2*time.Minute)

	hc := h.ca.HTTPClient(15 * time.Second)
	for i, u := range users {
		if ok, err := h.signIn(hc, u.UserPrincipalName, pw[i], fmt.Sprintf("198.51.100.%d", i+1)); err != nil || !ok {
			t.Fatalf("%s: first sign-in ok=%v err=%v; a password below the policy still gets the user in", u.UserPrincipalName, ok, err)
		}
	}
	for i, u := range users {
		res := h.waitUserResult(u.UserPrincipalName, time.Minute)
		if res.State != workflows.StateMigrated {
			t.Fatalf("%s ended %s: %s", u.UserPrincipalName, res.State, res.Reason)
		}
		st, _ := h.okta.User(u.UserPrincipalName)
		if wantBelow[i] == nil {
			if st.Status != fakeokta.StatusActive || len(res.Status.BelowPolicy) != 0 || !res.Status.PasswordExpiredAt.IsZero() {
				t.Errorf("%s (meets the policy): Okta status %s, below %v, expired at %v", u.UserPrincipalName, st.Status,
					res.Status.BelowPolicy, res.Status.PasswordExpiredAt)
			}
			continue
		}
		if st.Status != fakeokta.StatusPasswordExpired || strings.Join(res.Status.BelowPolicy, ",") != strings.Join(wantBelow[i], ",") ||
			res.Status.PasswordExpiredAt.IsZero() {
			t.Errorf("%s (below the policy): Okta status %s, below %v (want %v), expired at %v", u.UserPrincipalName, st.Status,
				res.Status.BelowPolicy, wantBelow[i], res.Status.PasswordExpiredAt)
		}
	}

	// The next sign-in: the expired ones must change the password first.
	for i, u := range users {
		tx := h.authn(hc, map[string]string{"username": u.UserPrincipalName, "password": pw[i]}, "/api/v1/authn")
		if wantBelow[i] == nil {
			if tx["status"] != "SUCCESS" {
				t.Errorf("%s: second sign-in %v", u.UserPrincipalName, tx["status"])
			}
			continue
		}
		if tx["status"] != "PASSWORD_EXPIRED" || tx["sessionToken"] != nil {
			t.Fatalf("%s: sign-in with the expired password: %v", u.UserPrincipalName, tx)
		}
		fresh := fmt.Sprintf("New-Passphrase-%d-%s", i, randomHex(4))
		h.addPassword(fresh)
		tok, _ := tx["stateToken"].(string)
		done := h.authn(hc, map[string]string{"stateToken": tok, "oldPassword": pw[i], "newPassword": fresh},
			"/api/v1/authn/credentials/change_password")
		if done["status"] != "SUCCESS" || done["sessionToken"] == nil {
			t.Fatalf("%s: change of the expired password: %v", u.UserPrincipalName, done)
		}
		if st, _ := h.okta.User(u.UserPrincipalName); st.Status != fakeokta.StatusActive {
			t.Errorf("%s: after the change, Okta status %s", u.UserPrincipalName, st.Status)
		}
		if ok, err := h.signIn(hc, u.UserPrincipalName, pw[i], "198.51.100.99"); ok || err != nil {
			t.Errorf("%s: the old password still signs in (%v, %v)", u.UserPrincipalName, ok, err)
		}
		if ok, err := h.signIn(hc, u.UserPrincipalName, fresh, "198.51.100.99"); !ok || err != nil {
			t.Errorf("%s: the new password does not sign in (%v, %v)", u.UserPrincipalName, ok, err)
		}
	}

	h.waitFinal(len(users), 3*time.Minute)
	rows := map[string]control.ReportRow{}
	if err := control.ListUsers(h.ctx, h.tc, "default", "e2e-weak", func(r control.ReportRow) error {
		rows[strings.ToLower(r.Login)] = r
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for i, u := range users {
		r := rows[strings.ToLower(u.UserPrincipalName)]
		if want := strings.Join(wantBelow[i], ","); r.BelowPolicy != want || r.PasswordExpired != (want != "") {
			t.Errorf("%s: report below_policy %q expired %v, want %q", u.UserPrincipalName, r.BelowPolicy, r.PasswordExpired, want)
		}
	}
	h.checkNoPasswordLeak()
}

// authn POSTs body to one of fakeokta's Authentication API routes and
// returns the transaction (or error) object.
func (h *harness) authn(hc *http.Client, body map[string]string, path string) map[string]any {
	h.t.Helper()
	raw, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.oktaURL+path, bytes.NewReader(raw))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		h.t.Fatalf("%s answered %d, not JSON: %v", path, resp.StatusCode, err)
	}
	return out
}

// waitUserResult waits for a user's workflow to complete and returns its
// result.
func (h *harness) waitUserResult(login string, timeout time.Duration) workflows.MigrateUserResult {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, timeout)
	defer cancel()
	var res workflows.MigrateUserResult
	if err := h.tc.GetWorkflow(ctx, workflows.UserWorkflowID(login), "").Get(ctx, &res); err != nil {
		h.t.Fatalf("%s: %v", login, err)
	}
	return res
}

// waitLog waits until a captured log line contains s.
func (h *harness) waitLog(s string, timeout time.Duration) {
	h.t.Helper()
	end := time.Now().Add(timeout)
	for !strings.Contains(h.logs.String(), s) {
		if time.Now().After(end) {
			h.t.Fatalf("no log line %q within %s", s, timeout)
		}
		sleep(h.ctx, 100*time.Millisecond)
	}
}
