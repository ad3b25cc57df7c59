package upgradetest_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"entra2okta/activities"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/entra"
	"entra2okta/internal/testkit/activitiestest"
	release1 "entra2okta/internal/testkit/upgradetest"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

// stack is a dev server with the in-memory Okta and Entra, and one worker
// generation at a time: the first release's code or the current one.
type stack struct {
	t      *testing.T
	ctx    context.Context
	srv    *devtemporal.Server
	c      client.Client
	okta   *activitiestest.Okta
	entra  *activitiestest.Entra
	acts   *activities.Activities
	stopFn func()
}

func newStack(ctx context.Context, t *testing.T, users ...entra.User) *stack {
	t.Helper()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	s := &stack{t: t, ctx: ctx, srv: srv, c: srv.Client(), okta: activitiestest.NewOkta(), entra: activitiestest.NewEntra(users...)}
	s.acts = &activities.Activities{Okta: s.okta, Entra: s.entra, Temporal: s.c, Namespace: srv.Namespace()}
	require.NoError(t, worker.EnsureSearchAttributes(ctx, s.c, srv.Namespace()))
	return s
}

// startCurrent runs the current workers (worker.Serve, as production does).
func (s *stack) startCurrent() {
	s.t.Helper()
	cfg := worker.DefaultConfig()
	cfg.TemporalNamespace = s.srv.Namespace()
	cfg.OktaRPS, cfg.OktaCreateRPS, cfg.GraphRPS = 200, 200, 200
	cfg.ShutdownTimeout = 2 * time.Second
	ctx, cancel := context.WithCancel(s.ctx)
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	go func() { done <- worker.Serve(ctx, s.c, s.acts, cfg, logger) }()
	s.stopFn = func() {
		cancel()
		require.NoError(s.t, <-done)
	}
}

// startRelease1 runs the first release's workflow code (the frozen
// release1_*_test.go files, imported as release1) on the task queues that
// release used, with the current activities.
func (s *stack) startRelease1() {
	s.t.Helper()
	opts := sdkworker.Options{WorkerStopTimeout: 2 * time.Second}
	main := sdkworker.New(s.c, release1.TaskQueue, opts)
	release1.Register(main)
	ws := []sdkworker.Worker{main}
	for _, q := range []string{release1.OktaTaskQueue, release1.OktaCreateTaskQueue, release1.GraphTaskQueue} {
		w := sdkworker.New(s.c, q, opts)
		w.RegisterActivity(s.acts)
		ws = append(ws, w)
	}
	for _, w := range ws {
		require.NoError(s.t, w.Start())
	}
	s.stopFn = func() {
		for _, w := range ws {
			w.Stop()
		}
	}
}

func (s *stack) stop() {
	if s.stopFn != nil {
		s.stopFn()
		s.stopFn = nil
	}
}

// startUser starts a MigrateUser by its type name, so that whichever code is
// registered runs it.
func (s *stack) startUser(in workflows.MigrateUserInput) client.WorkflowRun {
	s.t.Helper()
	run, err := s.c.ExecuteWorkflow(s.ctx, client.StartWorkflowOptions{
		ID: workflows.UserWorkflowID(in.Login), TaskQueue: workflows.TaskQueue}, "MigrateUser", in)
	require.NoError(s.t, err)
	return run
}

// status queries a running user's status.
func (s *stack) status(login string) (workflows.UserStatus, error) {
	var st workflows.UserStatus
	v, err := s.c.QueryWorkflow(s.ctx, workflows.UserWorkflowID(login), "", workflows.QueryStatus)
	if err != nil {
		return st, err
	}
	return st, v.Get(&st)
}

// waitState waits until the user's status is state.
func (s *stack) waitState(login string, state workflows.State, within time.Duration) {
	s.t.Helper()
	require.Eventually(s.t, func() bool {
		st, err := s.status(login)
		return err == nil && st.State == state
	}, within, 200*time.Millisecond, "%s never reached %s", login, state)
}

// result waits, up to within, for a user's final result (following
// continue-as-new).
func (s *stack) result(login string, within time.Duration) (workflows.MigrateUserResult, error) {
	ctx, cancel := context.WithTimeout(s.ctx, within)
	defer cancel()
	var res workflows.MigrateUserResult
	err := s.c.GetWorkflow(ctx, workflows.UserWorkflowID(login), "").Get(ctx, &res)
	return res, err
}

// signIn is what the hook server does after Entra verified a password that
// Okta stored.
func (s *stack) signIn(login string) {
	s.t.Helper()
	s.okta.SetProvider(login, "OKTA")
	require.NoError(s.t, s.c.SignalWorkflow(s.ctx, workflows.UserWorkflowID(login), "", workflows.SignalPasswordVerified,
		workflows.PasswordVerifiedSignal{Outcome: workflows.OutcomeVerified, At: time.Now(), EventID: "e-" + login}))
}

// runIDs lists every run of a workflow ID, oldest first (visibility is
// eventually consistent: callers wait for closed workflows first).
func (s *stack) runIDs(workflowID string) []string {
	s.t.Helper()
	resp, err := s.c.ListWorkflow(s.ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Namespace: s.srv.Namespace(), Query: fmt.Sprintf("WorkflowId = '%s'", workflowID)})
	require.NoError(s.t, err)
	type run struct {
		id    string
		start time.Time
	}
	var rs []run
	for _, e := range resp.GetExecutions() {
		rs = append(rs, run{e.GetExecution().GetRunId(), e.GetStartTime().AsTime()})
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].start.Before(rs[j].start) })
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.id
	}
	return ids
}

// history reads one run's whole history.
func (s *stack) history(workflowID, runID string) *historypb.History {
	s.t.Helper()
	it := s.c.GetWorkflowHistory(s.ctx, workflowID, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var h historypb.History
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(s.t, err)
		h.Events = append(h.Events, ev)
	}
	return &h
}

// workflowTaskFailures counts WorkflowTaskFailed events (other than the
// server's UnhandledCommand refusals) in every run of every
// workflow of the namespace, with the first failure's cause and message.
func (s *stack) workflowTaskFailures() (int, string) {
	s.t.Helper()
	n, first := 0, ""
	var token []byte
	for {
		resp, err := s.c.ListWorkflow(s.ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: s.srv.Namespace(), NextPageToken: token})
		require.NoError(s.t, err)
		for _, e := range resp.GetExecutions() {
			h := s.history(e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId())
			for _, ev := range h.GetEvents() {
				if ev.GetEventType() != enumspb.EVENT_TYPE_WORKFLOW_TASK_FAILED {
					continue
				}
				if ev.GetWorkflowTaskFailedEventAttributes().GetCause() == enumspb.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND {
					// Not a replay failure: the server refused a task that
					// closed the run (completion, continue-as-new) because
					// a signal arrived meanwhile, and the next task handles
					// it (a batch receives its users' reports at any time).
					continue
				}
				n++
				if first == "" {
					a := ev.GetWorkflowTaskFailedEventAttributes()
					first = fmt.Sprintf("%s: %s: %s", e.GetExecution().GetWorkflowId(), a.GetCause(), a.GetFailure().GetMessage())
				}
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return n, first
		}
	}
}
