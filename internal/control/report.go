package control

import (
	"context"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"entra2okta/workflows"
)

// ReportRow is one user of a batch as the Temporal visibility store sees it.
type ReportRow struct {
	Login      string    `json:"login"`
	WorkflowID string    `json:"workflowId"`
	State      string    `json:"state"`
	Batch      string    `json:"batch"`
	Deadline   time.Time `json:"deadline,omitzero"`
	Execution  string    `json:"execution"` // Running, Completed, Failed, ...
	Started    time.Time `json:"started"`
	Closed     time.Time `json:"closed,omitzero"`
}

// ListUsers pages through the MigrateUser workflows of a batch and calls fn
// for each.
func ListUsers(ctx context.Context, c client.Client, namespace, batch string, fn func(ReportRow) error) error {
	var token []byte
	for {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
			Namespace: namespace, PageSize: 1000, NextPageToken: token, Query: userQuery(batch),
		})
		if err != nil {
			return fmt.Errorf("list workflows of batch %s: %w", batch, err)
		}
		for _, e := range resp.GetExecutions() {
			row := ReportRow{
				WorkflowID: e.GetExecution().GetWorkflowId(),
				Execution:  titleCase(strings.TrimPrefix(e.GetStatus().String(), "WORKFLOW_EXECUTION_STATUS_")),
				Started:    e.GetStartTime().AsTime(),
			}
			row.Login, _ = workflows.LoginFromUserWorkflowID(row.WorkflowID)
			if e.GetCloseTime() != nil {
				row.Closed = e.GetCloseTime().AsTime()
			}
			fields := e.GetSearchAttributes().GetIndexedFields()
			row.State = payloadString(fields, workflows.MigrationStateKey.GetName())
			row.Batch = payloadString(fields, workflows.MigrationBatchKey.GetName())
			if p, ok := fields[workflows.MigrationDeadlineKey.GetName()]; ok {
				var t time.Time
				if converter.GetDefaultDataConverter().FromPayload(p, &t) == nil {
					row.Deadline = t
				}
			}
			if err := fn(row); err != nil {
				return err
			}
		}
		token = resp.GetNextPageToken()
		if len(token) == 0 {
			return nil
		}
	}
}

func payloadString(fields map[string]*commonpb.Payload, name string) string {
	p, ok := fields[name]
	if !ok {
		return ""
	}
	var s string
	if converter.GetDefaultDataConverter().FromPayload(p, &s) != nil {
		return ""
	}
	return s
}

func titleCase(s string) string {
	parts := strings.Split(strings.ToLower(s), "_")
	for i, p := range parts {
		if p != "" {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "")
}
