package main

import (
	"strings"
	"testing"
	"time"

	"entra2okta/internal/control"
)

func times(t0 time.Time, offsets ...time.Duration) []time.Time {
	ts := make([]time.Time, len(offsets))
	for i, d := range offsets {
		ts[i] = t0.Add(d)
	}
	return ts
}

func TestSteadyRate(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	// 101 creates one second apart: 60/min everywhere.
	var even []time.Duration
	for i := range 101 {
		even = append(even, time.Duration(i)*time.Second)
	}
	if got := steadyRate(times(t0, even...), 0.1, 0.9); got != 60 {
		t.Errorf("even: %v/min, want 60", got)
	}
	// A slow ramp and a slow tail outside the 10-90% span do not count.
	skewed := append([]time.Duration{}, even...)
	for i := range 10 {
		skewed[i] = time.Duration(i-100) * time.Second // ramp spread over 100 s before
	}
	if got := steadyRate(times(t0, skewed...), 0.1, 0.9); got != 60 {
		t.Errorf("ramp: %v/min, want 60", got)
	}
	if got := steadyRate(nil, 0.1, 0.9); got != 0 {
		t.Errorf("none: %v, want 0", got)
	}
	if got := steadyRate(times(t0, 0, 0, 0), 0.1, 0.9); got != 0 {
		t.Errorf("simultaneous: %v, want 0", got)
	}
}

func TestPeakInWindow(t *testing.T) {
	t0 := time.Unix(1_700_000_000, 0)
	ts := times(t0, 0, 10*time.Second, 59*time.Second, 60*time.Second, 61*time.Second, 200*time.Second)
	// [10 s, 70 s) holds 10, 59, 60 and 61 s; [0, 60 s) only three.
	if got := peakInWindow(ts, time.Minute); got != 4 {
		t.Errorf("peak %d, want 4", got)
	}
	if got := peakInWindow(nil, time.Minute); got != 0 {
		t.Errorf("empty: peak %d, want 0", got)
	}
}

func TestDescribeQueueRate(t *testing.T) {
	tuned := control.TunedRate{Bucket: "users", LimitPerMin: 300, Target: 0.97}
	for _, tc := range []struct {
		q    control.QueueRate
		want bulkQueueRate
	}{
		{control.QueueRate{Effective: float64(float32(4.85)), Source: control.RateFromOverride, Tuned: &tuned,
			Override: &control.RateOverride{RPS: 4.85, By: control.TunerIdentity}},
			bulkQueueRate{RPS: 4.85, Source: "learned from Okta's headers: users bucket, 300/min for this token, 97%", TunedAfter: -1}},
		{control.QueueRate{Effective: 2, Source: control.RateFromOverride, Override: &control.RateOverride{RPS: 2, By: control.StarterIdentity}},
			bulkQueueRate{RPS: 2, Source: "pinned by starter throttle", TunedAfter: -1}},
		{control.QueueRate{Effective: 9.7, Source: control.RateFromWorkers},
			bulkQueueRate{RPS: 9.7, Source: "the workers' configured rate", TunedAfter: -1}},
	} {
		if got := describeQueueRate(tc.q); got != tc.want {
			t.Errorf("describeQueueRate = %+v, want %+v", got, tc.want)
		}
	}
}

func TestParseBulkFlags(t *testing.T) {
	var stderr strings.Builder
	f, err := parseBulkFlags([]string{"-users", "300", "-limit", "600", "-token-share", "50"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if f.topology != topologyDev || f.users != 300 || f.shareLimit != 300 || f.getLimit != 2000 {
		t.Errorf("defaults: topology %q, users %d, share limit %d, get limit %d", f.topology, f.users, f.shareLimit, f.getLimit)
	}
	// 5 min + 3 × 300 users / 300 a minute.
	if f.timeout != 8*time.Minute {
		t.Errorf("timeout %s, want 8m", f.timeout)
	}
	if f, err = parseBulkFlags([]string{"-topology", "cluster"}, &stderr); err != nil || f.topology != topologyCluster {
		t.Errorf("-topology cluster: %+v, %v", f, err)
	}
	if f, err = parseBulkFlags([]string{"-topology", "both"}, &stderr); err != nil || f.topology != topologyBoth {
		t.Errorf("-topology both: %+v, %v", f, err)
	}
	// runBulkBoth appends -topology to the caller's flags: the last wins.
	if f, err = parseBulkFlags([]string{"-topology", "both", "-topology", "cluster"}, &stderr); err != nil || f.topology != topologyCluster {
		t.Errorf("-topology both then cluster: %+v, %v", f, err)
	}
	for _, args := range [][]string{
		{"-topology", "k8s"},
		{"-topology", ""},
		{"-users", "0"},
		{"-token-share", "101"},
		{"-target", "1.5"},
		{"-no-such-flag"},
	} {
		if _, err := parseBulkFlags(args, &stderr); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
