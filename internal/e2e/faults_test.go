package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/control"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/workflows"
)

// Fault tests use fewer users than TestBatchOf500 (the numbers are in each
// test) so that the whole suite fits in about ten minutes on two cores.

// retrySignIns signs in again, with the right password, every user of the
// plan whose password Okta does not hold yet (their earlier sign-in met the
// fault), up to rounds times. It fails the test if some never succeed.
func (h *harness) retrySignIns(p plan, rounds int) {
	h.t.Helper()
	hc := h.ca.HTTPClient(15 * time.Second)
	notStored := func() []fakeentra.DemoUser {
		var left []fakeentra.DemoUser
		for _, u := range p.signingIn() {
			if !h.okta.CheckPassword(u.UserPrincipalName, u.Password) {
				left = append(left, u)
			}
		}
		return left
	}
	left := notStored()
	for r := 0; r < rounds && len(left) > 0; r++ {
		h.t.Logf("round %d: %d users sign in again", r+1, len(left))
		for _, u := range left {
			_, _ = h.signIn(hc, u.UserPrincipalName, u.Password, "198.51.100.200")
		}
		if left = notStored(); len(left) > 0 {
			sleep(h.ctx, 3*time.Second)
		}
	}
	if len(left) > 0 {
		h.t.Fatalf("%d users could not sign in after %d rounds, e.g. %s", len(left), rounds, left[0].UserPrincipalName)
	}
}

func noUnexpected(t *testing.T, res *signInResult) {
	t.Helper()
	if len(res.unexpected)+len(res.failedRPC) > 0 {
		t.Errorf("sign-ins: unexpected %v; failed %v", res.unexpected, res.failedRPC)
	}
}

// TestWorkerKilledMidBatch runs the real worker binary, SIGKILLs it while the
// batch imports (80 users) and starts it again.
func TestWorkerKilledMidBatch(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	bin := buildWorker(t)
	sc := scenario{users: 80, deadline: 110 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	w := h.startWorkerProcess(bin)
	killed := false
	p := h.runBatchWith("e2e-kill", sc, func() {
		// Kill once some users are imported and others are not.
		end := time.Now().Add(sc.deadline / 2)
		for time.Now().Before(end) {
			counts, err := control.CountStates(h.ctx, h.tc, "default", "e2e-kill")
			if err == nil && counts.Imported() >= 10 {
				break
			}
			sleep(h.ctx, 200*time.Millisecond)
		}
		before, _ := control.CountStates(h.ctx, h.tc, "default", "e2e-kill")
		w.kill(t)
		killed = true
		t.Logf("worker SIGKILLed with %d of %d users imported (%v)", before.Imported(), sc.users, before.States)
		if before.Imported() >= int64(sc.users) {
			t.Fatal("the worker was killed after the import: not mid-batch")
		}
		sleep(h.ctx, 2*time.Second)
		h.startWorkerProcess(bin)
	}, nil, func(p plan, res *signInResult) { noUnexpected(t, res) })
	if !killed {
		t.Fatal("the worker was not killed")
	}
	h.checkInvariants(p)
}

// TestTemporalUnreachableWhileUsersSignIn stops the Temporal server (state
// kept in SQLite) before the sign-ins (60 users): the hook answers within its
// budget, its signals are lost, and after Temporal returns on the same address
// the workflows reach Migrated by reconciliation.
func TestTemporalUnreachableWhileUsersSignIn(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 7*time.Minute)
	defer cancel()
	sc := scenario{users: 60, deadline: 130 * time.Second, persist: true}
	h := newHarness(t, ctx, harnessOptions{users: sc.users, persist: true})
	h.startWorker()
	p := h.runBatch("e2e-temporal-down", sc, func(plan, *signInResult) {
		h.stopTemporal()
		t.Log("Temporal stopped")
	}, func(p plan, res *signInResult) {
		noUnexpected(t, res)
		// Okta gives the hook 3 s; the hook's budget is 2.5 s.
		if res.slowest > 3*time.Second {
			t.Errorf("a sign-in took %s while Temporal was down", res.slowest)
		}
		for _, c := range h.okta.HookCalls() {
			for _, a := range c.Attempts {
				if a.Status != http.StatusOK || a.Duration > 2500*time.Millisecond {
					t.Errorf("hook attempt for %s while Temporal was down: %+v", c.Username, a)
				}
			}
		}
		// Long enough for the hook's signal retries to give up.
		sleep(h.ctx, 20*time.Second)
		h.startTemporal()
		t.Log("Temporal started again")
	})
	h.checkInvariants(p)
	// Migrated by the hook's signal (delivered late) or by reconciliation,
	// never only by the deadline's last check.
	reconciled := 0
	for _, u := range p.signingIn() {
		st := h.userStatus(u.UserPrincipalName)
		switch {
		case strings.HasPrefix(st.Reason, "reconciled"):
			reconciled++
		case strings.HasPrefix(st.Reason, "at the deadline"):
			t.Errorf("%s was migrated only at the deadline: %s", u.UserPrincipalName, st.Reason)
		}
	}
	if reconciled == 0 {
		t.Error("no user was migrated by reconciliation: the outage did not lose the signals")
	}
	t.Logf("%d of %d users migrated by reconciliation", reconciled, len(p.signingIn()))
}

