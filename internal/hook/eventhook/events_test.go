package eventhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"entra2okta/internal/entra"
	"entra2okta/internal/hook/eventhook"
	"entra2okta/internal/hook/pwimport"
	"entra2okta/internal/hookserver"
	"entra2okta/workflows"
)

const (
	eventsSecret = "Basic ZXZlbnRzOmV2ZW50cy1zZWNyZXQ="
	o365AppID    = "0oa1o365fakeapp00001"
)

// fakeRun is the client.WorkflowRun a fakeWorkflows start returns.
type fakeRun struct{ id, runID string }

func (r fakeRun) GetID() string                  { return r.id }
func (r fakeRun) GetRunID() string               { return r.runID }
func (r fakeRun) GetFirstExecutionRunID() string { return r.runID }
func (r fakeRun) Get(context.Context, any) error { return nil }
func (r fakeRun) GetWithOptions(context.Context, any, client.WorkflowRunGetOptions) error {
	return nil
}

type startCall struct {
	opts client.StartWorkflowOptions
	in   workflows.MigrateUserInput
}

type signalCall struct {
	workflowID, name string
	sig              workflows.PasswordImportEventSignal
}

// fakeWorkflows records starts and signals; startErr and signalErr, when
// set, answer each call (nil: success).
type fakeWorkflows struct {
	mu        sync.Mutex
	starts    []startCall
	signals   []signalCall
	startErr  func(n int) error
	signalErr func(n int) error
}

func (f *fakeWorkflows) ExecuteWorkflow(_ context.Context, opts client.StartWorkflowOptions, wf any, args ...any) (client.WorkflowRun, error) {
	in, ok := args[0].(workflows.MigrateUserInput)
	if !ok || len(args) != 1 || fmt.Sprintf("%p", wf) != fmt.Sprintf("%p", workflows.MigrateUser) {
		panic("unexpected workflow start")
	}
	f.mu.Lock()
	f.starts = append(f.starts, startCall{opts: opts, in: in})
	n, fail := len(f.starts), f.startErr
	f.mu.Unlock()
	if fail != nil {
		if err := fail(n); err != nil {
			return nil, err
		}
	}
	return fakeRun{id: opts.ID, runID: fmt.Sprintf("run-%d", n)}, nil
}

func (f *fakeWorkflows) SignalWorkflow(_ context.Context, workflowID, _, name string, arg any) error {
	sig, ok := arg.(workflows.PasswordImportEventSignal)
	if !ok {
		panic("unexpected signal argument")
	}
	f.mu.Lock()
	f.signals = append(f.signals, signalCall{workflowID: workflowID, name: name, sig: sig})
	n, fail := len(f.signals), f.signalErr
	f.mu.Unlock()
	if fail != nil {
		return fail(n)
	}
	return nil
}

func (f *fakeWorkflows) counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.starts), len(f.signals)
}

func newEventHandler(t *testing.T, cfg eventhook.EventConfig) *eventhook.EventHandler {
	t.Helper()
	if cfg.AuthSecret == "" {
		cfg.AuthSecret = eventsSecret
	}
	if cfg.AppID == "" {
		cfg.AppID = o365AppID
	}
	if cfg.AttemptTimeout == 0 {
		cfg.AttemptTimeout = time.Second
	}
	h, err := eventhook.NewEventHandler(cfg, nil, nil)
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

// logEventJSON builds a System Log event as Okta delivers it.
func logEventJSON(uuid, eventType, result string, targets ...map[string]string) map[string]any {
	return map[string]any{
		"uuid": uuid, "published": "2026-11-25T19:00:00.000Z", "eventType": eventType, "version": "0",
		"severity": "INFO", "displayMessage": eventType,
		"actor":   map[string]string{"id": "00uadmin", "type": "User", "alternateId": "admin@example.com"},
		"outcome": map[string]string{"result": result},
		"target":  targets,
	}
}

func userTarget(login string) map[string]string {
	return map[string]string{"id": "00u" + strings.Repeat("x", 17), "type": "User", "alternateId": login, "displayName": "A User"}
}

func assignment(uuid, appID, login string) map[string]any {
	return logEventJSON(uuid, eventhook.EventAppMembershipAdd, "SUCCESS",
		map[string]string{"id": "0ua" + strings.Repeat("y", 17), "type": "AppUser", "alternateId": login},
		map[string]string{"id": appID, "type": "AppInstance", "alternateId": "Microsoft Office 365"},
		userTarget(login))
}

func delivery(events ...map[string]any) string {
	b, _ := json.Marshal(map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"source": "https://example.okta.com/api/v1/eventHooks/who1", "eventId": "delivery-1",
		"eventTime": "2026-11-25T19:00:01.000Z", "contentType": "application/json",
		"data": map[string]any{"events": events},
	})
	return string(b)
}

