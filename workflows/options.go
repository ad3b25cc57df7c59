package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// OktaActivityOptions are the options of every activity that calls Okta. The
// activities run on OktaTaskQueue, whose workers the server rate-limits
// (TaskQueueActivitiesPerSecond) and cap below Okta's 75 concurrent requests
// (peers.md §4.5, okta.md §4). A task may wait in that queue, so the
// schedule-to-close bound is generous; each attempt is short.
func OktaActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue: OktaTaskQueue,
		// One Okta call, or two for an idempotent retry (create then look up).
		StartToCloseTimeout:    30 * time.Second,
		ScheduleToCloseTimeout: 6 * time.Hour,
		RetryPolicy:            apiRetryPolicy(),
	}
}

// GraphActivityOptions are the options of every activity that calls Microsoft
// Graph; they run on GraphTaskQueue for the same reason.
func GraphActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue: GraphTaskQueue,
		// A Graph page of up to 999 users, or one user with its manager.
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: 6 * time.Hour,
		RetryPolicy:            apiRetryPolicy(),
	}
}

// apiRetryPolicy bounds retries of API calls. The activities decide what is
// retryable (activities/errors.go): NotFound, Conflict and Invalid are not,
// Unauthorized only a few times, and a 429 waits for the service's reset time
// (NextRetryDelay) instead of this backoff.
func apiRetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    2 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
		MaximumAttempts:    12, // about 30 minutes of backoff before the user fails
	}
}
