//go:build !linux

package procgroup

import "syscall"

// Pdeathsig exists on Linux only: elsewhere a process outlives a test binary
// that dies without its cleanup.
func attr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }
