package e2e

import (
	"context"
	"testing"
	"time"

	"entra2okta/internal/control"
	"entra2okta/workflows"
)

// scenario runs a whole batch: start, wait for the import, play the sign-ins,
// wait for the deadline, check the invariants. during, when set, runs while
// the users sign in (the fault of a test).
type scenario struct {
	users    int
	deadline time.Duration // the batch's DeadlineAfter
	persist  bool
}

func (h *harness) runBatch(batch string, sc scenario, beforeSignIns, afterSignIns func(p plan, res *signInResult)) plan {
	h.t.Helper()
	return h.runBatchWith(batch, sc, nil, beforeSignIns, afterSignIns)
}

// runBatchWith is runBatch with duringImport called right after the start.
func (h *harness) runBatchWith(batch string, sc scenario, duringImport func(), beforeSignIns, afterSignIns func(p plan, res *signInResult)) plan {
	h.t.Helper()
	start := time.Now()
	run := h.startBatch(batch, sc.deadline)
	if duringImport != nil {
		duringImport()
	}
	h.waitImported(batch, sc.deadline)
	h.t.Logf("imported %d users in %s", len(h.dir.Users), time.Since(start).Round(time.Millisecond))
	p := h.makePlan()
	if beforeSignIns != nil {
		beforeSignIns(p, nil)
	}
	res := h.doSignIns(p)
	h.t.Logf("sign-ins done %s after the start (slowest %s)", time.Since(start).Round(time.Millisecond), res.slowest.Round(time.Millisecond))
	if afterSignIns != nil {
		afterSignIns(p, res)
	}
	if time.Since(start) > sc.deadline {
		h.t.Fatalf("the sign-ins ended after the batch's deadline (%s): the test's timing is wrong", sc.deadline)
	}
	h.waitFinal(len(h.dir.Users), sc.deadline+3*time.Minute)
	var final workflows.MigrateBatchResult
	gctx, cancel := context.WithTimeout(h.ctx, 2*time.Minute)
	defer cancel()
	if err := run.Get(gctx, &final); err != nil {
		prog, perr := control.BatchProgress(h.ctx, h.tc, batch)
		h.t.Fatalf("batch %s did not complete once its users had: %v (progress %+v, %v)", batch, err, prog, perr)
	}
	if final.Progress.Listed != len(h.dir.Users) || final.Progress.Started+final.Progress.AlreadyRunning != len(h.dir.Users) {
		h.t.Errorf("batch progress %+v, expected %d users listed and started", final.Progress, len(h.dir.Users))
	}
	h.t.Logf("batch final %s after the start: %v", time.Since(start).Round(time.Millisecond), final.Progress.States)
	return p
}

// TestBatchOf500 migrates 500 users with the demo's realistic mix and no
// fault: normal, MFA-enforced, disabled, guests, federated, STAGED in Okta,
// already on Okta passwords, expired passwords and conditional access; sign-ins
// with right and wrong passwords.
func TestBatchOf500(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	sc := scenario{users: 500, deadline: 240 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	h.startWorker()
	p := h.runBatch("e2e-500", sc, nil, func(p plan, res *signInResult) {
		if len(res.unexpected)+len(res.failedRPC) > 0 {
			t.Errorf("sign-ins: unexpected %v; failed %v", res.unexpected, res.failedRPC)
		}
	})
	if len(p.right) == 0 || len(p.wrongThenRight) == 0 || len(p.refused) == 0 || len(p.wrongOnly) == 0 || len(h.dir.AlreadyInOkta) == 0 || len(h.dir.Staged) == 0 {
		t.Fatalf("the mix is not realistic: %d right, %d wrong then right, %d refused, %d wrong only, %d already, %d staged",
			len(p.right), len(p.wrongThenRight), len(p.refused), len(p.wrongOnly), len(h.dir.AlreadyInOkta), len(h.dir.Staged))
	}
	h.checkInvariants(p)
}
