package cli_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"entra2okta/internal/cli"
	"entra2okta/internal/devstack"
	"entra2okta/internal/emu/fakeokta"
	"entra2okta/workflows"
)

// decodeOne decodes out as exactly one JSON document into v.
func decodeOne(t *testing.T, what, out string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v in %q", what, err, out)
	}
	if err := dec.Decode(new(json.RawMessage)); !errors.Is(err, io.EOF) {
		t.Fatalf("%s: more than one JSON document (%v) in %q", what, err, out)
	}
}

type rateDoc struct {
	Queue        string  `json:"queue"`
	TaskQueue    string  `json:"taskQueue"`
	EffectiveRPS float64 `json:"effectiveRPS"`
	Source       string  `json:"source"`
	Paused       bool    `json:"paused"`
	Pinned       bool    `json:"pinned"`
	Override     *struct {
		RPS    float64    `json:"rps"`
		Reason string     `json:"reason"`
		By     string     `json:"by"`
		At     *time.Time `json:"at"`
	} `json:"override"`
	Tuned   json.RawMessage `json:"tuned"`
	Workers []struct {
		Identity string    `json:"identity"`
		RPS      float64   `json:"rps"`
		LastPoll time.Time `json:"lastPoll"`
	} `json:"workers"`
	Backlog int64 `json:"backlog"`
}

// TestJSONOutputs: status, migrate, throttle and rollback with --json write
// one JSON document with stable field names on stdout (the decoder refuses
// unknown fields, so a renamed field fails here), on a dev server.
func TestJSONOutputs(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	stack := startStack(ctx, t, devstack.Options{Okta: fakeokta.Options{APITokens: []string{"tok"}}})
	env := map[string]string{"TEMPORAL_ADDRESS": stack.TemporalAddress(), "OKTA_ORG_URL": stack.OktaURL(), "OKTA_API_TOKEN": "tok",
		"TEMPORAL_UI_URL": "http://ui.example"}

	code, out, errOut := run(t, env, "throttle", "--okta-rps", "3", "--reason", "json test", "--json")
	var th struct {
		Namespace string    `json:"namespace"`
		Changed   bool      `json:"changed"`
		Rates     []rateDoc `json:"rates"`
	}
	if code != cli.ExitOK {
		t.Fatalf("throttle --json: exit %d: %s", code, errOut)
	}
	decodeOne(t, "throttle", out, &th)
	if !th.Changed || th.Namespace != "default" || len(th.Rates) != 3 || th.Rates[0].Queue != "okta" || th.Rates[0].TaskQueue != workflows.OktaTaskQueue ||
		!th.Rates[0].Pinned || th.Rates[0].Override == nil || th.Rates[0].Override.RPS != 3 || th.Rates[0].Override.Reason != "json test" ||
		th.Rates[0].EffectiveRPS != 3 || th.Rates[0].Workers == nil {
		t.Fatalf("throttle --json: %s", out)
	}

	code, out, errOut = run(t, env, "migrate", "--batch", "j1", "--all", "--dry-run", "--json")
	var mg struct {
		Namespace  string `json:"namespace"`
		Batch      string `json:"batch"`
		DryRun     bool   `json:"dryRun"`
		WorkflowID string `json:"workflowID"`
		RunID      string `json:"runID"`
	}
	if code != cli.ExitOK {
		t.Fatalf("migrate --json: exit %d: %s", code, errOut)
	}
	decodeOne(t, "migrate", out, &mg)
	if mg.Batch != "j1" || !mg.DryRun || mg.WorkflowID == "" || mg.RunID == "" || mg.Namespace != "default" {
		t.Fatalf("migrate --json: %s", out)
	}

	code, out, errOut = run(t, env, "status", "--batch", "j1", "--json")
	var st struct {
		Namespace string           `json:"namespace"`
		Batch     string           `json:"batch"`
		At        time.Time        `json:"at"`
		Total     int64            `json:"total"`
		Imported  int64            `json:"imported"`
		Done      int64            `json:"done"`
		States    map[string]int64 `json:"states"`
		WebUI     string           `json:"webUI"`
		Rates     []rateDoc        `json:"rates"`
	}
	if code != cli.ExitOK {
		t.Fatalf("status --json: exit %d: %s", code, errOut)
	}
	decodeOne(t, "status", out, &st)
	if st.Batch != "j1" || st.Total != 0 || len(st.States) != len(workflows.States()) || !strings.HasPrefix(st.WebUI, "http://ui.example") ||
		len(st.Rates) != 3 || st.At.IsZero() {
		t.Fatalf("status --json: %s", out)
	}
	if _, ok := st.States[string(workflows.StateMigrated)]; !ok {
		t.Fatalf("status --json: no %s count: %s", workflows.StateMigrated, out)
	}

	code, out, errOut = run(t, env, "rollback", "--batch", "j2", "--json")
	var rb struct {
		Namespace     string `json:"namespace"`
		Batch         string `json:"batch"`
		DryRun        bool   `json:"dryRun"`
		BatchWorkflow *struct {
			WorkflowID string `json:"workflowID"`
			Found      bool   `json:"found"`
			Cancelled  bool   `json:"cancelled"`
			Status     string `json:"status"`
		} `json:"batchWorkflow"`
		Actions []json.RawMessage `json:"actions"`
		Deleted int               `json:"deleted"`
		Kept    int               `json:"kept"`
		Errors  int               `json:"errors"`
	}
	if code != cli.ExitOK {
		t.Fatalf("rollback --json: exit %d: %s", code, errOut)
	}
	decodeOne(t, "rollback", out, &rb)
	if rb.Batch != "j2" || rb.Actions == nil || len(rb.Actions) != 0 || rb.BatchWorkflow == nil || rb.BatchWorkflow.Found || rb.Deleted != 0 {
		t.Fatalf("rollback --json: %s", out)
	}

	for _, args := range [][]string{{"status", "--json", "--watch"}, {"migrate", "--batch", "j3", "--all", "--json", "--wait"}} {
		if code, out, _ := run(t, env, args...); code != cli.ExitUsage || out != "" {
			t.Errorf("starter %q: exit %d, stdout %q; want %d and nothing", args, code, out, cli.ExitUsage)
		}
	}
}
