package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/control"
	"entra2okta/internal/demodata"
	"entra2okta/internal/devcluster"
	"entra2okta/internal/devpostgres"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
)

// The topology tests run the production shape: PostgreSQL, the
// Temporal server, two worker processes and two hook server processes behind
// a round-robin proxy that fakeokta calls as the one inline hook
// (internal/devcluster). They run one at a time: each starts six processes.

var (
	clusterBinOnce sync.Once
	clusterBinDir  string
	clusterBinErr  error
)

// buildClusterBinaries builds ./worker and ./hookserver once per test process.
func buildClusterBinaries(t *testing.T) string {
	t.Helper()
	clusterBinOnce.Do(func() {
		if clusterBinDir, clusterBinErr = os.MkdirTemp("", "e2e-cluster-bin-"); clusterBinErr != nil {
			return
		}
		clusterBinErr = devcluster.Build(context.Background(), clusterBinDir)
	})
	if clusterBinErr != nil {
		t.Fatal(clusterBinErr)
	}
	return clusterBinDir
}

// topology is a harness whose parts run as the production topology.
type topology struct {
	*harness
	c *devcluster.Cluster
}

// newTopology starts the topology with users seeded as newHarness does; the
// harness's log sink receives every process's output.
func newTopology(t *testing.T, ctx context.Context, users int) *topology {
	t.Helper()
	skipIfShort(t)
	db := devpostgres.StartForTest(t, devpostgres.Options{})
	bin := buildClusterBinaries(t)
	h := newBareHarness(t, ctx)
	c, err := devcluster.Start(ctx, devcluster.Options{
		DB:     db,
		BinDir: bin,
		Seed: func(o *fakeokta.Server, e *fakeentra.Server) (devcluster.Tenant, error) {
			// Quotas far above what a test needs, as in newHarness.
			for b := range fakeokta.DefaultRateLimits {
				o.SetRateLimit(b, 100_000)
			}
			d, err := demodata.Seed(o, e, users)
			h.dir = d
			return devcluster.Tenant{TenantID: d.TenantID, GraphClientID: d.GraphClientID, GraphClientSecret: d.GraphClientSecret,
				PublicClientID: d.PublicClientID}, err
		},
		Okta:      fakeokta.Options{APITokens: []string{apiToken}, RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 100_000}},
		WorkerEnv: []string{"OKTA_RPS=200", "OKTA_CREATE_RPS=200", "GRAPH_RPS=200"},
		LogLevel:  "debug",
		Output:    h.logs,
		Logger:    h.logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("close the topology: %v", err)
		}
	})
	h.ca, h.okta, h.entra, h.oktaURL, h.entraURL, h.tc = c.CA(), c.Okta(), c.Entra(), c.OktaURL(), c.EntraURL(), c.Client()
	for _, u := range h.dir.Users {
		h.addPassword(u.Password)
		h.addPassword("Okta-own-" + u.Password)
	}
	return &topology{harness: h, c: c}
}

// checkInvariants adds PostgreSQL's server log to the logs searched for
// passwords, then checks the harness's invariants.
func (tp *topology) checkInvariants(p plan) {
	tp.t.Helper()
	if b, err := os.ReadFile(tp.c.DB().LogFile()); err == nil {
		_, _ = tp.logs.Write(b)
	}
	tp.harness.checkInvariants(p)
}

// answered counts the hook answers in replica i's log.
func (tp *topology) answered(i int) int {
	return strings.Count(tp.c.HookLogs(i), `"msg":"password import answered"`)
}

// signInsAnswered checks the sign-ins of a topology test: no sign-in
// succeeded that should not, and every hook call got an HTTP answer from a
// replica (after Okta's one retry). A right password may have been refused
// when the hook answered undecided (403: the user's migration could not be
// resolved within the hook's 500 ms identity budget on a loaded machine),
// which the product answers so that the user tries again; those users sign
// in again here, and Okta must then hold every right password.
func (tp *topology) signInsAnswered(p plan, res *signInResult) {
	tp.t.Helper()
	t := tp.t
	for _, u := range res.unexpected {
		if strings.Contains(u, "expected false") {
			t.Errorf("a sign-in succeeded that should not: %s", u)
		}
	}
	if len(res.failedRPC) > 0 {
		t.Errorf("sign-ins failed: %v", res.failedRPC)
	}
	undecided, unanswered := 0, 0
	for _, c := range tp.okta.HookCalls() {
		if c.Outcome != fakeokta.HookFailed {
			continue
		}
		if last := c.Attempts[len(c.Attempts)-1]; last.Status == http.StatusForbidden {
			undecided++
		} else {
			unanswered++
			t.Errorf("hook call for %s got no answer from a replica: %+v", c.Username, c.Attempts)
		}
	}
	t.Logf("%d right-password sign-ins refused; %d hook calls answered undecided, %d unanswered", len(res.unexpected), undecided, unanswered)
	tp.retrySignIns(p, 3)
}

