package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/activity"
	sdkworker "go.temporal.io/sdk/worker"

	"entra2okta/internal/control"
	"entra2okta/internal/devtemporal"
	"entra2okta/workflows"
)

// TestCheckRatesWarns: a worker starting where starter throttle has set an
// override, or where another worker asks for another rate, says so in its
// log; a queue whose rate is its own draws no warning.
func TestCheckRatesWarns(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	c, ns := srv.Client(), srv.Namespace()

	if err := control.SetActivityRateLimit(ctx, c, ns, workflows.OktaTaskQueue, 2, "incident 42"); err != nil {
		t.Fatal(err)
	}
	other := sdkworker.New(c, workflows.OktaCreateTaskQueue, sdkworker.Options{TaskQueueActivitiesPerSecond: 3, Identity: "old-worker"})
	other.RegisterActivityWithOptions(func(context.Context) error { return nil }, activity.RegisterOptions{Name: "noop"})
	if err := other.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(other.Stop)
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		q, err := control.DescribeActivityRate(ctx, c, ns, workflows.OktaCreateTaskQueue)
		if err == nil && len(q.Workers) > 0 {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("the other worker never showed as a poller: %+v %v", q, err)
		}
	}

	cfg := DefaultConfig()
	cfg.TemporalNamespace = ns
	var logs bytes.Buffer
	checkRates(ctx, c, cfg, slog.New(slog.NewJSONHandler(&logs, nil)), 0)

	warned := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if line == "" || json.Unmarshal([]byte(line), &rec) != nil || rec["level"] != "WARN" {
			continue
		}
		warned[rec["taskQueue"].(string)] = line
	}
	if w := warned[workflows.OktaTaskQueue]; !strings.Contains(w, "starter throttle --reset") || !strings.Contains(w, `"inForce":2`) ||
		!strings.Contains(w, "incident 42") || !strings.Contains(w, `"variable":"OKTA_RPS"`) {
		t.Errorf("override warning: %q", w)
	}
	if w := warned[workflows.OktaCreateTaskQueue]; !strings.Contains(w, "whichever polled last") || !strings.Contains(w, "old-worker") ||
		!strings.Contains(w, `"variable":"OKTA_CREATE_RPS"`) {
		t.Errorf("disagreement warning: %q", w)
	}
	if w, ok := warned[workflows.GraphTaskQueue]; ok || len(warned) != 2 {
		t.Errorf("unexpected warnings: %v (graph: %q)", warned, w)
	}
}
