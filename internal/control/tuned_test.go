package control_test

import (
	"testing"

	"entra2okta/internal/control"
)

func TestTunedReasonRoundTrip(t *testing.T) {
	for _, tr := range []control.TunedRate{
		{Bucket: "users", LimitPerMin: 300, Target: 0.97},
		{Bucket: "user-write", LimitPerMin: 1200, Target: 0.955},
	} {
		got, ok := control.ParseTunedReason(tr.Reason())
		if !ok || got != tr {
			t.Errorf("ParseTunedReason(%q) = %+v, %v; want %+v", tr.Reason(), got, ok, tr)
		}
	}
	for _, bad := range []string{"", "set by starter throttle", "bucket=users limit=0/min target=97%", "bucket=users limit=300/min target=0%"} {
		if got, ok := control.ParseTunedReason(bad); ok {
			t.Errorf("ParseTunedReason(%q) = %+v", bad, got)
		}
	}
	q := control.QueueRate{Override: &control.RateOverride{RPS: 1, By: control.StarterIdentity}}
	if !q.Pinned() {
		t.Error("a starter override is not pinned")
	}
	q.Tuned = &control.TunedRate{Bucket: "users", LimitPerMin: 300, Target: 0.97}
	if q.Pinned() || (control.QueueRate{}).Pinned() {
		t.Error("a tuned rate, or none, counts as pinned")
	}
}