func (h *harness) userStatus(login string) workflows.UserStatus {
	h.t.Helper()
	var res workflows.MigrateUserResult
	ctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
	defer cancel()
	if err := h.tc.GetWorkflow(ctx, workflows.UserWorkflowID(login), "").Get(ctx, &res); err != nil {
		h.t.Fatalf("%s: %v", login, err)
	}
	return res.Status
}

var oktaUserRoutes = []fakeokta.Route{fakeokta.RouteCreateUser, fakeokta.RouteListUsers, fakeokta.RouteGetUser,
	fakeokta.RouteUpdateUser, fakeokta.RouteActivateUser, fakeokta.RouteExpirePassword, fakeokta.RouteLogs}

// oktaAnswer is one request fakeokta answered, read back from its log.
type oktaAnswer struct {
	Route  string
	Status int
}

// oktaAnswers returns the route and status of every request fakeokta logged,
// oldest first.
func (h *harness) oktaAnswers() []oktaAnswer {
	var out []oktaAnswer
	for _, line := range strings.Split(h.logs.String(), "\n") {
		var rec struct {
			Msg string
			oktaAnswer
		}
		if json.Unmarshal([]byte(line), &rec) == nil && rec.Msg == "fakeokta request" {
			out = append(out, rec.oktaAnswer)
		}
	}
	return out
}

