package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/devtemporal"
	"entra2okta/internal/entra"
	"entra2okta/internal/fakeentra"
	"entra2okta/internal/fakeokta"
	"entra2okta/internal/loopbacktls"
	"entra2okta/workflows"
)

// bulkFigures is the bulk benchmark's JSON line.
type bulkFigures struct {
	Bench            string  `json:"bench"`
	Users            int     `json:"users"`
	LimitPerMin      int     `json:"limit_per_min"`
	WritesPerMin     float64 `json:"writes_per_min"`
	LimitRatio       float64 `json:"limit_ratio"`
	OktaCallsPerUser float64 `json:"okta_calls_per_user"`
	HTTP429          int     `json:"http_429"`
	FailedUsers      int     `json:"failed_users"`
	NotCreated       int     `json:"not_created"`
	WorkerPeakRSSMB  float64 `json:"worker_peak_rss_mb"`
	Created          int     `json:"created"`
	OktaCalls        int     `json:"okta_calls"`
	OktaRPS          float64 `json:"okta_rps"`
	WindowSize       int     `json:"window_size"`
	ImportSeconds    float64 `json:"import_seconds"`
	WallSeconds      float64 `json:"wall_seconds"`
	GOMAXPROCS       int     `json:"gomaxprocs"`
	LoadAvgBefore    string  `json:"loadavg_before"`
	LoadAvgAfter     string  `json:"loadavg_after"`
	Note             string  `json:"note"`
}

