package control_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"

	"entra2okta/internal/control"
	"entra2okta/internal/devtemporal"
)

func noopActivity(context.Context) error { return nil }

// TestThrottleSetResetAndEffectiveRate: on a real dev server, a rate set by
// throttle wins over the workers' rate and shows with its reason and time;
// resetting it brings the workers' rate back; workers asking for different
// rates are reported as disagreeing.
func TestThrottleSetResetAndEffectiveRate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c, ns := srv.Client(), srv.Namespace()

	if _, set, err := control.ActivityRateLimit(ctx, c, ns, "okta-q"); err != nil || set {
		t.Fatalf("before: set=%v err=%v", set, err)
	}
	startWorker := func(identity string, rps float64) {
		w := sdkworker.New(c, "okta-q", sdkworker.Options{TaskQueueActivitiesPerSecond: rps, Identity: identity})
		w.RegisterActivityWithOptions(noopActivity, activity.RegisterOptions{Name: "noop"})
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	describe := func(check func(control.QueueRate) error) control.QueueRate {
		t.Helper()
		var q control.QueueRate
		var err error
		for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if q, err = control.DescribeActivityRate(ctx, c, ns, "okta-q"); err == nil {
				err = check(q)
			}
			if err == nil {
				return q
			}
			if time.Now().After(end) {
				t.Fatalf("%v (last: %+v)", err, q)
			}
		}
	}

	startWorker("w1", 3.5)
	describe(func(q control.QueueRate) error {
		if q.Source != control.RateFromWorkers || q.Effective != 3.5 || q.Override != nil || q.WorkersDisagree() {
			return fmt.Errorf("one worker at 3.5/s: %+v", q)
		}
		return nil
	})

	before := time.Now().Add(-time.Second)
	if err := control.SetActivityRateLimit(ctx, c, ns, "okta-q", 1.25, "Okta asked us to slow down"); err != nil {
		t.Fatal(err)
	}
	q := describe(func(q control.QueueRate) error {
		if q.Source != control.RateFromOverride || q.Effective != 1.25 || q.Override == nil || q.Override.RPS != 1.25 {
			return fmt.Errorf("override 1.25/s: %+v", q)
		}
		return nil
	})
	if q.Override.Reason != "Okta asked us to slow down" || q.Override.At.Before(before) || q.Override.By == "" {
		t.Errorf("override metadata: %+v", q.Override)
	}
	if rps, set, err := control.ActivityRateLimit(ctx, c, ns, "okta-q"); err != nil || !set || rps != 1.25 {
		t.Fatalf("ActivityRateLimit: rps=%v set=%v err=%v", rps, set, err)
	}

	// The way back: the workers' own rate applies again.
	if err := control.ResetActivityRateLimit(ctx, c, ns, "okta-q", "incident over"); err != nil {
		t.Fatal(err)
	}
	describe(func(q control.QueueRate) error {
		if q.Override != nil || q.Source != control.RateFromWorkers || q.Effective != 3.5 {
			return fmt.Errorf("after reset: %+v (override %+v)", q, q.Override)
		}
		return nil
	})
	if _, set, err := control.ActivityRateLimit(ctx, c, ns, "okta-q"); err != nil || set {
		t.Fatalf("ActivityRateLimit after reset: set=%v err=%v", set, err)
	}
	// Resetting again is harmless.
	if err := control.ResetActivityRateLimit(ctx, c, ns, "okta-q", "again"); err != nil {
		t.Fatal(err)
	}

	// A second worker with another rate: the server applies the latest poll's.
	startWorker("w2", 8)
	describe(func(q control.QueueRate) error {
		if !q.WorkersDisagree() || fmt.Sprint(q.WorkerRates()) != "[3.5 8]" || q.Source != control.RateFromWorkers {
			return fmt.Errorf("two workers at 3.5 and 8/s: %+v", q)
		}
		return nil
	})

	if err := control.SetActivityRateLimit(ctx, c, ns, "okta-q", -1, "bad"); err == nil {
		t.Fatal("negative rate accepted")
	}
}
