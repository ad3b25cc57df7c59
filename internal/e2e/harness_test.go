package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"entra2okta/internal/control"
	"entra2okta/internal/demodata"
	"entra2okta/internal/devtemporal"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/internal/loopbacktls"
	"entra2okta/internal/okta"
	"entra2okta/internal/worker"
	"entra2okta/workflows"
)

const apiToken = "e2e-okta-api-token"

// logSink collects every log line of the run: in-process slog output, the
// dev server's output and the worker subprocesses' stderr.
type logSink struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *logSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// harness is one isolated deployment: its own Temporal dev server (its
// workflow IDs are per login, so tests cannot share one), emulators, hook
// server and worker.
type harness struct {
	t   *testing.T
	ctx context.Context

	logs   *logSink
	logger *slog.Logger

	ca       *loopbacktls.Authority
	caFile   string
	okta     *fakeokta.Server
	entra    *fakeentra.Server
	oktaURL  string
	entraURL string
	dir      demodata.Directory

	tempHostPort string
	dbFile       string
	temporal     *devtemporal.Server
	tc           client.Client

	secret   string
	hookAddr string
	hookSrv  *hookserver.Server
	policy   pwimport.PolicyConfig // the hook's password policy check (off: zero)

	workerStop func()

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
	h := &harness{t: t, ctx: ctx, logs: &logSink{}, passwords: map[string]bool{}}
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
	var err error
	if h.ca, err = loopbacktls.New(); err != nil {
		t.Fatal(err)
	}
	h.caFile = filepath.Join(t.TempDir(), "ca.pem")
	if err := h.ca.WriteCAFile(h.caFile); err != nil {
		t.Fatal(err)
	}
	h.entra = fakeentra.New(fakeentra.Options{Logger: h.logger})
	// Quotas far above what a test needs: the rate-limit faults are injected
	// explicitly, where a test wants them.
	h.okta = fakeokta.New(fakeokta.Options{APITokens: []string{apiToken}, HookRootCAs: h.ca.CertPool(), Logger: h.logger,
		RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: 100_000}})
	for b := range fakeokta.DefaultRateLimits {
		h.okta.SetRateLimit(b, 100_000)
	}
	es, err := h.ca.Serve("127.0.0.1:0", h.entra)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.entra.Release(); _ = es.Close() })
	oks, err := h.ca.Serve("127.0.0.1:0", h.okta)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = oks.Close() })
	h.entraURL, h.oktaURL = es.URL, oks.URL
	if h.dir, err = demodata.Seed(h.okta, h.entra, opts.users); err != nil {
		t.Fatal(err)
	}
	for _, u := range h.dir.Users {
		h.addPassword(u.Password)
		h.addPassword("Okta-own-" + u.Password)
	}

	h.tempHostPort = freeAddr(t)
	if opts.persist {
		h.dbFile = filepath.Join(t.TempDir(), "temporal.db")
	}
	h.startTemporal()
	// Our own lazy client survives a restart of the server on the same
	// address (the dev server's client is closed with it).
	h.tc, err = client.NewLazyClient(client.Options{HostPort: h.tempHostPort, Namespace: "default",
		Logger: tlog.NewStructuredLogger(h.logger.With("component", "test-client"))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.tc.Close)

	if opts.passwordPolicy != nil {
		h.okta.SetPasswordComplexity(opts.passwordPolicy)
		oc, err := okta.New(ctx, okta.Config{OrgURL: h.oktaURL, APIToken: apiToken, HTTPClient: h.ca.HTTPClient(10 * time.Second)})
		if err != nil {
			t.Fatal(err)
		}
		h.policy = pwimport.PolicyConfig{Source: oc}
	}
	h.secret = "Basic " + randomHex(24)
	h.hookAddr = freeAddr(t)
	h.startHook()
	if _, err := h.okta.SetPasswordImportHook("https://"+h.hookAddr+pwimport.PasswordImportPath, "Authorization", h.secret); err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) addPassword(pw string) {
	h.pwMu.Lock()
	defer h.pwMu.Unlock()
	h.passwords[pw] = true
}

func (h *harness) startTemporal() {
	h.t.Helper()
	srv, err := devtemporal.Start(h.ctx, devtemporal.Options{HostPort: h.tempHostPort, DBFile: h.dbFile,
		SearchAttributes: workflows.SearchAttributes(), Output: h.logs, Logger: h.logger.With("component", "devtemporal")})
	if err != nil {
		h.t.Fatal(err)
	}
	h.temporal = srv
	h.t.Cleanup(func() { h.stopTemporal() })
}

func (h *harness) stopTemporal() {
	if h.temporal != nil {
		_ = h.temporal.Stop()
		h.temporal = nil
	}
}

