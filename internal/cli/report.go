package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"entra2okta/internal/control"
)

// reportColumns are the report's CSV columns: the first eight as in earlier
// releases (scripts may read them by position), then why each user is where
// it is, then whether the captured password was below the Okta password
// policy and expired for it.
var reportColumns = []string{"login", "state", "batch", "deadline", "execution", "started", "closed", "workflow_id",
	"reason", "policy", "sign_in", "sign_in_class", "last_sign_in", "sign_in_attempts", "okta_user_id", "okta_action", "error",
	"below_policy", "password_expired", "okta_groups", "groups_error"}

// writeReport writes rows as CSV (reportColumns) or as a JSON array of
// control.ReportRow.
func writeReport(w io.Writer, format string, rows []control.ReportRow) error {
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if rows == nil {
			rows = []control.ReportRow{}
		}
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(reportColumns)
		for _, r := range rows {
			attempts, expired := "", ""
			if r.SignIn != "" {
				attempts = strconv.Itoa(r.SignInAttempts)
			}
			if r.PasswordExpired {
				expired = "true"
			}
			_ = cw.Write([]string{r.Login, r.State, r.Batch, fmtTime(r.Deadline), r.Execution, fmtTime(r.Started),
				fmtTime(r.Closed), r.WorkflowID,
				r.Reason, r.Policy, r.SignIn, r.SignInClass, fmtTime(r.LastSignIn), attempts, r.OktaUserID, r.OktaAction, r.Error,
				r.BelowPolicy, expired, r.OktaGroups, r.GroupsError})
		}
		cw.Flush()
		return cw.Error()
	}
	return fmt.Errorf("unknown format %q (csv or json)", format)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func runReport(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("report", "report --batch NAME [--format csv|json | --json]\n\n"+
		"One row per user of the batch, from the visibility store (no query per user): state,\n"+
		"why (why ineligible, skipped or failed; for an expired user the deadline policy applied\n"+
		"and what its sign-ins came to: never signed in, or Entra's refusal and its class), the\n"+
		"last sign-in's outcome and time, and the Okta user with what the migration did to it\n"+
		"(create or adopt), and whether the captured password broke the Okta password policy\n"+
		"(which rules) and was expired for it.", io)
	var tf temporalFlags
	tf.register(fs, env)
	batch := fs.String("batch", "", "batch name (required)")
	format := fs.String("format", "csv", "output format: csv or json")
	asJSON := fs.Bool("json", false, "JSON output (same as --format json)")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	if *asJSON {
		*format = "json"
	}
	if err := checkBatchName(*batch); err != nil {
		return usageErr(io, "%v", err)
	}
	if *format != "csv" && *format != "json" {
		return usageErr(io, "--format must be csv or json")
	}
	c, err := tf.dial(ctx)
	if err != nil {
		return fail(io, "%v", err)
	}
	defer c.Close()
	var rows []control.ReportRow
	if err := control.ListUsers(ctx, c, tf.namespace, *batch, func(r control.ReportRow) error { rows = append(rows, r); return nil }); err != nil {
		return fail(io, "%v", err)
	}
	if err := writeReport(io.Out, *format, rows); err != nil {
		return fail(io, "%v", err)
	}
	return ExitOK
}
