package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"entra2okta/internal/testkit/logbuf"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"

	"entra2okta/internal/hook/eventhook"
	"entra2okta/workflows"
)

// watchWorkflows stands in for Temporal behind the real event handler.
type watchWorkflows struct{}

func (watchWorkflows) SignalWorkflow(context.Context, string, string, string, any) error { return nil }
func (watchWorkflows) ExecuteWorkflow(_ context.Context, _ client.StartWorkflowOptions, _ any, _ ...any) (client.WorkflowRun, error) {
	return nil, context.DeadlineExceeded // never reached: the test sends no assignment
}

func TestWatchPrintsEachEventOnce(t *testing.T) {
	const secret = "Basic d2F0Y2g6c2VjcmV0"
	h, err := eventhook.NewEventHandler(eventhook.EventConfig{Client: watchWorkflows{}, AuthSecret: secret}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = h.Shutdown(context.Background()) })
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	deliver := func(uuid, login string) {
		t.Helper()
		body, _ := json.Marshal(map[string]any{"eventType": "com.okta.event_hook", "eventId": "d-" + uuid,
			"data": map[string]any{"events": []any{map[string]any{
				"uuid": uuid, "eventType": eventhook.EventPasswordImport, "published": "2026-11-25T19:00:00.000Z",
				"outcome": map[string]string{"result": "SUCCESS"},
				"target":  []any{map[string]string{"type": "User", "alternateId": login}}}}}})
		req, _ := http.NewRequest(http.MethodPost, srv.URL+eventhook.EventsPath, bytes.NewReader(body))
		req.Header.Set("Authorization", secret)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("delivery: %v %v", resp, err)
		}
		resp.Body.Close()
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(recentLogins(h), login) {
			if time.Now().After(deadline) {
				t.Fatal("event not processed")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	env := func(k string) string {
		return map[string]string{"HOOK_EVENTS_AUTH_SECRET": secret, "HOOK_URL": srv.URL}[k]
	}

	deliver("u-1", "alice@example.com")
	var out, errb logbuf.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- Main(ctx, []string{"watch", "--interval", "100ms"}, env, IO{Out: &out, Err: &errb})
	}()
	time.Sleep(300 * time.Millisecond) // several polls of the same list
	deliver("u-2", "bob@example.com")
	deliver("u-1", "alice@example.com") // a duplicate delivery: shown as such
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(out.String(), "\n") < 3 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	cancel()
	if code := <-done; code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], "alice@example.com") || !strings.Contains(lines[0], "signal") ||
		!strings.Contains(lines[0], workflows.UserWorkflowID("alice@example.com")) || !strings.Contains(lines[1], "bob@example.com") ||
		!strings.Contains(lines[2], eventhook.ActionDuplicate) || !strings.Contains(lines[2], "alice@example.com") {
		t.Fatalf("output:\n%s", out.String())
	}

	// --once with the wrong secret fails; without a secret it is a usage error.
	bad := func(k string) string {
		return map[string]string{"HOOK_EVENTS_AUTH_SECRET": "Basic wrong", "HOOK_URL": srv.URL}[k]
	}
	if code := Main(context.Background(), []string{"watch", "--once"}, bad, IO{Out: &out, Err: &errb}); code != ExitError {
		t.Errorf("wrong secret: exit %d", code)
	}
	none := func(k string) string { return map[string]string{"HOOK_URL": srv.URL}[k] }
	if code := Main(context.Background(), []string{"watch", "--once"}, none, IO{Out: &out, Err: &errb}); code != ExitUsage {
		t.Errorf("no secret: exit %d", code)
	}
}

func recentLogins(h *eventhook.EventHandler) string {
	var b strings.Builder
	for _, r := range h.Recent() {
		b.WriteString(r.Login + " " + r.Action + "\n")
	}
	return b.String()
}
