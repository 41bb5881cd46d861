// Command bench measures mfagate's cost over a plain Caddy reverse proxy
// with wrk, and a gateway's memory with many live sessions.
//
//	go run ./bench [-threads 2] [-connections 32] [-duration 10s] ...
//
// It builds ./cmd/caddy, starts a tiny upstream and one Caddy process per
// configuration (A: reverse_proxy; B: mfa_gateway with a signed-in session
// cookie; C: mfa_gateway with an app password in basic auth; D: Caddy's
// basic_auth (bcrypt); E: C's load during a wrong-password storm on the
// sign-in page), prints a table with the targets and writes it as JSON to
// bench/results/latest.json. See -h for the flags.
package main

import (
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

const upstreamBody = "hello from the bench upstream\n"

type configResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	wrkResult
	WrkOutput string `json:"wrk_output"`
}

type ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
}

type report struct {
	Time        time.Time         `json:"time"`
	GoVersion   string            `json:"go_version"`
	CPUs        int               `json:"cpus"`
	Threads     int               `json:"threads"`
	Connections int               `json:"connections"`
	Duration    string            `json:"duration"`
	Warmup      string            `json:"warmup"`
	Configs     []configResult    `json:"configs"`
	Ratios      []ratio           `json:"ratios"`
	Storm       *stormCounts      `json:"storm,omitempty"`
	StormConns  int               `json:"storm_clients"`
	Memory      *memoryResult     `json:"memory,omitempty"`
	Profiles    map[string]string `json:"profiles,omitempty"`
	Notes       []string          `json:"notes"`
	Extra       map[string]any    `json:"extra,omitempty"`
}

func main() {
	threads := flag.Int("threads", 2, "wrk threads (same for every configuration)")
	conns := flag.Int("connections", 32, "wrk connections (same for every configuration)")
	duration := flag.Duration("duration", 10*time.Second, "measured wrk run per configuration")
	warmup := flag.Duration("warmup", 2*time.Second, "unmeasured wrk run before each measurement (0 to skip)")
	stormClients := flag.Int("storm", 32, "concurrent wrong-password clients in E")
	profile := flag.Bool("profile", true, "fetch a CPU profile of the gateway under loads B and C (extra unmeasured runs)")
	profileSeconds := flag.Int("profile-seconds", 10, "length of each CPU profile")
	memory := flag.Bool("memory", true, "run the memory (peak RSS) scenario")
	sessions := flag.Int("sessions", 100_000, "sessions inserted for the memory scenario")
	invalid := flag.Int("invalid-requests", 100_000, "requests with random invalid cookies in the memory scenario")
	flag.Parse()

	onInterrupt()
	err := run(load{*threads, *conns, *duration}, *warmup, *stormClients, *profile, *profileSeconds, *memory, *sessions, *invalid)
	cleanup.run()
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// loadavg is the first three fields of /proc/loadavg.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// moduleRoot is the directory of the main module's go.mod.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run from inside the mfagate module")
	}
	return filepath.Dir(gomod), nil
}