// runBulk migrates -users new users through the real worker binary (a
// separate process, so its RSS is its own) and a Temporal dev server into
// fakeokta, whose create bucket allows -limit calls a minute, and reports how
// close the writes came to the limit, the Okta calls per user and the 429s.
func runBulk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench bulk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	users := fs.Int("users", 10_000, "users to migrate (all new to Okta)")
	limit := fs.Int("limit", 1200, "fakeokta's create limit L, calls per minute (POST /api/v1/users bucket)")
	target := fs.Float64("target", 0.97, "fraction of L the worker's server-side rate limit aims at")
	window := fs.Int("window", 300, "MigrateBatch window size")
	page := fs.Int("page", 500, "Graph page size")
	concurrency := fs.Int("okta-concurrency", 50, "worker's OKTA_CONCURRENCY")
	timeout := fs.Duration("timeout", 40*time.Minute, "give up after this long")
	workerLog := fs.String("worker-log", "", "file for the worker's log (default: discarded)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *users < 1 || *limit < 1 || *target <= 0 || *target > 1 {
		return errors.New("users and limit must be positive, target in (0, 1]")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	began := time.Now()
	fig := bulkFigures{Bench: "bulk", Users: *users, LimitPerMin: *limit, WindowSize: *window,
		GOMAXPROCS: runtime.GOMAXPROCS(0), LoadAvgBefore: loadAvg(),
		Note: "dev server, emulators and bench share the machine's CPUs; the worker runs as its own process"}
	// A new user costs a lookup (own bucket) and a create, each one activity
	// on the Okta queue: aim the queue's rate at twice the create rate wanted.
	fig.OktaRPS = 2 * *target * float64(*limit) / 60

	tmp, err := os.MkdirTemp("", "bench-bulk-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	fmt.Fprintln(stderr, "bulk: starting the dev server and the emulators")
	srv, err := devtemporal.Start(ctx, devtemporal.Options{})
	if err != nil {
		return err
	}
	defer srv.Stop()

	fe, err := fakeentra.Start(fakeentra.Options{LogLimit: 1})
	if err != nil {
		return err
	}
	defer fe.Close()
	graphSecret := "bench-graph-secret"
	if err := seedBulkTenant(fe.Server, *users, graphSecret); err != nil {
		return err
	}

	fo := fakeokta.New(fakeokta.Options{RateLimits: map[fakeokta.Bucket]int{fakeokta.BucketUsers: *limit}, RequestLogLimit: 1})
	counter := &oktaCounter{}
	oktaCA, err := loopbacktls.New()
	if err != nil {
		return err
	}
	oktaSrv, err := oktaCA.Serve("", counter.wrap(fo))
	if err != nil {
		return err
	}
	defer oktaSrv.Close()

	caFile := filepath.Join(tmp, "ca.pem")
	if err := os.WriteFile(caFile, append(oktaCA.CAPEM(), fe.CA.CAPEM()...), 0o600); err != nil {
		return err
	}
	bin := filepath.Join(tmp, "worker")
	fmt.Fprintln(stderr, "bulk: building the worker")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "entra2okta/worker")
	build.Stdout, build.Stderr = stderr, stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build the worker: %w", err)
	}
	wlog := io.Discard
	if *workerLog != "" {
		f, err := os.Create(*workerLog)
		if err != nil {
			return err
		}
		defer f.Close()
		wlog = f
	}
	worker := exec.Command(bin)
	worker.Env = append(os.Environ(),
		"TEMPORAL_ADDRESS="+srv.HostPort(), "TEMPORAL_NAMESPACE="+srv.Namespace(),
		"OKTA_ORG_URL="+oktaSrv.URL, "OKTA_API_TOKEN="+fakeokta.DefaultAPIToken,
		"ENTRA_TENANT_ID="+bulkTenantID, "ENTRA_CLIENT_ID="+bulkClientID, "ENTRA_CLIENT_SECRET="+graphSecret,
		"ENTRA_AUTHORITY_HOST="+fe.URL, "GRAPH_BASE_URL="+fe.URL, "SSL_CERT_FILE="+caFile,
		"OKTA_RPS="+strconv.FormatFloat(fig.OktaRPS, 'f', 3, 64), "GRAPH_RPS=200",
		"OKTA_CONCURRENCY="+strconv.Itoa(*concurrency), "METRICS_ADDR=off", "LOG_LEVEL=warn")
	worker.Stdout, worker.Stderr = wlog, wlog
	if err := worker.Start(); err != nil {
		return err
	}
	var peakKB int64
	stopWorker := func() {
		if kb := vmHWM(worker.Process.Pid); kb > peakKB {
			peakKB = kb
		}
		_ = worker.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = worker.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = worker.Process.Kill()
			<-done
		}
	}
	defer stopWorker()

	c := srv.Client()
	batchID := workflows.BatchWorkflowID("bench")
	in := workflows.MigrateBatchInput{Batch: "bench", Source: entra.Source{All: true}, WindowSize: *window, PageSize: *page,
		Policy: workflows.PolicyNone}
	var startErr error
	for i := 0; i < 300; i++ { // until the worker has registered the search attributes
		_, startErr = c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: batchID, TaskQueue: workflows.TaskQueue}, workflows.MigrateBatch, in)
		if startErr == nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if startErr != nil {
		return fmt.Errorf("start the batch: %w", startErr)
	}
	fmt.Fprintf(stderr, "bulk: migrating %d users, Okta create limit %d/min, worker OKTA_RPS %.2f\n", *users, *limit, fig.OktaRPS)

	var progress workflows.BatchProgress
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	lastReport := time.Now()
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("bulk: gave up after %s with %d of %d users created: %w", time.Since(began).Round(time.Second), counter.created(), *users, ctx.Err())
		case <-tick.C:
		}
		if kb := vmHWM(worker.Process.Pid); kb > peakKB {
			peakKB = kb
		}
		if v, err := c.QueryWorkflow(ctx, batchID, "", workflows.QueryProgress); err == nil {
			_ = v.Get(&progress)
		}
		if time.Since(lastReport) >= 15*time.Second {
			lastReport = time.Now()
			fmt.Fprintf(stderr, "bulk: %s: listed %d, created %d, importing %d, 429s %d\n", time.Since(began).Round(time.Second),
				progress.Listed, counter.created(), progress.Importing, counter.tooMany())
		}
		imported := progress.ListingDone && progress.Importing == 0 && progress.Started+progress.StartFailures+progress.AlreadyRunning >= progress.Listed
		if imported && progress.Listed == *users {
			break
		}
	}
	stopWorker()

	first, last, created := counter.createSpan()
	fig.Created = created
	if created > 1 && last.After(first) {
		fig.WritesPerMin = float64(counter.writes()-1) / last.Sub(first).Minutes()
		fig.ImportSeconds = last.Sub(first).Seconds()
	}
	fig.LimitRatio = fig.WritesPerMin / float64(*limit)
	fig.OktaCalls = counter.calls()
	if created > 0 {
		fig.OktaCallsPerUser = float64(fig.OktaCalls) / float64(created)
	}
	fig.HTTP429 = counter.tooMany()
	fig.FailedUsers = progress.States[workflows.StateFailed] + progress.StartFailures
	fig.NotCreated = *users - created
	fig.WorkerPeakRSSMB = float64(peakKB) / 1024
	fig.WallSeconds = time.Since(began).Seconds()
	fig.LoadAvgAfter = loadAvg()
	out, err := json.Marshal(fig)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, string(out))
	return err
}

