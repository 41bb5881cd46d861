package gateway

import "syscall"

// rusageThread is Linux's RUSAGE_THREAD (the syscall package names only
// RUSAGE_SELF and RUSAGE_CHILDREN).
const rusageThread = 1

// threadCPU is the calling OS thread's CPU time (user and system) in
// nanoseconds: unlike wall time, it does not count the time other processes
// on a busy machine hold the core.
func threadCPU() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(rusageThread, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
