package main

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// profileUnderLoad fetches a CPU profile of c from Caddy's admin endpoint
// (/debug/pprof/profile) while wrk drives the given load, saves it under
// outDir and returns the top of `go tool pprof -top`.
func profileUnderLoad(c *caddyInstance, l load, seconds int, path string, headers map[string]string, outDir, label string) (string, string, error) {
	wrkDone := make(chan error, 1)
	var rate float64 // requests per second during the profile
	go func() {
		res, err := runWrk(l, time.Duration(seconds+2)*time.Second, c.url(path), headers)
		if err == nil {
			rate = res.RequestsPerSec
		}
		wrkDone <- err
	}()
	time.Sleep(500 * time.Millisecond)
	client := &http.Client{Timeout: time.Duration(seconds+30) * time.Second}
	// The allocations made during the same seconds (a delta profile).
	allocsDone := make(chan []byte, 1)
	go func() {
		data, _ := fetch(client, fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/allocs?seconds=%d", c.AdminPort, seconds))
		allocsDone <- data
	}()
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/debug/pprof/profile?seconds=%d", c.AdminPort, seconds))
	if err != nil {
		// wrk's own failure, if any, is worth seeing too.
		return "", "", errors.Join(fmt.Errorf("pprof: %w", err), <-wrkDone)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if werr := <-wrkDone; werr != nil {
		return "", "", werr
	}
	if err != nil || resp.StatusCode != 200 {
		return "", "", fmt.Errorf("pprof: status %d: %v %.200s", resp.StatusCode, err, data)
	}
	allocs := <-allocsDone
	file := filepath.Join(outDir, "cpu-"+label+".pprof")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		return "", "", err
	}
	top, err := pprofTop(c.Bin, file, 25, "-top")
	if err != nil {
		return file, "", err
	}
	// The gateway's own share: everything under gateway.(*Gateway).Serve.
	gw, _ := pprofTop(c.Bin, file, 25, "-top", "-cum", `-focus=gateway\.\(\*Gateway\)\.Serve`, `-hide=^(runtime\.|net/http\.|github\.com/caddyserver/)`)
	text := top + "\n\nunder gateway.(*Gateway).Serve, cumulative:\n" + gw
	if cum, err := pprofTop(c.Bin, file, 1000, "-top", "-cum"); err == nil && rate > 0 {
		text += "\n\n" + perRequest(cum, rate*float64(seconds))
	}
	if allocs != nil {
		afile := filepath.Join(outDir, "allocs-"+label+".pprof")
		if err := os.WriteFile(afile, allocs, 0o644); err == nil {
			at, _ := pprofTop(c.Bin, afile, 20, "-top", "-sample_index=alloc_space")
			text += "\n\nallocated bytes in the same seconds:\n" + at
		}
	}
	if err := os.WriteFile(filepath.Join(outDir, "cpu-"+label+".top.txt"), []byte(text), 0o644); err != nil {
		return file, text, err
	}
	return file, text, nil
}

func pprofTop(bin, file string, n int, opts ...string) (string, error) {
	args := append([]string{"tool", "pprof", fmt.Sprintf("-nodecount=%d", n)}, opts...)
	args = append(args, bin, file)
	cmd := exec.Command("go", args...)
	prepare(cmd)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go tool pprof: %v\n%s", err, out)
	}
	return strings.TrimRight(string(out), "\n"), nil
}

// fetch GETs url and returns the body of a 200 answer.
func fetch(client *http.Client, url string) ([]byte, error) {
	resp, err := client.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: status %d: %v", url, resp.StatusCode, err)
	}
	return data, nil
}

// hotspots are the functions whose cumulative CPU the report converts to
// microseconds per request: the gateway's own pass, and what Caddy does
// per request that grows with the headers a request carries.
var hotspots = []string{
	"github.com/caddyserver/caddy/v2/modules/caddyhttp.(*Server).ServeHTTP",
	"github.com/mfagate/mfagate/internal/gateway.(*Gateway).Serve",
	"github.com/mfagate/mfagate/internal/session.(*Manager).Load",
	"github.com/mfagate/mfagate/internal/identity.Strip",
	"github.com/mfagate/mfagate/internal/identity.Set",
	"github.com/mfagate/mfagate/internal/identity.RemoveCookies",
	"github.com/mfagate/mfagate/internal/identity.(*Values).Set",
	"go.uber.org/zap.(*Logger).With",
	"github.com/caddyserver/caddy/v2/modules/caddyhttp.LoggableHTTPRequest.MarshalLogObject",
	"net/http.Header.Clone",
	"github.com/caddyserver/caddy/v2/modules/caddyhttp/reverseproxy.cloneRequest",
	"github.com/caddyserver/caddy/v2.(*Replacer).Set",
	"runtime.mallocgc",
	"runtime.gcBgMarkWorker",
}

// perRequest turns the cumulative seconds of the hotspots in a
// `pprof -top -cum` listing into microseconds per request, given how many
// requests the profiled seconds served (approximate: wrk's rate).
func perRequest(cumTop string, requests float64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "per request (about %.0f requests in the profile):\n", requests)
	total := ""
	for line := range strings.SplitSeq(cumTop, "\n") {
		if strings.Contains(line, "Total samples") {
			total = strings.TrimSpace(line)
		}
	}
	if total != "" {
		if _, after, ok := strings.Cut(total, "Total samples = "); ok {
			if d, err := time.ParseDuration(strings.Fields(after)[0]); err == nil {
				fmt.Fprintf(&b, "  %8.1f us  all samples\n", d.Seconds()/requests*1e6)
			}
		}
	}
	for _, fn := range hotspots {
		for line := range strings.SplitSeq(cumTop, "\n") {
			f := strings.Fields(line)
			if len(f) < 6 || f[5] != fn {
				continue
			}
			if d, err := time.ParseDuration(f[3]); err == nil {
				fmt.Fprintf(&b, "  %8.1f us  %5s  %s\n", d.Seconds()/requests*1e6, f[4], fn)
			}
		}
	}
	return b.String()
}
