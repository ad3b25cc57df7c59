package control

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entra2okta/internal/apierr"
	"entra2okta/internal/okta"
	"entra2okta/workflows"
)

// OktaUsers is what rollback needs from Okta.
type OktaUsers interface {
	GetUser(ctx context.Context, idOrLogin string) (okta.User, error)
	DeactivateUser(ctx context.Context, id string) error
	DeleteUser(ctx context.Context, id string) error
}

// RollbackAction is what rollback did, or would do, to one user.
type RollbackAction struct {
	Login      string
	OktaUserID string
	Action     string // "delete", "keep", "error"
	Reason     string
	// created are the Okta groups this user's migration created, for the
	// rollback's last step (deleteCreatedGroups).
	created []groupRef
}

// DefaultStopTimeout bounds how long a rollback waits for the batch workflow
// to close after asking it to stop.
const DefaultStopTimeout = 2 * time.Minute

// RollbackOptions tune Rollback.
type RollbackOptions struct {
	// DryRun reports what would be done and changes nothing: the batch is not
	// stopped, no workflow is skipped, no Okta user is touched.
	DryRun bool
	// StopTimeout bounds the wait for the batch workflow to close
	// (DefaultStopTimeout when zero).
	StopTimeout time.Duration
	// OnStop, when set, is told how the batch was stopped, before any user is
	// touched.
	OnStop func(BatchStop)
	// OnGroup, when set, is told what became of each Okta group the batch's
	// group mapping created, after every user was handled.
	OnGroup func(GroupAction)
}

// BatchStop says what StopBatch found and did.
type BatchStop struct {
	WorkflowID string
	// Found is false when the batch has no MigrateBatch workflow (a batch
	// label only the event hook uses, or a workflow past retention).
	Found bool
	// Cancelled is true when StopBatch asked a running run to stop.
	Cancelled bool
	RunID     string
	// Status is the close status of the latest run: Canceled, Completed,
	// Failed, Terminated, TimedOut.
	Status string
}

