package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ensureWrk installs wrk with apt-get when it is missing (root only).
func ensureWrk() error {
	if _, err := exec.LookPath("wrk"); err == nil {
		return nil
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("wrk is not installed and installing it needs root: run `apt-get install -y wrk` as root, then retry")
	}
	fmt.Println("wrk missing: apt-get update && apt-get install -y wrk")
	for _, args := range [][]string{{"update"}, {"install", "-y", "wrk"}} {
		cmd := exec.Command("apt-get", args...)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		prepare(cmd)
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("apt-get %s: %w", strings.Join(args, " "), err)
		}
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return fmt.Errorf("wrk still missing after apt-get install")
	}
	return nil
}

// load is one wrk setting, the same for every configuration.
type load struct {
	threads, conns int
	duration       time.Duration
}

// wrkResult is what we read from `wrk --latency`.
type wrkResult struct {
	RequestsPerSec float64 `json:"requests_per_sec"`
	P50ms          float64 `json:"p50_ms"`
	P99ms          float64 `json:"p99_ms"`
	Requests       int64   `json:"requests"`
	Non2xx3xx      int64   `json:"non_2xx_3xx"`
	SocketErrors   int64   `json:"socket_errors"`
	// CaddyCPUus is the Caddy process's CPU time (user+system) per
	// request during the run, in microseconds: less sensitive than req/s
	// to other load on the machine.
	CaddyCPUus float64 `json:"caddy_cpu_us_per_request"`
	Raw        string  `json:"-"`
}

// runWrk runs wrk against url with extra headers for d (whole seconds:
// wrk takes no finer unit).
func runWrk(l load, d time.Duration, url string, headers map[string]string) (*wrkResult, error) {
	args := []string{
		"-t", strconv.Itoa(l.threads), "-c", strconv.Itoa(l.conns),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second)/time.Second))), "--timeout", "10s", "--latency",
	}
	for k, v := range headers {
		args = append(args, "-H", k+": "+v)
	}
	args = append(args, url)
	cmd := exec.Command("wrk", args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cleanup.start(cmd); err != nil {
		return nil, err
	}
	err := cmd.Wait()
	cleanup.forget(cmd)
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s%s", err, out.String(), errb.String())
	}
	return parseWrk(out.String())
}

var (
	rpsRE     = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	pctRE     = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s|m)\s*$`)
	totalRE   = regexp.MustCompile(`(?m)^\s+(\d+) requests in`)
	non2xxRE  = regexp.MustCompile(`(?m)^\s+Non-2xx or 3xx responses:\s+(\d+)`)
	socketsRE = regexp.MustCompile(`(?m)^\s+Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// parseWrk reads Requests/sec and the 50% and 99% latencies of
// `wrk --latency` output (no Lua script needed).
func parseWrk(s string) (*wrkResult, error) {
	r := &wrkResult{Raw: s}
	m := rpsRE.FindStringSubmatch(s)
	if m == nil {
		return nil, fmt.Errorf("no Requests/sec in wrk output:\n%s", s)
	}
	r.RequestsPerSec, _ = strconv.ParseFloat(m[1], 64)
	seen := 0
	for _, m := range pctRE.FindAllStringSubmatch(s, -1) {
		v, _ := strconv.ParseFloat(m[2], 64)
		switch m[3] {
		case "us":
			v /= 1000
		case "s":
			v *= 1000
		case "m":
			v *= 60000
		}
		if m[1] == "50" {
			r.P50ms = v
		} else {
			r.P99ms = v
		}
		seen++
	}
	if seen != 2 {
		return nil, fmt.Errorf("no 50%%/99%% latency in wrk output (is --latency set?):\n%s", s)
	}
	if m := totalRE.FindStringSubmatch(s); m != nil {
		r.Requests, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := non2xxRE.FindStringSubmatch(s); m != nil {
		r.Non2xx3xx, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if m := socketsRE.FindStringSubmatch(s); m != nil {
		for _, x := range m[1:] {
			n, _ := strconv.ParseInt(x, 10, 64)
			r.SocketErrors += n
		}
	}
	return r, nil
}

// indent prefixes every line of s.
func indent(s, prefix string) string {
	var b strings.Builder
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		b.WriteString(prefix + sc.Text() + "\n")
	}
	return b.String()
}
