package procgroup_test

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"entra2okta/internal/procgroup"
)

// TestStopReachesTheWholeGroup: a shell that ignores SIGTERM and leaves a
// child behind is killed with its child, and Stop reports the group gone.
func TestStopReachesTheWholeGroup(t *testing.T) {
	cmd := exec.Command("sh", "-c", "trap '' TERM; sleep 300 & sleep 300")
	cmd.SysProcAttr = procgroup.Attr()
	if err := cmd.Start(); err != nil {
		t.Skipf("no sh: %v", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	if err := procgroup.Stop("sh", cmd.Process.Pid, done, syscall.SIGTERM, 500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(-cmd.Process.Pid, 0); err == nil {
		t.Fatal("a member of the group is still running")
	}
	if d := time.Since(start); d < 500*time.Millisecond {
		t.Fatalf("stopped after %v: the shell ignores SIGTERM, so only the SIGKILL after the grace should end it", d)
	}
}
