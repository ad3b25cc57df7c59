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
			err := temporalError(c.err, c.attempt, now)
			var appErr *temporal.ApplicationError
			require.ErrorAs(t, err, &appErr)
			assert.Equal(t, c.errType, appErr.Type())
			assert.Equal(t, c.nonRetryable, appErr.NonRetryable())
			assert.Equal(t, c.delay, appErr.NextRetryDelay())
			// One cause chain back to the adapter's error (no errors.Join).
			assert.ErrorIs(t, err, c.err)
		})
	}
	assert.NoError(t, temporalError(nil, 1, now))
	already := temporal.NewNonRetryableApplicationError("x", "Custom", nil)
	assert.Same(t, already, temporalError(already, 1, now))
}

func TestErrorTableCoversEveryKind(t *testing.T) {
	for k := apierr.Transient; k <= apierr.Busy; k++ {
		rule, ok := errorTable[k]
		require.True(t, ok, k.String())
		assert.Equal(t, k.String(), rule.errType)
	}
}
