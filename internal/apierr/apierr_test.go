package apierr_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"entra2okta/internal/apierr"
)

func TestKindsThroughWrapping(t *testing.T) {
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	base := &apierr.Error{Kind: apierr.RateLimited, Service: "okta", Op: "create user", Status: 429, Code: "E0000047",
		RetryAt: now.Add(7 * time.Second)}
	err := fmt.Errorf("activity: %w", base)
	if apierr.KindOf(err) != apierr.RateLimited || !apierr.Is(err, apierr.RateLimited) || apierr.Is(err, apierr.NotFound) {
		t.Fatalf("kind lost through wrapping: %v", apierr.KindOf(err))
	}
	if d := apierr.RetryAfter(err, now); d != 7*time.Second {
		t.Fatalf("RetryAfter = %v", d)
	}
	if d := apierr.RetryAfter(err, now.Add(time.Minute)); d != 0 {
		t.Fatalf("RetryAfter in the past = %v, want 0", d)
	}
	if got := base.Error(); got != "okta: create user: RateLimited (HTTP 429 E0000047)" {
		t.Fatalf("Error() = %q", got)
	}
	if apierr.KindOf(errors.New("plain")) != apierr.Transient {
		t.Fatal("an unclassified error must count as transient")
	}
	if d := apierr.RetryAfter(&apierr.Error{Kind: apierr.NotFound}, now); d != 0 {
		t.Fatal("RetryAfter of a non-rate-limit error")
	}
	cause := errors.New("dial tcp: refused")
	e := &apierr.Error{Kind: apierr.Transient, Service: "graph", Op: "list users", Err: cause}
	if !errors.Is(e, cause) || e.Error() != "graph: list users: Transient: dial tcp: refused" {
		t.Fatalf("unwrap/format: %q", e.Error())
	}
	for k, want := range map[apierr.Kind]string{apierr.Conflict: "Conflict", apierr.Invalid: "Invalid", apierr.Unauthorized: "Unauthorized", apierr.Busy: "Busy", apierr.Kind(42): "Kind(42)"} {
		if k.String() != want {
			t.Errorf("%d.String() = %q", int(k), k.String())
		}
	}
}
