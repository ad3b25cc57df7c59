package control

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"

	"go.temporal.io/sdk/client"
)

// TunedRate is what the workers' rate tuner learned from Okta's rate-limit
// headers and set on a task queue (SetTunedActivityRate). It travels in the
// override's reason, so that every worker, `starter status` and `starter
// throttle` can read where the rate comes from.
type TunedRate struct {
	// Bucket is the Okta rate-limit bucket whose limit sets the rate
	// (internal/okta/oktaclient's RateBucket names, e.g. "users" for the creates).
	Bucket string
	// LimitPerMin is that bucket's X-Rate-Limit-Limit: what this API token
	// may make a minute.
	LimitPerMin int
	// Target is the fraction of LimitPerMin the queue aims at (e.g. 0.95).
	Target float64
}

// Reason renders t as an override's reason; ParseTunedReason reads it back.
func (t TunedRate) Reason() string {
	return fmt.Sprintf("learned from Okta's rate-limit headers: bucket=%s limit=%d/min target=%s%%",
		t.Bucket, t.LimitPerMin, t.TargetPercent())
}

// TargetPercent renders Target as a percentage ("97", "95.5").
func (t TunedRate) TargetPercent() string {
	return strconv.FormatFloat(math.Round(t.Target*10000)/100, 'f', -1, 64)
}

var tunedReason = regexp.MustCompile(`bucket=(\S+) limit=(\d+)/min target=([0-9.]+)%`)

// ParseTunedReason reads a reason written by TunedRate.Reason.
func ParseTunedReason(reason string) (TunedRate, bool) {
	m := tunedReason.FindStringSubmatch(reason)
	if m == nil {
		return TunedRate{}, false
	}
	limit, err1 := strconv.Atoi(m[2])
	pct, err2 := strconv.ParseFloat(m[3], 64)
	if err1 != nil || err2 != nil || limit <= 0 || pct <= 0 {
		return TunedRate{}, false
	}
	return TunedRate{Bucket: m[1], LimitPerMin: limit, Target: pct / 100}, true
}

// SetTunedActivityRate sets a task queue's rate as the workers' tuner does:
// an override recorded under TunerIdentity with t as its reason. Callers
// must not overwrite a pinned rate (QueueRate.Pinned).
func SetTunedActivityRate(ctx context.Context, c client.Client, namespace, taskQueue string, rps float64, t TunedRate) error {
	if rps <= 0 {
		return fmt.Errorf("tuned rate must be > 0, got %v", rps)
	}
	return setRate(ctx, c, namespace, taskQueue, rps, t.Reason(), TunerIdentity)
}

// ResetTunedActivityRate removes the tuner's override of a task queue: the
// workers' own rate applies again.
func ResetTunedActivityRate(ctx context.Context, c client.Client, namespace, taskQueue, reason string) error {
	return resetRate(ctx, c, namespace, taskQueue, reason, TunerIdentity)
}
