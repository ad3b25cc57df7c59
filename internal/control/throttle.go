package control

import (
	"context"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	taskqueuepb "go.temporal.io/api/taskqueue/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
)

// Rate limits of activity task queues, and who sets them.
//
// Two things set the rate at which the server hands out a task queue's
// activities, across every worker that polls it:
//
//   - each worker's TaskQueueActivitiesPerSecond, sent with every poll
//     (OKTA_RPS, OKTA_CREATE_RPS, GRAPH_RPS). When workers ask for different
//     rates, the server applies the one of the latest poll, so the rate flips
//     between them ("last poller wins");
//   - an override set through UpdateTaskQueueConfig. It wins over every
//     worker's rate until it is removed, which brings the workers' rate back.
//     Two callers set one, told apart by the identity the server records with
//     it: starter throttle, whose rate is pinned until starter throttle
//     --reset, and the workers' rate tuner (TunerIdentity), which keeps the
//     Okta queues under what Okta's rate-limit headers say this API token may
//     use, never above the workers' own rate, and never over a pinned rate.
//
// DescribeTaskQueue reports both, and the rate in force with its source
// (https://github.com/temporalio/api/blob/master/temporal/api/workflowservice/v1/request_response.proto,
// UpdateTaskQueueConfigRequest and DescribeTaskQueueResponse.EffectiveRateLimit).

// Sources of a task queue's effective rate.
const (
	RateFromOverride = "override" // starter throttle (UpdateTaskQueueConfig)
	RateFromWorkers  = "workers"  // the workers' TaskQueueActivitiesPerSecond
	RateFromServer   = "server"   // nobody set one: the server's default
)

// Identities recorded with an override (UpdateTaskQueueConfigRequest.Identity).
const (
	// StarterIdentity: a rate pinned by starter throttle.
	StarterIdentity = "entra2okta-starter"
	// TunerIdentity: a rate the workers learned from Okta's rate-limit
	// headers (SetTunedActivityRate).
	TunerIdentity = "entra2okta-worker-tuner"
)

// QueueRate is how fast the server hands out a task queue's activities, and why.
type QueueRate struct {
	TaskQueue string
	// Effective is the rate the server enforces now (activities per second;
	// 0 with an override of 0 means paused), and Source where it comes from.
	Effective float64
	Source    string
	// Override is the rate set through UpdateTaskQueueConfig, nil when none
	// is in force: pinned by starter throttle, or learned by the workers'
	// tuner (then Tuned is set too).
	Override *RateOverride
	// Tuned is what the workers learned from Okta's headers when the
	// override is theirs, nil otherwise.
	Tuned *TunedRate
	// Workers are the pollers the server saw recently, with the rate each
	// asked for.
	Workers []WorkerRate
	// Backlog is the approximate number of activities waiting for a worker.
	Backlog int64
}

// RateOverride is a rate set on a task queue through UpdateTaskQueueConfig.
type RateOverride struct {
	RPS    float64
	Reason string
	By     string // identity of the caller that set it
	At     time.Time
}

// WorkerRate is one poller of a task queue and the rate it asked for.
type WorkerRate struct {
	Identity string
	RPS      float64
	LastPoll time.Time
}

// Pinned reports whether an operator pinned the rate with starter throttle
// (an override not set by the workers' tuner).
func (q QueueRate) Pinned() bool { return q.Override != nil && q.Tuned == nil }

// WorkerRates returns the distinct rates the workers ask for, ascending.
func (q QueueRate) WorkerRates() []float64 {
	var rates []float64
	for _, w := range q.Workers {
		if !slices.Contains(rates, w.RPS) {
			rates = append(rates, w.RPS)
		}
	}
	slices.Sort(rates)
	return rates
}

// WorkersDisagree reports whether the workers ask for different rates: without
// an override, the rate in force then depends on which polled last.
func (q QueueRate) WorkersDisagree() bool { return len(q.WorkerRates()) > 1 }

