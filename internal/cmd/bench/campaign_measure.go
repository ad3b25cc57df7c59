package main

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"entra2okta/workflows"
)

// The baseline: a trivial workflow of three no-op activities, on a task
// queue of the bench's own in-process worker.
const (
	baselineQueue    = "bench-baseline"
	baselineWorkflow = "BenchBaseline"
	baselineActivity = "BenchNoop"
)

type baselineResult struct {
	Workflows   int     `json:"workflows"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	PerS        float64 `json:"wf_per_s"`
}

func benchBaseline(ctx workflow.Context) error {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	for range 3 {
		if err := workflow.ExecuteActivity(ctx, baselineActivity).Get(ctx, nil); err != nil {
			return err
		}
	}
	return nil
}

func benchNoop(context.Context) error { return nil }

// runBaseline runs n trivial workflows, concurrency at a time, from the first
// start to the last completion.
func runBaseline(ctx context.Context, c client.Client, idPrefix string, n, concurrency int) (baselineResult, error) {
	res := baselineResult{Workflows: n, Concurrency: min(concurrency, n)}
	w := sdkworker.New(c, baselineQueue, sdkworker.Options{})
	w.RegisterWorkflowWithOptions(benchBaseline, workflow.RegisterOptions{Name: baselineWorkflow})
	w.RegisterActivityWithOptions(benchNoop, activity.RegisterOptions{Name: baselineActivity})
	if err := w.Start(); err != nil {
		return res, err
	}
	defer w.Stop()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
	)
	start := time.Now()
	for range res.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("%s%06d", idPrefix, i),
					TaskQueue: baselineQueue}, baselineWorkflow)
				if err == nil {
					err = run.Get(ctx, nil)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	res.Seconds = time.Since(start).Seconds()
	res.PerS = float64(n) / res.Seconds
	return res, nil
}

// visCounts are a batch's users as visibility sees them.
type visCounts struct {
	total int
	// states counts the users per MigrationState whose workflow was not
	// terminated or timed out (those report their own end).
	states map[workflows.State]int
	// unreported counts the users whose workflow was terminated or timed
	// out (the batch learns of them by its sweeps); terminated those
	// terminated.
	unreported int
	terminated int
}

func countVisibility(ctx context.Context, c client.Client, ns, batch string) (visCounts, error) {
	count := func(extra ...string) (int, error) {
		q := usersQuery(batch, extra...)
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: ns, Query: q})
		if err != nil {
			return 0, fmt.Errorf("count (%s): %w", q, err)
		}
		return int(resp.GetCount()), nil
	}
	v := visCounts{states: map[workflows.State]int{}}
	var err error
	if v.total, err = count(); err != nil {
		return v, err
	}
	for _, s := range workflows.States() {
		if v.states[s], err = count("MigrationState = '"+string(s)+"'", "ExecutionStatus NOT IN ('Terminated', 'TimedOut')"); err != nil {
			return v, err
		}
	}
	if v.unreported, err = count("ExecutionStatus IN ('Terminated', 'TimedOut')"); err != nil {
		return v, err
	}
	if v.terminated, err = count("ExecutionStatus = 'Terminated'"); err != nil {
		return v, err
	}
	return v, nil
}

// settledVisibility counts until visibility holds every started user and two
// reads a second apart agree (it is eventually consistent), for at most a
// minute.
func settledVisibility(ctx context.Context, c client.Client, ns, batch string, started int) (visCounts, error) {
	var prev visCounts
	for i := 0; ; i++ {
		v, err := countVisibility(ctx, c, ns, batch)
		if err != nil {
			return v, err
		}
		if (v.total >= started && i > 0 && fmt.Sprint(v) == fmt.Sprint(prev)) || i == 60 {
			return v, nil
		}
		prev = v
		if err := sleepCtx(ctx, time.Second); err != nil {
			return v, err
		}
	}
}

// compareCounts sets the batch's counts beside visibility's: every state,
// and the users that ended without a report. lost is the total absolute
// difference.
func compareCounts(p workflows.BatchProgress, v visCounts) (rows []stateCount, lost int) {
	abs := func(x int) int { return max(x, -x) }
	for _, s := range workflows.States() {
		rows = append(rows, stateCount{State: string(s), Batch: p.States[s], Visibility: v.states[s]})
		lost += abs(p.States[s] - v.states[s])
	}
	unreported := 0
	for _, n := range p.Unreported {
		unreported += n
	}
	rows = append(rows, stateCount{State: "unreported (terminated or timed out)", Batch: unreported, Visibility: v.unreported})
	lost += abs(unreported - v.unreported)
	return rows, lost
}

// measureHistories sums the events of every run of the batch, and of every
// run of a sample of users spread over the source.
func measureHistories(ctx context.Context, c client.Client, ns string, o campaignOptions) (historyFigures, error) {
	var h historyFigures
	events, _, err := runEvents(ctx, c, ns, workflows.BatchWorkflowID(campaignBatch))
	if err != nil {
		return h, err
	}
	h.BatchEvents = events
	h.Batch = float64(events) / float64(o.Users)
	var sum int64
	sample := min(o.HistorySample, o.Users)
	for k := range sample {
		id := workflows.UserWorkflowID(benchLogin(k * o.Users / sample))
		ev, runs, err := runEvents(ctx, c, ns, id)
		if err != nil {
			return h, err
		}
		if runs == 0 {
			continue
		}
		h.UserSample++
		sum += ev
		h.UserMax = max(h.UserMax, ev)
	}
	if h.UserSample > 0 {
		h.User = float64(sum) / float64(h.UserSample)
	}
	return h, nil
}

// runEvents returns the events of every run of a workflow ID, and the runs.
func runEvents(ctx context.Context, c client.Client, ns, id string) (events int64, runs int, _ error) {
	req := &workflowservice.ListWorkflowExecutionsRequest{Namespace: ns, PageSize: 1000,
		Query: "WorkflowId = '" + strings.ReplaceAll(id, "'", "") + "'"}
	for {
		resp, err := c.ListWorkflow(ctx, req)
		if err != nil {
			return 0, 0, fmt.Errorf("list the runs of %s: %w", id, err)
		}
		for _, e := range resp.GetExecutions() {
			runs++
			n := e.GetHistoryLength()
			if n == 0 { // not in the visibility record: ask the run itself
				d, err := c.DescribeWorkflowExecution(ctx, id, e.GetExecution().GetRunId())
				if err != nil {
					return 0, 0, err
				}
				n = d.GetWorkflowExecutionInfo().GetHistoryLength()
			}
			events += n
		}
		if len(resp.GetNextPageToken()) == 0 {
			return events, runs, nil
		}
		req.NextPageToken = resp.GetNextPageToken()
	}
}
