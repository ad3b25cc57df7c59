package control

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"entra2okta/workflows"
)

// StartBatch starts a MigrateBatch workflow. A batch of the same name that is
// still running is an error; a finished one may be run again (users already
// migrated end AlreadyMigrated, users still waiting are not started twice).
func StartBatch(ctx context.Context, c client.Client, in workflows.MigrateBatchInput) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       workflows.BatchWorkflowID(in.Batch),
		TaskQueue:                                workflows.BatchTaskQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(workflows.MigrationBatchKey.ValueSet(in.Batch)),
		StaticSummary:                            "entra2okta batch " + in.Batch,
	}, workflows.MigrateBatch, in)
	if err != nil {
		var already *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &already) {
			return nil, fmt.Errorf("batch %q is already running (see: starter status --batch %s)", in.Batch, in.Batch)
		}
		return nil, fmt.Errorf("start batch %q: %w", in.Batch, err)
	}
	return run, nil
}

// BatchProgress queries a running or finished batch's progress.
func BatchProgress(ctx context.Context, c client.Client, batch string) (workflows.BatchProgress, error) {
	var p workflows.BatchProgress
	v, err := c.QueryWorkflow(ctx, workflows.BatchWorkflowID(batch), "", workflows.QueryProgress)
	if err != nil {
		return p, fmt.Errorf("query progress of batch %s: %w", batch, err)
	}
	if err := v.Get(&p); err != nil {
		return p, fmt.Errorf("decode progress of batch %s: %w", batch, err)
	}
	return p, nil
}

// ReleaseHold lifts the identity hold of one user's migration
// (workflows.UpdateReleaseHold): the hook checks its sign-ins again and a
// passed deadline applies. The reason is recorded in the status.
func ReleaseHold(ctx context.Context, c client.Client, login, reason string) (workflows.UserStatus, error) {
	var st workflows.UserStatus
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflows.UserWorkflowID(login),
		UpdateName:   workflows.UpdateReleaseHold,
		Args:         []any{workflows.ReleaseHoldRequest{Reason: reason}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return st, fmt.Errorf("release %s: %w", login, err)
	}
	if err := h.Get(ctx, &st); err != nil {
		return st, fmt.Errorf("release %s: %w", login, err)
	}
	return st, nil
}

// SkipUser ends one user's migration as Skipped through the workflow's skip
// update (validated by the workflow: a reason is required), then waits, up to
// 30 s, until the workflow has applied it, and returns the user's status.
func SkipUser(ctx context.Context, c client.Client, login, reason string) (workflows.UserStatus, error) {
	var st workflows.UserStatus
	id := workflows.UserWorkflowID(login)
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   id,
		UpdateName:   workflows.UpdateSkip,
		Args:         []any{workflows.SkipRequest{Reason: reason}},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return st, fmt.Errorf("skip %s: %w", login, err)
	}
	if err := h.Get(ctx, &st); err != nil {
		return st, fmt.Errorf("skip %s: %w", login, err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !st.State.Terminal() && time.Now().Before(deadline) {
		select {
		case <-ctx.Done():
			return st, ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryStatus)
		if err != nil {
			return st, fmt.Errorf("skip %s: status: %w", login, err)
		}
		if err := v.Get(&st); err != nil {
			return st, fmt.Errorf("skip %s: status: %w", login, err)
		}
	}
	return st, nil
}

// ExtendUser moves one user's deadline.
func ExtendUser(ctx context.Context, c client.Client, workflowID string, req workflows.ExtendDeadlineRequest) (workflows.UserStatus, error) {
	var st workflows.UserStatus
	h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID:   workflowID,
		UpdateName:   workflows.UpdateExtendDeadline,
		Args:         []any{req},
		WaitForStage: client.WorkflowUpdateStageCompleted,
	})
	if err != nil {
		return st, err
	}
	if err := h.Get(ctx, &st); err != nil {
		return st, err
	}
	return st, nil
}

// ExtendBatch moves the deadline of every running user of a batch, a few at a
// time, and returns how many moved and the failures.
func ExtendBatch(ctx context.Context, c client.Client, namespace, batch string, req workflows.ExtendDeadlineRequest) (int, []error) {
	var (
		mu     sync.Mutex
		moved  int
		errs   []error
		wg     sync.WaitGroup
		tokens = make(chan struct{}, 8)
	)
	listErr := listRunning(ctx, c, namespace, batch, func(id string) {
		wg.Add(1)
		tokens <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-tokens }()
			uctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			_, err := ExtendUser(uctx, c, id, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", id, err))
				return
			}
			moved++
		}()
	})
	wg.Wait()
	if listErr != nil {
		errs = append(errs, listErr)
	}
	return moved, errs
}

func listRunning(ctx context.Context, c client.Client, namespace, batch string, fn func(workflowID string)) error {
	return ListUsers(ctx, c, namespace, batch, func(r ReportRow) error {
		if r.Execution == "Running" {
			fn(r.WorkflowID)
		}
		return nil
	})
}
