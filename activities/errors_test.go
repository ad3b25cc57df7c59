package activities

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"entra2okta/internal/apierr"
)

func TestTemporalErrorTable(t *testing.T) {
	now := time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)
	cases := []struct {
		name         string
		err          error
		attempt      int32
		errType      string
		nonRetryable bool
		delay        time.Duration
	}{
		{"not found", &apierr.Error{Kind: apierr.NotFound}, 1, ErrTypeNotFound, true, 0},
		{"conflict", &apierr.Error{Kind: apierr.Conflict}, 1, ErrTypeConflict, true, 0},
		{"invalid", &apierr.Error{Kind: apierr.Invalid}, 1, ErrTypeInvalid, true, 0},
		{"unauthorized, first attempt", &apierr.Error{Kind: apierr.Unauthorized}, 1, ErrTypeUnauthorized, false, 0},
		{"unauthorized, last attempt", &apierr.Error{Kind: apierr.Unauthorized}, UnauthorizedMaxAttempts, ErrTypeUnauthorized, true, 0},
		{"rate limited with reset", &apierr.Error{Kind: apierr.RateLimited, RetryAt: now.Add(37 * time.Second)}, 1, ErrTypeRateLimited, false, 37 * time.Second},
		{"rate limited, reset passed", &apierr.Error{Kind: apierr.RateLimited, RetryAt: now.Add(-time.Second)}, 1, ErrTypeRateLimited, false, 0},
		{"transient", &apierr.Error{Kind: apierr.Transient, Status: 503}, 1, ErrTypeTransient, false, 0},
		{"busy, first attempt", &apierr.Error{Kind: apierr.Busy, Status: 409, Code: "E0000112"}, 1, ErrTypeBusy, false, 5 * time.Second},
		{"busy, third attempt", &apierr.Error{Kind: apierr.Busy, Status: 409, Code: "E0000112"}, 3, ErrTypeBusy, false, 20 * time.Second},
		{"busy for long", &apierr.Error{Kind: apierr.Busy, Status: 409, Code: "E0000112"}, 40, ErrTypeBusy, false, 5 * time.Minute},
		{"busy with a time", &apierr.Error{Kind: apierr.Busy, RetryAt: now.Add(9 * time.Second)}, 1, ErrTypeBusy, false, 9 * time.Second},
		{"unclassified", errors.New("connection reset"), 1, ErrTypeTransient, false, 0},
		{"our deadline", fmt.Errorf("okta: get user: %w", context.DeadlineExceeded), 1, ErrTypeTransient, false, 0},
		{"wrapped kind", fmt.Errorf("ctx: %w", &apierr.Error{Kind: apierr.Invalid}), 1, ErrTypeInvalid, true, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// No policy: a transient failure leaves its delay to the server.
			err := temporalError(c.err, attempt{Number: c.attempt}, now)
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			assert.Equal(t, c.errType, appErr.Type())
			assert.Equal(t, c.nonRetryable, appErr.NonRetryable())
			assert.Equal(t, c.delay, appErr.NextRetryDelay())
			// One cause chain back to the adapter's error (no errors.Join).
			assert.ErrorIs(t, err, c.err)
		})
	}
	assert.NoError(t, temporalError(nil, attempt{Number: 1}, now))
	already := temporal.NewNonRetryableApplicationError("x", "Custom", nil)
	assert.Same(t, already, temporalError(already, attempt{Number: 1}, now))
}

