package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/control"
	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeentra"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/workflows"
)

// stackOptions configures startStack.
type stackOptions struct {
	// Users is how many enabled managed-domain members the tenant holds
	// (benchLogin(i)).
	Users int
	// Password, when set, gives user i the Entra password Password(i), adds
	// the verifier's public client to the tenant, and starts the password
	// import hook server, registered in fakeokta.
	Password func(i int) string
	// OktaLimits sets fakeokta's per-minute quotas by bucket (the others keep
	// Okta's defaults). NoOktaLimits puts every bucket and fakeokta's
	// concurrency limit out of reach instead.
	OktaLimits   map[fakeokta.Bucket]int
	NoOktaLimits bool
	// TokenRateShare is the percentage of each bucket the worker's API token
	// may use (fakeokta.Options.TokenRateShare; 0: Okta's default 50 %).
	TokenRateShare int
	// OnCreate, when set, is told the outcome of every POST /api/v1/users.
	OnCreate func(login string, status int)
	// WorkerEnv is added to the worker's environment (rates, concurrency).
	WorkerEnv []string
	// WorkerLog is a file for the worker's output ("": discarded).
	WorkerLog string
}

// benchStack is what the bulk and campaign benchmarks run against: the dev
// stack (internal/devstack) with the pinned Temporal dev server (in memory),
// fakeentra with a seeded tenant, fakeokta behind a counter, optionally the
// hook server, and the worker binary as a process of its own (so its RSS is
// its own).
type benchStack struct {
	srv     *devstack.Stack
	fo      *fakeokta.Server
	oktaURL string
	counter *oktaCounter
	worker  *devstack.WorkerProcess
	logFile *os.File
	peakKB  atomic.Int64
	stop    sync.Once
}

// startStack starts everything; Close stops it.
func startStack(ctx context.Context, log *slog.Logger, opts stackOptions) (_ *benchStack, err error) {
	s := &benchStack{counter: &oktaCounter{onCreate: opts.OnCreate}}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	var wlog io.Writer = io.Discard
	if opts.WorkerLog != "" {
		if s.logFile, err = os.Create(opts.WorkerLog); err != nil {
			return nil, err
		}
		wlog = s.logFile
	}
	fopts := fakeokta.Options{RequestLogLimit: 1, RateLimits: opts.OktaLimits, TokenRateShare: opts.TokenRateShare}
	if opts.NoOktaLimits {
		fopts.RateLimits = map[fakeokta.Bucket]int{}
		for b := range fakeokta.DefaultRateLimits {
			fopts.RateLimits[b] = 1 << 30
		}
		fopts.ConcurrencyLimit = 1 << 20
	}
	graphSecret := "bench-graph-secret"
	dopts := devstack.Options{
		Seed: func(_ *fakeokta.Server, e *fakeentra.Server) (devstack.Tenant, error) {
			err := seedBulkTenant(e, opts.Users, graphSecret, opts.Password)
			return devstack.Tenant{TenantID: bulkTenantID, GraphClientID: bulkClientID, GraphClientSecret: graphSecret,
				PublicClientID: bulkPublicClientID}, err
		},
		Okta: fopts, Entra: fakeentra.Options{RequestLogLimit: 1}, OktaHandler: s.counter.wrap,
		WorkerEnv: append([]string{"LOG_LEVEL=warn"}, opts.WorkerEnv...), WorkerOutput: wlog,
	}
	if opts.Password != nil {
		dopts.Hook = &devstack.HookOptions{}
	}
	log.Info("starting the dev server and the emulators")
	if s.srv, err = devstack.Start(ctx, dopts); err != nil {
		return nil, err
	}
	s.fo, s.oktaURL = s.srv.Okta(), s.srv.OktaURL()
	log.Info("building and starting the worker")
	if s.worker, err = s.srv.StartWorkerProcess(ctx, ""); err != nil {
		return nil, err
	}
	return s, nil
}

// Close stops everything startStack started.
func (s *benchStack) Close() {
	if s.worker != nil {
		s.stopWorker()
	}
	if s.srv != nil {
		_ = s.srv.Close()
	}
	if s.logFile != nil {
		_ = s.logFile.Close()
	}
}

// client is the stack's Temporal client.
func (s *benchStack) client() client.Client { return s.srv.Client() }

// samplePeak records the worker's peak RSS so far.
func (s *benchStack) samplePeak() {
	if s.worker == nil {
		return
	}
	if kb := vmHWM(s.worker.PID()); kb > s.peakKB.Load() {
		s.peakKB.Store(kb)
	}
}

// workerPeakRSSMB is the worker's peak RSS seen, in MB.
func (s *benchStack) workerPeakRSSMB() float64 { return float64(s.peakKB.Load()) / 1024 }