func post(h http.Handler, secret, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodPost, eventhook.EventsPath, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if secret != "" {
		req.Header.Set("Authorization", secret)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// waitRecent waits until n events were processed and returns them.
func waitRecent(t *testing.T, h *eventhook.EventHandler, n int) []eventhook.EventRecord {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := h.Recent()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events processed, want %d: %+v", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestEventVerification(t *testing.T) {
	h := newEventHandler(t, eventhook.EventConfig{Client: &fakeWorkflows{}})
	get := func(secret, challenge string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, eventhook.EventsPath, nil)
		if secret != "" {
			req.Header.Set("Authorization", secret)
		}
		if challenge != "" {
			req.Header.Set("X-Okta-Verification-Challenge", challenge)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	challenge := `Me_rShK8JHsTnbyYrWXCEoMGbM_zsZ6k0h"LPZ`
	rec := get(eventsSecret, challenge)
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || rec.Code != http.StatusOK || body["verification"] != challenge {
		t.Fatalf("verification: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Errorf("content type %q", ct)
	}
	if rec := get("Basic wrong", challenge); rec.Code != http.StatusUnauthorized || strings.Contains(rec.Body.String(), challenge) {
		t.Errorf("wrong secret: %d %s", rec.Code, rec.Body)
	}
	if rec := get("", challenge); rec.Code != http.StatusUnauthorized {
		t.Errorf("no secret: %d", rec.Code)
	}
	if rec := get(eventsSecret, ""); rec.Code != http.StatusBadRequest {
		t.Errorf("no challenge: %d", rec.Code)
	}
	if rec := get(eventsSecret, strings.Repeat("a", 2000)); rec.Code != http.StatusBadRequest {
		t.Errorf("oversized challenge: %d", rec.Code)
	}
}

func TestEventDeliveryAuthAndMalformed(t *testing.T) {
	fw := &fakeWorkflows{}
	h := newEventHandler(t, eventhook.EventConfig{Client: fw})
	body := delivery(assignment("u-1", o365AppID, "alice@example.com"))
	for _, secret := range []string{"", "Basic wrong", eventsSecret + " "} {
		if rec := post(h, secret, body); rec.Code != http.StatusUnauthorized {
			t.Errorf("secret %q: %d", secret, rec.Code)
		}
	}
	for name, b := range map[string]string{
		"not json":   "{",
		"not a hook": `{"eventType":"com.okta.user.credential.password.import","data":{"events":[]}}`,
		"no data":    `{"eventType":"com.okta.event_hook"}`,
	} {
		if rec := post(h, eventsSecret, b); rec.Code != http.StatusBadRequest {
			t.Errorf("%s: %d", name, rec.Code)
		}
	}
	req := httptest.NewRequest(http.MethodPost, eventhook.EventsPath, strings.NewReader(body))
	req.Header.Set("Authorization", eventsSecret)
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("text/plain: %d", rec.Code)
	}
	time.Sleep(50 * time.Millisecond)
	if starts, signals := fw.counts(); starts+signals != 0 {
		t.Fatalf("refused deliveries reached Temporal: %d starts, %d signals", starts, signals)
	}
	// The recent list needs the secret too: it names users.
	req = httptest.NewRequest(http.MethodGet, eventhook.RecentEventsPath, nil)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("recent without the secret: %d", rec.Code)
	}
}

func TestEventAssignmentStartsMigration(t *testing.T) {
	fw := &fakeWorkflows{}
	h := newEventHandler(t, eventhook.EventConfig{Client: fw, Policy: workflows.PolicyExpirePassword, DeadlineAfter: 48 * time.Hour})
	before := time.Now()
	rec := post(h, eventsSecret, delivery(
		assignment("u-1", o365AppID, "Alice@Example.com"),
		assignment("u-2", "0oaSomeOtherApp00001", "bob@example.com"),
		logEventJSON("u-3", "user.lifecycle.create", "SUCCESS", userTarget("carol@example.com")),
	))
	if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
		t.Fatalf("delivery: %d %q", rec.Code, rec.Body)
	}
	got := waitRecent(t, h, 3)
	byUUID := map[string]eventhook.EventRecord{}
	for _, r := range got {
		byUUID[r.UUID] = r
	}
	if r := byUUID["u-1"]; r.Action != eventhook.ActionStart || r.Result != eventhook.ResultOK || r.Login != "Alice@Example.com" ||
		r.WorkflowID != workflows.UserWorkflowID("alice@example.com") || r.RunID != "run-1" {
		t.Errorf("assignment record %+v", r)
	}
	if r := byUUID["u-2"]; r.Action != eventhook.ActionIgnore || !strings.Contains(r.Reason, "another app") {
		t.Errorf("other app record %+v", r)
	}
	if r := byUUID["u-3"]; r.Action != eventhook.ActionIgnore || r.Result != eventhook.ResultSkipped {
		t.Errorf("other event type record %+v", r)
	}
	fw.mu.Lock()
	defer fw.mu.Unlock()
	if len(fw.starts) != 1 {
		t.Fatalf("%d starts, want 1", len(fw.starts))
	}
	s := fw.starts[0]
	if s.opts.ID != workflows.UserWorkflowID("alice@example.com") || s.opts.TaskQueue != workflows.TaskQueue ||
		s.opts.WorkflowIDConflictPolicy != enumspb.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING ||
		s.opts.WorkflowIDReusePolicy != enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY {
		t.Errorf("start options %+v", s.opts)
	}
	if s.in.Login != "Alice@Example.com" || s.in.Batch != eventhook.DefaultEventsBatch || s.in.Policy != workflows.PolicyExpirePassword ||
		s.in.Deadline.Before(before.Add(48*time.Hour)) || s.in.Deadline.After(time.Now().Add(48*time.Hour)) {
		t.Errorf("input %+v", s.in)
	}
}

func TestEventDuplicatesProcessedOnce(t *testing.T) {
	fw := &fakeWorkflows{}
	h := newEventHandler(t, eventhook.EventConfig{Client: fw, SeenEvents: 2})
	body := delivery(assignment("u-1", o365AppID, "alice@example.com"))
	for range 3 {
		if rec := post(h, eventsSecret, body); rec.Code != http.StatusOK {
			t.Fatalf("delivery: %d", rec.Code)
		}
	}
	got := waitRecent(t, h, 3)
	dups := 0
	for _, r := range got {
		if r.Action == eventhook.ActionDuplicate {
			dups++
		}
	}
	if starts, _ := fw.counts(); starts != 1 || dups != 2 {
		t.Fatalf("%d starts and %d duplicates for 3 deliveries of one event, want 1 and 2", starts, dups)
	}
	// The memory is bounded: after two newer events, u-1 is forgotten and a
	// (very late) redelivery reaches Temporal again, where USE_EXISTING
	// keeps it harmless.
	post(h, eventsSecret, delivery(assignment("u-2", o365AppID, "b@example.com"), assignment("u-3", o365AppID, "c@example.com")))
	waitRecent(t, h, 5)
	post(h, eventsSecret, body)
	waitRecent(t, h, 6)
	if starts, _ := fw.counts(); starts != 4 {
		t.Fatalf("%d starts, want 4", starts)
	}
}

func TestEventPasswordImportSignals(t *testing.T) {
	fw := &fakeWorkflows{signalErr: func(n int) error {
		if n == 3 {
			return serviceerror.NewNotFound("workflow not found")
		}
		return nil
	}}
	h := newEventHandler(t, eventhook.EventConfig{Client: fw})
	rec := post(h, eventsSecret, delivery(
		logEventJSON("p-1", eventhook.EventPasswordImport, "SUCCESS", userTarget("alice@example.com")),
	))
	if rec.Code != http.StatusOK {
		t.Fatalf("delivery: %d", rec.Code)
	}
	waitRecent(t, h, 1)
	post(h, eventsSecret, delivery(logEventJSON("p-2", eventhook.EventPasswordImport, "FAILURE", userTarget("bob@example.com"))))
	waitRecent(t, h, 2)
	post(h, eventsSecret, delivery(
		logEventJSON("p-3", eventhook.EventPasswordImport, "SUCCESS", userTarget("stranger@example.com")),
		logEventJSON("p-4", eventhook.EventPasswordImport, "SUCCESS"), // no target
	))
	got := waitRecent(t, h, 4)
	fw.mu.Lock()
	signals := append([]signalCall(nil), fw.signals...)
	fw.mu.Unlock()
	if len(signals) != 3 {
		t.Fatalf("%d signals, want 3: %+v", len(signals), signals)
	}
	want := []struct{ login, outcome, uuid string }{{"alice@example.com", "SUCCESS", "p-1"}, {"bob@example.com", "FAILURE", "p-2"}}
	for i, w := range want {
		s := signals[i]
		if s.workflowID != workflows.UserWorkflowID(w.login) || s.name != workflows.SignalPasswordImportEvent ||
			s.sig.Outcome != w.outcome || s.sig.EventID != w.uuid || !s.sig.Published.Equal(time.Date(2026, 11, 25, 19, 0, 0, 0, time.UTC)) {
			t.Errorf("signal %d: %+v", i, s)
		}
	}
	byUUID := map[string]eventhook.EventRecord{}
	for _, r := range got {
		byUUID[r.UUID] = r
	}
	if r := byUUID["p-3"]; r.Result != eventhook.ResultNotFound {
		t.Errorf("stranger: %+v", r)
	}
	if r := byUUID["p-4"]; r.Action != eventhook.ActionIgnore {
		t.Errorf("no target: %+v", r)
	}
}

func TestEventTemporalFailuresRetriedThenRedeliverable(t *testing.T) {
	fw := &fakeWorkflows{startErr: func(n int) error {
		if n <= 3 {
			return serviceerror.NewUnavailable("temporal down")
		}
		return nil
	}}
	h := newEventHandler(t, eventhook.EventConfig{Client: fw, MaxAttempts: 2})
	body := delivery(assignment("u-1", o365AppID, "alice@example.com"))
	post(h, eventsSecret, body)
	got := waitRecent(t, h, 1)
	if got[0].Result != eventhook.ResultFailed {
		t.Fatalf("record %+v", got[0])
	}
	if starts, _ := fw.counts(); starts != 2 {
		t.Fatalf("%d attempts, want MaxAttempts=2", starts)
	}
	// A failed event is forgotten, so Okta's redelivery is processed.
	post(h, eventsSecret, body)
	got = waitRecent(t, h, 2)
	if got[0].Result != eventhook.ResultOK || got[0].Action != eventhook.ActionStart {
		t.Fatalf("redelivery record %+v", got[0])
	}
	// A finished migration is not restarted.
	fw.mu.Lock()
	fw.startErr = func(int) error { return serviceerror.NewWorkflowExecutionAlreadyStarted("closed", "", "") }
	fw.mu.Unlock()
	post(h, eventsSecret, delivery(assignment("u-9", o365AppID, "done@example.com")))
	got = waitRecent(t, h, 3)
	if got[0].Result != eventhook.ResultClosed {
		t.Fatalf("closed record %+v", got[0])
	}
}

func TestEventQueueFullAnswers503(t *testing.T) {
	block := make(chan struct{})
	fw := &fakeWorkflows{signalErr: func(int) error { <-block; return nil }}
	h := newEventHandler(t, eventhook.EventConfig{Client: fw, Workers: 1, QueueSize: 1})
	defer close(block)
	ev := func(id string) map[string]any {
		return logEventJSON(id, eventhook.EventPasswordImport, "SUCCESS", userTarget(id+"@example.com"))
	}
	if rec := post(h, eventsSecret, delivery(ev("a"))); rec.Code != http.StatusOK {
		t.Fatalf("first: %d", rec.Code)
	}
	// Wait until the worker holds "a", so the queue is empty.
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, n := fw.counts(); n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not take the first event")
		}
		time.Sleep(time.Millisecond)
	}
	rec := post(h, eventsSecret, delivery(ev("b"), ev("c")))
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("overfull delivery: %d", rec.Code)
	}
	// "c" was not kept as seen: the retry is not dropped as a duplicate
	// (it is refused again while the queue is still full).
	if rec := post(h, eventsSecret, delivery(ev("c"))); rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("retry while full: %d", rec.Code)
	}
}

