package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/workflow"

	"entra2okta/workflows"
)

// incompatibleMigrateUser is a deliberately incompatible MigrateUser: it
// sleeps where the real one runs activities.
func incompatibleMigrateUser(ctx workflow.Context, _ workflows.MigrateUserInput) error {
	return workflow.Sleep(ctx, time.Hour)
}

func TestReplayCheck_Files(t *testing.T) {
	files := []string{filepath.Join("..", "..", "workflows", "testdata", "v2", "user_signin.json"),
		filepath.Join("..", "..", "workflows", "testdata", "v1", "user_report_closed_batch.json")}
	run := func() (int, string) {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), []string{"replay-check", "--files", strings.Join(files, ",")}, func(string) string { return "" }, IO{Out: &out, Err: &errOut})
		return code, out.String() + errOut.String()
	}
	if code, out := run(); code != ExitOK || !strings.Contains(out, "2 replayed, 0 failed") {
		t.Fatalf("current code: exit %d\n%s", code, out)
	}
	saved := replayRegister
	t.Cleanup(func() { replayRegister = saved })
	replayRegister = func(r workflows.Registry) {
		r.(interface {
			RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
		}).RegisterWorkflowWithOptions(incompatibleMigrateUser, workflow.RegisterOptions{Name: "MigrateUser"})
	}
	code, out := run()
	if code != ExitError || !strings.Contains(out, "2 replayed, 2 failed") || !strings.Contains(out, "TMPRL1100") {
		t.Fatalf("incompatible code: exit %d\n%s", code, out)
	}
}

func TestReplayCheck_Usage(t *testing.T) {
	var out bytes.Buffer
	for _, args := range [][]string{{"replay-check"}, {"replay-check", "--sample", "0", "--batch", "b"}, {"replay-check", "--batch", "b", "--files", "x.json"}} {
		if code := Main(context.Background(), args, func(string) string { return "" }, IO{Out: &out, Err: &out}); code != ExitUsage {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}
