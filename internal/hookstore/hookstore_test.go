package hookstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/devpostgres"
	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/testkit/storetest"
)

// dbPassword is in every test DSN: the loopback cluster trusts its
// superuser, so the server ignores it, but the store must never print it.
const dbPassword = "pw-MARKER-4f1c"

var dbSeq atomic.Int64

// newDB creates an empty database on c and returns its URL, with
// dbPassword.
func newDB(t *testing.T, c *devpostgres.Cluster) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("shield%d", dbSeq.Add(1))
	if err := c.CreateDatabase(ctx, name); err != nil {
		t.Fatal(err)
	}
	return "postgres://" + c.User() + ":" + dbPassword + "@" + c.Addr() + "/" + name + "?sslmode=disable"
}

func open(t *testing.T, dsn string, cfg pwimport.ShieldConfig) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := Open(ctx, dsn, Options{Shield: cfg, SweepEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// TestStoreBehaviour runs the ShieldStore behaviour suite (the memory
// store's) against PostgreSQL, each case on a database of its own.
func TestStoreBehaviour(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	storetest.Run(t, func(t *testing.T, cfg pwimport.ShieldConfig) pwimport.ShieldStore {
		return open(t, newDB(t, c), cfg)
	}, storetest.Options{Seeds: 6, Steps: 300})
}

// TestOpenTwiceSharesTheKey: replicas starting at once create the schema
// once and read the same key; a store opened later reads it too.
func TestOpenTwiceSharesTheKey(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	dsn := newDB(t, c)
	stores := make([]*Store, 4)
	var wg sync.WaitGroup
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			s, err := Open(ctx, dsn, Options{SweepEvery: -1})
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(s.Close)
			stores[i] = s
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	later := open(t, dsn, pwimport.ShieldConfig{})
	for i, s := range stores {
		if !bytes.Equal(s.Key(), later.Key()) || len(s.Key()) != 32 {
			t.Fatalf("store %d has another key", i)
		}
	}
	if other := open(t, newDB(t, c), pwimport.ShieldConfig{}); bytes.Equal(other.Key(), later.Key()) {
		t.Fatal("two databases generated the same key")
	}
}

// rejectingVerifier rejects every password after a delay, counting the
// checks per username.
type rejectingVerifier struct {
	delay time.Duration
	mu    sync.Mutex
	calls map[string]int
}

func (v *rejectingVerifier) VerifyPassword(ctx context.Context, username, _ string) entra.Result {
	v.mu.Lock()
	if v.calls == nil {
		v.calls = map[string]int{}
	}
	v.calls[username]++
	v.mu.Unlock()
	select {
	case <-time.After(v.delay):
	case <-ctx.Done():
	}
	return entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword, Latency: v.delay}
}

func (v *rejectingVerifier) total() (n int, by map[string]int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	by = map[string]int{}
	for u, c := range v.calls {
		by[u] = c
		n += c
	}
	return n, by
}

type noSignals struct{}

func (noSignals) SignalWorkflow(context.Context, string, string, string, any) error { return nil }

const testSecret = "Basic YWRtaW46c3VwZXJzZWNyZXQ=" // https://developer.okta.com/docs/guides/secure-hooks/nodejs/main/

func newHandler(t *testing.T, cfg pwimport.ShieldConfig, st pwimport.ShieldStore, v pwimport.Verifier, logger *slog.Logger) *pwimport.Handler {
	t.Helper()
	h, err := pwimport.NewHandler(pwimport.Config{AuthSecret: testSecret, Shield: cfg, Store: st}, v, noSignals{}, logger)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = h.Shutdown(ctx)
	})
	return h
}

var reqSeq atomic.Int64

// signIn posts Okta's password import request for user and password from
// ip to h and returns the status and how long the answer took.
func signIn(h http.Handler, user, password, ip string) (int, time.Duration) {
	id := fmt.Sprintf("req-%d", reqSeq.Add(1))
	body, _ := json.Marshal(map[string]any{
		"eventId": id, "eventTime": "2026-12-05T10:00:00.000Z", "eventType": pwimport.EventTypePasswordImport,
		"data": map[string]any{
			"context": map[string]any{
				"request":    map[string]any{"id": id, "method": "POST", "url": map[string]any{"value": "/api/v1/authn"}, "ipAddress": ip},
				"credential": map[string]any{"username": user, "password": password},
			},
			"action": map[string]any{"credential": "UNVERIFIED"},
		},
	})
	r := httptest.NewRequest(http.MethodPost, pwimport.PasswordImportPath, bytes.NewReader(body))
	r.Header.Set("Authorization", testSecret)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	start := time.Now()
	h.ServeHTTP(w, r)
	return w.Code, time.Since(start)
}

