// Package control steers migration batches on Temporal: it starts batches,
// reads their progress and per-state counts from the visibility store, lists
// their users, sends the skip and extend updates, changes task-queue rate
// limits at run time and rolls back what a batch created. The starter's
// commands (internal/cli) and the demo are thin layers over it.
package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/workflows"
)

// StateCounts is a snapshot of how many users of a batch are in each state.
type StateCounts struct {
	At     time.Time
	Total  int64 // every MigrateUser workflow of the batch
	States map[workflows.State]int64
}

// Imported is the number of users whose Okta account is ready (or who need
// none): every state past Importing.
func (s StateCounts) Imported() int64 {
	return s.Total - s.States[workflows.StatePending] - s.States[workflows.StateImporting]
}

// Done is the number of users in a terminal state.
func (s StateCounts) Done() int64 {
	var n int64
	for st, c := range s.States {
		if st.Terminal() {
			n += c
		}
	}
	return n
}

func userQuery(batch string, extra ...string) string {
	q := []string{"WorkflowType = 'MigrateUser'"}
	if batch != "" {
		q = append(q, "MigrationBatch = "+quote(batch))
	}
	return strings.Join(append(q, extra...), " AND ")
}

// CountStates counts a batch's users per MigrationState ("" batch: all
// batches). SQL visibility cannot group by a custom search attribute, so it
// runs one count query per state.
func CountStates(ctx context.Context, c client.Client, namespace, batch string) (StateCounts, error) {
	sc := StateCounts{At: time.Now(), States: map[workflows.State]int64{}}
	count := func(q string) (int64, error) {
		resp, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: namespace, Query: q})
		if err != nil {
			return 0, fmt.Errorf("count workflows (%s): %w", q, err)
		}
		return resp.GetCount(), nil
	}
	var err error
	if sc.Total, err = count(userQuery(batch)); err != nil {
		return sc, err
	}
	for _, st := range workflows.States() {
		n, err := count(userQuery(batch, "MigrationState = "+quote(string(st))))
		if err != nil {
			return sc, err
		}
		sc.States[st] = n
	}
	return sc, nil
}

// quote returns a visibility-query string literal.
func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "") + "'" }

// ImportDone reports whether every user a batch started is past the import
// phase, from the batch's own counts: its ledger counts every report exactly
// once, and the users whose workflow closed without one.
func ImportDone(p workflows.BatchProgress) bool {
	return p.ListingDone && p.Importing == 0
}
