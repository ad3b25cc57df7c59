package workflows_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestWorkflowcheck runs Temporal's static determinism checker
// (go.temporal.io/sdk/contrib/tools/workflowcheck, pinned in lint.mod) over
// this package: a workflow that calls time.Now, starts a goroutine or ranges
// over a map for a decision fails here before it fails a replay.
func TestWorkflowcheck(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs workflowcheck")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	gomod, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd := exec.CommandContext(ctx, "go", "tool", "-modfile=lint.mod", "workflowcheck", "./workflows/...")
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("workflowcheck: %v\n%s", err, out)
	}
}