func (h *harness) verifier() pwimport.Verifier {
	h.t.Helper()
	v, err := entra.NewVerifier(entra.Config{
		AuthorityHost: h.entraURL, TenantID: h.dir.TenantID, ClientID: h.dir.PublicClientID,
		HTTPClient: h.ca.HTTPClient(0), Policy: entra.DefaultPolicy(), Logger: h.logger.With("component", "verifier"),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return v
}

// startHook starts the hook server on h.hookAddr (the address fakeokta calls).
func (h *harness) startHook() {
	h.t.Helper()
	hs, err := hookserver.NewServer(hookserver.ServerConfig{Hook: pwimport.Config{AuthSecret: h.secret, Policy: h.policy}, TLS: h.ca.ServerTLSConfig()},
		h.verifier(), h.tc, h.logger.With("component", "hook"))
	if err != nil {
		h.t.Fatal(err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the port of a server just shut down may linger briefly
		if ln, err = net.Listen("tcp", h.hookAddr); err == nil || i == 50 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		h.t.Fatal(err)
	}
	go func() { _ = hs.Serve(ln) }()
	h.hookSrv = hs
	h.t.Cleanup(h.stopHook)
}

// stopHook shuts the hook server down gracefully (in-flight requests finish,
// queued signals are delivered, within 10 s).
func (h *harness) stopHook() {
	if h.hookSrv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = h.hookSrv.Shutdown(ctx)
	h.hookSrv = nil
}

func (h *harness) workerConfig() worker.Config {
	cfg := worker.DefaultConfig()
	cfg.TemporalAddress, cfg.TemporalNamespace = h.tempHostPort, "default"
	cfg.OktaOrgURL, cfg.OktaAPIToken = h.oktaURL, apiToken
	cfg.EntraTenantID, cfg.EntraClientID, cfg.EntraClientSecret = h.dir.TenantID, h.dir.GraphClientID, h.dir.GraphClientSecret
	cfg.EntraAuthorityHost, cfg.GraphBaseURL = h.entraURL, h.entraURL
	cfg.OktaRPS, cfg.OktaCreateRPS, cfg.GraphRPS, cfg.MetricsAddr = 200, 200, 200, "off"
	cfg.LogLevel = "debug"
	cfg.ShutdownTimeout = 5 * time.Second
	cfg.HTTPClient, cfg.Logger = h.ca.HTTPClient(30*time.Second), h.logger.With("component", "worker")
	return cfg
}

// startWorker runs the worker in-process; Run is started again if it returns
// early (e.g. while Temporal is unreachable), until the test ends.
func (h *harness) startWorker() {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			err := worker.Run(ctx, h.workerConfig())
			if ctx.Err() != nil {
				return
			}
			h.logger.Warn("worker returned; starting it again", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	h.workerStop = func() {
		cancel()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			h.t.Error("the worker did not stop within 30 s")
		}
	}
	h.t.Cleanup(func() { h.workerStop() })
}

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
		workerBin = filepath.Join(dir, "worker")
		if runtime.GOOS == "windows" {
			workerBin += ".exe"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", workerBin, "entra2okta/worker")
		out, err := cmd.CombinedOutput()
		if err != nil {
			workerBinErr = fmt.Errorf("go build ./worker: %w: %s", err, out)
		}
	})
	if workerBinErr != nil {
		t.Fatal(workerBinErr)
	}
	return workerBin
}

// workerProcess is the worker binary running as a child process.
type workerProcess struct {
	cmd  *exec.Cmd
	done chan error
}

func (h *harness) startWorkerProcess(bin string) *workerProcess {
	h.t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+h.tempHostPort, "TEMPORAL_NAMESPACE=default",
		"OKTA_ORG_URL="+h.oktaURL, "OKTA_API_TOKEN="+apiToken,
		"ENTRA_TENANT_ID="+h.dir.TenantID, "ENTRA_CLIENT_ID="+h.dir.GraphClientID,
		"ENTRA_CLIENT_SECRET="+h.dir.GraphClientSecret, "ENTRA_AUTHORITY_HOST="+h.entraURL,
		"GRAPH_BASE_URL="+h.entraURL, "OKTA_RPS=200", "GRAPH_RPS=200", "METRICS_ADDR=off",
		"LOG_LEVEL=debug", "SSL_CERT_FILE="+h.caFile)
	cmd.Stdout, cmd.Stderr = h.logs, h.logs
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	p := &workerProcess{cmd: cmd, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	h.t.Cleanup(func() { p.stop(h.t) })
	return p
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *workerProcess) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Fatal(err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the killed worker did not exit")
	}
}

// stop asks the worker to stop (SIGTERM), then kills it after 15 s.
func (p *workerProcess) stop(t *testing.T) {
	if p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
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
	body, _ := json.Marshal(map[string]string{"username": login, "password": password})
	req, err := http.NewRequestWithContext(h.ctx, http.MethodPost, h.oktaURL+"/api/v1/authn", bytes.NewReader(body))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Forwarded-For", ip)
	resp, err := hc.Do(req)
	if err != nil {
		return false, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	switch resp.StatusCode {
	case http.StatusOK:
		return true, nil
	case http.StatusUnauthorized:
		return false, nil
	}
	return false, fmt.Errorf("authn answered %d", resp.StatusCode)
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