// StopBatch asks the batch's MigrateBatch workflow to stop (a cancellation
// request, which the workflow answers by listing and starting no more users)
// and waits, up to timeout, until its latest run has closed. A batch that has
// already closed, or never existed, is left as it is. A run that continues as
// new instead of closing is cancelled again. When the workflow is still
// running at the timeout, it returns an error: callers must not assume that no
// user is being started.
func StopBatch(ctx context.Context, c client.Client, batch string, timeout time.Duration) (BatchStop, error) {
	if timeout <= 0 {
		timeout = DefaultStopTimeout
	}
	id := workflows.BatchWorkflowID(batch)
	stop := BatchStop{WorkflowID: id}
	deadline := time.Now().Add(timeout)
	cancelled := "" // the run a cancellation was sent to
	for {
		d, err := c.DescribeWorkflowExecution(ctx, id, "")
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return stop, nil
		}
		if err != nil {
			return stop, fmt.Errorf("stop batch %s: describe workflow %s: %w", batch, id, err)
		}
		info := d.GetWorkflowExecutionInfo()
		stop.Found, stop.RunID = true, info.GetExecution().GetRunId()
		if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
			stop.Status = titleCase(strings.TrimPrefix(info.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_"))
			return stop, nil
		}
		if stop.RunID != cancelled {
			// Cancelling a run that closed meanwhile answers NotFound: the
			// next describe sees how it closed.
			if err := c.CancelWorkflow(ctx, id, stop.RunID); err != nil && !errors.As(err, &nf) {
				return stop, fmt.Errorf("stop batch %s: cancel workflow %s: %w", batch, id, err)
			}
			stop.Cancelled, cancelled = true, stop.RunID
		}
		if time.Now().After(deadline) {
			return stop, fmt.Errorf("batch %s: workflow %s (run %s) was asked to stop but is still running after %s, "+
				"so users may still be started; nothing was rolled back. Check that a worker is running and retry, "+
				"or terminate the batch workflow (temporal workflow terminate --workflow-id %s)", batch, id, stop.RunID, timeout, id)
		}
		select {
		case <-ctx.Done():
			return stop, fmt.Errorf("stop batch %s: %w", batch, ctx.Err())
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Rollback removes from Okta the users that this batch created and that never
// signed in (provider still IMPORT). It never touches a user the batch
// adopted, a user who already holds an Okta password, or a user whose status
// cannot be read.
//
// Unless it is a dry run, it first stops the batch (StopBatch), so that no
// user is started while it runs, and ends as Skipped the users still
// importing, so that none creates an Okta user after it was looked at. Each
// user to delete is then handled in this order: its running workflow is ended
// as Skipped (it must not go on reconciling against a deleted user); Okta is
// read again right before the deactivation, and the user is kept if it has
// signed in (provider no longer IMPORT) or its login changed since the first
// read; it is deactivated, which stops any further sign-in; Okta is read a
// last time, to catch a sign-in between that read and the deactivation; only
// then is it deleted.
func Rollback(ctx context.Context, c client.Client, o OktaUsers, namespace, batch string, opts RollbackOptions, fn func(RollbackAction)) error {
	if !opts.DryRun {
		stop, err := StopBatch(ctx, c, batch, opts.StopTimeout)
		if err != nil {
			return err
		}
		if opts.OnStop != nil {
			opts.OnStop(stop)
		}
	}
	var created []groupRef
	err := listRollbackUsers(ctx, c, namespace, batch, func(r rollbackRow) {
		act := rollbackOne(ctx, c, o, r, batch, opts.DryRun)
		created = append(created, act.created...)
		fn(act)
	})
	if err != nil {
		return err
	}
	return deleteCreatedGroups(ctx, o, created, opts.DryRun, opts.OnGroup)
}

// rollbackRow is a user of the batch as the visibility store lists it, with
// the rollback memo its workflow wrote when its import ended (nil for users
// started before the memo existed, or still importing).
type rollbackRow struct {
	ReportRow
	memo *workflows.RollbackMemo
}

// listRollbackUsers pages through the batch's MigrateUser workflows, with
// their memos (ListWorkflowExecutions returns each execution's memo).
func listRollbackUsers(ctx context.Context, c client.Client, namespace, batch string, fn func(rollbackRow)) error {
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 1000, NextPageToken: token, Query: userQuery(batch),
		})
		if err != nil {
			return fmt.Errorf("list workflows of batch %s: %w", batch, err)
		}
		for _, e := range resp.GetExecutions() {
			r := rollbackRow{ReportRow: ReportRow{
				WorkflowID: e.GetExecution().GetWorkflowId(),
				Execution:  titleCase(strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")),
			}}
			r.Login, _ = workflows.LoginFromUserWorkflowID(r.WorkflowID)
			fields := e.GetSearchAttributes().GetIndexedFields()
			r.State = payloadString(fields, workflows.MigrationStateKey.GetName())
			r.Batch = payloadString(fields, workflows.MigrationBatchKey.GetName())
			if p, ok := e.GetMemo().GetFields()[workflows.MemoRollback]; ok {
				var m workflows.RollbackMemo
				if converter.GetDefaultDataConverter().FromPayload(p, &m) == nil {
					r.memo = &m
				}
			}
			fn(r)
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			return nil
		}
	}
}

// rollbackStatus is what rollback knows of a user: for a closed workflow
// with a rollback memo, the memo and its final state from the visibility
// store, with no query (a query of a closed workflow replays its whole
// history on a worker); otherwise, for running workflows and for users
// started before the memo existed, the status query.
func rollbackStatus(ctx context.Context, c client.Client, r rollbackRow) (workflows.UserStatus, error) {
	if r.Execution != "Running" && r.memo != nil && r.State != "" {
		return workflows.UserStatus{Login: r.memo.Login, Batch: r.memo.Batch, OktaUserID: r.memo.OktaUserID,
			OktaAction: r.memo.OktaAction, State: workflows.State(r.State), Groups: r.memo.Groups}, nil
	}
	return userStatus(ctx, c, r.WorkflowID)
}

const rollbackSkipReason = "rolled back: Okta user deleted by starter rollback"

func rollbackOne(ctx context.Context, c client.Client, o OktaUsers, r rollbackRow, batch string, dryRun bool) RollbackAction {
	act := RollbackAction{Login: r.Login, Action: "keep"}
	uctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	fail := func(format string, args ...any) RollbackAction {
		act.Action, act.Reason = "error", fmt.Sprintf(format, args...)
		return act
	}
	st, err := rollbackStatus(uctx, c, r)
	if err != nil {
		return fail("status query failed (is a worker running?): %v", err)
	}
	act.OktaUserID = st.OktaUserID
	act.created = createdGroups(st)
	if st.Batch != batch {
		act.Reason = "belongs to batch " + st.Batch
		return act
	}
	running := r.Execution == "Running" && !st.State.Terminal()
	if running && (st.State == workflows.StatePending || st.State == workflows.StateImporting) {
		if dryRun {
			act.Reason = "still importing (" + string(st.State) + "): a rollback ends it first, then deletes the Okta user if it created one"
			return act
		}
		// End it before deciding, so that it creates no Okta user after
		// this look; what it did by then is in its final status.
		if st, err = endUser(uctx, c, st, "rolled back: import stopped by starter rollback"); err != nil {
			return fail("stop the import: %v", err)
		}
		running = false
		act.OktaUserID = st.OktaUserID
	}
	if st.OktaAction != "create" || st.OktaUserID == "" {
		act.Reason = "not created by this batch (" + orNone(st.OktaAction) + ")"
		if st.OktaAction == "adopt" && st.OktaUserID != "" {
			done, err := undoGroups(uctx, o, st, false, dryRun)
			if err != nil {
				return fail("groups of adopted user %s: %v", st.OktaUserID, err)
			}
			act.Reason = joinReason(act.Reason, done)
		}
		return act
	}
	u, keep, err := checkDeletable(uctx, o, st)
	switch {
	case err != nil:
		return fail("okta: %v", err)
	case keep != "":
		act.Reason = keep
		return act
	}
	act.Action, act.Reason = "delete", "created by this batch, never signed in"
	if dryRun {
		return act
	}
	if running {
		if _, err := endUser(uctx, c, st, rollbackSkipReason); err != nil {
			return fail("skip before delete: %v", err)
		}
	}
	// Read again right before deactivating: the user may have signed in
	// since the first read (while its workflow was being ended, or while the
	// rollback worked through other users).
	if u, keep, err = checkDeletable(uctx, o, st); err != nil {
		return fail("okta, re-check before deactivating: %v", err)
	} else if keep != "" {
		act.Action, act.Reason = "keep", keep+" (seen on the re-check before deactivating)"
		return act
	}
	if u.Status != okta.StatusDeprovisioned {
		if err := o.DeactivateUser(uctx, u.ID); err != nil {
			return fail("deactivate: %v", err)
		}
	}
	// A deactivated user can no longer sign in, so this read is final: a
	// sign-in that slipped in between the re-check and the deactivation shows
	// here, and the user is not deleted.
	if _, keep, err = checkDeletable(uctx, o, st); err != nil {
		return fail("okta, re-check after deactivating (user %s is deactivated, not deleted): %v", u.ID, err)
	} else if keep != "" {
		return fail("%s just before its deactivation: user %s is left deactivated, not deleted; reactivate it in Okta", keep, u.ID)
	}
	if err := deleteUser(uctx, o, u.ID); err != nil {
		return fail("delete (user %s is deactivated): %v", u.ID, err)
	}
	return act
}

// checkDeletable reads the Okta user a batch created and returns, when it
// must be kept, why: gone already, another login, or signed in already.
func checkDeletable(ctx context.Context, o OktaUsers, st workflows.UserStatus) (okta.User, string, error) {
	u, err := o.GetUser(ctx, st.OktaUserID)
	switch {
	case apierr.Is(err, apierr.NotFound):
		return u, "already gone from Okta", nil
	case err != nil:
		return u, "", err
	case !strings.EqualFold(u.Login, st.Login):
		return u, fmt.Sprintf("Okta user %s now has login %s", u.ID, u.Login), nil
	case u.ProviderType != okta.ProviderImport:
		return u, "signed in already (provider " + orNone(u.ProviderType) + ")", nil
	}
	return u, "", nil
}

// deleteUser deletes a deactivated user, waiting out a deactivation that Okta
// is still completing (E0000112, apierr.Busy), for up to about 10 s. A user
// already gone counts as deleted.
func deleteUser(ctx context.Context, o OktaUsers, id string) error {
	for attempt := 0; ; attempt++ {
		err := o.DeleteUser(ctx, id)
		if err == nil || apierr.Is(err, apierr.NotFound) {
			return nil
		}
		if !apierr.Is(err, apierr.Busy) || attempt == 9 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// userStatus queries a MigrateUser workflow's status.
func userStatus(ctx context.Context, c client.Client, workflowID string) (workflows.UserStatus, error) {
	var st workflows.UserStatus
	v, err := c.QueryWorkflow(ctx, workflowID, "", workflows.QueryStatus)
	if err != nil {
		return st, err
	}
	if err := v.Get(&st); err != nil {
		return st, fmt.Errorf("decode status: %w", err)
	}
	return st, nil
}

// endUser ends a running migration as Skipped and returns its final status.
// A migration that ended meanwhile by itself is not an error: its final status
// is returned.
func endUser(ctx context.Context, c client.Client, st workflows.UserStatus, reason string) (workflows.UserStatus, error) {
	got, err := SkipUser(ctx, c, st.Login, reason)
	if err != nil {
		now, qerr := userStatus(ctx, c, workflows.UserWorkflowID(st.Login))
		if qerr != nil || !now.State.Terminal() {
			return st, err
		}
		return now, nil
	}
	if !got.State.Terminal() {
		return got, fmt.Errorf("the migration accepted the skip but is still %s after 30 s", got.State)
	}
	return got, nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
