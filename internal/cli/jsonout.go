package cli

import (
	"context"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/workflows"
)

// The --json documents of status, migrate, throttle and rollback. Their
// field names are stable: scripts read them. Each command writes one
// document on stdout; errors go to stderr with the exit code.

// rateJSON is one rate-limited task queue's rate.
type rateJSON struct {
	Queue        string           `json:"queue"` // okta, okta create, graph
	TaskQueue    string           `json:"taskQueue"`
	EffectiveRPS float64          `json:"effectiveRPS"`
	Source       string           `json:"source"`
	Paused       bool             `json:"paused"`
	Pinned       bool             `json:"pinned"` // set by starter throttle
	Override     *overrideJSON    `json:"override,omitempty"`
	Tuned        *tunedJSON       `json:"tuned,omitempty"`
	Workers      []workerRateJSON `json:"workers"`
	Backlog      int64            `json:"backlog"`
}

type overrideJSON struct {
	RPS    float64    `json:"rps"`
	Reason string     `json:"reason,omitempty"`
	By     string     `json:"by,omitempty"`
	At     *time.Time `json:"at,omitempty"`
}

type tunedJSON struct {
	Bucket      string  `json:"bucket"`
	LimitPerMin int     `json:"limitPerMin"`
	Target      float64 `json:"target"`
}

type workerRateJSON struct {
	Identity string    `json:"identity"`
	RPS      float64   `json:"rps"`
	LastPoll time.Time `json:"lastPoll"`
}

// ratesJSON describes every rate-limited task queue.
func ratesJSON(ctx context.Context, c client.Client, namespace string) ([]rateJSON, error) {
	out := make([]rateJSON, 0, len(rateQueues))
	for _, q := range rateQueues {
		r, err := control.DescribeActivityRate(ctx, c, namespace, q.tq)
		if err != nil {
			return nil, err
		}
		j := rateJSON{Queue: q.name, TaskQueue: q.tq, EffectiveRPS: r.Effective, Source: r.Source, Pinned: r.Pinned(),
			Workers: []workerRateJSON{}, Backlog: r.Backlog}
		if o := r.Override; o != nil {
			j.Override = &overrideJSON{RPS: o.RPS, Reason: o.Reason, By: o.By}
			if !o.At.IsZero() {
				at := o.At.UTC()
				j.Override.At = &at
			}
			j.Paused = o.RPS == 0
		}
		if t := r.Tuned; t != nil {
			j.Tuned = &tunedJSON{Bucket: t.Bucket, LimitPerMin: t.LimitPerMin, Target: t.Target}
		}
		for _, w := range r.Workers {
			j.Workers = append(j.Workers, workerRateJSON{Identity: w.Identity, RPS: w.RPS, LastPoll: w.LastPoll.UTC()})
		}
		out = append(out, j)
	}
	return out, nil
}

// statusJSON is status --json.
type statusJSON struct {
	Namespace string           `json:"namespace"`
	Batch     string           `json:"batch,omitempty"` // "" for every batch
	At        time.Time        `json:"at"`
	Total     int64            `json:"total"`
	Imported  int64            `json:"imported"`
	Done      int64            `json:"done"`
	States    map[string]int64 `json:"states"` // every state, 0 included
	WebUI     string           `json:"webUI,omitempty"`
	Rates     []rateJSON       `json:"rates"`
}

func newStatusJSON(namespace, batch, uiURL string, sc control.StateCounts, rates []rateJSON) statusJSON {
	s := statusJSON{Namespace: namespace, Batch: batch, At: sc.At.UTC(), Total: sc.Total, Imported: sc.Imported(), Done: sc.Done(),
		States: map[string]int64{}, Rates: rates}
	for _, st := range workflows.States() {
		s.States[string(st)] = sc.States[st]
	}
	if uiURL != "" && uiURL != "off" {
		s.WebUI = control.WebUIUsersURL(uiURL, namespace, batch, "")
	}
	return s
}

// migrateJSON is migrate --json.
type migrateJSON struct {
	Namespace  string        `json:"namespace"`
	Batch      string        `json:"batch"`
	DryRun     bool          `json:"dryRun"`
	WorkflowID string        `json:"workflowID"`
	RunID      string        `json:"runID"`
	Mappings   []mappingJSON `json:"attributeMappings,omitempty"`
}

type mappingJSON struct {
	Graph string `json:"graph"`
	Okta  string `json:"okta"`
}

// rollbackJSON is rollback --json.
type rollbackJSON struct {
	Namespace     string               `json:"namespace"`
	Batch         string               `json:"batch"`
	DryRun        bool                 `json:"dryRun"`
	BatchWorkflow *rollbackStopJSON    `json:"batchWorkflow,omitempty"`
	Actions       []rollbackActionJSON `json:"actions"`
	// Groups are the Okta groups the batch's group mapping created.
	Groups  []rollbackGroupJSON `json:"groups,omitempty"`
	Deleted int                 `json:"deleted"` // would be deleted, in a dry run
	Kept    int                 `json:"kept"`
	Errors  int                 `json:"errors"`
}

type rollbackGroupJSON struct {
	Action string `json:"action"`
	Name   string `json:"name"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

type rollbackStopJSON struct {
	WorkflowID string `json:"workflowID"`
	Found      bool   `json:"found"`
	Cancelled  bool   `json:"cancelled"`
	Status     string `json:"status,omitempty"`
}

type rollbackActionJSON struct {
	Action     string `json:"action"` // delete, keep, error
	Login      string `json:"login"`
	OktaUserID string `json:"oktaUserID,omitempty"`
	Reason     string `json:"reason,omitempty"`
}