// TestOktaRateLimitStormsAnd5xx migrates 60 users while Okta answers 10 % of
// the user API with 500 and bursts of 429.
func TestOktaRateLimitStormsAnd5xx(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := scenario{users: 60, deadline: 75 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	for _, r := range oktaUserRoutes {
		h.okta.SetErrorRate(r, 0.10)
	}
	storms := make(chan struct{})
	// Two bursts of 429s, 8 s apart, during the import. (Retries are bounded
	// by time, not by a count a storm of short resets would use up; the
	// workflows' unit test TestMigrateUser_LongThrottlingDoesNotFailTheUser
	// covers a 30-deep storm.)
	go func() {
		defer close(storms)
		for i := 0; i < 2 && h.ctx.Err() == nil; i++ {
			for _, r := range []fakeokta.Route{fakeokta.RouteCreateUser, fakeokta.RouteGetUser, fakeokta.RouteListUsers} {
				h.okta.InjectFault(r, fakeokta.Fault{Status: http.StatusTooManyRequests, ResetIn: time.Second, Times: 4})
			}
			sleep(h.ctx, 8*time.Second)
		}
	}()
	h.startWorker()
	p := h.runBatch("e2e-okta-storms", sc, nil, func(p plan, res *signInResult) { noUnexpected(t, res) })
	<-storms
	var throttled, failed int
	for _, a := range h.oktaAnswers() {
		switch a.Status {
		case http.StatusTooManyRequests:
			throttled++
		case http.StatusInternalServerError:
			failed++
		}
	}
	if throttled < 8 || failed == 0 {
		t.Errorf("the faults did not happen: %d answers 429, %d answers 5xx", throttled, failed)
	}
	t.Logf("Okta answered 429 %d times and 5xx %d times", throttled, failed)
	h.checkInvariants(p)
}

// TestA5xxAfterThrottlingRetriesSoon throttles one user's create seven times
// (Okta's reset a second away) and then answers 500. The seven 429s raise
// the activity's attempt number to 8, for which the retry policy alone says
// 2 s × 2^7 = 256 s; the activities bound that wait by the time since the
// create was first scheduled (about ten seconds) plus 2 s, so the user is
// imported well within the batch's 60 s.
func TestA5xxAfterThrottlingRetriesSoon(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := scenario{users: 1, deadline: 60 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	h.okta.InjectFault(fakeokta.RouteCreateUser, fakeokta.Fault{Status: http.StatusTooManyRequests, ResetIn: time.Second, Times: 7})
	h.okta.FailNext(fakeokta.RouteCreateUser, 1, http.StatusInternalServerError)
	h.startWorker()
	p := h.runBatch("e2e-5xx-after-429s", sc, nil, func(p plan, res *signInResult) { noUnexpected(t, res) })
	var statuses []string
	for _, a := range h.oktaAnswers() {
		if a.Route == string(fakeokta.RouteCreateUser) {
			statuses = append(statuses, strconv.Itoa(a.Status))
		}
	}
	if want := "429 429 429 429 429 429 429 500 200"; strings.Join(statuses, " ") != want {
		t.Errorf("the creates were answered %v, want %s", statuses, want)
	}
	h.checkInvariants(p)
}

// TestOktaReadOnly signs 60 users in while Okta is in read-only mode (the
// hook answers VERIFIED, Okta stores nothing): nobody is Migrated then; they
// are once they sign in again after read-only mode ends.
func TestOktaReadOnly(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := scenario{users: 60, deadline: 60 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	h.startWorker()
	p := h.runBatch("e2e-readonly", sc, func(plan, *signInResult) { h.okta.SetReadOnly(true) }, func(p plan, res *signInResult) {
		noUnexpected(t, res) // read-only mode still signs users in
		sleep(h.ctx, 5*time.Second)
		verified := 0
		for _, c := range h.okta.HookCalls() {
			if c.Outcome == fakeokta.HookVerified {
				verified++
				if c.Stored {
					t.Errorf("read-only Okta stored %s's password", c.Username)
				}
			}
		}
		if verified < len(p.signingIn()) {
			t.Errorf("%d VERIFIED hook answers in read-only mode, expected %d", verified, len(p.signingIn()))
		}
		sc, err := control.CountStates(h.ctx, h.tc, "default", "e2e-readonly")
		if err != nil {
			t.Fatal(err)
		}
		if n := sc.States[workflows.StateMigrated]; n != 0 {
			t.Errorf("%d users Migrated although read-only Okta stored no password", n)
		}
		for _, u := range p.signingIn() {
			if st, _ := h.okta.User(u.UserPrincipalName); st.HasPassword {
				t.Errorf("%s has a password in read-only Okta", u.UserPrincipalName)
			}
		}
		h.okta.SetReadOnly(false)
		h.retrySignIns(p, 3)
	})
	h.checkInvariants(p)
}

// TestEntraHangsThrottlesAndLocks migrates 60 users while Graph hangs and
// throttles (429 + Retry-After), the token endpoint throttles and hangs
// sign-ins, Entra locks one account (AADSTS50053), and an attacker tries 25
// wrong passwords on another. Sign-ins refused because of the faults succeed
// when the users try again; the locked and the attacked users are shielded
// (their attempts stop reaching Entra), never migrated, and end Expired.
func TestEntraHangsThrottlesAndLocks(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := scenario{users: 60, deadline: 150 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	for _, r := range []fakeentra.Route{fakeentra.RouteGraphUser, fakeentra.RouteGraphTransitive, fakeentra.RouteGraphDomains} {
		// A hang, then a run of 429s: on the domains, 13 failed attempts in
		// a row, which failed the whole batch while retries were capped at
		// 12 attempts; they are now bounded by time.
		times := 5
		if r == fakeentra.RouteGraphDomains {
			times = 13
		}
		h.entra.InjectFault(r, fakeentra.Fault{Hang: true, HangFor: 10 * time.Second, Times: 1})
		h.entra.InjectFault(r, fakeentra.Fault{Status: http.StatusTooManyRequests, RetryAfter: 2 * time.Second, Times: times})
	}
	two := h.ordinaryUsers(2)
	victim, locked := two[0], two[1]
	h.aside = map[string]workflows.State{victim.UserPrincipalName: workflows.StateExpired, locked.UserPrincipalName: workflows.StateExpired}
	h.startWorker()
	p := h.runBatch("e2e-entra-faults", sc, func(p plan, _ *signInResult) {
		h.entra.InjectFault(fakeentra.RouteToken, fakeentra.Fault{AADSTS: 50053, User: locked.UserPrincipalName})
		// Three faulted sign-ins in all: more can land on one user and use
		// up the hook's per-user attempt budget, which counts Entra's own
		// throttling and time-outs.
		h.entra.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Status: http.StatusTooManyRequests, RetryAfter: time.Second, Times: 2})
		h.entra.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Hang: true, HangFor: 10 * time.Second, Times: 1})
		hc := h.ca.HTTPClient(15 * time.Second)
		for i := range 25 {
			pw := fmt.Sprintf("Summer2026!%d", i)
			p.wrong[victim.UserPrincipalName] = append(p.wrong[victim.UserPrincipalName], pw)
			if ok, err := h.signIn(hc, victim.UserPrincipalName, pw, "203.0.113.66"); ok || err != nil {
				t.Errorf("attack %d: ok=%v err=%v", i, ok, err)
			}
		}
		for i := range 5 {
			if ok, err := h.signIn(hc, locked.UserPrincipalName, locked.Password, "198.51.100.250"); ok || err != nil {
				t.Errorf("sign-in %d of the locked user: ok=%v err=%v", i, ok, err)
			}
		}
	}, func(p plan, res *signInResult) {
		for _, u := range res.unexpected {
			if strings.Contains(u, "expected false") {
				t.Errorf("a sign-in succeeded that should not: %s", u)
			}
		}
		if len(res.failedRPC) > 0 {
			t.Errorf("sign-ins failed: %v", res.failedRPC)
		}
		t.Logf("%d right-password sign-ins refused under Entra faults", len(res.unexpected))
		h.retrySignIns(p, 10)
	})
	if lk := h.entra.Lockout(victim.UserPrincipalName); lk.Locked {
		t.Errorf("the attacker locked %s out of Entra ID: %+v", victim.UserPrincipalName, lk)
	}
	if n := h.entra.TokenRequests(victim.UserPrincipalName); n >= 25 {
		t.Errorf("all %d attempts of the attacker reached Entra", n)
	}
	if n := h.entra.TokenRequests(locked.UserPrincipalName); n >= 5 {
		t.Errorf("all %d sign-ins of the locked user reached Entra", n)
	}
	t.Logf("Entra saw %d of the attacker's 25 attempts and %d of the locked user's 5", h.entra.TokenRequests(victim.UserPrincipalName),
		h.entra.TokenRequests(locked.UserPrincipalName))
	h.checkInvariants(p)
}

