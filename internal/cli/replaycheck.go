package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"entra2okta/workflows"
)

// replayRegister registers the workflow code that replay-check replays
// against: this binary's (tests swap in an incompatible one).
var replayRegister = func(r workflows.Registry) { workflows.Register(r) }

// runReplayCheck replays histories, exported from the namespace or read from
// JSON files (`temporal workflow show -o json`), against this binary's
// workflow code, before a worker built from it is deployed: a history that
// does not replay would fail its workflow task for ever on the new worker.
func runReplayCheck(ctx context.Context, args []string, env Env, io IO) int {
	fs := newFlagSet("replay-check", "replay-check [--batch NAME] [--query Q] [--sample N] | replay-check --files A.json,B.json", io)
	var tf temporalFlags
	tf.register(fs, env)
	batch := fs.String("batch", "", "replay the users and the batch workflow of this batch")
	query := fs.String("query", "", "a visibility query selecting the workflows to replay (instead of --batch)")
	fileList := fs.String("files", "", "comma-separated JSON histories to replay (temporal workflow show -o json), instead of the namespace")
	sample := fs.Int("sample", 50, "replay at most this many workflows, running ones first")
	if ok, code := parse(fs, args); !ok {
		return code
	}
	var files []string
	if *fileList != "" {
		files = strings.Split(*fileList, ",")
	}
	if *sample <= 0 {
		return usageErr(io, "--sample must be positive, got %d", *sample)
	}
	if len(files) > 0 && (*batch != "" || *query != "") {
		return usageErr(io, "give JSON files or --batch/--query, not both")
	}
	logger := tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)) // each failure is printed below
	replayer := worker.NewWorkflowReplayer()
	replayRegister(replayer)
	failed, total := 0, 0
	report := func(name string, err error) {
		total++
		if err != nil {
			failed++
			fmt.Fprintf(io.Out, "FAIL %s: %v\n", name, err)
			return
		}
		fmt.Fprintf(io.Out, "ok   %s\n", name)
	}
	if len(files) > 0 {
		for _, f := range files {
			report(f, replayer.ReplayWorkflowHistoryFromJSONFile(logger, f))
		}
	} else {
		q := *query
		if q == "" {
			if *batch == "" {
				return usageErr(io, "give --batch, --query or JSON files")
			}
			if err := checkBatchName(*batch); err != nil {
				return usageErr(io, "%v", err)
			}
			q = fmt.Sprintf("(WorkflowType = 'MigrateUser' AND MigrationBatch = '%s') OR WorkflowId = '%s'",
				*batch, workflows.BatchWorkflowID(*batch))
		}
		c, err := tf.dial(ctx)
		if err != nil {
			return fail(io, "%v", err)
		}
		defer c.Close()
		execs, err := sampleExecutions(ctx, c, q, *sample)
		if err != nil {
			return fail(io, "%v", err)
		}
		for _, e := range execs {
			h, err := history(ctx, c, e.GetWorkflowId(), e.GetRunId())
			if err != nil {
				return fail(io, "export %s: %v", e.GetWorkflowId(), err)
			}
			report(e.GetWorkflowId()+" "+e.GetRunId(), replayer.ReplayWorkflowHistory(logger, h))
		}
	}
	fmt.Fprintf(io.Out, "%d replayed, %d failed\n", total, failed)
	if failed > 0 {
		return ExitError
	}
	return ExitOK
}

type execution interface {
	GetWorkflowId() string
	GetRunId() string
}

// sampleExecutions lists up to n workflows matching q: running ones first
// (they are the ones a new worker replays), then the most recent closed.
func sampleExecutions(ctx context.Context, c client.Client, q string, n int) ([]execution, error) {
	var out []execution
	for _, status := range []string{"ExecutionStatus = 'Running'", "ExecutionStatus != 'Running'"} {
		var token []byte
		for len(out) < n {
			resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query: "(" + q + ") AND " + status, PageSize: int32(min(n, 1000)), NextPageToken: token})
			if err != nil {
				return nil, fmt.Errorf("list workflows (%s): %w", q, err)
			}
			for _, e := range resp.GetExecutions() {
				if len(out) < n {
					out = append(out, e.GetExecution())
				}
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
	}
	return out, nil
}

func history(ctx context.Context, c client.Client, id, runID string) (*historypb.History, error) {
	it := c.GetWorkflowHistory(ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return nil, err
		}
		h.Events = append(h.Events, ev)
	}
	return &h, nil
}