// TestTransientRetryDelay checks the backoff of a failure without a time of
// its own against the activities' policy (2 s, doubling, at most 5 min): the
// policy's delay for the attempt, bounded by the time from the first
// scheduling to this attempt's start plus the first interval.
func TestTransientRetryDelay(t *testing.T) {
	scheduled := time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC)
	policy := &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute}
	cases := []struct {
		name    string
		attempt int32
		before  time.Duration // from the first scheduling to this attempt's start
		want    time.Duration
	}{
		{"first failure", 1, 50 * time.Millisecond, 2 * time.Second},
		{"first failure after a long queue wait", 1, time.Hour, 2 * time.Second},
		// Attempts 1-3 failed 5xx and waited 2, 4 and 8 s: the policy's 16 s.
		{"a run of 5xx follows the policy", 4, 14*time.Second + 300*time.Millisecond, 16 * time.Second},
		{"the policy's cap", 12, 3 * time.Hour, 5 * time.Minute},
		// Attempts 1-7 met 429s, each retried at Okta's reset about 1.5 s
		// later; attempt 8 met a 500. The policy alone says 256 s.
		{"a 5xx after seven quick 429s", 8, 10 * time.Second, 12 * time.Second},
		{"a 5xx after ten minutes of 429s", 300, 10 * time.Minute, 5 * time.Minute},
		{"never below the first interval", 8, 0, 2 * time.Second},
		{"times out of order", 3, -time.Minute, 2 * time.Second},
		{"attempt 0 counts as the first", 0, time.Hour, 2 * time.Second},
		{"a huge attempt number", 1 << 30, time.Hour, 5 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := attempt{Number: c.attempt, Scheduled: scheduled, Started: scheduled.Add(c.before), Policy: policy}
			assert.Equal(t, c.want, transientRetryDelay(at))
		})
	}
	assert.Equal(t, 8*time.Second, transientRetryDelay(attempt{Number: 3, Policy: policy}), "no times: the policy alone")
	assert.Zero(t, transientRetryDelay(attempt{Number: 3, Scheduled: scheduled, Started: scheduled.Add(time.Hour)}), "no policy: the server's")
	noCap := &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2}
	assert.Equal(t, 100*time.Second, transientRetryDelay(attempt{Number: 30, Scheduled: scheduled, Started: scheduled.Add(24 * time.Hour), Policy: noCap}),
		"no MaximumInterval: Temporal's default of 100 × the first interval")
	flat := &temporal.RetryPolicy{InitialInterval: 3 * time.Second, BackoffCoefficient: 1, MaximumInterval: time.Minute}
	assert.Equal(t, 3*time.Second, transientRetryDelay(attempt{Number: 9, Scheduled: scheduled, Started: scheduled.Add(time.Hour), Policy: flat}),
		"a coefficient of 1: the first interval every time")
}

// TestFailuresWithoutATimeUseTheBoundedBackoff checks which failures take
// transientRetryDelay: those without a time of their own.
func TestFailuresWithoutATimeUseTheBoundedBackoff(t *testing.T) {
	now := time.Date(2026, 12, 5, 22, 0, 0, 0, time.UTC)
	policy := &temporal.RetryPolicy{InitialInterval: 2 * time.Second, BackoffCoefficient: 2, MaximumInterval: 5 * time.Minute}
	at := attempt{Number: 8, Scheduled: now.Add(-10 * time.Second), Started: now, Policy: policy}
	cases := []struct {
		name string
		err  error
		want time.Duration
	}{
		{"5xx", &apierr.Error{Kind: apierr.Transient, Status: 500}, 12 * time.Second},
		{"our deadline", fmt.Errorf("okta: create user: %w", context.DeadlineExceeded), 12 * time.Second},
		{"unclassified", errors.New("connection reset by peer"), 12 * time.Second},
		{"429 without a reset", &apierr.Error{Kind: apierr.RateLimited, Status: 429}, 12 * time.Second},
		{"429 with a reset", &apierr.Error{Kind: apierr.RateLimited, Status: 429, RetryAt: now.Add(40 * time.Second)}, 40 * time.Second},
		{"busy keeps its own schedule", &apierr.Error{Kind: apierr.Busy, Status: 409}, 5 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, temporalError(c.err, at, now), &appErr)
			assert.Equal(t, c.want, appErr.NextRetryDelay())
		})
	}
	unauthorized := func(n int32) *temporal.ApplicationError {
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, temporalError(&apierr.Error{Kind: apierr.Unauthorized, Status: 401},
			attempt{Number: n, Scheduled: now.Add(-time.Minute), Started: now, Policy: policy}, now), &appErr)
		return appErr
	}
	if e := unauthorized(2); assert.False(t, e.NonRetryable()) {
		assert.Equal(t, 4*time.Second, e.NextRetryDelay())
	}
	if e := unauthorized(UnauthorizedMaxAttempts); assert.True(t, e.NonRetryable()) {
		assert.Zero(t, e.NextRetryDelay(), "no delay on the last attempt")
	}
}
