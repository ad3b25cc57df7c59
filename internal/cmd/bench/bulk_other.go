//go:build !linux

package main

import "syscall"

// workerProcAttr: no parent-death signal outside Linux; runBulk stops the
// worker itself.
func workerProcAttr() *syscall.SysProcAttr { return nil }