// startUpstream serves a small fixed body on 127.0.0.1; lastUser keeps the
// Remote-User of the latest request.
func startUpstream(lastUser *atomic.Value) (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	body := []byte(upstreamBody)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := r.Header.Get("Remote-User"); u != "" {
			lastUser.Store(u)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(l)
	return l.Addr().(*net.TCPAddr).Port, nil
}

func run(l load, warmup time.Duration, stormN int, profile bool, profileSeconds int, memory bool, sessions, invalid int) error {
	began := time.Now()
	loadStart := loadavg()
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	if err := ensureWrk(); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "mfagate-bench-")
	if err != nil {
		return err
	}
	cleanup.addDir(tmp)
	outDir := filepath.Join(root, "bench", "results")
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}

	fmt.Println("building ./cmd/caddy ...")
	bin, err := buildCaddy(root, tmp)
	if err != nil {
		return err
	}
	var lastUser atomic.Value
	upPort, err := startUpstream(&lastUser)
	if err != nil {
		return err
	}
	proxy := fmt.Sprintf("\treverse_proxy 127.0.0.1:%d\n", upPort)
	gatewayHandlers := "\tmfa_gateway\n" + proxy

	rep := &report{Time: time.Now().UTC(), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
		Threads: l.threads, Connections: l.conns, Duration: l.duration.String(), Warmup: warmup.String(),
		StormConns: stormN, Profiles: map[string]string{}, Extra: map[string]any{}}
	rep.Notes = append(rep.Notes,
		"one Caddy process per configuration; mfa configurations use bcrypt_cost 10 and SQLite in a temp dir",
		fmt.Sprintf("wrk -t%d -c%d -d%s --latency --timeout 10s, preceded by an unmeasured %s warm-up; upstream is a Go net/http server in the bench process", l.threads, l.conns, l.duration, warmup),
		"D: Caddy basic_auth with a bcrypt cost-10 hash from `caddy hash-password`; its hash cache is on (Caddyfile default)",
		"E: lockout { account_limit 1000000 ip_limit 1000000 } so the wrong-password storm measures bcrypt pressure, not lockout",
	)
	profileText := map[string]string{}

	measure := func(name, desc string, c *caddyInstance, headers map[string]string) error {
		if warmup > 0 {
			if _, err := runWrk(l, warmup, c.url("/bench"), headers); err != nil {
				return err
			}
		}
		fmt.Printf("  %s: measuring %s ...\n", name, l.duration)
		res, err := runWrk(l, l.duration, c.url("/bench"), headers)
		if err != nil {
			return err
		}
		cr := configResult{Name: name, Description: desc, wrkResult: *res, WrkOutput: res.Raw}
		rep.Configs = append(rep.Configs, cr)
		fmt.Printf("  %s: %.0f req/s, p50 %.3f ms, p99 %.3f ms\n", name, res.RequestsPerSec, res.P50ms, res.P99ms)
		return nil
	}
	doProfile := func(label string, c *caddyInstance, headers map[string]string) {
		if !profile {
			return
		}
		fmt.Printf("  %s: CPU profile, %d s under the same load (not measured) ...\n", label, profileSeconds)
		file, text, err := profileUnderLoad(c, l, profileSeconds, "/bench", headers, outDir, label)
		if err != nil {
			fmt.Fprintf(os.Stderr, "  %s: profile failed: %v\n", label, err)
			return
		}
		rel, _ := filepath.Rel(root, file)
		rep.Profiles[label] = rel
		profileText[label] = text
	}
	// gateway starts a gateway instance with a signed-in, enforced user.
	gateway := func(name, lockout string, withAppPassword bool) (*caddyInstance, string, string, error) {
		c, err := newInstance(bin, tmp, name)
		if err != nil {
			return nil, "", "", err
		}
		if err := c.start(c.globalBlock(c.mfaBlock(lockout)) + c.site(gatewayHandlers)); err != nil {
			return c, "", "", err
		}
		b := newBrowser(c)
		cookie, err := b.signIn("bench", "bench password 1")
		if err != nil {
			return c, "", "", fmt.Errorf("%s: sign-in: %w", name, err)
		}
		ap := ""
		if withAppPassword {
			if ap, err = b.appPassword("wrk"); err != nil {
				return c, "", "", fmt.Errorf("%s: app password: %w", name, err)
			}
		}
		return c, cookie, ap, nil
	}
	basic := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
	}
	checkUser := func(c *caddyInstance, h map[string]string) error {
		lastUser.Store("")
		if err := checkOK(c, h); err != nil {
			return err
		}
		if u, _ := lastUser.Load().(string); u != "bench" {
			return fmt.Errorf("%s: upstream saw Remote-User %q, want bench", c.name, u)
		}
		return nil
	}

	// A: the limit.
	fmt.Println("A: reverse_proxy")
	{
		c, err := newInstance(bin, tmp, "A")
		if err != nil {
			return err
		}
		if err := c.start(c.globalBlock("") + c.site(proxy)); err != nil {
			return err
		}
		err = checkOK(c, nil)
		if err == nil {
			err = measure("A", "reverse_proxy", c, nil)
		}
		c.stop()
		if err != nil {
			return err
		}
	}

	// B: signed-in browser session.
	fmt.Println("B: mfa_gateway + reverse_proxy, session cookie")
	{
		c, cookie, _, err := gateway("B", "", false)
		if err == nil {
			h := map[string]string{"Cookie": "mfagate=" + cookie}
			if err = checkUser(c, h); err == nil {
				if err = measure("B", "mfa_gateway + reverse_proxy, signed-in session cookie", c, h); err == nil {
					doProfile("B", c, h)
				}
			}
		}
		if c != nil {
			c.stop()
		}
		if err != nil {
			return err
		}
	}

	// C: app password in basic auth (cache warmed by the check and the
	// warm-up run).
	fmt.Println("C: mfa_gateway + reverse_proxy, app password (basic auth)")
	{
		c, _, ap, err := gateway("C", "", true)
		if err == nil {
			h := basic("bench", ap)
			if err = checkUser(c, h); err == nil {
				if err = measure("C", "mfa_gateway + reverse_proxy, app password in basic auth (cached)", c, h); err == nil {
					doProfile("C", c, h)
				}
			}
		}
		if c != nil {
			c.stop()
		}
		if err != nil {
			return err
		}
	}

	// D: Caddy's own basic_auth.
	fmt.Println("D: basic_auth (bcrypt) + reverse_proxy")
	{
		c, err := newInstance(bin, tmp, "D")
		if err != nil {
			return err
		}
		hash, err := hashPassword(bin, c.dir, "bench password 1", 10)
		if err != nil {
			return err
		}
		if err := c.start(c.globalBlock("") + c.site("\tbasic_auth {\n\t\tbench "+hash+"\n\t}\n"+proxy)); err != nil {
			return err
		}
		h := basic("bench", "bench password 1")
		err = checkOK(c, h)
		if err == nil {
			err = measure("D", "Caddy basic_auth (bcrypt 10, hash cache) + reverse_proxy", c, h)
		}
		c.stop()
		if err != nil {
			return err
		}
	}

	// E: C's load during a wrong-password storm.
	fmt.Printf("E: C's load while %d clients post wrong passwords to /.mfa/login\n", stormN)
	{
		c, _, ap, err := gateway("E", "\t\tlockout {\n\t\t\taccount_limit 1000000\n\t\t\tip_limit 1000000\n\t\t}\n", true)
		if err == nil {
			h := basic("bench", ap)
			if err = checkUser(c, h); err == nil && warmup > 0 {
				_, err = runWrk(l, warmup, c.url("/bench"), h)
			}
			if err == nil {
				stop := storm(c, stormN, "bench")
				time.Sleep(500 * time.Millisecond)
				saved := warmup
				warmup = 0
				err = measure("E", fmt.Sprintf("C's load + %d clients posting wrong passwords (lockout raised)", stormN), c, h)
				warmup = saved
				counts := stop()
				rep.Storm = &counts
				fmt.Printf("  E: storm answers: %s\n", counts)
			}
		}
		if c != nil {
			c.stop()
		}
		if err != nil {
			return err
		}
	}

	if memory {
		fmt.Printf("memory: %d sessions inserted, 1,000 signed-in requests, %d requests with invalid cookies ...\n", sessions, invalid)
		m, err := measureMemory(bin, tmp, upPort, sessions, 1000, invalid, 200)
		if err != nil {
			return err
		}
		rep.Memory = m
	}

	rep.Notes = append(rep.Notes, fmt.Sprintf("load average (1/5/15 min) at start: %s, at end: %s (other processes on this machine skew results)", loadStart, loadavg()))
	rep.computeRatios()
	rep.print(profileText)
	rep.Extra["total_seconds"] = time.Since(began).Seconds()
	data, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return err
	}
	out := filepath.Join(outDir, "latest.json")
	if err := os.WriteFile(out, append(data, '\n'), 0o644); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s (total %.0f s)\n", out, time.Since(began).Seconds())
	return nil
}

