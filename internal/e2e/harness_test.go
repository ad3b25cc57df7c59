package e2e

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"entra2okta/internal/testkit/logbuf"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/demodata"
	"entra2okta/internal/devstack"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

const apiToken = "e2e-okta-api-token"

// harness is one isolated deployment: its own Temporal dev server (its
// workflow IDs are per login, so tests cannot share one), emulators, hook
// server and worker.
type harness struct {
	t   *testing.T
	ctx context.Context

	logs   *logbuf.Buffer
	logger *slog.Logger

	ca       *loopbacktls.Authority
	caFile   string
	okta     *fakeokta.Server
	entra    *fakeentra.Server
	oktaURL  string
	entraURL string
	dir      demodata.Directory

	tc client.Client
	// st is the stack newHarness starts (nil for newTopology's harness).
	st *devstack.Stack

	// aside are users the plan leaves out of the sign-ins, with their
	// expected final state (a test signs them in itself).
	aside map[string]workflows.State

	pwMu      sync.Mutex
	passwords map[string]bool // every password typed or seeded in the run
}

type harnessOptions struct {
	users int
	// persist keeps Temporal's state in SQLite so that the server can be
	// stopped and started again on the same address.
	persist bool
	// passwordPolicy, when set, is the default Okta password policy's
	// complexity object, and the hook server checks verified passwords
	// against the policy it reads.
	passwordPolicy map[string]any
}

func skipIfShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end: starts a real Temporal server, the emulators, the hook server and the worker")
	}
}

// newBareHarness returns a harness with its log sink and logger only (kept
// in a file when the test fails); the caller starts the rest.
func newBareHarness(t *testing.T, ctx context.Context) *harness {
	t.Helper()
	h := &harness{t: t, ctx: ctx, logs: &logbuf.Buffer{}, passwords: map[string]bool{}}
	h.logger = slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	t.Cleanup(func() {
		if t.Failed() {
			p := filepath.Join(os.TempDir(), "e2e-"+strings.ReplaceAll(t.Name(), "/", "_")+".log")
			if err := os.WriteFile(p, []byte(h.logs.String()), 0o600); err == nil {
				t.Logf("component logs kept in %s", p)
			}
		}
	})
	return h
}

func newHarness(t *testing.T, ctx context.Context, opts harnessOptions) *harness {
	t.Helper()
	h := newBareHarness(t, ctx)
	// Quotas far above what a test needs: the rate-limit faults are injected
	// explicitly, where a test wants them.
	limits := map[fakeokta.Bucket]int{fakeokta.BucketUsers: 100_000}
	for b := range fakeokta.DefaultRateLimits {
		limits[b] = 100_000
	}
	dev := devtemporal.Options{HostPort: freeAddr(t)}
	if opts.persist {
		dev.DBFile = filepath.Join(t.TempDir(), "temporal.db")
	}
	st, err := devstack.Start(ctx, devstack.Options{
		DevServer: dev,
		Seed: func(o *fakeokta.Server, e *fakeentra.Server) (devstack.Tenant, error) {
			d, err := demodata.Seed(o, e, opts.users)
			if opts.passwordPolicy != nil {
				o.SetPasswordComplexity(opts.passwordPolicy)
			}
			h.dir = d
			return devstack.DemoTenant(d), err
		},
		Okta: fakeokta.Options{APITokens: []string{apiToken}, RateLimits: limits},
		Hook: &devstack.HookOptions{OktaPasswordPolicy: opts.passwordPolicy != nil},
		WorkerConfig: func(cfg *worker.Config) {
			cfg.OktaRPS, cfg.OktaCreateRPS, cfg.GraphRPS = 200, 200, 200
			cfg.LogLevel, cfg.ShutdownTimeout = "debug", 5*time.Second
		},
		WorkerEnv:    []string{"OKTA_RPS=200", "GRAPH_RPS=200", "LOG_LEVEL=debug"},
		WorkerOutput: h.logs, Dir: t.TempDir(), Output: h.logs, Logger: h.logger,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Error(err)
		}
	})
	h.st, h.tc, h.ca, h.caFile = st, st.Client(), st.CA(), st.CAFile()
	h.okta, h.entra, h.oktaURL, h.entraURL = st.Okta(), st.Entra(), st.OktaURL(), st.EntraURL()
	for _, u := range h.dir.Users {
		h.addPassword(u.Password)
		h.addPassword("Okta-own-" + u.Password)
	}
	return h
}

