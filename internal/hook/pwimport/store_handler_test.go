package pwimport

import (
	"context"
	"crypto/sha256"
	"entra2okta/internal/testkit/logbuf"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"entra2okta/internal/entra"
)

// failingStore is a ShieldStore whose calls fail (err set) or block until
// their deadline (block), counting them by operation.
type failingStore struct {
	key           []byte
	inner         ShieldStore // answers the calls that do not fail
	err           error       // every lookup and admit fails with it
	block         bool        // every lookup and admit blocks until its deadline
	failAdmitOnly bool        // err and block spare the lookup
	recordErr     error       // every record fails with it

	rejects, admits, records atomic.Int64
	lastAdmitDeadlineIn      atomic.Int64 // ns from the admit to its context's deadline
}

func (f *failingStore) Key() []byte { return f.key }

func (f *failingStore) fail(ctx context.Context) error {
	if f.block {
		<-ctx.Done()
		return ctx.Err()
	}
	return f.err
}

func (f *failingStore) Admit(ctx context.Context, a Attempt, now time.Time) (Charge, string, bool, error) {
	f.admits.Add(1)
	if d, ok := ctx.Deadline(); ok {
		f.lastAdmitDeadlineIn.Store(int64(time.Until(d)))
	}
	if err := f.fail(ctx); err != nil {
		return Charge{}, "", false, err
	}
	return f.inner.Admit(ctx, a, now)
}

func (f *failingStore) Record(ctx context.Context, c Charge, pair [sha256.Size]byte, res entra.Result, now time.Time) error {
	f.records.Add(1)
	if f.recordErr != nil {
		return f.recordErr
	}
	if err := ctx.Err(); err != nil { // as a store over the network fails
		return err
	}
	return f.inner.Record(ctx, c, pair, res, now)
}

func (f *failingStore) CachedRejection(ctx context.Context, pair [sha256.Size]byte, now time.Time) (Rejection, bool, error) {
	f.rejects.Add(1)
	if !f.failAdmitOnly {
		if err := f.fail(ctx); err != nil {
			return Rejection{}, false, err
		}
	}
	return f.inner.CachedRejection(ctx, pair, now)
}

func newFailingStore(t *testing.T) *failingStore {
	t.Helper()
	inner, err := NewMemoryStore(ShieldConfig{})
	if err != nil {
		t.Fatal(err)
	}
	return &failingStore{key: make([]byte, 32), inner: inner}
}

// TestStoreFailureAnswersUndecidedWithoutEntra: when the shield's store
// fails or hangs, at the negative cache or at the admit, the answer is
// undecided within the budget, Entra is not asked, and the failure is
// counted and logged without the password.
func TestStoreFailureAnswersUndecidedWithoutEntra(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(*failingStore)
		op     string
		admits bool
	}{
		{"lookup fails", func(f *failingStore) { f.err = errors.New("connection refused") }, "cached_rejection", false},
		{"lookup hangs", func(f *failingStore) { f.block = true }, "cached_rejection", false},
		{"admit fails", func(f *failingStore) { f.err, f.failAdmitOnly = errors.New("connection refused"), true }, "admit", true},
		{"admit hangs", func(f *failingStore) { f.block, f.failAdmitOnly = true, true }, "admit", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := newFailingStore(t)
			tc.setup(st)
			logs := &logbuf.Buffer{}
			v := passwordVerifier("Right-Pw-1")
			h := newTestHandler(t, Config{Store: st, Budget: 500 * time.Millisecond}, v, acceptAll{}, slog.New(slog.NewJSONHandler(logs, nil)))
			start := time.Now()
			w := post(h, payload("ev1", "ann@example.com", "Right-Pw-1", "192.0.2.1"))
			if took := time.Since(start); took > 500*time.Millisecond {
				t.Fatalf("answered after %v, beyond the 500 ms budget", took)
			}
			if got := credentialOf(t, w); got != "UNDECIDED" {
				t.Fatalf("answer %s, want UNDECIDED", got)
			}
			if n := v.calls.Load(); n != 0 {
				t.Fatalf("Entra asked %d times with the store failing", n)
			}
			if (st.admits.Load() > 0) != tc.admits {
				t.Fatalf("%d admits", st.admits.Load())
			}
			if got := testutil.ToFloat64(h.m.storeErrors.WithLabelValues(tc.op)); got != 1 {
				t.Fatalf("store errors{op=%s} = %v", tc.op, got)
			}
			if got := testutil.ToFloat64(h.m.shield.WithLabelValues(reasonStoreUnavailable)); got != 1 {
				t.Fatalf("shield rejections{store_unavailable} = %v", got)
			}
			if tc.admits {
				// A fifth of the budget: the rest is left to Entra.
				if d := time.Duration(st.lastAdmitDeadlineIn.Load()); d > 100*time.Millisecond || d <= 0 {
					t.Fatalf("the admit's deadline was %v away, want at most a fifth of the budget", d)
				}
			}
			if out := logs.String(); !strings.Contains(out, "store failed") || strings.Contains(out, "Right-Pw-1") {
				t.Fatalf("log:\n%s", out)
			}
		})
	}
}

