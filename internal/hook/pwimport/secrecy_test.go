package pwimport

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"entra2okta/internal/entra"
	"entra2okta/internal/pwpolicy"
)

// TestNoPasswordLeaves runs every path of the handler over HTTP (verified, rejected,
// cached, over budget, timed out, malformed, unauthenticated, signal
// failures, shutdown, a verified password below the Okta password policy)
// with slog capturing everything at debug level, and
// checks that no password appears in the logs, the signals, the responses or
// the metrics.
func TestNoPasswordLeaves(t *testing.T) {
	passwords := []string{
		"Corr3ct-Horse-Battery-Staple", "Wr0ng-Guess-Number-One", "Hang-Forever-Pa55",
		"Malformed-Pa55w0rd", "Unauthenticated-Pa55w0rd", "Budget-Pa55-%d",
	}
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v := &fakeVerifier{fn: func(ctx context.Context, _, p string) entra.Result {
		switch p {
		case passwords[0]:
			return entra.Result{Verdict: entra.Verified, Reason: "ok"}
		case passwords[2]:
			<-ctx.Done()
			return entra.Result{Verdict: entra.Indeterminate, Reason: "timeout"}
		}
		return entra.Result{Verdict: entra.Rejected, Code: 50126, Reason: "wrong_password"}
	}}
	s := &fakeSignaler{fn: func(context.Context) error { return errors.New("temporal: unavailable") }}
	reg := prometheus.NewRegistry()
	h, err := NewHandler(Config{
		Registerer: reg,
		AuthSecret: testSecret,
		Budget:     150 * time.Millisecond,
		Shield:     ShieldConfig{UserAttempts: 2},
		Signals:    SignalConfig{MaxAttempts: 2, InitialBackoff: time.Millisecond},
		// Every password is below this policy: the verified one is flagged.
		Policy: PolicyConfig{Source: &fakePolicies{pols: defaultPolicy(pwpolicy.Complexity{MinLength: 64, MinSymbol: 1,
			DictionaryCommon: true, ExcludeUsername: true}, "ALLOW")}},
	}, v, s, logger)
	if err != nil {
		t.Fatal(err)
	}
	waitPolicy(t, h)
	ts := httptest.NewServer(h)
	defer ts.Close()
	admin := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	defer admin.Close()
	base := ts.URL
	client := &http.Client{Timeout: 5 * time.Second}
	var responses bytes.Buffer
	send := func(body []byte, secret string) {
		req, _ := http.NewRequest(http.MethodPost, base+PasswordImportPath, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		responses.Write(b)
	}
	send(payload("e1", "kim@example.com", passwords[0], "203.0.113.1"), testSecret)
	send(payload("e2", "lee@example.com", passwords[1], "203.0.113.1"), testSecret)
	send(payload("e3", "lee@example.com", passwords[1], "203.0.113.1"), testSecret) // negative cache
	send(payload("e4", "max@example.com", passwords[2], "203.0.113.1"), testSecret) // timeout
	for i := range 3 {                                                              // over budget
		send(payload("e5", "ned@example.com", fmt.Sprintf(passwords[5], i), ""), testSecret)
	}
	// Malformed right after the password, where a JSON syntax error would quote it.
	send([]byte(`{"data":{"context":{"credential":{"username":"a@example.com","password":"`+passwords[3]+`"x}}}}`), testSecret)
	send([]byte(`{"data":{"context":{"credential":{"username":"a@example.com","password":"`+passwords[3]+`","password":"`+passwords[3]+`"}}}}`), testSecret)
	send(payload("e6", "oz@example.com", passwords[4], ""), "Basic wrong")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.waitSignals(t, 2)
	time.Sleep(50 * time.Millisecond)
	resp, err := client.Get(admin.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsText, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	ts.Close()
	if err := h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}

	var signals strings.Builder
	for _, sig := range s.signals() {
		fmt.Fprintf(&signals, "%+v\n", sig)
	}
	if !strings.Contains(logs.String(), "password import answered") || !strings.Contains(logs.String(), "hook request rejected") ||
		!strings.Contains(logs.String(), "hook request refused") || !strings.Contains(logs.String(), "signal not delivered") ||
		!strings.Contains(logs.String(), `"below_policy":"minLength"`) || !strings.Contains(signals.String(), "BelowPolicy:[minLength]") ||
		!strings.Contains(string(metricsText), `entra2okta_hook_below_policy_total{rule="minLength"} 1`) {
		t.Fatalf("the run did not exercise every log path:\n%s", logs.String())
	}
	// No AADSTS code in any label, even in the metrics of the admin listener.
	if strings.Contains(string(metricsText), "50126") || strings.Contains(string(metricsText), `code="`) {
		t.Error("an AADSTS code appears in the metrics")
	}
	for _, p := range passwords {
		if i := strings.Index(p, "-%d"); i > 0 {
			p = p[:i]
		}
		for what, text := range map[string]string{"logs": logs.String(), "signals": signals.String(),
			"responses": responses.String(), "metrics": string(metricsText)} {
			if strings.Contains(text, p) {
				t.Errorf("a password appears in the %s", what)
			}
		}
	}
}