func (h *harness) addPassword(pw string) {
	h.pwMu.Lock()
	defer h.pwMu.Unlock()
	h.passwords[pw] = true
}

// startTemporal starts the dev server again on its address (and, with
// persist, its state) after stopTemporal.
func (h *harness) startTemporal() {
	h.t.Helper()
	if err := h.st.StartTemporal(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) stopTemporal() { _ = h.st.StopTemporal() }

// startHook starts the hook server again on its address (the one fakeokta
// calls) after stopHook.
func (h *harness) startHook() {
	h.t.Helper()
	if err := h.st.StartHook(h.ctx); err != nil {
		h.t.Fatal(err)
	}
}

// stopHook shuts the hook server down gracefully (in-flight requests finish,
// queued signals are delivered, within 10 s).
func (h *harness) stopHook() { h.st.StopHook() }

// startWorker runs the worker in-process until the test ends.
func (h *harness) startWorker() { h.st.StartWorker() }

var (
	workerBinOnce sync.Once
	workerBin     string
	workerBinErr  error
)

// buildWorker builds ./worker once per test process.
func buildWorker(t *testing.T) string {
	t.Helper()
	workerBinOnce.Do(func() {
		dir, err := os.MkdirTemp("", "e2e-worker-")
		if err != nil {
			workerBinErr = err
			return
		}
		workerBin, workerBinErr = devstack.BuildWorker(context.Background(), dir)
	})
	if workerBinErr != nil {
		t.Fatal(workerBinErr)
	}
	return workerBin
}

// workerProcess is the worker binary running as a child process.
type workerProcess struct{ p *devstack.WorkerProcess }

// startWorkerProcess starts the worker binary bin; it stops when the test
// ends.
func (h *harness) startWorkerProcess(bin string) *workerProcess {
	h.t.Helper()
	p, err := h.st.StartWorkerProcess(h.ctx, bin)
	if err != nil {
		h.t.Fatal(err)
	}
	return &workerProcess{p: p}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *workerProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.p.Kill(); err != nil {
		t.Fatal(err)
	}
}

// --- batches -------------------------------------------------------------

func (h *harness) startBatch(batch string, deadlineAfter time.Duration) client.WorkflowRun {
	h.t.Helper()
	run, err := control.StartBatch(h.ctx, h.tc, workflows.MigrateBatchInput{
		Batch: batch, Source: batchSource(h),
		DeadlineAfter: deadlineAfter, Policy: workflows.PolicyExpirePassword, ReconcileEvery: workflows.MinReconcileEvery,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return run
}

// ordinaryUsers returns n users who are eligible, not yet in Okta with a
// password, and whose Entra state is normal.
func (h *harness) ordinaryUsers(n int) []fakeentra.DemoUser {
	already := map[string]bool{}
	for _, l := range h.dir.AlreadyInOkta {
		already[strings.ToLower(l)] = true
	}
	var out []fakeentra.DemoUser
	for _, u := range h.dir.Users {
		if len(out) == n {
			break
		}
		if !u.Guest && !u.Disabled && !u.Federated && u.State == fakeentra.StateNormal && !already[strings.ToLower(u.UserPrincipalName)] {
			out = append(out, u)
		}
	}
	if len(out) < n {
		h.t.Fatalf("only %d ordinary users", len(out))
	}
	return out
}

func batchSource(h *harness) entra.Source { return entra.Source{GroupID: h.dir.AllStaffGroupID} }

// waitImported waits until every user of the batch is past the import phase.
func (h *harness) waitImported(batch string, timeout time.Duration) {
	h.t.Helper()
	end := time.Now().Add(timeout)
	var last workflows.BatchProgress
	for time.Now().Before(end) {
		p, err := control.BatchProgress(h.ctx, h.tc, batch)
		if err == nil {
			last = p
			if p.ListingDone && p.Started+p.AlreadyRunning == p.Listed && p.Importing == 0 &&
				p.States[workflows.StatePending]+p.States[workflows.StateImporting] == 0 && p.Listed > 0 {
				// Users another batch started count too.
				sc, err := control.CountStates(h.ctx, h.tc, "default", "")
				if err == nil && sc.Total >= int64(p.Listed) && sc.States[workflows.StatePending]+sc.States[workflows.StateImporting] == 0 {
					return
				}
			}
		}
		sleep(h.ctx, 500*time.Millisecond)
	}
	h.t.Fatalf("batch %s not imported within %s: %+v", batch, timeout, last)
}

// waitFinal waits until every user workflow of the namespace (each test has
// its own server; a user belongs to the batch that started its workflow) has
// ended.
func (h *harness) waitFinal(want int, timeout time.Duration) {
	h.t.Helper()
	end := time.Now().Add(timeout)
	var last control.StateCounts
	for time.Now().Before(end) {
		sc, err := control.CountStates(h.ctx, h.tc, "default", "")
		if err == nil {
			last = sc
			if sc.Total >= int64(want) && sc.Done() == sc.Total {
				return
			}
		}
		sleep(h.ctx, time.Second)
	}
	h.t.Fatalf("users not final within %s: %+v", timeout, last)
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// --- sign-ins ------------------------------------------------------------

// plan says who signs in and how, and what final state each user expects.
type plan struct {
	right          []fakeentra.DemoUser // right password at once
	wrongThenRight []fakeentra.DemoUser // a typo first
	refused        []fakeentra.DemoUser // right password, refused by Entra's policy
	wrongOnly      []fakeentra.DemoUser // only wrong passwords: never stored
	expect         map[string]workflows.State
	wrong          map[string][]string // login -> wrong passwords typed
}

func (p plan) signingIn() []fakeentra.DemoUser {
	return append(append([]fakeentra.DemoUser{}, p.right...), p.wrongThenRight...)
}

// makePlan assigns every user of the directory an expected final state.
func (h *harness) makePlan() plan {
	p := plan{expect: map[string]workflows.State{}, wrong: map[string][]string{}}
	already := map[string]bool{}
	for _, l := range h.dir.AlreadyInOkta {
		already[strings.ToLower(l)] = true
	}
	i := 0
	for _, u := range h.dir.Users {
		switch {
		case u.Guest || u.Disabled || u.Federated:
			p.expect[u.UserPrincipalName] = workflows.StateIneligible
			continue
		case already[strings.ToLower(u.UserPrincipalName)]:
			p.expect[u.UserPrincipalName] = workflows.StateAlreadyMigrated
			continue
		case h.aside[u.UserPrincipalName] != "":
			p.expect[u.UserPrincipalName] = h.aside[u.UserPrincipalName]
			continue
		}
		i++
		switch {
		case u.State == fakeentra.StatePasswordExpired || u.State == fakeentra.StateConditionalAccess:
			p.refused = append(p.refused, u)
			p.expect[u.UserPrincipalName] = workflows.StateExpired
		case i%10 == 7: // never comes
			p.expect[u.UserPrincipalName] = workflows.StateExpired
		case i%10 == 3: // only types wrong passwords
			p.wrongOnly = append(p.wrongOnly, u)
			p.expect[u.UserPrincipalName] = workflows.StateExpired
		case i%6 == 5:
			p.wrongThenRight = append(p.wrongThenRight, u)
			p.expect[u.UserPrincipalName] = workflows.StateMigrated
		default:
			p.right = append(p.right, u)
			p.expect[u.UserPrincipalName] = workflows.StateMigrated
		}
	}
	return p
}

type signInResult struct {
	mu         sync.Mutex
	unexpected []string
	failedRPC  []string
	slowest    time.Duration
}

func (r *signInResult) record(login string, ok, want bool, err error, took time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if took > r.slowest {
		r.slowest = took
	}
	if err != nil {
		r.failedRPC = append(r.failedRPC, login+": "+err.Error())
		return
	}
	if ok != want {
		r.unexpected = append(r.unexpected, fmt.Sprintf("%s: sign-in %v, expected %v", login, ok, want))
	}
}

// signIn signs in through fakeokta's /api/v1/authn.
func (h *harness) signIn(hc *http.Client, login, password, ip string) (bool, error) {
	h.addPassword(password)
	code, err := devstack.SignIn(h.ctx, hc, h.oktaURL, login, password, ip)
	switch {
	case err != nil:
		return false, err
	case code == http.StatusOK:
		return true, nil
	case code == http.StatusUnauthorized:
		return false, nil
	}
	return false, fmt.Errorf("authn answered %d", code)
}

func wrongPassword(u fakeentra.DemoUser, n int) string {
	return fmt.Sprintf("%s-typo%d", u.Password, n)
}

// doSignIns plays the plan with 8 concurrent users. Right passwords of the
// right/wrongThenRight users must succeed, everything else must be refused.
func (h *harness) doSignIns(p plan) *signInResult {
	hc := h.ca.HTTPClient(15 * time.Second)
	res := &signInResult{}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	do := func(f func()) {
		wg.Add(1)
		sem <- struct{}{}
		go func() { defer wg.Done(); defer func() { <-sem }(); f() }()
	}
	try := func(u fakeentra.DemoUser, pw, ip string, want bool) {
		start := time.Now()
		ok, err := h.signIn(hc, u.UserPrincipalName, pw, ip)
		res.record(u.UserPrincipalName, ok, want, err, time.Since(start))
	}
	// The kinds of sign-in are interleaved (by login), so that a fault
	// injected during the sign-ins meets every kind.
	var jobs []struct {
		login string
		f     func()
	}
	add := func(login string, f func()) {
		jobs = append(jobs, struct {
			login string
			f     func()
		}{login, f})
	}
	for i, u := range p.right {
		add(u.UserPrincipalName, func() { try(u, u.Password, fmt.Sprintf("198.51.100.%d", 1+i%250), true) })
	}
	for i, u := range p.wrongThenRight {
		w := wrongPassword(u, 1)
		p.wrong[u.UserPrincipalName] = append(p.wrong[u.UserPrincipalName], w)
		add(u.UserPrincipalName, func() {
			ip := fmt.Sprintf("192.0.2.%d", 1+i%250)
			try(u, w, ip, false)
			try(u, u.Password, ip, true)
		})
	}
	for i, u := range p.wrongOnly {
		ws := []string{wrongPassword(u, 1), wrongPassword(u, 2)}
		p.wrong[u.UserPrincipalName] = append(p.wrong[u.UserPrincipalName], ws...)
		add(u.UserPrincipalName, func() {
			for _, w := range ws {
				try(u, w, fmt.Sprintf("203.0.113.%d", 1+i%250), false)
			}
		})
	}
	for i, u := range p.refused {
		add(u.UserPrincipalName, func() { try(u, u.Password, fmt.Sprintf("198.18.0.%d", 1+i%250), false) })
	}
	sort.Slice(jobs, func(a, b int) bool { return pwID(jobs[a].login) < pwID(jobs[b].login) })
	for _, j := range jobs {
		do(j.f)
	}
	wg.Wait()
	return res
}

// --- invariants ----------------------------------------------------------

// checkInvariants asserts the suite's promises for a batch whose users all
// reached a final state: no user lost, none duplicated in Okta, every stored
// password the user's real Entra password (never a wrong one), and no
// password of the run in any log line or workflow history.
func (h *harness) checkInvariants(p plan) {
	h.t.Helper()
	t := h.t
	// 0 lost: every user of the directory has a workflow in its expected state.
	lost, wrongState := 0, 0
	for _, u := range h.dir.Users {
		id := workflows.UserWorkflowID(u.UserPrincipalName)
		var res workflows.MigrateUserResult
		gctx, cancel := context.WithTimeout(h.ctx, 30*time.Second)
		err := h.tc.GetWorkflow(gctx, id, "").Get(gctx, &res)
		cancel()
		if err != nil {
			lost++
			if lost <= 10 {
				t.Errorf("user %s: no completed workflow: %v", u.UserPrincipalName, err)
			}
			continue
		}
		if want := p.expect[u.UserPrincipalName]; res.State != want {
			wrongState++
			if wrongState <= 10 {
				t.Errorf("user %s: final state %s (%s; %s), expected %s", u.UserPrincipalName, res.State, res.Reason, res.Error, want)
			}
		}
	}
	if lost+wrongState > 0 {
		t.Errorf("%d users lost, %d in an unexpected state, of %d", lost, wrongState, len(h.dir.Users))
	}

	// 0 duplicated: one Okta user per login.
	byLogin := map[string]int{}
	for _, u := range h.okta.Users() {
		byLogin[strings.ToLower(u.Login)]++
	}
	for l, n := range byLogin {
		if n != 1 {
			t.Errorf("%d Okta users have the login %s", n, l)
		}
	}
	for _, u := range h.dir.Users {
		switch p.expect[u.UserPrincipalName] {
		case workflows.StateMigrated, workflows.StateExpired, workflows.StateAlreadyMigrated:
			if byLogin[strings.ToLower(u.UserPrincipalName)] != 1 {
				t.Errorf("user %s (expected %s) is not in Okta", u.UserPrincipalName, p.expect[u.UserPrincipalName])
			}
		}
	}

	// Every stored password is the real Entra password; no wrong one stored.
	entraPw := map[string]string{}
	for _, u := range h.dir.Users {
		entraPw[strings.ToLower(u.UserPrincipalName)] = u.Password
	}
	already := map[string]bool{}
	for _, l := range h.dir.AlreadyInOkta {
		already[strings.ToLower(l)] = true
	}
	for _, u := range h.okta.Users() {
		login := strings.ToLower(u.Login)
		if !u.HasPassword || already[login] {
			continue
		}
		if !h.okta.CheckPassword(u.Login, entraPw[login]) {
			t.Errorf("Okta stores a password for %s that is not the user's Entra password", u.Login)
		}
	}
	for _, u := range p.signingIn() {
		if !h.okta.CheckPassword(u.UserPrincipalName, u.Password) {
			t.Errorf("%s signed in with the right password but Okta does not hold it", u.UserPrincipalName)
		}
	}
	for login, ws := range p.wrong {
		for _, w := range ws {
			if h.okta.CheckPassword(login, w) {
				t.Errorf("Okta stored a wrong password for %s", login)
			}
		}
	}
	for _, u := range append(append([]fakeentra.DemoUser{}, p.wrongOnly...), p.refused...) {
		if st, ok := h.okta.User(u.UserPrincipalName); ok && st.HasPassword {
			t.Errorf("%s never signed in successfully but Okta holds a password", u.UserPrincipalName)
		}
	}
	for _, c := range h.okta.HookCalls() {
		if c.Outcome == fakeokta.HookVerified && c.Stored && !h.okta.CheckPassword(c.Username, entraPw[strings.ToLower(c.Username)]) {
			t.Errorf("hook call %s VERIFIED for %s without the Entra password stored", c.EventID, c.Username)
		}
	}

	h.checkNoPasswordLeak()
}

// checkNoPasswordLeak searches every captured log line and every workflow
// history of the namespace (all runs, exported as JSON and as text with the
// payloads decoded) for every password used in the run.
func (h *harness) checkNoPasswordLeak() {
	h.t.Helper()
	t := h.t
	var histories strings.Builder
	n := 0
	var token []byte
	for {
		resp, err := h.tc.ListWorkflow(h.ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000, NextPageToken: token})
		if err != nil {
			t.Fatalf("list workflows: %v", err)
		}
		for _, e := range resp.GetExecutions() {
			n++
			it := h.tc.GetWorkflowHistory(h.ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false,
				enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
			for it.HasNext() {
				ev, err := it.Next()
				if err != nil {
					t.Fatalf("history of %s: %v", e.GetExecution().GetWorkflowId(), err)
				}
				js, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(ev)
				if err != nil {
					t.Fatal(err)
				}
				histories.Write(js)
				histories.WriteString(ev.String()) // payload bytes as text
			}
		}
		if token = resp.GetNextPageToken(); len(token) == 0 {
			break
		}
	}
	if n < len(h.dir.Users)/2 {
		t.Errorf("only %d workflow executions exported", n)
	}
	hist, logs := histories.String(), h.logs.String()
	if len(logs) == 0 {
		t.Error("no log line was captured")
	}
	h.pwMu.Lock()
	defer h.pwMu.Unlock()
	leaks := 0
	for pw := range h.passwords {
		if strings.Contains(logs, pw) {
			leaks++
			t.Errorf("a password of the run (sha256 %s) appears in the logs", pwID(pw))
		}
		if strings.Contains(hist, pw) {
			leaks++
			t.Errorf("a password of the run (sha256 %s) appears in a workflow history", pwID(pw))
		}
		if leaks > 10 {
			return
		}
	}
	t.Logf("searched %d passwords in %d KiB of logs and %d histories (%d KiB)", len(h.passwords), len(logs)>>10, n, len(hist)>>10)
}

// pwID names a password in failure messages without showing any of it.
func pwID(pw string) string {
	h := sha256.Sum256([]byte(pw))
	return hex.EncodeToString(h[:6])
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
