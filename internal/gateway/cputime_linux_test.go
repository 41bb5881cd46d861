package gateway

import "golang.org/x/sys/unix"

// threadCPU is the calling OS thread's CPU time in nanoseconds: unlike
// wall time, it does not count the time other processes on a busy machine
// hold the core.
func threadCPU() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		return -1
	}
	return ts.Nano()
}
