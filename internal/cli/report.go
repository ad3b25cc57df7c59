package cli

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"entra2okta/internal/control"
)

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
		_ = cw.Write([]string{"login", "state", "batch", "deadline", "execution", "started", "closed", "workflow_id"})
		for _, r := range rows {
			_ = cw.Write([]string{r.Login, r.State, r.Batch, fmtTime(r.Deadline), r.Execution, fmtTime(r.Started),
				fmtTime(r.Closed), r.WorkflowID})
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
	fs := newFlagSet("report", "report --batch NAME [--format csv|json]", io)
	var tf temporalFlags
	tf.register(fs, env)
	batch := fs.String("batch", "", "batch name (required)")
	format := fs.String("format", "csv", "output format: csv or json")
	if ok, code := parse(fs, args); !ok {
		return code
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
