package hook

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.temporal.io/api/serviceerror"
)

// drops records a Queue's drop callback.
type drops struct {
	mu  sync.Mutex
	why map[string][]int
}

func (d *drops) add(j int, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.why == nil {
		d.why = map[string][]int{}
	}
	d.why[why] = append(d.why[why], j)
}

func (d *drops) of(why string) []int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]int(nil), d.why[why]...)
}

func TestQueueRetriesBoundedAndStopsOnFinalErrors(t *testing.T) {
	fast := QueueConfig{Workers: 1, MaxAttempts: 3, AttemptTimeout: time.Second, InitialBackoff: time.Millisecond, MaxBackoff: 2 * time.Millisecond}
	q := NewQueue(fast, func(int) {}, func(int, string) {})
	defer func() { _ = q.Shutdown(context.Background()) }()
	final := errors.New("final")
	for name, tc := range map[string]struct {
		errs     []error
		attempts int
		want     error
	}{
		"success first":          {nil, 1, nil},
		"retryable then ok":      {[]error{errors.New("unavailable"), nil}, 2, nil},
		"retries spent":          {[]error{errors.New("a"), errors.New("b"), errors.New("c"), nil}, 3, errors.New("c")},
		"final error":            {[]error{final}, 1, final},
		"invalid argument":       {[]error{serviceerror.NewInvalidArgument("bad")}, 1, serviceerror.NewInvalidArgument("bad")},
		"permission denied":      {[]error{serviceerror.NewPermissionDenied("no", "")}, 1, serviceerror.NewPermissionDenied("no", "")},
		"namespace not found":    {[]error{serviceerror.NewNamespaceNotFound("ns")}, 1, serviceerror.NewNamespaceNotFound("ns")},
		"not found is retryable": {[]error{serviceerror.NewNotFound("wf"), nil}, 2, nil},
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			attempts, err := q.Retry(func(ctx context.Context) error {
				if _, ok := ctx.Deadline(); !ok {
					t.Error("an attempt without a deadline")
				}
				calls++
				if calls > len(tc.errs) {
					return nil
				}
				return tc.errs[calls-1]
			}, func(err error) bool { return errors.Is(err, final) })
			if attempts != tc.attempts || calls != tc.attempts {
				t.Errorf("attempts %d, calls %d, want %d", attempts, calls, tc.attempts)
			}
			if (err == nil) != (tc.want == nil) || (err != nil && err.Error() != tc.want.Error()) {
				t.Errorf("err %v, want %v", err, tc.want)
			}
		})
	}
}

func TestQueueDropsWhenFullAndAfterShutdown(t *testing.T) {
	release := make(chan struct{})
	started := make(chan int, 10)
	var d drops
	var mu sync.Mutex
	var done []int
	q := NewQueue(QueueConfig{QueueSize: 1, Workers: 1}, func(j int) {
		started <- j
		<-release
		mu.Lock()
		done = append(done, j)
		mu.Unlock()
	}, d.add)
	if !q.Enqueue(1) {
		t.Fatal("first job refused")
	}
	<-started // the worker holds job 1
	if !q.Enqueue(2) || q.Len() != 1 {
		t.Fatalf("second job not queued (len %d)", q.Len())
	}
	if q.Enqueue(3) {
		t.Fatal("a job beyond the queue's size was accepted")
	}
	close(release)
	if err := q.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	if q.Enqueue(4) {
		t.Fatal("a job after Shutdown was accepted")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(done) != 2 || done[0] != 1 || done[1] != 2 {
		t.Errorf("processed %v, want [1 2]: Shutdown drains the queue", done)
	}
	if got := d.of(DropQueueFull); len(got) != 1 || got[0] != 3 {
		t.Errorf("dropped as full %v, want [3]", got)
	}
	if got := d.of(DropClosed); len(got) != 1 || got[0] != 4 {
		t.Errorf("dropped as closed %v, want [4]", got)
	}
}

func TestQueueShutdownOutOfTimeAbandons(t *testing.T) {
	var d drops
	var attempts []int
	var mu sync.Mutex
	var q *Queue[int]
	q = NewQueue(QueueConfig{Workers: 1, MaxAttempts: 5, AttemptTimeout: time.Hour, InitialBackoff: time.Hour}, func(j int) {
		n, _ := q.Retry(func(ctx context.Context) error {
			<-ctx.Done() // a Temporal that never answers
			return ctx.Err()
		}, nil)
		mu.Lock()
		attempts = append(attempts, n)
		mu.Unlock()
	}, d.add)
	q.Enqueue(1)
	q.Enqueue(2)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := q.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown = %v, want the deadline", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatalf("Shutdown took %v", time.Since(start))
	}
	if !q.Abandoned() {
		t.Error("Abandoned is false after a Shutdown out of time")
	}
	for deadline := time.Now().Add(2 * time.Second); len(d.of(DropShutdown)) == 0 && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(attempts) != 1 || attempts[0] != 1 {
		t.Errorf("attempts %v, want one job stopped after its first attempt", attempts)
	}
	if got := d.of(DropShutdown); len(got) != 1 || got[0] != 2 {
		t.Errorf("dropped at shutdown %v, want [2]", got)
	}
}

func TestAuthenticatorChecksTheWholeHeader(t *testing.T) {
	if _, err := NewAuthenticator("X-Secret", "", nil); err == nil {
		t.Fatal("an empty secret was accepted")
	}
	if _, err := NewAuthenticator("Authorization", "s", &OAuthConfig{Issuer: "https://example.okta.com/oauth2/default"}); err == nil {
		t.Fatal("OAuth with the secret in Authorization was accepted")
	}
	a, err := NewAuthenticator("x-secret", "Basic c2VjcmV0", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.UsesOAuth() {
		t.Error("UsesOAuth without OAuth")
	}
	for name, tc := range map[string]struct {
		values []string
		want   string
	}{
		"right":         {[]string{"Basic c2VjcmV0"}, ""},
		"missing":       {nil, AuthMissing},
		"two":           {[]string{"Basic c2VjcmV0", "Basic c2VjcmV0"}, AuthMultiple},
		"wrong":         {[]string{"Basic d3Jvbmc="}, AuthWrongSecret},
		"prefix only":   {[]string{"Basic"}, AuthWrongSecret},
		"scheme absent": {[]string{"c2VjcmV0"}, AuthWrongSecret},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		for _, v := range tc.values {
			r.Header.Add("X-Secret", v)
		}
		if got := a.Check(context.Background(), r); got != tc.want {
			t.Errorf("%s: Check = %q, want %q", name, got, tc.want)
		}
	}
}
