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
	go func() {
		_, err := runWrk(l, time.Duration(seconds+2)*time.Second, c.url(path), headers)
		wrkDone <- err
	}()
	time.Sleep(500 * time.Millisecond)
	client := &http.Client{Timeout: time.Duration(seconds+30) * time.Second}
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