// TestSameBatchTwiceAndOverlapping starts a batch of 60 users, starts it a
// second time, and starts a second batch over the same users.
func TestSameBatchTwiceAndOverlapping(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := scenario{users: 60, deadline: 60 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	h.startWorker()
	var second atomic.Value
	p := h.runBatchWith("e2e-twice", sc, func() {
		in := workflows.MigrateBatchInput{Batch: "e2e-twice", Source: batchSource(h), DeadlineAfter: sc.deadline,
			Policy: workflows.PolicyExpirePassword, ReconcileEvery: workflows.MinReconcileEvery}
		if _, err := control.StartBatch(h.ctx, h.tc, in); err == nil || !strings.Contains(err.Error(), "already running") {
			t.Errorf("starting the same batch twice: %v", err)
		}
		in.Batch = "e2e-overlap"
		run, err := control.StartBatch(h.ctx, h.tc, in)
		if err != nil {
			t.Fatal(err)
		}
		second.Store(run)
	}, nil, func(p plan, res *signInResult) { noUnexpected(t, res) })
	run := second.Load().(interface {
		Get(context.Context, any) error
	})
	var res workflows.MigrateBatchResult
	gctx, cancel2 := context.WithTimeout(h.ctx, 2*time.Minute)
	defer cancel2()
	if err := run.Get(gctx, &res); err != nil {
		t.Fatalf("overlapping batch: %v", err)
	}
	if res.Progress.Listed != sc.users || res.Progress.Started+res.Progress.AlreadyRunning != sc.users || res.Progress.StartFailures != 0 {
		t.Errorf("overlapping batch progress %+v", res.Progress)
	}
	first, err := control.BatchProgress(h.ctx, h.tc, "e2e-twice")
	if err != nil {
		t.Fatal(err)
	}
	// Each user's workflow was started by one batch; the other found it
	// running (a user whose workflow had already ended may be started again).
	if first.Started+res.Progress.Started < sc.users || first.AlreadyRunning+res.Progress.AlreadyRunning == 0 {
		t.Errorf("the batches started %d and %d users, found %d and %d running", first.Started, res.Progress.Started,
			first.AlreadyRunning, res.Progress.AlreadyRunning)
	}
	t.Logf("first batch: %d started, %d already running; overlapping batch: %d started, %d already running",
		first.Started, first.AlreadyRunning, res.Progress.Started, res.Progress.AlreadyRunning)
	h.checkInvariants(p)
}

// TestHookServerRestartedDuringSignIns restarts the hook server (graceful
// shutdown, new server on the same address) while 60 users sign in.
func TestHookServerRestartedDuringSignIns(t *testing.T) {
	skipIfShort(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sc := scenario{users: 60, deadline: 60 * time.Second}
	h := newHarness(t, ctx, harnessOptions{users: sc.users})
	h.okta.SetLatency(fakeokta.RouteAuthn, 150*time.Millisecond) // spread the sign-ins over the restart
	h.startWorker()
	restarted := make(chan struct{})
	p := h.runBatch("e2e-hook-restart", sc, func(p plan, _ *signInResult) {
		go func() {
			defer close(restarted)
			for len(h.okta.HookCalls()) < len(p.signingIn())/3 && h.ctx.Err() == nil {
				time.Sleep(20 * time.Millisecond)
			}
			h.stopHook()
			t.Logf("hook server stopped after %d hook calls", len(h.okta.HookCalls()))
			time.Sleep(time.Second)
			h.startHook()
		}()
	}, func(p plan, res *signInResult) {
		<-restarted
		for _, u := range res.unexpected {
			if strings.Contains(u, "expected false") {
				t.Errorf("a sign-in succeeded that should not: %s", u)
			}
		}
		t.Logf("%d right-password sign-ins refused during the restart", len(res.unexpected))
		h.retrySignIns(p, 3)
	})
	h.checkInvariants(p)
}
