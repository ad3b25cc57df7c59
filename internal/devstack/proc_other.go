//go:build !linux

package devstack

import "syscall"

// workerProcAttr: Pdeathsig is Linux-only.
func workerProcAttr() *syscall.SysProcAttr { return nil }