// DescribeActivityRate reads the rate in force on a task queue's activities,
// its source, the override if one is set, the workers' own rates and the
// backlog.
func DescribeActivityRate(ctx context.Context, c client.Client, namespace, taskQueue string) (QueueRate, error) {
	q := QueueRate{TaskQueue: taskQueue}
	resp, err := c.WorkflowService().DescribeTaskQueue(ctx, &workflowservice.DescribeTaskQueueRequest{
		Namespace:     namespace,
		TaskQueue:     &taskqueuepb.TaskQueue{Name: taskQueue, Kind: enumspb.TASK_QUEUE_KIND_NORMAL},
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
		ReportConfig:  true,
		ReportStats:   true,
	})
	if err != nil {
		return q, fmt.Errorf("describe task queue %s: %w", taskQueue, err)
	}
	if cfg := resp.GetConfig().GetQueueRateLimit(); cfg.GetRateLimit() != nil {
		md := cfg.GetMetadata()
		q.Override = &RateOverride{RPS: float64(cfg.GetRateLimit().GetRequestsPerSecond()),
			Reason: md.GetReason(), By: md.GetUpdateIdentity()}
		if md.GetUpdateTime() != nil {
			q.Override.At = md.GetUpdateTime().AsTime()
		}
		if q.Override.By == TunerIdentity {
			if tr, ok := ParseTunedReason(q.Override.Reason); ok {
				q.Tuned = &tr
			}
		}
	}
	eff := resp.GetEffectiveRateLimit()
	q.Effective = float64(eff.GetRequestsPerSecond())
	switch eff.GetRateLimitSource() {
	case enumspb.RATE_LIMIT_SOURCE_API:
		q.Source = RateFromOverride
	case enumspb.RATE_LIMIT_SOURCE_WORKER:
		q.Source = RateFromWorkers
	case enumspb.RATE_LIMIT_SOURCE_SYSTEM:
		q.Source = RateFromServer
	}
	for _, p := range resp.GetPollers() {
		w := WorkerRate{Identity: p.GetIdentity(), RPS: p.GetRatePerSecond()}
		if p.GetLastAccessTime() != nil {
			w.LastPoll = p.GetLastAccessTime().AsTime()
		}
		q.Workers = append(q.Workers, w)
	}
	slices.SortFunc(q.Workers, func(a, b WorkerRate) int { return b.LastPoll.Compare(a.LastPoll) })
	q.Backlog = resp.GetStats().GetApproximateBacklogCount()
	return q, nil
}

// SetActivityRateLimit changes, at run time, the server-enforced rate limit of
// a task queue's activities (UpdateTaskQueueConfig): every worker polling the
// queue obeys it at once, without a redeploy, whatever rate the workers were
// started with, until ResetActivityRateLimit removes it. A rate of 0 pauses
// the queue's activities.
func SetActivityRateLimit(ctx context.Context, c client.Client, namespace, taskQueue string, rps float64, reason string) error {
	if rps < 0 {
		return fmt.Errorf("rate limit must be ≥ 0, got %v", rps)
	}
	return setRate(ctx, c, namespace, taskQueue, rps, reason, StarterIdentity)
}

func setRate(ctx context.Context, c client.Client, namespace, taskQueue string, rps float64, reason, identity string) error {
	resp, err := updateRateLimit(ctx, c, namespace, taskQueue, &taskqueuepb.RateLimit{RequestsPerSecond: float32(rps)}, reason, identity)
	if err != nil {
		return err
	}
	got := resp.GetConfig().GetQueueRateLimit().GetRateLimit()
	if got == nil || got.GetRequestsPerSecond() != float32(rps) {
		return fmt.Errorf("update rate limit of task queue %s: the server answered %v", taskQueue, resp.GetConfig())
	}
	return nil
}

// ResetActivityRateLimit removes the override set on a task queue's
// activities, pinned (SetActivityRateLimit) or tuned (SetTunedActivityRate),
// with a RateLimitUpdate without a rate limit: the workers are in charge again,
// with the rate they ask for (OKTA_RPS, OKTA_CREATE_RPS, GRAPH_RPS) or, on the
// Okta queues, the lower one their tuner learns from Okta's headers. Removing
// an override that is not set is not an error.
func ResetActivityRateLimit(ctx context.Context, c client.Client, namespace, taskQueue, reason string) error {
	return resetRate(ctx, c, namespace, taskQueue, reason, StarterIdentity)
}

func resetRate(ctx context.Context, c client.Client, namespace, taskQueue, reason, identity string) error {
	resp, err := updateRateLimit(ctx, c, namespace, taskQueue, nil, reason, identity)
	if err != nil {
		return err
	}
	if got := resp.GetConfig().GetQueueRateLimit().GetRateLimit(); got != nil {
		return fmt.Errorf("remove the rate limit of task queue %s: the server still has %v requests/s", taskQueue, got.GetRequestsPerSecond())
	}
	return nil
}

func updateRateLimit(ctx context.Context, c client.Client, namespace, taskQueue string, rl *taskqueuepb.RateLimit, reason, identity string) (*workflowservice.UpdateTaskQueueConfigResponse, error) {
	resp, err := c.WorkflowService().UpdateTaskQueueConfig(ctx, &workflowservice.UpdateTaskQueueConfigRequest{
		Namespace:     namespace,
		Identity:      identity,
		TaskQueue:     taskQueue,
		TaskQueueType: enumspb.TASK_QUEUE_TYPE_ACTIVITY,
		UpdateQueueRateLimit: &workflowservice.UpdateTaskQueueConfigRequest_RateLimitUpdate{
			RateLimit: rl,
			Reason:    reason,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("update rate limit of task queue %s: %w", taskQueue, err)
	}
	return resp, nil
}

// ActivityRateLimit returns the override currently set on a task queue's
// activities (SetActivityRateLimit), and whether one is set.
func ActivityRateLimit(ctx context.Context, c client.Client, namespace, taskQueue string) (float64, bool, error) {
	q, err := DescribeActivityRate(ctx, c, namespace, taskQueue)
	if err != nil || q.Override == nil {
		return 0, false, err
	}
	return q.Override.RPS, true, nil
}