// TestTopologyBatch imports 300 users through two workers and signs them in
// through fakeokta, both hook replicas answering.
func TestTopologyBatch(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tp := newTopology(t, ctx, 300)
	sc := scenario{users: 300, deadline: 180 * time.Second}
	p := tp.runBatch("topo-300", sc, nil, func(p plan, res *signInResult) { tp.signInsAnswered(p, res) })
	conns := tp.c.HookTraffic()
	a0, a1 := tp.answered(0), tp.answered(1)
	t.Logf("hook replicas: %v requests, %d and %d answers", conns, a0, a1)
	if conns[0] == 0 || conns[1] == 0 || a0 == 0 || a1 == 0 {
		t.Errorf("a hook replica got no traffic: requests %v, answers %d and %d", conns, a0, a1)
	}
	for i := range 2 {
		if !strings.Contains(tp.c.WorkerLogs(i), `"level":"DEBUG"`) {
			t.Errorf("worker %d logged nothing at debug level", i)
		}
	}
	tp.checkInvariants(p)
}

// TestTopologyWorkerKilledMidImport SIGKILLs one of the two workers while
// 100 users import, and starts it again.
func TestTopologyWorkerKilledMidImport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tp := newTopology(t, ctx, 100)
	sc := scenario{users: 100, deadline: 130 * time.Second}
	killed := false
	p := tp.runBatchWith("topo-kill", sc, func() {
		before := tp.importedAtLeast(t, "topo-kill", 10, sc.deadline/2)
		if err := tp.c.KillWorker(0); err != nil {
			t.Fatal(err)
		}
		killed = true
		t.Logf("worker 0 SIGKILLed with %d of %d users imported (%v)", before.Imported(), sc.users, before.States)
		if before.Imported() >= int64(sc.users) {
			t.Fatal("the worker was killed after the import: not mid-import")
		}
		sleep(tp.ctx, 3*time.Second)
		if err := tp.c.StartWorker(0); err != nil {
			t.Fatal(err)
		}
	}, nil, func(p plan, res *signInResult) { tp.signInsAnswered(p, res) })
	if !killed {
		t.Fatal("the worker was not killed")
	}
	tp.checkInvariants(p)
}

// TestTopologyHookReplicaKilledDuringSignIns SIGKILLs one hook replica while
// 100 users sign in, with calls in flight on it: the other answers (Okta's
// one retry of a call the killed replica dropped lands on it), and every
// hook call gets an answer.
func TestTopologyHookReplicaKilledDuringSignIns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tp := newTopology(t, ctx, 100)
	sc := scenario{users: 100, deadline: 130 * time.Second}
	var killedAt int
	var connsAtKill []int64
	killed := make(chan struct{})
	p := tp.runBatch("topo-hook-kill", sc, func(p plan, _ *signInResult) {
		// Entra takes 400 ms to check a password, so that hook calls are in
		// flight on the replica when it dies.
		tp.entra.InjectFault(fakeentra.RouteToken, fakeentra.Fault{Latency: 400 * time.Millisecond})
		go func() {
			defer close(killed)
			for len(tp.okta.HookCalls()) < len(p.signingIn())/3 && tp.ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			connsAtKill = tp.c.HookTraffic()
			if err := tp.c.KillHook(0); err != nil {
				t.Error(err)
			}
			killedAt = len(tp.okta.HookCalls())
			t.Logf("hook replica 0 SIGKILLed after %d hook calls (requests %v)", killedAt, connsAtKill)
		}()
	}, func(p plan, res *signInResult) {
		<-killed
		tp.signInsAnswered(p, res)
	})
	retried := 0
	for _, c := range tp.okta.HookCalls() {
		if len(c.Attempts) > 1 && c.Attempts[len(c.Attempts)-1].Status == http.StatusOK {
			retried++
		}
	}
	conns := tp.c.HookTraffic()
	t.Logf("%d hook calls answered on Okta's retry; requests per replica at the kill %v, at the end %v",
		retried, connsAtKill, conns)
	if retried == 0 {
		t.Error("no hook call was retried onto the other replica: none was in flight on the killed one")
	}
	if connsAtKill[0] == 0 || conns[1] <= connsAtKill[1] {
		t.Errorf("replica 0 served before the kill and replica 1 after it: connections %v then %v", connsAtKill, conns)
	}
	if killedAt >= len(tp.okta.HookCalls()) {
		t.Error("no hook call came after the kill")
	}
	tp.checkInvariants(p)
}

