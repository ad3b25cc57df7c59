package pwimport

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"entra2okta/internal/entra"
	"entra2okta/workflows"
)

const testSecret = "Basic YWRtaW46c3VwZXJzZWNyZXQ=" // the example value of https://developer.okta.com/docs/guides/secure-hooks/nodejs/main/

// fakeVerifier is a function-field Verifier that counts its calls.
type fakeVerifier struct {
	fn    func(ctx context.Context, username, password string) entra.Result
	calls atomic.Int64
}

var _ Verifier = (*fakeVerifier)(nil)

func (f *fakeVerifier) VerifyPassword(ctx context.Context, username, password string) entra.Result {
	f.calls.Add(1)
	return f.fn(ctx, username, password)
}

// verifierReturning always answers res.
func verifierReturning(res entra.Result) *fakeVerifier {
	return &fakeVerifier{fn: func(context.Context, string, string) entra.Result { return res }}
}

// passwordVerifier verifies exactly one password for every user.
func passwordVerifier(good string) *fakeVerifier {
	return &fakeVerifier{fn: func(_ context.Context, _, p string) entra.Result {
		if p == good {
			return entra.Result{Verdict: entra.Verified, Reason: "ok", Latency: time.Millisecond}
		}
		return entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: "wrong_password", Latency: time.Millisecond}
	}}
}

// sentSignal is one SignalWorkflow call.
type sentSignal struct {
	workflowID, runID, name string
	arg                     any
}

// fakeSignaler records signals; fn, when set, decides each call's error.
type fakeSignaler struct {
	mu   sync.Mutex
	sent []sentSignal
	fn   func(ctx context.Context) error
	seen chan struct{} // receives once per call when non-nil
}

var _ Signaler = (*fakeSignaler)(nil)

func (f *fakeSignaler) SignalWorkflow(ctx context.Context, workflowID, runID, signalName string, arg any) error {
	f.mu.Lock()
	f.sent = append(f.sent, sentSignal{workflowID, runID, signalName, arg})
	fn := f.fn
	f.mu.Unlock()
	if f.seen != nil {
		select {
		case f.seen <- struct{}{}:
		default:
		}
	}
	if fn != nil {
		return fn(ctx)
	}
	return nil
}

func (f *fakeSignaler) signals() []sentSignal {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentSignal(nil), f.sent...)
}

// waitSignals waits until at least n signals were attempted.
func (f *fakeSignaler) waitSignals(t *testing.T, n int) []sentSignal {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if s := f.signals(); len(s) >= n {
			return s
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("waited for %d signals, got %d", n, len(f.signals()))
	return nil
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// payload builds a documented-shape request for user and password.
// requestSeq numbers the Okta request ids of payload: each call is another
// end-user request, as each sign-in is.
var requestSeq atomic.Int64

func payload(eventID, user, password, ip string) []byte {
	return payloadWithRequest(eventID, fmt.Sprintf("r%d", requestSeq.Add(1)), user, password, ip)
}

func payloadWithRequest(eventID, requestID, user, password, ip string) []byte {
	b, err := json.Marshal(map[string]any{
		"eventId":   eventID,
		"eventTime": "2020-01-17T21:23:56.000Z",
		"eventType": EventTypePasswordImport,
		"data": map[string]any{
			"context": map[string]any{
				"request":    map[string]any{"id": requestID, "method": "POST", "url": map[string]any{"value": "/api/v1/authn"}, "ipAddress": ip},
				"credential": map[string]any{"username": user, "password": password},
			},
			"action": map[string]any{"credential": "UNVERIFIED"},
		},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func newTestHandler(t testing.TB, cfg Config, v Verifier, s Signaler, logger *slog.Logger) *Handler {
	t.Helper()
	if cfg.AuthSecret == "" {
		cfg.AuthSecret = testSecret
	}
	h, err := NewHandler(cfg, v, s, logger)
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

// post sends body to h with Okta's headers and returns the recorder.
func post(h http.Handler, body []byte, mutate ...func(*http.Request)) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, PasswordImportPath, bytes.NewReader(body))
	r.Header.Set("Accept", "application/json")
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", testSecret)
	for _, m := range mutate {
		m(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// credentialOf decodes Okta's command response, failing on any other shape.
func credentialOf(t testing.TB, w *httptest.ResponseRecorder) string {
	t.Helper()
	if w.Code == StatusUndecided && w.Body.String() == string(bodyUndecided) {
		return "UNDECIDED"
	}
	if w.Code != http.StatusOK {
		t.Fatalf("status %d, body %s", w.Code, w.Body.String())
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("content type %q", ct)
	}
	var resp struct {
		Commands []struct {
			Type  string `json:"type"`
			Value struct {
				Credential string `json:"credential"`
			} `json:"value"`
		} `json:"commands"`
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&resp); err != nil {
		t.Fatalf("response %q: %v", w.Body.String(), err)
	}
	if len(resp.Commands) != 1 || resp.Commands[0].Type != "com.okta.action.update" {
		t.Fatalf("response %q is not one com.okta.action.update command", w.Body.String())
	}
	return resp.Commands[0].Value.Credential
}

func signalArg(t testing.TB, s sentSignal) workflows.PasswordVerifiedSignal {
	t.Helper()
	if s.name != workflows.SignalPasswordVerified || s.runID != "" {
		t.Fatalf("signal %q run %q", s.name, s.runID)
	}
	sig, ok := s.arg.(workflows.PasswordVerifiedSignal)
	if !ok {
		t.Fatalf("signal arg is %T", s.arg)
	}
	return sig
}

// acceptAll is a Signaler that accepts every signal at once.
type acceptAll struct{}

func (acceptAll) SignalWorkflow(context.Context, string, string, string, any) error { return nil }

// signalFor returns the signal of Okta event eventID (workers deliver
// signals concurrently, so their order is not the requests' order).
func signalFor(t testing.TB, sent []sentSignal, eventID string) workflows.PasswordVerifiedSignal {
	t.Helper()
	for _, s := range sent {
		if sig := signalArg(t, s); sig.EventID == eventID {
			return sig
		}
	}
	t.Fatalf("no signal for event %q", eventID)
	return workflows.PasswordVerifiedSignal{}
}
