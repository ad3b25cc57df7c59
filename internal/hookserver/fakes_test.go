package hookserver

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook/pwimport"
)

const testSecret = "Basic YWRtaW46c3VwZXJzZWNyZXQ=" // the example value of https://developer.okta.com/docs/guides/secure-hooks/nodejs/main/

// bodyVerified is the hook's answer to a verified password.
var bodyVerified = []byte(`{"commands":[{"type":"com.okta.action.update","value":{"credential":"VERIFIED"}}]}`)

// verifierFunc is a function Verifier.
type verifierFunc func(ctx context.Context, username, password string) entra.Result

var _ pwimport.Verifier = verifierFunc(nil)

func (f verifierFunc) VerifyPassword(ctx context.Context, username, password string) entra.Result {
	return f(ctx, username, password)
}

// verifierReturning always answers res.
func verifierReturning(res entra.Result) verifierFunc {
	return func(context.Context, string, string) entra.Result { return res }
}

// fakeSignaler records the workflow IDs it was asked to signal.
type fakeSignaler struct {
	mu  sync.Mutex
	ids []string
}

func (f *fakeSignaler) SignalWorkflow(_ context.Context, workflowID, _, _ string, _ any) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ids = append(f.ids, workflowID)
	return nil
}

// waitSignals waits until at least n signals were attempted.
func (f *fakeSignaler) waitSignals(t *testing.T, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(2 * time.Millisecond) {
		f.mu.Lock()
		got := len(f.ids)
		f.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Fatalf("waited for %d signals", n)
}

// fixture returns a request body recorded from Okta, shared with
// hook/pwimport's tests.
func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "hook", "pwimport", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
