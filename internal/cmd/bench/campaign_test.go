package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"entra2okta/workflows"
)

// TestCampaign runs bench campaign's campaign with 2,000 users on the real
// dev server and worker process: a CSV source, a continue-as-new threshold
// low enough that the batch continues as new in both its phases, creates
// that fail, users terminated and skipped while importing and while waiting,
// sign-ins through the hook server, and a deadline for the rest. The batch
// must complete, and its counts must equal the users' own search attributes.
// BENCH_CAMPAIGN_USERS changes the size.
func TestCampaign(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the Temporal dev server, the emulators, the hook server and the worker, and migrates 2,000 users")
	}
	o := defaultCampaignOptions()
	o.Users = 2000
	if s := os.Getenv("BENCH_CAMPAIGN_USERS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 {
			t.Fatalf("BENCH_CAMPAIGN_USERS=%q: want a number ≥ 100", s)
		}
		o.Users = n
	}
	o.Page = 100 // the listing can continue as new after any of its 20 pages
	o.HistoryLimit = 300
	// 1 min + users/10 s: the users who do not sign in wait past the listing
	// on a machine that imports 10 users/s.
	o.DeadlineAfter = autoDeadlineAfter(o.Users)
	o.Baseline = -1 // correctness, not speed
	o.HistorySample = 20
	o.Timeout = 20 * time.Minute
	o.Stall = 2 * time.Minute
	o.LogEvery = 30 * time.Second

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fig, err := campaign(ctx, o, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := json.Marshal(fig)
	t.Logf("figures: %s", out)

	if !fig.BatchCompleted {
		t.Errorf("the batch did not complete: %s (stopped: %s) %s", fig.BatchStatus, fig.Stopped, fig.BatchError)
	}
	if !fig.BatchCountsMatchVisibility || fig.LostReports != 0 {
		t.Errorf("the batch's counts differ from visibility by %d: %+v", fig.LostReports, fig.Counts)
	}
	if fig.Started != o.Users {
		t.Errorf("the batch started %d users, want %d", fig.Started, o.Users)
	}
	// The abnormal ends did happen, and every user ended.
	for what, n := range map[string]int{"failed": fig.FailedUsers, "terminated": fig.Terminated, "skipped": fig.Skipped,
		"signed in": fig.SignedIn, "expired": fig.Expired} {
		if n == 0 {
			t.Errorf("no user %s", what)
		}
	}
	// Each failed create fails its user, unless the user was terminated
	// while its create was on the wire.
	if served := fig.Injected.CreateFaultsServed; fig.FailedUsers > served || fig.FailedUsers < served-fig.Injected.Done[actTerminateEarly] {
		t.Errorf("%d users Failed, %d creates failed by fakeokta", fig.FailedUsers, served)
	}
	if ended := fig.FailedUsers + fig.Terminated + fig.Skipped + fig.SignedIn + fig.Expired; ended != o.Users {
		t.Errorf("%d users ended Failed, terminated, Skipped, Migrated or Expired; want all %d", ended, o.Users)
	}
	if len(fig.Injected.Errors) > 0 {
		t.Errorf("actions failed: %v (first: %s)", fig.Injected.Errors, fig.Injected.FirstErr)
	}
	// Both phases continued as new. The waiting phase has reports enough
	// for it (the deadline's) only when the listing ended before the
	// deadline, which a slow machine may not reach.
	if fig.BatchRunsListing < 2 {
		t.Errorf("the listing took %d batch runs; want the threshold to cut it", fig.BatchRunsListing)
	}
	switch {
	case fig.ListingDoneS >= 0 && fig.ListingDoneS < fig.DeadlineS && fig.BatchRunsWaiting < 2:
		t.Errorf("the waiting phase took %d batch runs; want the threshold to cut it", fig.BatchRunsWaiting)
	case fig.ListingDoneS >= fig.DeadlineS:
		t.Logf("the listing ended %.0f s after the start, after the deadline (%.0f s): the waiting phase had %d runs",
			fig.ListingDoneS, fig.DeadlineS, fig.BatchRunsWaiting)
	}
	if fig.PendingChildrenMax >= 2000 {
		t.Errorf("a batch run had %d pending children (Temporal's limit is 2,000)", fig.PendingChildrenMax)
	}
}

func TestPlanCampaign(t *testing.T) {
	o := defaultCampaignOptions()
	o.Users = 1000
	p := planCampaign(o)
	got := map[string]int{}
	seen := map[int]bool{}
	for i, a := range p.actions {
		got[a.kind]++
		if seen[a.i] || a.login != benchLogin(a.i) || (i > 0 && p.actions[i-1].i >= a.i) {
			t.Fatalf("action %d (%+v): users must be distinct and in the source's order", i, a)
		}
		seen[a.i] = true
	}
	// 2 % terminated, 2 % skipped, each half while importing; 70 % of the
	// other 960 sign in; 2 % of creates fail.
	want := map[string]int{actTerminateEarly: 10, actTerminateLate: 10, actSkipEarly: 10, actSkipLate: 10, actSignIn: 672}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: %d users, want %d", k, got[k], n)
		}
	}
	if p.failures != 20 {
		t.Errorf("failures %d, want 20", p.failures)
	}
	total := 0
	for _, tr := range p.faultTranches(o.Users) {
		total += tr.n
	}
	if total != p.failures {
		t.Errorf("the tranches fail %d creates, want %d", total, p.failures)
	}
	if q := planCampaign(o); len(q.actions) != len(p.actions) || q.actions[7] != p.actions[7] {
		t.Error("the plan depends on the seed only")
	}
}

func TestCompareCounts(t *testing.T) {
	p := workflows.BatchProgress{States: map[workflows.State]int{workflows.StateMigrated: 5, workflows.StateFailed: 1},
		Unreported: map[string]int{"Terminated": 2}}
	v := visCounts{states: map[workflows.State]int{workflows.StateMigrated: 5, workflows.StateFailed: 1}, unreported: 2}
	if _, lost := compareCounts(p, v); lost != 0 {
		t.Errorf("equal counts: lost %d", lost)
	}
	v.states[workflows.StateMigrated] = 4
	v.states[workflows.StateAwaitingSignIn] = 1
	v.unreported = 3
	if _, lost := compareCounts(p, v); lost != 3 {
		t.Errorf("lost %d, want 3", lost)
	}
}
