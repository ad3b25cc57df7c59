package worker

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"entra2okta/internal/devtemporal"
	"entra2okta/workflows"
)

func TestActivityPollers(t *testing.T) {
	for _, tc := range []struct{ partitions, slots, want int }{
		{4, 10, 4},   // the server's default: a poller per partition
		{4, 40, 4},   // more slots do not add pollers
		{1, 10, 2},   // never under the SDK's default
		{8, 5, 5},    // never more pollers than slots to fill
		{16, 40, 16}, // a queue with more partitions (Temporal Cloud on request)
	} {
		if got := activityPollers(tc.partitions, tc.slots); got != tc.want {
			t.Errorf("activityPollers(%d, %d) = %d, want %d", tc.partitions, tc.slots, got, tc.want)
		}
	}
}

// TestQueuePartitions: the dev server reports its 4 partitions of the Okta
// create queue; a server that cannot be asked gives the default.
func TestQueuePartitions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a real Temporal server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Stop() })
	logger := slog.New(slog.DiscardHandler)
	if got := queuePartitions(ctx, srv.Client(), srv.Namespace(), workflows.OktaCreateTaskQueue, logger); got != 4 {
		t.Errorf("partitions = %d, want the dev server's 4", got)
	}
	if got := queuePartitions(ctx, srv.Client(), "no-such-namespace", workflows.OktaCreateTaskQueue, logger); got != defaultPartitions {
		t.Errorf("partitions of an unknown namespace = %d, want the default %d", got, defaultPartitions)
	}
}
