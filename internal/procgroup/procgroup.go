// Package procgroup runs the processes of test harnesses (Temporal servers,
// workers, hook servers) each in a process group of its own, so that a stop
// reaches everything a process started, and checks that nothing of a group is
// left behind.
package procgroup

import (
	"errors"
	"fmt"
	"syscall"
	"time"
)

// Attr is the SysProcAttr of a process started in a group of its own. On
// Linux the process is also killed when the thread that started it exits
// (Pdeathsig), so a test binary that dies without its cleanup leaves nothing.
func Attr() *syscall.SysProcAttr { return attr() }

// Stop sends sig to the process group led by pid and waits up to grace for
// done (closed when the leader was reaped); after that it SIGKILLs the group.
// It then waits up to 5 s for every member of the group to be gone: a child
// the leader left behind would still answer.
func Stop(name string, pid int, done <-chan struct{}, sig syscall.Signal, grace time.Duration) error {
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("procgroup: signal %s: %w", name, err)
	}
	select {
	case <-done:
	case <-time.After(grace):
		_ = syscall.Kill(-pid, syscall.SIGKILL)
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("procgroup: %s survived SIGKILL for 30 s", name)
		}
	}
	end := time.Now().Add(5 * time.Second)
	for {
		err := syscall.Kill(-pid, 0)
		if errors.Is(err, syscall.ESRCH) {
			return nil
		}
		if time.Now().After(end) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			return fmt.Errorf("procgroup: %s left processes in group %d", name, pid)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
