package control_test

import (
	"context"
	"testing"
	"time"

	"entra2okta/internal/control"
	"entra2okta/internal/devtemporal"
)

func TestThrottleChangesServerRateLimit(t *testing.T) {
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
	c := srv.Client()

	if _, set, err := control.ActivityRateLimit(ctx, c, srv.Namespace(), "okta-q"); err != nil || set {
		t.Fatalf("before: set=%v err=%v", set, err)
	}
	if err := control.SetActivityRateLimit(ctx, c, srv.Namespace(), "okta-q", 7.5, "test"); err != nil {
		t.Fatal(err)
	}
	got, set, err := control.ActivityRateLimit(ctx, c, srv.Namespace(), "okta-q")
	if err != nil || !set || got != 7.5 {
		t.Fatalf("after: rps=%v set=%v err=%v", got, set, err)
	}
	if err := control.SetActivityRateLimit(ctx, c, srv.Namespace(), "okta-q", -1, "bad"); err == nil {
		t.Fatal("negative rate accepted")
	}
}
