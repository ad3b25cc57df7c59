package cli

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/control"
)

// reportRows are two users: one expired after Entra refused its sign-in,
// one adopted and still waiting.
func reportRows() []control.ReportRow {
	at := time.Date(2027, 1, 20, 8, 30, 0, 0, time.FixedZone("CET", 3600))
	return []control.ReportRow{
		{Login: "erin@contoso.com", WorkflowID: "migrate-user/erin@contoso.com", State: "Expired", Batch: "wave1",
			Deadline: time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), Execution: "Completed",
			Started: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC), Closed: time.Date(2027, 2, 1, 0, 0, 5, 0, time.UTC),
			Reason: "deadline passed; policy reset-password applied; Entra ID refused the password of the last sign-in (wrong_password AADSTS50126)",
			Policy: "reset-password", SignIn: control.SignInRefused, SignInClass: "wrong_password AADSTS50126", LastSignIn: at,
			SignInAttempts: 2, OktaUserID: "00u1", OktaAction: "create"},
		{Login: "bob@contoso.com", WorkflowID: "migrate-user/bob@contoso.com", State: "AwaitingSignIn", Batch: "wave1",
			Execution: "Running", Started: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC),
			Reason: "waiting for the first Okta sign-in", Policy: "reset-password", SignIn: control.SignInNone,
			OktaUserID: "00u2", OktaAction: "adopt"},
		{Login: "weak@contoso.com", State: "Migrated", Execution: "Completed", SignIn: control.SignInVerified, SignInAttempts: 1,
			BelowPolicy: "minLength,dictionary.common", PasswordExpired: true},
		{Login: "old@contoso.com", State: "Migrated", Execution: "Completed"}, // no memo: no story
	}
}

func TestWriteReportCSV(t *testing.T) {
	var b bytes.Buffer
	if err := writeReport(&b, "csv", reportRows()); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 5 {
		t.Fatalf("%d records:\n%s", len(recs), b.String())
	}
	// The first eight columns keep their places.
	if got := strings.Join(recs[0][:8], ","); got != "login,state,batch,deadline,execution,started,closed,workflow_id" {
		t.Errorf("header %s", got)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	erin, bob, weak, old := recs[1], recs[2], recs[3], recs[4]
	for name, want := range map[string]string{
		"reason":           "deadline passed; policy reset-password applied; Entra ID refused the password of the last sign-in (wrong_password AADSTS50126)",
		"policy":           "reset-password",
		"sign_in":          "refused",
		"sign_in_class":    "wrong_password AADSTS50126",
		"last_sign_in":     "2027-01-20T07:30:00Z",
		"sign_in_attempts": "2",
		"okta_user_id":     "00u1",
		"okta_action":      "create",
	} {
		if got := erin[col[name]]; got != want {
			t.Errorf("erin %s = %q, want %q", name, got, want)
		}
	}
	if bob[col["okta_action"]] != "adopt" || bob[col["sign_in"]] != "never" || bob[col["sign_in_attempts"]] != "0" || bob[col["closed"]] != "" {
		t.Errorf("bob %v", bob)
	}
	if weak[col["below_policy"]] != "minLength,dictionary.common" || weak[col["password_expired"]] != "true" ||
		erin[col["below_policy"]] != "" || erin[col["password_expired"]] != "" {
		t.Errorf("below-policy columns: weak %v, erin %v", weak, erin)
	}
	if old[col["sign_in_attempts"]] != "" || old[col["reason"]] != "" {
		t.Errorf("a row without a story shows one: %v", old)
	}
}

func TestWriteReportJSON(t *testing.T) {
	var b bytes.Buffer
	if err := writeReport(&b, "json", reportRows()); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(b.Bytes(), &rows); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	if rows[2]["belowPolicy"] != "minLength,dictionary.common" || rows[2]["passwordExpired"] != true {
		t.Errorf("below-policy fields: %v", rows[2])
	}
	for k, want := range map[string]any{"login": "erin@contoso.com", "reason": reportRows()[0].Reason, "policy": "reset-password",
		"signIn": "refused", "signInClass": "wrong_password AADSTS50126", "lastSignIn": "2027-01-20T08:30:00+01:00",
		"signInAttempts": 2.0, "oktaUserId": "00u1", "oktaAction": "create"} {
		if rows[0][k] != want {
			t.Errorf("%s = %v, want %v", k, rows[0][k], want)
		}
	}
	for _, k := range []string{"reason", "signIn", "oktaUserId", "lastSignIn", "error"} {
		if _, ok := rows[3][k]; ok {
			t.Errorf("a row without a story has %s: %v", k, rows[3])
		}
	}
	b.Reset()
	if err := writeReport(&b, "json", nil); err != nil || strings.TrimSpace(b.String()) != "[]" {
		t.Errorf("no rows: %q %v", b.String(), err)
	}
}

func TestReportFlags(t *testing.T) {
	var out, errb bytes.Buffer
	code := runReport(t.Context(), []string{"-h"}, func(string) string { return "" }, IO{Out: &out, Err: &errb})
	if code != ExitOK || !strings.Contains(errb.String(), "-json") || !strings.Contains(errb.String(), "create or adopt") {
		t.Errorf("help: exit %d\n%s", code, errb.String())
	}
	errb.Reset()
	code = runReport(t.Context(), []string{"--json"}, func(string) string { return "" }, IO{Out: &out, Err: &errb})
	if code != ExitUsage || !strings.Contains(errb.String(), "batch name") {
		t.Errorf("--json without --batch: exit %d\n%s", code, errb.String())
	}
}
