package main

import (
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// reaper owns every child process and the temp directory, so that a normal
// exit, a failure and Ctrl-C all leave nothing behind.
type reaper struct {
	mu      sync.Mutex
	procs   map[*exec.Cmd]struct{}
	dirs    []string
	cleaned bool
}

var cleanup = &reaper{procs: map[*exec.Cmd]struct{}{}}

// prepare makes cmd die with us even if we are killed with SIGKILL.
func prepare(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

// start starts cmd and tracks it until forget.
func (r *reaper) start(cmd *exec.Cmd) error {
	prepare(cmd)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cleaned {
		return fmt.Errorf("shutting down")
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	r.procs[cmd] = struct{}{}
	return nil
}

func (r *reaper) forget(cmd *exec.Cmd) {
	r.mu.Lock()
	delete(r.procs, cmd)
	r.mu.Unlock()
}

func (r *reaper) addDir(d string) {
	r.mu.Lock()
	r.dirs = append(r.dirs, d)
	r.mu.Unlock()
}

// run stops every tracked process (SIGTERM, then SIGKILL after 5 s) and
// removes the temp directories. Safe to call more than once.
func (r *reaper) run() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cleaned {
		return
	}
	r.cleaned = true
	for cmd := range r.procs {
		if cmd.Process != nil {
			_ = cmd.Process.Signal(syscall.SIGTERM) // fails only if it has exited already
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for cmd := range r.procs {
		for cmd.Process != nil && alive(cmd.Process.Pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if cmd.Process != nil && alive(cmd.Process.Pid) {
			_ = cmd.Process.Kill() // fails only if it has exited meanwhile
		}
	}
	for _, d := range r.dirs {
		os.RemoveAll(d)
	}
}

// alive reports whether pid still runs (and is not a zombie).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// state is the field after ") ".
	for i := len(b) - 1; i > 0; i-- {
		if b[i] == ')' && i+2 < len(b) {
			return b[i+2] != 'Z' && b[i+2] != 'X'
		}
	}
	return true
}

// onInterrupt cleans up and exits on Ctrl-C or SIGTERM.
func onInterrupt() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	go func() {
		s := <-ch
		fmt.Fprintf(os.Stderr, "\n%v: stopping processes and removing temp files\n", s)
		cleanup.run()
		os.Exit(130)
	}()
}

// vmHWM reads a process's peak resident set size in kB.
func procStatusKB(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	var v int64
	for _, line := range splitLines(string(b)) {
		if n, _ := fmt.Sscanf(line, field+": %d kB", &v); n == 1 {
			return v, nil
		}
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, pid)
}

func splitLines(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// cpuSeconds is a process's user+system CPU time so far (clock ticks of
// 1/100 s, the Linux USER_HZ).
func cpuSeconds(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("odd /proc/%d/stat", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); utime and stime are fields 14 and 15.
	if len(f) < 13 {
		return 0, fmt.Errorf("odd /proc/%d/stat", pid)
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("odd /proc/%d/stat", pid)
	}
	return float64(ut+st) / 100, nil
}
