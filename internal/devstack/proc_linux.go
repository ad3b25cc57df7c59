package devstack

import "syscall"

// workerProcAttr kills the worker process when the process that started it
// dies without stopping it.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