// stopWorker stops the worker (SIGTERM, then SIGKILL after 40 s), once.
func (s *benchStack) stopWorker() {
	s.stop.Do(func() {
		s.samplePeak()
		s.worker.Stop()
	})
}

// startBatchWhenReady starts a batch, retrying for up to a minute until the
// worker is up (it checks the search attributes before it polls).
func startBatchWhenReady(ctx context.Context, c client.Client, in workflows.MigrateBatchInput) (client.WorkflowRun, error) {
	var (
		run client.WorkflowRun
		err error
	)
	for i := 0; i < 300; i++ {
		if run, err = control.StartBatch(ctx, c, in); err == nil || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("start the batch: %w", err)
	}
	return run, nil
}

// The bench tenant.
const (
	bulkTenantID       = "6d1c5b7a-2f3e-4a9b-8c7d-0e1f2a3b4c5d"
	bulkClientID       = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f"
	bulkPublicClientID = "3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d"
	bulkDomain         = "bulk.example.com"
)

// benchLogin is the user principal name of the tenant's user i.
func benchLogin(i int) string { return fmt.Sprintf("user%06d@%s", i, bulkDomain) }

// seedBulkTenant creates a managed tenant with n enabled members and the
// Graph reader app; with password set, each user has password(i) and the
// tenant the verifier's public client (ROPC).
func seedBulkTenant(s *fakeentra.Server, n int, secret string, password func(int) string) error {
	if err := s.AddTenant(fakeentra.Tenant{ID: bulkTenantID, DisplayName: "Bulk"}); err != nil {
		return err
	}
	if err := s.AddDomain(bulkTenantID, fakeentra.Domain{Name: bulkDomain, Default: true}); err != nil {
		return err
	}
	if err := s.AddClient(fakeentra.Client{ID: bulkClientID, Secret: secret, TenantID: bulkTenantID, DisplayName: "bench reader"}); err != nil {
		return err
	}
	if password != nil {
		if err := s.AddClient(fakeentra.Client{ID: bulkPublicClientID, Public: true, ConsentedScopes: []string{"User.Read"},
			TenantID: bulkTenantID, DisplayName: "bench verifier"}); err != nil {
			return err
		}
	}
	for i := 0; i < n; i++ {
		upn := benchLogin(i)
		u := fakeentra.User{UserPrincipalName: upn, Attributes: map[string]any{
			"givenName": "User", "surname": fmt.Sprintf("N%06d", i), "displayName": fmt.Sprintf("User %06d", i),
			"mail": upn, "jobTitle": "Engineer", "department": "R&D", "businessPhones": []any{"+1 555 0100"},
		}}
		if password != nil {
			u.Password = password(i)
		}
		if _, err := s.AddUser(u); err != nil {
			return err
		}
	}
	return nil
}

// oktaCounter sees fakeokta's answers as the worker did: the 429s, the
// completion time of every successful create and, for onCreate, each
// create's login and status.
type oktaCounter struct {
	mu                sync.Mutex
	n429              int
	by429             map[string]int
	first429, last429 time.Time
	creates           []time.Time
	onCreate          func(login string, status int)
}

func (c *oktaCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		isCreate := r.Method == http.MethodPost && r.URL.Path == "/api/v1/users"
		login := ""
		if isCreate && c.onCreate != nil && r.Body != nil {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			_ = r.Body.Close()
			if err == nil {
				var nu struct {
					Profile struct {
						Login string `json:"login"`
					} `json:"profile"`
				}
				_ = json.Unmarshal(body, &nu)
				login = nu.Profile.Login
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		now := time.Now()
		if login != "" {
			c.onCreate(login, rec.code)
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		switch {
		case rec.code == http.StatusTooManyRequests:
			c.n429++
			if c.by429 == nil {
				c.by429 = map[string]int{}
			}
			route := r.Method + " /api/v1/users"
			if r.URL.Path != "/api/v1/users" {
				route += "/{id}"
			}
			c.by429[route]++
			if c.first429.IsZero() {
				c.first429 = now
			}
			c.last429 = now
		case isCreate && rec.code < 300:
			c.creates = append(c.creates, now)
		}
	})
}

func (c *oktaCounter) tooMany() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n429 }

// rejections returns when the first and last 429 came and the 429s by route.
func (c *oktaCounter) rejections() (first, last time.Time, byRoute map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.first429, c.last429, maps.Clone(c.by429)
}

func (c *oktaCounter) created() int { c.mu.Lock(); defer c.mu.Unlock(); return len(c.creates) }

// createTimes returns the creates' completion times, sorted.
func (c *oktaCounter) createTimes() []time.Time {
	c.mu.Lock()
	ts := slices.Clone(c.creates)
	c.mu.Unlock()
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	return ts
}

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (r *codeRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (fakeokta's Drop
// fault hijacks it).
func (r *codeRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// vmHWM returns a process's peak resident set size in kB (0 if unknown).
func vmHWM(pid int) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
