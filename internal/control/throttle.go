package control

import (
	"context"
	"fmt"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// SetActivityRateLimit changes, at run time, the server-enforced rate limit of
// a task queue's activities (UpdateTaskQueueConfig): every worker polling the
// queue obeys it at once, without a redeploy. It overrides the workers'
// TaskQueueActivitiesPerSecond (../../../shared/reference/peers.md §4.5).
func SetActivityRateLimit(ctx context.Context, c client.Client, namespace, taskQueue string, rps float64, reason string) error {
	if rps < 0 {
		return fmt.Errorf("rate limit must be ≥ 0, got %v", rps)
	}
	resp, err := c.WorkflowService().UpdateTaskQueueConfig(ctx, &workflowservice.UpdateTaskQueueConfigRequest{
		Namespace:     namespace,
		Identity:      "entra2okta-starter",
		TaskQueue:     taskQueue,
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
		UpdateQueueRateLimit: &workflowservice.UpdateTaskQueueConfigRequest_RateLimitUpdate{
			RateLimit: &taskqueuepb.RateLimit{RequestsPerSecond: float32(rps)},
			Reason:    reason,
		},
	})
	if err != nil {
		return fmt.Errorf("update rate limit of task queue %s: %w", taskQueue, err)
	}
	got := resp.GetConfig().GetQueueRateLimit().GetRateLimit()
	if got == nil || got.GetRequestsPerSecond() != float32(rps) {
		return fmt.Errorf("update rate limit of task queue %s: the server answered %v", taskQueue, resp.GetConfig())
	}
	return nil
}

// ActivityRateLimit returns the server-side rate limit currently set on a task
// queue's activities, and whether one is set.
func ActivityRateLimit(ctx context.Context, c client.Client, namespace, taskQueue string) (float64, bool, error) {
	resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace:     namespace,
		TaskQueue:     &taskqueuepb.TaskQueue{Name: taskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
		ReportConfig:  true,
	})
	if err != nil {
		return 0, false, fmt.Errorf("describe task queue %s: %w", taskQueue, err)
	}
	rl := resp.GetConfig().GetQueueRateLimit().GetRateLimit()
	if rl == nil {
		return 0, false, nil
	}
	return float64(rl.GetRequestsPerSecond()), true, nil
}