func TestEventConfigErrors(t *testing.T) {
	if _, err := eventhook.NewEventHandler(eventhook.EventConfig{AuthSecret: "x"}, nil, nil); err == nil {
		t.Error("no client accepted")
	}
	if _, err := eventhook.NewEventHandler(eventhook.EventConfig{Client: &fakeWorkflows{}}, nil, nil); err == nil {
		t.Error("no secret accepted")
	}
	if _, err := eventhook.NewEventHandler(eventhook.EventConfig{Client: &fakeWorkflows{}, AuthSecret: "x", Policy: "burn"}, nil, nil); err == nil {
		t.Error("unknown policy accepted")
	}
}

// verifierFunc is a pwimport.Verifier.
type verifierFunc func(ctx context.Context, user, password string) entra.Result

func (f verifierFunc) VerifyPassword(ctx context.Context, u, p string) entra.Result {
	return f(ctx, u, p)
}

// TestEventHookHasItsOwnSecret: with its own secret, the
// event hook refuses the password import hook's and the password import hook
// refuses the event hook's; a Server refuses the same secret for both.
func TestEventHookHasItsOwnSecret(t *testing.T) {
	const passwordHookSecret = "Basic cGFzc3dvcmQtaG9vazpzZWNyZXQ="
	v := verifierFunc(func(context.Context, string, string) entra.Result {
		return entra.Result{Verdict: entra.Verified, Reason: entra.ReasonOK}
	})
	fw := &fakeWorkflows{}
	srv, err := hookserver.NewServer(hookserver.ServerConfig{
		Hook:   pwimport.Config{AuthSecret: passwordHookSecret},
		Events: &eventhook.EventConfig{Client: fw, AppID: o365AppID, AuthHeader: "X-Okta-Events", AuthSecret: eventsSecret},
	}, v, fw, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	body := delivery(assignment("u-own", o365AppID, "alice@example.com"))
	send := func(method, path, header, secret, body string) int {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set(header, secret)
		}
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	for _, c := range []struct{ method, path, header, secret string }{
		{http.MethodPost, eventhook.EventsPath, "Authorization", passwordHookSecret},
		{http.MethodPost, eventhook.EventsPath, "X-Okta-Events", passwordHookSecret},
		{http.MethodGet, eventhook.EventsPath, "Authorization", passwordHookSecret},
		{http.MethodGet, eventhook.RecentEventsPath, "Authorization", passwordHookSecret},
		{http.MethodPost, eventhook.EventsPath, "Authorization", eventsSecret}, // the right value in the wrong header
		{http.MethodPost, pwimport.PasswordImportPath, "Authorization", eventsSecret},
	} {
		b := body
		if c.path == pwimport.PasswordImportPath {
			b = `{"eventType":"com.okta.user.credential.password.import","data":{"context":{"credential":{"username":"a@example.com","password":"pw"}}}}`
		}
		if code := send(c.method, c.path, c.header, c.secret, b); code != http.StatusUnauthorized {
			t.Errorf("%s %s with %s=%q: %d, want 401", c.method, c.path, c.header, c.secret, code)
		}
	}
	if starts, signals := fw.counts(); starts+signals != 0 {
		t.Fatalf("refused calls reached Temporal: %d starts, %d signals", starts, signals)
	}
	if code := send(http.MethodPost, eventhook.EventsPath, "X-Okta-Events", eventsSecret, body); code != http.StatusOK {
		t.Fatalf("the event hook's own secret: %d", code)
	}
	if _, err := hookserver.NewServer(hookserver.ServerConfig{
		Hook:   pwimport.Config{AuthSecret: passwordHookSecret},
		Events: &eventhook.EventConfig{Client: fw, AuthSecret: passwordHookSecret},
	}, v, fw, nil); err == nil {
		t.Fatal("a Server accepted the password hook's secret for the event hook")
	}
}
