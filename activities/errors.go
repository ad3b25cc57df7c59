package activities

import (
	"context"
	"errors"
	"math"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"entra2okta/internal/apierr"
)

// Temporal error types of the application errors the activities return. A
// workflow branches on them with temporal.ApplicationError.Type(); they are the
// apierr.Kind names, so the failure in history says what went wrong.
const (
	ErrTypeNotFound     = "NotFound"     // non-retryable: the object does not exist
	ErrTypeConflict     = "Conflict"     // non-retryable: the object already exists
	ErrTypeInvalid      = "Invalid"      // non-retryable: the request can never succeed as sent
	ErrTypeUnauthorized = "Unauthorized" // retried UnauthorizedMaxAttempts times, then non-retryable
	ErrTypeRateLimited  = "RateLimited"  // retried after the service's reset time
	ErrTypeTransient    = "Transient"    // retried with the bounded backoff (transientRetryDelay)
	ErrTypeBusy         = "Busy"         // retried after a short wait (busyRetryDelay)
)

// UnauthorizedMaxAttempts bounds the attempts of an activity whose credentials
// are refused: a rotated secret may need a moment to propagate, but a wrong one
// is a configuration problem that retries cannot fix.
const UnauthorizedMaxAttempts = 3

// errorRule is one row of the error table.
type errorRule struct {
	errType      string
	nonRetryable bool
}

// errorTable maps every apierr.Kind to the Temporal error an activity returns:
// the only place where retryability is decided, so that every activity
// treats a failure alike. The retry delays (and Unauthorized's bound) are set
// in temporalError.
var errorTable = map[apierr.Kind]errorRule{
	apierr.NotFound:     {ErrTypeNotFound, true},
	apierr.Conflict:     {ErrTypeConflict, true},
	apierr.Invalid:      {ErrTypeInvalid, true},
	apierr.Unauthorized: {ErrTypeUnauthorized, false},
	apierr.RateLimited:  {ErrTypeRateLimited, false},
	apierr.Transient:    {ErrTypeTransient, false},
	apierr.Busy:         {ErrTypeBusy, false},
}

// busyRetryDelay is the wait before retrying an activity that failed Busy
// (Okta E0000112: the user's activation is still running). It starts short,
// since an asynchronous activation normally takes moments, and doubles with
// each attempt up to maxBusyRetryDelay, so that a user stuck in transition
// costs a few calls an hour, not a storm, until the schedule-to-close bound.
func busyRetryDelay(attempt int32) time.Duration {
	d := 5 * time.Second
	for i := int32(1); i < attempt && d < maxBusyRetryDelay; i++ {
		d *= 2
	}
	return min(d, maxBusyRetryDelay)
}

const maxBusyRetryDelay = 5 * time.Minute

// attempt is what an activity knows of its own retries: the attempt number,
// when the workflow first scheduled the activity and when this attempt
// started (both on the Temporal server's clock), and the retry policy the
// server applies (nil when the server did not say).
type attempt struct {
	Number    int32
	Scheduled time.Time
	Started   time.Time
	Policy    *temporal.RetryPolicy
}

// fail converts an adapter error into the Temporal error an activity returns,
// using the activity's attempt and the wall clock (activities may read it;
// workflows may not).
func fail(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	at := attempt{Number: 1}
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		at = attempt{Number: info.Attempt, Scheduled: info.ScheduledTime, Started: info.StartedTime, Policy: info.RetryPolicy}
	}
	return temporalError(err, at, time.Now())
}

// temporalError is the pure form of fail. It returns one ApplicationError whose
// Cause is err (a single Unwrap chain, never errors.Join: the SDK's failure
// converter follows Unwrap() error only and would drop its causes), so the
// failure in history carries the adapter's message, which never holds a
// password or token (apierr.Error).
func temporalError(err error, at attempt, now time.Time) error {
	if err == nil {
		return nil
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return err // already classified
	}
	kind := apierr.KindOf(err)
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		kind = apierr.Transient // our own timeout: the activity's retry policy decides
	}
	rule, ok := errorTable[kind]
	if !ok {
		rule = errorTable[apierr.Transient]
	}
	opts := temporal.ApplicationErrorOptions{NonRetryable: rule.nonRetryable, Cause: err}
	switch kind {
	case apierr.RateLimited:
		// Honour Okta's X-Rate-Limit-Reset / Graph's Retry-After exactly
		// (https://developer.okta.com/docs/reference/rl2-monitor/,
		// https://learn.microsoft.com/en-us/graph/throttling). Unknown reset:
		// the bounded backoff of a transient failure.
		opts.NextRetryDelay = apierr.RetryAfter(err, now)
		if opts.NextRetryDelay == 0 {
			opts.NextRetryDelay = transientRetryDelay(at)
		}
	case apierr.Unauthorized:
		opts.NonRetryable = at.Number >= UnauthorizedMaxAttempts
		if !opts.NonRetryable {
			opts.NextRetryDelay = transientRetryDelay(at)
		}
	case apierr.Busy:
		opts.NextRetryDelay = busyRetryDelay(at.Number)
		if d := apierr.RetryAfter(err, now); d > 0 {
			opts.NextRetryDelay = d
		}
	case apierr.Transient:
		opts.NextRetryDelay = transientRetryDelay(at)
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), rule.errType, opts)
}

// transientRetryDelay is the wait before retrying after a failure that has no
// time of its own (a 5xx, a lost connection, our deadline, a 429 without a
// reset): the retry policy's exponential delay for this attempt, but never
// longer than the time from the activity's first scheduling to this
// attempt's start, plus the policy's first interval.
//
// The bound matters after throttling. A 429 retries at the service's reset,
// often a second or two later, yet it raises the attempt number like any
// failure, so the policy alone would make one 5xx after seven quick 429s wait
// 2 s × 2^7 = 256 s; bounded, it waits about the ten seconds spent so far.
// During a run of 5xx alone the bound is the sum of the delays so far plus
// the first interval, which is the policy's own delay (2+4+…+2^(n−1)+2 =
// 2^n s), so the backoff stays the policy's. Both times are the server's, so
// the worker's clock does not matter. The time counted includes any wait in
// the task queue, so behind a long queue the bound is loose, never tighter
// than the policy.
//
// It returns 0 (the server applies its policy) when the policy is unknown.
func transientRetryDelay(at attempt) time.Duration {
	p := at.Policy
	if p == nil || p.InitialInterval <= 0 {
		return 0
	}
	limit := p.MaximumInterval
	if limit <= 0 {
		limit = 100 * p.InitialInterval // Temporal's default MaximumInterval
	}
	coef := max(p.BackoffCoefficient, 1)
	delay := limit
	if d := float64(p.InitialInterval) * math.Pow(coef, float64(max(at.Number, 1)-1)); d < float64(limit) {
		delay = time.Duration(d)
	}
	if !at.Scheduled.IsZero() && !at.Started.IsZero() {
		delay = min(delay, max(at.Started.Sub(at.Scheduled), 0)+p.InitialInterval)
	}
	return delay
}