// replicaCase is one bound that two replicas must hold together.
type replicaCase struct {
	name  string
	cfg   pwimport.ShieldConfig
	bound int
	// who signs in as request i: username and source address.
	who func(i int) (user, ip string)
}

var replicaCases = []replicaCase{
	{"user budget", pwimport.ShieldConfig{IPAttempts: -1, GlobalFailures: -1}, 5, // UserAttempts's default
		func(i int) (string, string) { return "victim@example.com", fmt.Sprintf("192.0.2.%d", i%250) }},
	{"address budget", pwimport.ShieldConfig{IPAttempts: 4, GlobalFailures: -1}, 4,
		func(i int) (string, string) { return fmt.Sprintf("user%d@example.com", i), "198.51.100.9" }},
	{"tenant-wide budget", pwimport.ShieldConfig{IPAttempts: -1, GlobalFailures: 6}, 6,
		func(i int) (string, string) {
			return fmt.Sprintf("user%d@example.com", i), fmt.Sprintf("203.0.113.%d", i%250)
		}},
}

// driveReplicas sends n wrong passwords through each of hs at once, as the
// case's users and addresses, and returns the checks that reached Entra.
func driveReplicas(t *testing.T, tc replicaCase, hs []*pwimport.Handler, v *rejectingVerifier, n int) int {
	t.Helper()
	var wg sync.WaitGroup
	start := make(chan struct{})
	for r, h := range hs {
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				user, ip := tc.who(r*n + i)
				status, took := signIn(h, user, fmt.Sprintf("wrong-%d-%d", r, i), ip)
				if status != http.StatusOK && status != pwimport.StatusUndecided {
					t.Errorf("replica %d: status %d", r, status)
				}
				if took > 2500*time.Millisecond {
					t.Errorf("replica %d: answered after %v, beyond the budget", r, took)
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	got, _ := v.total()
	return got
}

// TestTwoReplicasHoldOneBound: two handlers, each with its own connection
// pool to one database (two replicas), are driven at once with wrong
// passwords; the checks reaching Entra never exceed what one replica
// allows, for the user, the address and the tenant-wide budgets. Two
// replicas with memory stores, the control, let twice as many through.
func TestTwoReplicasHoldOneBound(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	for _, tc := range replicaCases {
		t.Run(tc.name, func(t *testing.T) {
			dsn := newDB(t, c)
			v := &rejectingVerifier{delay: 20 * time.Millisecond}
			hs := []*pwimport.Handler{
				newHandler(t, tc.cfg, open(t, dsn, tc.cfg), v, nil),
				newHandler(t, tc.cfg, open(t, dsn, tc.cfg), v, nil),
			}
			if got := driveReplicas(t, tc, hs, v, 20); got != tc.bound {
				t.Fatalf("%d checks reached Entra through two replicas sharing PostgreSQL, want exactly the one-replica bound %d", got, tc.bound)
			}
			// Another round: still nothing more.
			if got := driveReplicas(t, tc, hs, v, 5); got != tc.bound {
				t.Fatalf("after a second round: %d checks reached Entra, want %d", got, tc.bound)
			}
		})
		t.Run(tc.name+" in memory (control)", func(t *testing.T) {
			v := &rejectingVerifier{delay: 20 * time.Millisecond}
			hs := []*pwimport.Handler{newHandler(t, tc.cfg, nil, v, nil), newHandler(t, tc.cfg, nil, v, nil)}
			if got := driveReplicas(t, tc, hs, v, 20); got != 2*tc.bound {
				t.Fatalf("%d checks reached Entra through two replicas in memory, want %d (each its own bound)", got, 2*tc.bound)
			}
		})
	}
}

// TestRejectedPairSharedAcrossReplicas: a wrong password rejected through
// one replica is answered from the shared negative cache by the other,
// without Entra.
func TestRejectedPairSharedAcrossReplicas(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	dsn := newDB(t, c)
	cfg := pwimport.ShieldConfig{}
	v := &rejectingVerifier{}
	a, b := newHandler(t, cfg, open(t, dsn, cfg), v, nil), newHandler(t, cfg, open(t, dsn, cfg), v, nil)
	if status, _ := signIn(a, "Ann@Example.com", "Summer2026!", "192.0.2.1"); status != http.StatusOK {
		t.Fatalf("first check: %d", status)
	}
	if status, _ := signIn(b, "ann@example.com", "Summer2026!", "192.0.2.2"); status != pwimport.StatusUndecided {
		t.Fatalf("the same pair on the other replica: %d, want the undecided answer of a cached rejection", status)
	}
	if n, _ := v.total(); n != 1 {
		t.Fatalf("%d checks reached Entra, want 1", n)
	}
	signIn(b, "ann@example.com", "Summer2027!", "192.0.2.2")
	if n, _ := v.total(); n != 2 {
		t.Fatalf("another password: %d checks reached Entra, want 2", n)
	}
}

// TestStoreOutageAnswersUndecided: with PostgreSQL down the hook answers
// undecided within its budget and asks Entra nothing; its log and errors
// never hold the connection's password; once PostgreSQL is back the checks
// resume.
func TestStoreOutageAnswersUndecided(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	dsn := newDB(t, c)
	cfg := pwimport.ShieldConfig{}
	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &logs, mu: &logMu}, nil))
	v := &rejectingVerifier{}
	h := newHandler(t, cfg, open(t, dsn, cfg), v, logger)
	if status, _ := signIn(h, "bo@example.com", "wrong-1", "192.0.2.1"); status != http.StatusOK {
		t.Fatalf("with the store up: %d", status)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := c.Halt(ctx, "immediate"); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		status, took := signIn(h, "bo@example.com", fmt.Sprintf("wrong-%d", 10+i), "192.0.2.1")
		if status != pwimport.StatusUndecided || took > 2500*time.Millisecond {
			t.Fatalf("with the store down: status %d after %v, want %d within the budget", status, took, pwimport.StatusUndecided)
		}
	}
	if n, _ := v.total(); n != 1 {
		t.Fatalf("%d checks reached Entra, want only the one before the outage", n)
	}
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	if !strings.Contains(out, "store failed") || strings.Contains(out, dbPassword) {
		t.Fatalf("log during the outage (want the failure, never the password):\n%s", out)
	}
	if err := c.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		signIn(h, "bo@example.com", fmt.Sprintf("wrong-%d", time.Now().UnixNano()), "192.0.2.1")
		if n, _ := v.total(); n > 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("checks did not resume after PostgreSQL came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestErrorsNeverHoldThePassword: Open's errors for an unparsable string,
// an unreachable server and a refused database name neither the
// connection string nor its password, however encoded.
func TestErrorsNeverHoldThePassword(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	_ = ln.Close()
	const pw = "p@ss/w:rd%MARKER"
	enc := "p%40ss%2Fw%3Ard%25MARKER"
	for _, dsn := range []string{
		"postgres://e2o:" + enc + "@" + closed + "/shield?sslmode=disable",
		"host=127.0.0.1 port=" + strings.Split(closed, ":")[1] + " user=e2o password=" + pw + " dbname=shield sslmode=disable",
		"password=" + pw + " this is not a connection string",
		"postgres://e2o:" + enc + "@[::1:bad/shield",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		_, err := Open(ctx, dsn, Options{SweepEvery: -1})
		cancel()
		if err == nil {
			t.Fatalf("Open succeeded on %q", dsn)
		}
		if msg := err.Error(); strings.Contains(msg, "MARKER") || strings.Contains(msg, dsn) {
			t.Fatalf("error holds the password: %s", msg)
		}
	}
}

// TestSweepBoundsTheTables: expired charges, cool-downs and rejections are
// deleted, live ones kept.
func TestSweepBoundsTheTables(t *testing.T) {
	c := devpostgres.StartForTest(t, devpostgres.Options{})
	cfg := pwimport.ShieldConfig{IPAttempts: 50, GlobalFailures: 500}
	s := open(t, newDB(t, c), cfg)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	t0 := time.Unix(1_800_000_000, 0)
	for i := range 20 {
		a := cfg.AttemptOf(fmt.Sprintf("u%d@example.com", i), fmt.Sprintf("192.0.2.%d", i))
		ch, why, _, err := s.Admit(ctx, a, t0)
		if err != nil || why != "" {
			t.Fatalf("admit: %v %q", err, why)
		}
		res := entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: entra.ReasonWrongPassword}
		if i%4 == 0 {
			res = entra.Result{Verdict: entra.Indeterminate, Code: 50053, Reason: entra.ReasonLocked}
		}
		if err := s.Record(ctx, ch, [32]byte{byte(i)}, res, t0); err != nil {
			t.Fatal(err)
		}
	}
	charges, cools, rejections, err := s.rows(ctx)
	if err != nil || charges != 60 || cools != 5 || rejections != 15 {
		t.Fatalf("before: %d charges, %d cool-downs, %d rejections (%v)", charges, cools, rejections, err)
	}
	// Sixteen minutes on: the address and tenant-wide charges, cool-downs
	// and rejections are gone; the user charges count for a day.
	if _, err := s.Sweep(ctx, t0.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if charges, cools, rejections, _ = s.rows(ctx); charges != 20 || cools != 0 || rejections != 0 {
		t.Fatalf("after 16 min: %d charges, %d cool-downs, %d rejections; want 20, 0, 0", charges, cools, rejections)
	}
	if _, err := s.Sweep(ctx, t0.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if charges, _, _, _ = s.rows(ctx); charges != 0 {
		t.Fatalf("after a day: %d charges", charges)
	}
}
