package worker

import (
	"context"
	"log/slog"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// How many pollers a worker of a rate-limited queue runs.
//
// The Temporal server splits a task queue into partitions (4 unless its
// matching.numTaskqueueReadPartitions says otherwise, on Temporal Cloud as on
// a self-hosted server) and divides the queue's rate between them: each
// partition dispatches its own backlog at rate ÷ partitions, one task at a
// time, to a poller waiting on that partition. A partition with a backlog
// and no poller of its own stops forwarding its tasks to the root partition
// (so that every partition drains its backlog at the same pace) and waits
// for one, and its share of the rate is lost meanwhile. The server's own
// comment on that rule (service/matching/matcher.go, MustOffer) says it
// "only becomes an issue when the pollers are fewer than the partitions".
// The Go SDK polls an activity queue with 2 pollers by default
// (MaxConcurrentActivityTaskPollers,
// https://pkg.go.dev/go.temporal.io/sdk/worker#Options), so on a 4-partition queue whose rate,
// not its workers, is the bound, half the partitions at any moment wait for
// a poller: the Okta create queue, paced at the token's limit, delivered
// about 96 % of its rate that way. So the Okta workers poll with one poller
// per partition at least.

const (
	sdkActivityPollers = 2 // the Go SDK's default MaxConcurrentActivityTaskPollers
	// defaultPartitions is the Temporal server's default number of read
	// partitions of a task queue, assumed when the server does not say.
	defaultPartitions = 4
	partitionsTimeout = 10 * time.Second
)

// queuePartitions returns how many partitions the server has for the
// activity task queue taskQueue (defaultPartitions when it cannot tell).
func queuePartitions(ctx context.Context, c client.Client, namespace, taskQueue string, logger *slog.Logger) int {
	ctx, cancel := context.WithTimeout(ctx, partitionsTimeout)
	defer cancel()
	resp, err := c.WorkflowService().ListTaskQueuePartitions(ctx, &workflowservice.ListTaskQueuePartitionsRequest{
		Namespace: namespace,
		TaskQueue: &taskqueuepb.TaskQueue{Name: taskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
	})
	if err != nil || len(resp.GetActivityTaskQueuePartitions()) == 0 {
		logger.Debug("cannot list the task queue's partitions; assuming the server's default",
			"taskQueue", taskQueue, "partitions", defaultPartitions, "error", err)
		return defaultPartitions
	}
	return len(resp.GetActivityTaskQueuePartitions())
}

// activityPollers is the MaxConcurrentActivityTaskPollers of a worker of a
// rate-limited queue with partitions partitions and slots activity slots: a
// poller per partition, never fewer than the SDK's default, never more than
// the slots (a poller only polls for a free slot).
func activityPollers(partitions, slots int) int {
	return max(sdkActivityPollers, min(partitions, slots))
}