// The bench tenant.
const (
	bulkTenantID = "6d1c5b7a-2f3e-4a9b-8c7d-0e1f2a3b4c5d"
	bulkClientID = "0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f"
	bulkDomain   = "bulk.example.com"
)

// seedBulkTenant creates a managed tenant with n enabled members and the
// Graph reader app.
func seedBulkTenant(s *fakeentra.Server, n int, secret string) error {
	if err := s.AddTenant(fakeentra.Tenant{ID: bulkTenantID, DisplayName: "Bulk"}); err != nil {
		return err
	}
	if err := s.AddDomain(bulkTenantID, fakeentra.Domain{Name: bulkDomain, Default: true}); err != nil {
		return err
	}
	if err := s.AddClient(fakeentra.Client{ID: bulkClientID, Secret: secret, TenantID: bulkTenantID, DisplayName: "bench reader"}); err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		upn := fmt.Sprintf("user%06d@%s", i, bulkDomain)
		_, err := s.AddUser(fakeentra.User{UserPrincipalName: upn, Attributes: map[string]any{
			"givenName": "User", "surname": fmt.Sprintf("N%06d", i), "displayName": fmt.Sprintf("User %06d", i),
			"mail": upn, "jobTitle": "Engineer", "department": "R&D", "businessPhones": []any{"+1 555 0100"},
		}})
		if err != nil {
			return err
		}
	}
	return nil
}

// oktaCounter counts fakeokta's answers as the worker saw them.
type oktaCounter struct {
	mu          sync.Mutex
	n, n429     int
	nWrites     int
	nCreated    int
	firstCreate time.Time
	lastCreate  time.Time
}

func (c *oktaCounter) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &codeRecorder{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(rec, r)
		now := time.Now()
		write := r.Method != http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/users")
		create := r.Method == http.MethodPost && r.URL.Path == "/api/v1/users"
		c.mu.Lock()
		defer c.mu.Unlock()
		c.n++
		if rec.code == http.StatusTooManyRequests {
			c.n429++
			return
		}
		if write && rec.code < 300 {
			c.nWrites++
		}
		if create && rec.code < 300 {
			c.nCreated++
			if c.firstCreate.IsZero() {
				c.firstCreate = now
			}
			c.lastCreate = now
		}
	})
}

func (c *oktaCounter) calls() int   { c.mu.Lock(); defer c.mu.Unlock(); return c.n }
func (c *oktaCounter) tooMany() int { c.mu.Lock(); defer c.mu.Unlock(); return c.n429 }
func (c *oktaCounter) writes() int  { c.mu.Lock(); defer c.mu.Unlock(); return c.nWrites }
func (c *oktaCounter) created() int { c.mu.Lock(); defer c.mu.Unlock(); return c.nCreated }

func (c *oktaCounter) createSpan() (first, last time.Time, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.firstCreate, c.lastCreate, c.nCreated
}

type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (r *codeRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

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
