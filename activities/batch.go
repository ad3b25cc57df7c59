package activities

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"golang.org/x/sync/errgroup"

	"entra2okta/internal/apierr"
	"entra2okta/internal/entra"
	"entra2okta/internal/logincsv"
)

// Visibility is the part of the Temporal client the batch's sweep calls
// (client.Client satisfies it).
type Visibility interface {
	ListWorkflow(ctx context.Context, req *workflowservice.ListWorkflowExecutionsRequest) (*workflowservice.ListWorkflowExecutionsResponse, error)
}

// loginLookups bounds the Graph reads of one page of explicit logins in
// flight at once: a page of 999 logins takes seconds, not minutes, while
// the Graph task queue's rate limit still paces the activities themselves.
const loginLookups = 8

// listLogins reads the users of a page of explicit logins, loginLookups at a
// time, heartbeating after each; logins unknown to Entra are skipped.
func (a *Activities) listLogins(ctx context.Context, logins, attrs []string) ([]entra.User, error) {
	users := make([]entra.User, len(logins))
	found := make([]bool, len(logins))
	var mu sync.Mutex
	done := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(loginLookups)
	for i, login := range logins {
		g.Go(func() error {
			u, err := a.Entra.User(gctx, login, attrs)
			if apierr.Is(err, apierr.NotFound) {
				activity.GetLogger(ctx).Warn("login not found in Entra ID, skipped", "upn", login)
				err = nil
			} else if err == nil {
				users[i], found[i] = u, true
			}
			mu.Lock()
			done++
			n := done
			mu.Unlock()
			if activity.IsActivity(ctx) {
				activity.RecordHeartbeat(ctx, n)
			}
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]entra.User, 0, len(logins))
	for i, ok := range found {
		if ok {
			out = append(out, users[i])
		}
	}
	return out, nil
}

// listLoginPage is ListEntraUsers for explicit logins and CSV files: the
// cursor is an offset into Source.Logins, or a logincsv cursor.
func (a *Activities) listLoginPage(ctx context.Context, in ListEntraUsersInput) (ListEntraUsersResult, error) {
	size := in.PageSize
	if size <= 0 {
		size = 100
	}
	var logins []string
	var next string
	if f := in.Source.CSV; f != nil {
		var err error
		logins, next, err = logincsv.ReadPage(f.Path, f.SHA256, in.Cursor, size)
		if err != nil {
			return ListEntraUsersResult{}, fail(ctx, &apierr.Error{Service: "csv", Op: "read the users file",
				Kind: apierr.Invalid, Err: fmt.Errorf("%s: %w", f.Path, err)})
		}
	} else {
		off := 0
		if in.Cursor != "" {
			n, err := strconv.Atoi(in.Cursor)
			if err != nil || n < 0 || n > len(in.Source.Logins) {
				return ListEntraUsersResult{}, fail(ctx, &apierr.Error{Service: "graph", Op: "list users",
					Kind: apierr.Invalid, Err: errors.New("invalid logins cursor")})
			}
			off = n
		}
		end := min(off+size, len(in.Source.Logins))
		logins = in.Source.Logins[off:end]
		if end < len(in.Source.Logins) {
			next = strconv.Itoa(end)
		}
	}
	users, err := a.listLogins(ctx, logins, in.Attributes)
	if err != nil {
		return ListEntraUsersResult{}, fail(ctx, err)
	}
	return ListEntraUsersResult{Users: users, Next: next, Read: len(logins)}, nil
}

// FindClosedUsersInput selects a batch run's users whose workflow closed
// other than by completing: terminated, timed out, failed or cancelled.
type FindClosedUsersInput struct {
	BatchRun string
	// ClosedSince bounds the search to workflows closed at or after it
	// (zero: any time), so that each sweep reads only recent ends.
	ClosedSince time.Time
}

// FindClosedUsersResult lists the ledger sequence numbers (the BatchSeq
// memo) of the users found, by execution status: a few bytes a user, so that
// an answer holds up to MaxClosedPerSweep of them within Temporal's 2 MB
// payload limit.
type FindClosedUsersResult struct {
	Terminated, TimedOut, Failed, Canceled []int
	// Truncated is set when more users matched than MaxClosedPerSweep.
	Truncated bool
}

// MaxClosedPerSweep bounds the users one sweep returns (about 7 bytes each).
const MaxClosedPerSweep = 200_000

// Seqs returns the sequence numbers found with an execution status.
func (r FindClosedUsersResult) Seqs(status string) []int {
	switch status {
	case "Terminated":
		return r.Terminated
	case "TimedOut":
		return r.TimedOut
	case "Failed":
		return r.Failed
	case "Canceled":
		return r.Canceled
	}
	return nil
}

func (r *FindClosedUsersResult) add(status string, seq int) {
	switch status {
	case "Terminated":
		r.Terminated = append(r.Terminated, seq)
	case "TimedOut":
		r.TimedOut = append(r.TimedOut, seq)
	case "Failed":
		r.Failed = append(r.Failed, seq)
	case "Canceled":
		r.Canceled = append(r.Canceled, seq)
	}
}

// BatchSeqMemo is the memo field that holds a user's place in its batch's
// ledger (MigrateUserInput.BatchSeq).
const BatchSeqMemo = "BatchSeq"

// FindClosedUsers lists, through Temporal's visibility store, the users of a
// batch run whose workflow ended without completing. A terminated or timed
// out workflow runs no code, so it cannot tell its batch; the batch learns it
// here. Visibility is eventually consistent: a sweep may miss a very recent
// end, which the next sweep finds (ClosedSince keeps a margin).
func (a *Activities) FindClosedUsers(ctx context.Context, in FindClosedUsersInput) (FindClosedUsersResult, error) {
	if a.Temporal == nil {
		return FindClosedUsersResult{}, errors.New("no Temporal client configured for the sweep")
	}
	if in.BatchRun == "" || strings.ContainsAny(in.BatchRun, `'"\`) {
		return FindClosedUsersResult{}, fail(ctx, &apierr.Error{Service: "temporal", Op: "sweep", Kind: apierr.Invalid,
			Err: fmt.Errorf("invalid batch run %q", in.BatchRun)})
	}
	q := fmt.Sprintf("MigrationBatchRun = '%s' AND ExecutionStatus IN ('Terminated','TimedOut','Failed','Canceled')", in.BatchRun)
	if !in.ClosedSince.IsZero() {
		q += " AND CloseTime >= '" + in.ClosedSince.UTC().Format(time.RFC3339Nano) + "'"
	}
	var res FindClosedUsersResult
	var token []byte
	n := 0
	dc := converter.GetDefaultDataConverter()
	for {
		resp, err := a.Temporal.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: a.Namespace, Query: q, PageSize: 1000, NextPageToken: token})
		if err != nil {
			return FindClosedUsersResult{}, fmt.Errorf("list closed users: %w", err)
		}
		for _, e := range resp.GetExecutions() {
			p := e.GetMemo().GetFields()[BatchSeqMemo]
			if p == nil {
				continue // not started with a ledger place
			}
			var seq int
			if err := dc.FromPayload(p, &seq); err != nil {
				return FindClosedUsersResult{}, fmt.Errorf("decode the BatchSeq memo of %s: %w", e.GetExecution().GetWorkflowId(), err)
			}
			if n++; n > MaxClosedPerSweep {
				res.Truncated = true
				return res, nil
			}
			res.add(e.GetStatus().String(), seq)
		}
		activity.RecordHeartbeat(ctx, n)
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return res, nil
		}
	}
}