func (r *report) computeRatios() {
	get := func(n string) *configResult {
		for i := range r.Configs {
			if r.Configs[i].Name == n {
				return &r.Configs[i]
			}
		}
		return nil
	}
	add := func(name string, v float64, unit, target string, pass bool) {
		r.Ratios = append(r.Ratios, ratio{Name: name, Value: v, Unit: unit, Target: target, Pass: pass})
	}
	rps := func(a, b string, min float64) {
		x, y := get(a), get(b)
		if x == nil || y == nil || y.RequestsPerSec == 0 {
			return
		}
		v := x.RequestsPerSec / y.RequestsPerSec
		add(a+"/"+b, v, "", fmt.Sprintf(">= %.2f", min), v >= min)
	}
	rps("B", "A", 0.90)
	rps("C", "A", 0.85)
	rps("C", "D", 1.0)
	rps("E", "C", 0.5)
	if a, b := get("A"), get("B"); a != nil && b != nil {
		d := b.P99ms - a.P99ms
		add("p99(B)-p99(A)", d, "ms", "<= 1 ms", d <= 1)
	}
	if m := r.Memory; m != nil {
		add("peak RSS", m.PeakHWMMB, "MB", fmt.Sprintf("<= %.0f MB", m.TargetMB), m.Pass)
	}
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (r *report) print(profiles map[string]string) {
	fmt.Printf("\nmfagate bench: %s, %d CPUs, wrk -t%d -c%d -d%s (warm-up %s)\n\n", r.GoVersion, r.CPUs, r.Threads, r.Connections, r.Duration, r.Warmup)
	fmt.Printf("%-6s %-62s %10s %9s %9s %9s\n", "config", "description", "req/s", "p50 ms", "p99 ms", "non-2xx")
	for _, c := range r.Configs {
		bad := fmt.Sprint(c.Non2xx3xx)
		if c.SocketErrors > 0 {
			bad += fmt.Sprintf(" (+%d sock err)", c.SocketErrors)
		}
		fmt.Printf("%-6s %-62s %10.0f %9.3f %9.3f %9s\n", c.Name, c.Description, c.RequestsPerSec, c.P50ms, c.P99ms, bad)
	}
	fmt.Printf("\n%-16s %10s %12s %s\n", "ratio", "value", "target", "")
	for _, x := range r.Ratios {
		v := fmt.Sprintf("%.3f", x.Value)
		if x.Unit != "" {
			v = fmt.Sprintf("%.2f %s", x.Value, x.Unit)
		}
		fmt.Printf("%-16s %10s %12s %s\n", x.Name, v, x.Target, passMiss(x.Pass))
	}
	if r.Storm != nil {
		fmt.Printf("\nE storm (%d clients, wrong passwords to POST /.mfa/login): %s\n", r.StormConns, r.Storm)
	}
	if m := r.Memory; m != nil {
		fmt.Printf("\nmemory: %d live sessions inserted in SQLite, %d/%d signed-in requests OK, %d invalid-cookie requests answered\n",
			m.SessionsInserted, m.SignedInOK, m.SignedInRequests, m.InvalidCookieOK)
		fmt.Printf("  VmHWM at start %.1f MB, after insert %.1f MB, peak %.1f MB (VmRSS now %.1f MB); target <= %.0f MB: %s\n",
			m.StartHWMMB, m.AfterInsertHWMMB, m.PeakHWMMB, m.RSSMB, m.TargetMB, passMiss(m.Pass))
	}
	fmt.Println("\nnotes:")
	for _, n := range r.Notes {
		fmt.Println("  - " + n)
	}
	for _, label := range []string{"B", "C"} {
		if t, ok := profiles[label]; ok {
			fmt.Printf("\nCPU profile under load %s (%s):\n%s\n", label, r.Profiles[label], indent(t, "  "))
		}
	}
}
