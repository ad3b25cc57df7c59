package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// OktaActivityOptions are the options of every activity that calls Okta. The
// activities run on OktaTaskQueue, whose workers the server rate-limits
// (TaskQueueActivitiesPerSecond) and cap below Okta's 75 concurrent requests
// (https://docs.temporal.io/design-patterns/downstream-rate-limiting;
// https://developer.okta.com/docs/reference/rl2-concurrency/). A task may wait
// in that queue, so the
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

// OktaCreateActivityOptions are OktaActivityOptions on OktaCreateTaskQueue,
// for CreateOktaUser: one server-side limit on the lookups and the creates
// together bounds their sum, not the writes, so a mix tilted towards creates
// could exceed Okta's create limit (internal/cmd/bench/BULK.md).
func OktaCreateActivityOptions() workflow.ActivityOptions {
	o := OktaActivityOptions()
	o.TaskQueue = OktaCreateTaskQueue
	return o
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

// apiRetryPolicy retries API calls until the activity's ScheduleToCloseTimeout
// (6 h): an Okta or Graph outage, or a long run of 429s, delays users but does
// not fail them, and a user still fails, visibly, after six hours of it. A
// count of attempts would be the wrong bound: a 429 waits for the service's
// reset time (NextRetryDelay, often a second or two) instead of this backoff,
// so a dozen attempts could be spent in a minute of throttling. For the same
// reason a failure without a time of its own (a 5xx) does not wait this
// policy's delay for its attempt number alone: the activities bound it by the
// time since the call was first scheduled (activities.transientRetryDelay). The
// activities decide what is retryable at all (activities/errors.go): NotFound,
// Conflict and Invalid are not, and Unauthorized only a few times.
func apiRetryPolicy() *temporal.RetryPolicy {
	return &temporal.RetryPolicy{
		InitialInterval:    2 * time.Second,
		BackoffCoefficient: 2,
		MaximumInterval:    5 * time.Minute,
		// The real bound is ScheduleToCloseTimeout; this cap only keeps a
		// storm of instant retries finite (Temporal's test suite also caps an
		// unlimited policy at 10 attempts, which would hide the difference).
		MaximumAttempts: 1000,
	}
}

// GraphLoginPageActivityOptions are GraphActivityOptions for a page of
// explicit logins or CSV rows: one Graph read per login, up to 999 of them,
// so the attempt may take minutes and heartbeats after each login.
func GraphLoginPageActivityOptions() workflow.ActivityOptions {
	o := GraphActivityOptions()
	o.StartToCloseTimeout = 15 * time.Minute
	o.HeartbeatTimeout = time.Minute
	return o
}

// SweepActivityOptions are the options of FindClosedUsers, which reads
// Temporal's visibility store (no rate-limited API): it runs on
// BatchTaskQueue. A failed sweep is tried again at the next one, so the bound
// is short.
func SweepActivityOptions() workflow.ActivityOptions {
	return workflow.ActivityOptions{
		TaskQueue:              BatchTaskQueue,
		StartToCloseTimeout:    2 * time.Minute,
		HeartbeatTimeout:       time.Minute,
		ScheduleToCloseTimeout: 10 * time.Minute,
		RetryPolicy:            apiRetryPolicy(),
	}
}
