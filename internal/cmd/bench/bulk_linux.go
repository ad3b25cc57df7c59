package main

import "syscall"

// workerProcAttr kills the worker if the bench dies without stopping it.
func workerProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