// TestStoreRecordFailureKeepsEntrasAnswer: a record that fails after Entra
// answered keeps the answer (the charge stays counted in the store) and is
// counted.
func TestStoreRecordFailureKeepsEntrasAnswer(t *testing.T) {
	st := newFailingStore(t)
	st.recordErr = errors.New("connection reset")
	v := passwordVerifier("Right-Pw-1")
	h := newTestHandler(t, Config{Store: st}, v, acceptAll{}, nil)
	if got := credentialOf(t, post(h, payload("ev1", "ann@example.com", "Right-Pw-1", "192.0.2.1"))); got != "VERIFIED" {
		t.Fatalf("answer %s", got)
	}
	if got := testutil.ToFloat64(h.m.storeErrors.WithLabelValues("record")); got != 1 || v.calls.Load() != 1 {
		t.Fatalf("store errors{op=record} = %v, Entra calls %d", got, v.calls.Load())
	}
}

// TestStoreKeyIsUsed: pair keys come from the store's key, so that replicas
// sharing a store compute the same ones; a key of another length is refused.
func TestStoreKeyIsUsed(t *testing.T) {
	st := newFailingStore(t)
	st.key = []byte(strings.Repeat("k", 32))
	h := newTestHandler(t, Config{Store: st}, passwordVerifier("x"), acceptAll{}, nil)
	h2 := newTestHandler(t, Config{Store: st}, passwordVerifier("x"), acceptAll{}, nil)
	if h.shield.pairKey("ann@example.com", "pw") != h2.shield.pairKey("ann@example.com", "pw") {
		t.Fatal("two handlers on one store compute different pair keys")
	}
	mem := newTestHandler(t, Config{}, passwordVerifier("x"), acceptAll{}, nil)
	if mem.shield.pairKey("ann@example.com", "pw") == h.shield.pairKey("ann@example.com", "pw") {
		t.Fatal("a memory shield uses the store's key")
	}
	st.key = make([]byte, 16)
	if _, err := NewHandler(Config{AuthSecret: testSecret, Store: st}, passwordVerifier("x"), acceptAll{}, nil); err == nil {
		t.Fatal("a 16-byte store key was accepted")
	}
}

// TestStoreLateRecord: a check that took the whole budget (Entra timed out)
// is recorded in the background, not reported as a store failure, and its
// charge settled: the user's budget shows it.
func TestStoreLateRecord(t *testing.T) {
	st := newFailingStore(t)
	hang := &fakeVerifier{fn: func(ctx context.Context, _, _ string) entra.Result {
		<-ctx.Done()
		return entra.Result{Verdict: entra.Indeterminate, Reason: entra.ReasonTimeout}
	}}
	h := newTestHandler(t, Config{Store: st, Budget: 200 * time.Millisecond}, hang, acceptAll{}, nil)
	if got := credentialOf(t, post(h, payload("ev1", "ann@example.com", "pw-1", "192.0.2.1"))); got != "UNDECIDED" {
		t.Fatalf("answer %s", got)
	}
	for deadline := time.Now().Add(5 * time.Second); st.records.Load() == 0; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the late check was never recorded")
		}
	}
	if got := testutil.ToFloat64(h.m.storeErrors.WithLabelValues("record")); got != 0 {
		t.Fatalf("store errors{op=record} = %v for a healthy store", got)
	}
}
