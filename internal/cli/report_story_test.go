package cli_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	sdkpb "go.temporal.io/api/sdk/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entra2okta/internal/cli"
	"entra2okta/internal/control"
	"entra2okta/workflows"
)

// The checks of TestStarterCommands (on the dev server) that each user tells
// its story: in starter report, in starter status's Web UI links, and in the
// Web UI itself (the static summary its batch gave it, the current details
// it keeps).

// queryWorkflowMetadata is the SDK's built-in query that serves a
// workflow's current details to the Web UI (the client package exports no
// name for it).
const queryWorkflowMetadata = "__temporal_workflow_metadata"

// checkStatusLinks: status links to the Web UI's list of the batch's users,
// all of them and those of each state that has any.
func checkStatusLinks(t *testing.T, out, batch string, waiting int) {
	t.Helper()
	prefix := "Web UI, users of batch " + batch + ": " + control.DefaultWebUIURL + "/namespaces/default/workflows?query="
	if !strings.Contains(out, prefix) {
		t.Errorf("status has no Web UI link to the batch's users:\n%s", out)
		return
	}
	line := fmt.Sprintf("  %s (%d): ", workflows.StateAwaitingSignIn, waiting)
	i := strings.Index(out, line)
	if i < 0 {
		t.Errorf("status has no Web UI link to the users in %s:\n%s", workflows.StateAwaitingSignIn, out)
		return
	}
	link, _, _ := strings.Cut(out[i+len(line):], "\n")
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("query") != "WorkflowType = 'MigrateUser' AND MigrationBatch = '"+batch+"' AND MigrationState = 'AwaitingSignIn'" {
		t.Errorf("link %q (%v)", link, err)
	}
}

// reportRows runs starter report --json, by lower-cased login (a workflow
// ID holds the login lower-cased).
func reportRows(t *testing.T, env map[string]string, batch string) (map[string]control.ReportRow, error) {
	t.Helper()
	code, out, errOut := run(t, env, "report", "--batch", batch, "--json")
	if code != cli.ExitOK {
		return nil, fmt.Errorf("report: exit %d: %s", code, errOut)
	}
	var rows []control.ReportRow
	if err := json.Unmarshal([]byte(out), &rows); err != nil {
		return nil, err
	}
	byLogin := map[string]control.ReportRow{}
	for _, r := range rows {
		byLogin[r.Login] = r
	}
	return byLogin, nil
}

// checkWaitingStory: every waiting user's row says what it waits for, that
// it never signed in, and its Okta user, created or adopted; the Web UI
// shows the user's summary and its current details.
func checkWaitingStory(ctx context.Context, t *testing.T, c client.Client, env map[string]string, batch string, created []string, adopted string) {
	t.Helper()
	err := eventually(ctx, func() error {
		rows, err := reportRows(t, env, batch)
		if err != nil {
			return err
		}
		want := map[string]string{adopted: "adopt"}
		for _, l := range created {
			want[l] = "create"
		}
		for login, action := range want {
			r := rows[strings.ToLower(login)]
			if r.State != string(workflows.StateAwaitingSignIn) || r.Reason != "waiting for the first Okta sign-in" ||
				r.SignIn != control.SignInNone || r.OktaUserID == "" || r.OktaAction != action || r.Policy != "expire-password" {
				return fmt.Errorf("row of %s: %+v", login, r)
			}
		}
		return nil
	})
	if err != nil {
		t.Errorf("report of waiting users: %v", err)
	}

	id := workflows.UserWorkflowID(created[0])
	d, err := c.DescribeWorkflowExecution(ctx, id, "")
	if err != nil {
		t.Fatalf("describe %s: %v", id, err)
	}
	var summary string
	if p := d.GetExecutionConfig().GetUserMetadata().GetSummary(); p == nil {
		t.Errorf("%s has no static summary", id)
	} else if err := converter.GetDefaultDataConverter().FromPayload(p, &summary); err != nil ||
		summary != workflows.UserSummary(created[0], batch) {
		t.Errorf("static summary %q (%v)", summary, err)
	}
	v, err := c.QueryWorkflow(ctx, id, "", queryWorkflowMetadata)
	if err != nil {
		t.Fatalf("metadata query: %v", err)
	}
	var md sdkpb.WorkflowMetadata
	if err := v.Get(&md); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"**State:** AwaitingSignIn", "**Reason:** waiting for the first Okta sign-in", "(policy expire-password)",
		"(created by the migration)"} {
		if !strings.Contains(md.GetCurrentDetails(), want) {
			t.Errorf("current details lack %q:\n%s", want, md.GetCurrentDetails())
		}
	}
}

// checkSkippedStory: a skipped user's row carries the operator's reason.
func checkSkippedStory(ctx context.Context, t *testing.T, env map[string]string, batch, login, reason string) {
	t.Helper()
	err := eventually(ctx, func() error {
		rows, err := reportRows(t, env, batch)
		if err != nil {
			return err
		}
		if r := rows[strings.ToLower(login)]; r.State != string(workflows.StateSkipped) || r.Reason != "skipped by an operator: "+reason || r.OktaAction != "create" {
			return fmt.Errorf("row of %s: %+v", login, r)
		}
		return nil
	})
	if err != nil {
		t.Errorf("report of a skipped user: %v", err)
	}
}