// TestTopologyTemporalRestartedDuringSignIns SIGKILLs the Temporal server
// while 100 users sign in and starts it again 15 s later: the hook replicas
// answer Okta within its deadline meanwhile (undecided where a user's
// migration cannot be resolved without Temporal; those users sign in again),
// and every user ends as planned, through the hooks' signals or
// reconciliation.
func TestTopologyTemporalRestartedDuringSignIns(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tp := newTopology(t, ctx, 100)
	sc := scenario{users: 100, deadline: 160 * time.Second}
	tp.okta.SetLatency(fakeokta.RouteAuthn, 100*time.Millisecond)
	restarted := make(chan struct{})
	p := tp.runBatch("topo-temporal", sc, func(p plan, _ *signInResult) {
		go func() {
			defer close(restarted)
			for len(tp.okta.HookCalls()) < len(p.signingIn())/4 && tp.ctx.Err() == nil {
				time.Sleep(10 * time.Millisecond)
			}
			if err := tp.c.KillTemporal(); err != nil {
				t.Error(err)
			}
			t.Logf("Temporal killed after %d hook calls", len(tp.okta.HookCalls()))
			sleep(tp.ctx, 15*time.Second)
			if err := tp.c.RestartTemporal(tp.ctx); err != nil {
				t.Error(err)
				return
			}
			t.Log("Temporal started again")
		}()
	}, func(p plan, res *signInResult) {
		<-restarted
		tp.signInsAnswered(p, res)
		// Okta gives the hook 3 s; the hook's budget is 2.5 s.
		if res.slowest > 3*time.Second+500*time.Millisecond {
			t.Errorf("a sign-in took %s while Temporal was down", res.slowest)
		}
	})
	reconciled := 0
	for _, u := range p.signingIn() {
		if strings.HasPrefix(tp.userStatus(u.UserPrincipalName).Reason, "reconciled") {
			reconciled++
		}
	}
	t.Logf("%d of %d users migrated by reconciliation", reconciled, len(p.signingIn()))
	tp.checkInvariants(p)
}

// TestTopologyPostgresRestartedDuringImport crashes PostgreSQL (pg_ctl stop
// -m immediate) while 100 users import, and starts it again 5 s later.
func TestTopologyPostgresRestartedDuringImport(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tp := newTopology(t, ctx, 100)
	sc := scenario{users: 100, deadline: 130 * time.Second}
	halted := false
	p := tp.runBatchWith("topo-pg", sc, func() {
		before := tp.importedAtLeast(t, "topo-pg", 10, sc.deadline/2)
		if err := tp.c.HaltDB(tp.ctx, "immediate"); err != nil {
			t.Fatal(err)
		}
		halted = true
		t.Logf("PostgreSQL halted (immediate) with %d of %d users imported", before.Imported(), sc.users)
		sleep(tp.ctx, 5*time.Second)
		if err := tp.c.RestartDB(tp.ctx); err != nil {
			t.Fatal(err)
		}
		t.Log("PostgreSQL started again")
	}, nil, func(p plan, res *signInResult) { tp.signInsAnswered(p, res) })
	if !halted {
		t.Fatal("PostgreSQL was not halted")
	}
	tp.checkInvariants(p)
}

func clusterBinCleanup() {
	if clusterBinDir != "" {
		_ = os.RemoveAll(filepath.Clean(clusterBinDir))
	}
}

// importedAtLeast waits up to wait for n of batch's users to be imported and
// returns the batch's counts then (the moment a fault is injected). It fails
// the test when the counts cannot be read at that moment.
func (tp *topology) importedAtLeast(t *testing.T, batch string, n int64, wait time.Duration) control.StateCounts {
	t.Helper()
	end := time.Now().Add(wait)
	for time.Now().Before(end) {
		counts, err := control.CountStates(tp.ctx, tp.tc, "default", batch)
		if err == nil && counts.Imported() >= n {
			break
		}
		sleep(tp.ctx, 200*time.Millisecond)
	}
	counts, err := control.CountStates(tp.ctx, tp.tc, "default", batch)
	if err != nil {
		t.Fatalf("count %s's users before the fault: %v", batch, err)
	}
	return counts
}
