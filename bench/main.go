// Command bench measures mfagate's cost over a plain Caddy reverse proxy
// with wrk, and a gateway's memory with many live sessions.
//
//	go run ./bench [-threads 2] [-connections 32] [-duration 10s] ...
//
// It builds ./cmd/caddy, starts a tiny upstream and one Caddy process per
// configuration (A: reverse_proxy, sent B's cookie too; B: mfa_gateway with
// a signed-in session cookie; C: mfa_gateway with an app password in basic
// auth; D: Caddy's basic_auth (bcrypt); E: C's load during a wrong-password
// storm on the sign-in page), measures them in interleaved rounds and
// reports B-A, C-A and D-A in CPU microseconds per request (median and
// spread of the rounds) beside the ratios, then B's load on one more gateway without and with many
// browsers waiting on the phone-approval page (-waiting), prints a table
// with the targets and writes it as JSON to bench/results/latest.json.
// See -h for the flags.
package main

import (
	"bytes"
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
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

const upstreamBody = "hello from the bench upstream\n"

type configResult struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	wrkResult
	// Rounds holds every measured run when -rounds > 1 (the fields
	// above are then per-field medians).
	Rounds    []wrkResult `json:"rounds,omitempty"`
	WrkOutput string      `json:"wrk_output"`
}

// summarize folds the runs of one configuration into medians.
func summarize(name, desc string, runs []wrkResult) configResult {
	c := configResult{Name: name, Description: desc}
	if len(runs) == 1 {
		c.wrkResult, c.WrkOutput = runs[0], runs[0].Raw
		return c
	}
	med := func(f func(wrkResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		if len(v)%2 == 1 {
			return v[len(v)/2]
		}
		return (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	c.RequestsPerSec = med(func(r wrkResult) float64 { return r.RequestsPerSec })
	c.P50ms = med(func(r wrkResult) float64 { return r.P50ms })
	c.P99ms = med(func(r wrkResult) float64 { return r.P99ms })
	c.CaddyCPUus = med(func(r wrkResult) float64 { return r.CaddyCPUus })
	for _, r := range runs {
		c.Requests += r.Requests
		c.Non2xx3xx += r.Non2xx3xx
		c.SocketErrors += r.SocketErrors
		c.WrkOutput += r.Raw + "\n"
	}
	c.Rounds = runs
	return c
}

type ratio struct {
	Name   string  `json:"name"`
	Value  float64 `json:"value"`
	Unit   string  `json:"unit,omitempty"`
	Target string  `json:"target"`
	Pass   bool    `json:"pass"`
	// PerRound is the same figure within each interleaved round, to show
	// how much of a verdict is the machine's noise.
	PerRound []float64 `json:"per_round,omitempty"`
	// Min and Max are the spread of PerRound (differences only).
	Min float64 `json:"min,omitempty"`
	Max float64 `json:"max,omitempty"`
	// NoGate: a figure reported, not judged (the machine's noise is
	// larger than a useful threshold).
	NoGate bool `json:"no_gate,omitempty"`
}

// median of v (v is sorted in place); 0 when empty.
func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cpuDelta is y's Caddy CPU per request minus x's, round by round: the
// median of the paired differences with their spread (one round: the
// difference itself).
func cpuDelta(x, y *configResult) (med, lo, hi float64, rounds []float64) {
	rounds = perRound(x, y, func(p, q wrkResult) float64 { return q.CaddyCPUus - p.CaddyCPUus })
	if rounds == nil {
		d := y.CaddyCPUus - x.CaddyCPUus
		return d, d, d, nil
	}
	sorted := append([]float64(nil), rounds...)
	med = median(sorted)
	return med, sorted[0], sorted[len(sorted)-1], rounds
}

// perRound applies f to the runs of x and y round by round.
func perRound(x, y *configResult, f func(a, b wrkResult) float64) []float64 {
	if len(x.Rounds) < 2 || len(x.Rounds) != len(y.Rounds) {
		return nil
	}
	out := make([]float64, len(x.Rounds))
	for i := range x.Rounds {
		out[i] = f(x.Rounds[i], y.Rounds[i])
	}
	return out
}

type report struct {
	Time        time.Time         `json:"time"`
	GoVersion   string            `json:"go_version"`
	Commit      string            `json:"commit"`
	CPUs        int               `json:"cpus"`
	Threads     int               `json:"threads"`
	Connections int               `json:"connections"`
	Duration    string            `json:"duration"`
	Warmup      string            `json:"warmup"`
	Rounds      int               `json:"rounds"`
	Configs     []configResult    `json:"configs"`
	Ratios      []ratio           `json:"ratios"`
	Storm       *stormCounts      `json:"storm,omitempty"`
	StormConns  int               `json:"storm_clients"`
	Memory      *memoryResult     `json:"memory,omitempty"`
	Waiting     *waitingResult    `json:"waiting,omitempty"`
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
	profileConfigs := flag.String("profile-configs", "BC", "configurations to profile, e.g. ABCD")
	rounds := flag.Int("rounds", 5, "interleaved rounds over the configurations; the table shows medians and B-A, C-A, D-A their spread (each round adds about 5 x (warmup+duration))")
	memory := flag.Bool("memory", true, "run the memory (peak RSS) scenario")
	sessions := flag.Int("sessions", 100_000, "sessions inserted for the memory scenario")
	invalid := flag.Int("invalid-requests", 100_000, "requests with random invalid cookies in the memory scenario")
	configs := flag.String("configs", "ABCDE", "configurations to measure (A is always measured: the differences are against it)")
	waiting := flag.Int("waiting", 1000, "browsers waiting on the phone-approval page during B's load in the waiting scenario (0 skips it; it adds about 2 x (warmup+duration) + 25 s)")
	flag.Parse()

	onInterrupt()
	if *rounds < 1 {
		*rounds = 1
	}
	err := run(load{*threads, *conns, *duration}, *warmup, *rounds, *stormClients, *profile, *profileSeconds, *profileConfigs, "A"+*configs, *memory, *sessions, *invalid, *waiting)
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

// gitState names the measured tree: the HEAD commit, "+dirty" when the
// working tree has changes.
func gitState(root string) string {
	out, err := exec.Command("git", "-C", root, "rev-parse", "--short", "HEAD").Output()
	if err != nil {
		return "unknown"
	}
	s := strings.TrimSpace(string(out))
	if st, err := exec.Command("git", "-C", root, "status", "--porcelain").Output(); err == nil && len(bytes.TrimSpace(st)) > 0 {
		s += "+dirty"
	}
	return s
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
		// Store only on change: a Store per request (an allocation and a
		// contended write) would be upstream work that A and D, which send
		// no Remote-User, never pay.
		if u := r.Header.Get("Remote-User"); u != "" {
			if prev, _ := lastUser.Load().(string); prev != u {
				lastUser.Store(u)
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write(body) // the client may have gone; the benchmark counts its answers
	}), ReadHeaderTimeout: 10 * time.Second}
	// Serve returns when the process ends; a failure shows as requests
	// that fail, which the benchmark reports.
	go func() { _ = srv.Serve(l) }()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func run(l load, warmup time.Duration, rounds, stormN int, profile bool, profileSeconds int, profileConfigs, configs string, memory bool, sessions, invalid, waiting int) error {
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

	rep := &report{Time: time.Now().UTC(), GoVersion: runtime.Version(), Commit: gitState(root), CPUs: runtime.NumCPU(),
		Threads: l.threads, Connections: l.conns, Duration: l.duration.String(), Warmup: warmup.String(),
		Rounds: rounds, StormConns: stormN, Profiles: map[string]string{}, Extra: map[string]any{}}
	rep.Notes = append(rep.Notes,
		"one Caddy process per configuration (all started before measuring, idle while others run); mfa configurations use bcrypt_cost 10 and SQLite in a temp dir",
		fmt.Sprintf("wrk -t%d -c%d -d%s --latency --timeout 10s, each run preceded by an unmeasured %s warm-up; upstream is a Go net/http server in the bench process", l.threads, l.conns, l.duration, warmup),
		"A sends B's signed-in cookie too (the same request headers), so B-A is the gateway's work, not a longer request",
		"B-A, C-A, D-A CPU: Caddy CPU per request of each configuration minus A's in the same round; the median of the rounds, [min..max], then each round",
	)
	if strings.Contains(configs, "D") {
		rep.Notes = append(rep.Notes, "D: Caddy basic_auth with a bcrypt cost-10 hash from `caddy hash-password`; its hash cache is on (Caddyfile default)")
	}
	if strings.Contains(configs, "E") {
		rep.Notes = append(rep.Notes, "E: lockout { account_limit 1000000 ip_limit 1000000 } so the wrong-password storm measures bcrypt pressure, not lockout")
	}

	basic := func(user, pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pw))}
	}
	// gateway starts a gateway instance with a signed-in, enforced user.
	gateway := func(name, lockout string, withAppPassword bool) (*caddyInstance, map[string]string, error) {
		c, err := newInstance(bin, tmp, name)
		if err != nil {
			return nil, nil, err
		}
		if err := c.start(c.globalBlock(c.mfaBlock(lockout)) + c.site(gatewayHandlers)); err != nil {
			return nil, nil, err
		}
		b := newBrowser(c)
		cookie, err := b.signIn("bench", "bench password 1")
		if err != nil {
			return nil, nil, fmt.Errorf("%s: sign-in: %w", name, err)
		}
		h := map[string]string{"Cookie": "mfagate=" + cookie}
		if withAppPassword {
			ap, err := b.appPassword("wrk")
			if err != nil {
				return nil, nil, fmt.Errorf("%s: app password: %w", name, err)
			}
			h = basic("bench", ap)
		}
		lastUser.Store("")
		if err := checkOK(c, h); err != nil {
			return nil, nil, err
		}
		if u, _ := lastUser.Load().(string); u != "bench" {
			return nil, nil, fmt.Errorf("%s: upstream saw Remote-User %q, want bench", c.name, u)
		}
		return c, h, nil
	}

	type target struct {
		name, desc string
		c          *caddyInstance
		headers    map[string]string
		storm      bool
		runs       []wrkResult
	}
	var targets []*target
	defer func() {
		for _, t := range targets {
			t.c.stop()
		}
	}()
	fmt.Println("starting one Caddy per configuration and signing in ...")
	// B always runs (unmeasured unless asked for): its signed-in cookie is
	// what A sends too, so A's requests carry the same headers as B's and
	// the difference is the gateway's work, not a longer request to parse,
	// clone and log.
	var cookieHeaders map[string]string
	{
		c, h, err := gateway("B", "", false)
		if err != nil {
			return err
		}
		cookieHeaders = h
		if strings.Contains(configs, "B") {
			targets = append(targets, &target{name: "B", desc: "mfa_gateway + reverse_proxy, signed-in session cookie", c: c, headers: h})
		} else {
			c.stop()
		}
	}
	{
		c, err := newInstance(bin, tmp, "A")
		if err != nil {
			return err
		}
		if err := c.start(c.globalBlock("") + c.site(proxy)); err != nil {
			return err
		}
		targets = append([]*target{{name: "A", desc: "reverse_proxy (sent B's cookie too)", c: c, headers: cookieHeaders}}, targets...)
		if err := checkOK(c, cookieHeaders); err != nil {
			return err
		}
	}
	if strings.Contains(configs, "C") {
		c, h, err := gateway("C", "", true)
		if err != nil {
			return err
		}
		targets = append(targets, &target{name: "C", desc: "mfa_gateway + reverse_proxy, app password, basic auth", c: c, headers: h})
	}
	if strings.Contains(configs, "D") {
		c, err := newInstance(bin, tmp, "D")
		if err != nil {
			return err
		}
		hash, err := hashPassword(bin, c.Dir, "bench password 1", 10)
		if err != nil {
			return err
		}
		if err := c.start(c.globalBlock("") + c.site("\tbasic_auth {\n\t\tbench "+hash+"\n\t}\n"+proxy)); err != nil {
			return err
		}
		h := basic("bench", "bench password 1")
		targets = append(targets, &target{name: "D", desc: "Caddy basic_auth (bcrypt 10, hash cache) + reverse_proxy", c: c, headers: h})
		if err := checkOK(c, h); err != nil {
			return err
		}
	}
	if strings.Contains(configs, "E") {
		c, h, err := gateway("E", "\t\tlockout {\n\t\t\taccount_limit 1000000\n\t\t\tip_limit 1000000\n\t\t}\n", true)
		if err != nil {
			return err
		}
		targets = append(targets, &target{name: "E", desc: fmt.Sprintf("C's load + %d clients posting wrong passwords", stormN), c: c, headers: h, storm: true})
	}

	if rounds > 1 {
		var names []string
		for _, t := range targets {
			names = append(names, t.name)
		}
		order := strings.Join(names, " ")
		if len(names) > 1 {
			order += ", " + strings.Join(append(names[1:], names[0]), " ") + ", ..."
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("%d interleaved rounds, each starting one configuration later (%s); the table shows the per-config median", rounds, order))
	}
	var stormTotal stormCounts
	for round := 1; round <= rounds; round++ {
		// Each round starts one configuration later (A B C D E, then
		// B C D E A, ...), so no configuration always runs first or right
		// after the storm.
		for i := range targets {
			t := targets[(i+round-1)%len(targets)]
			if warmup > 0 {
				// Also re-warms C's and E's app-password cache (5 s TTL).
				if _, err := runWrk(l, warmup, t.c.url("/bench"), t.headers); err != nil {
					return err
				}
			}
			var stop func() stormCounts
			if t.storm {
				stop = storm(t.c, stormN, "bench")
				time.Sleep(500 * time.Millisecond)
			}
			fmt.Printf("  round %d/%d, %s: measuring %s ...\n", round, rounds, t.name, l.duration)
			cpu0, _ := cpuSeconds(t.c.pid())
			res, err := runWrk(l, l.duration, t.c.url("/bench"), t.headers)
			if cpu1, cerr := cpuSeconds(t.c.pid()); cerr == nil && err == nil && res.Requests > 0 {
				res.CaddyCPUus = (cpu1 - cpu0) / float64(res.Requests) * 1e6
			}
			if stop != nil {
				counts := stop()
				fmt.Printf("    storm answers: %s\n", counts)
				stormTotal.add(counts)
			}
			if err != nil {
				return err
			}
			t.runs = append(t.runs, *res)
			fmt.Printf("    %s: %.0f req/s, p50 %.3f ms, p99 %.3f ms, non-2xx %d, Caddy CPU %.0f us/req\n", t.name, res.RequestsPerSec, res.P50ms, res.P99ms, res.Non2xx3xx, res.CaddyCPUus)
		}
	}
	if stormN > 0 && strings.Contains(configs, "E") {
		rep.Storm = &stormTotal
	}
	for _, t := range targets {
		rep.Configs = append(rep.Configs, summarize(t.name, t.desc, t.runs))
	}

	profileText := map[string]string{}
	if profile {
		for _, t := range targets {
			if !strings.Contains(profileConfigs, t.name) {
				continue
			}
			fmt.Printf("  %s: CPU profile, %d s under the same load (not measured) ...\n", t.name, profileSeconds)
			file, text, err := profileUnderLoad(t.c, l, profileSeconds, "/bench", t.headers, outDir, t.name)
			if err != nil {
				fmt.Fprintf(os.Stderr, "  %s: profile failed: %v\n", t.name, err)
				continue
			}
			rel, _ := filepath.Rel(root, file)
			rep.Profiles[t.name] = rel
			profileText[t.name] = text
		}
	}
	for _, t := range targets {
		t.c.stop()
	}
	targets = nil

	if waiting > 0 {
		fmt.Printf("waiting: B's load without and with %d browsers waiting on the phone-approval page ...\n", waiting)
		w, err := measureWaiting(bin, tmp, upPort, &lastUser, l, warmup, waiting)
		if err != nil {
			return err
		}
		rep.Waiting = w
		rep.Notes = append(rep.Notes, fmt.Sprintf("waiting: one more gateway like B with a portal and fixed session keys; %d users, active phones, password-stage sessions and pending requests (expiring in 1 h) inserted with SQL in one transaction; B's load measured without, then with one client per request holding GET /.mfa/push/wait (re-issued at once, the first ones spread over %s so they return evenly); Bwait/B0 CPU is Caddy CPU per B request with/without", waiting, waitLongPoll))
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
	add := func(name string, v float64, unit, target string, pass bool, rounds []float64) {
		r.Ratios = append(r.Ratios, ratio{Name: name, Value: v, Unit: unit, Target: target, Pass: pass, PerRound: rounds})
	}
	rps := func(a, b string, min float64) {
		x, y := get(a), get(b)
		if x == nil || y == nil || y.RequestsPerSec == 0 {
			return
		}
		v := x.RequestsPerSec / y.RequestsPerSec
		add(a+"/"+b, v, "", fmt.Sprintf(">= %.2f", min), v >= min,
			perRound(x, y, func(p, q wrkResult) float64 { return p.RequestsPerSec / q.RequestsPerSec }))
	}
	// The gateway's cost in CPU per request over A, each configuration's
	// paired with A's run of the same round.
	for _, n := range []string{"B", "C", "D"} {
		x, y := get("A"), get(n)
		if x == nil || y == nil {
			continue
		}
		med, lo, hi, rounds := cpuDelta(x, y)
		r.Ratios = append(r.Ratios, ratio{Name: n + "-A CPU", Value: med, Unit: "us", Target: "(reported)", PerRound: rounds, Min: lo, Max: hi, NoGate: true})
	}
	rps("B", "A", 0.90)
	rps("C", "A", 0.85)
	rps("C", "D", 1.0)
	rps("E", "C", 0.5)
	if a, b := get("A"), get("B"); a != nil && b != nil {
		d := b.P99ms - a.P99ms
		add("p99(B)-p99(A)", d, "ms", "<= 1 ms", d <= 1,
			perRound(b, a, func(p, q wrkResult) float64 { return p.P99ms - q.P99ms }))
	}
	if w := r.Waiting; w != nil {
		add("Bwait/B0 CPU", w.CPURatio, "", fmt.Sprintf("<= %.2f", w.TargetRatio), w.Pass, nil)
		add("Bwait/B0 req/s", w.RPSRatio, "", fmt.Sprintf(">= %.2f", 2-w.TargetRatio), w.RPSRatio >= 2-w.TargetRatio, nil)
	}
	if m := r.Memory; m != nil {
		add("peak RSS", m.PeakHWMMB, "MB", fmt.Sprintf("<= %.0f MB", m.TargetMB), m.Pass, nil)
	}
}

func passMiss(ok bool) string {
	if ok {
		return "PASS"
	}
	return "MISS"
}

func (r *report) print(profiles map[string]string) {
	fmt.Printf("\nmfagate bench at %s: %s, %d CPUs, wrk -t%d -c%d -d%s (warm-up %s), %d round(s)\n\n", r.Commit, r.GoVersion, r.CPUs, r.Threads, r.Connections, r.Duration, r.Warmup, r.Rounds)
	fmt.Printf("%-6s %-58s %10s %9s %9s %9s %12s\n", "config", "description", "req/s", "p50 ms", "p99 ms", "non-2xx", "CPU us/req")
	for _, c := range r.Configs {
		bad := fmt.Sprint(c.Non2xx3xx)
		if c.SocketErrors > 0 {
			bad += fmt.Sprintf(" (+%d sock err)", c.SocketErrors)
		}
		fmt.Printf("%-6s %-58s %10.0f %9.3f %9.3f %9s %12.0f\n", c.Name, c.Description, c.RequestsPerSec, c.P50ms, c.P99ms, bad, c.CaddyCPUus)
	}
	fmt.Printf("\n%-16s %10s %12s %-6s %s\n", "ratio", "value", "target", "", "each round")
	for _, x := range r.Ratios {
		v := fmt.Sprintf("%.3f", x.Value)
		if x.Unit != "" {
			v = fmt.Sprintf("%.2f %s", x.Value, x.Unit)
		}
		if x.NoGate {
			var rounds []string
			for _, p := range x.PerRound {
				rounds = append(rounds, fmt.Sprintf("%.1f", p))
			}
			fmt.Printf("%-16s %10s %12s %-6s %s\n", x.Name, fmt.Sprintf("%.1f %s", x.Value, x.Unit),
				fmt.Sprintf("[%.1f..%.1f]", x.Min, x.Max), "", strings.Join(rounds, " "))
			continue
		}
		var rounds []string
		for _, p := range x.PerRound {
			rounds = append(rounds, fmt.Sprintf("%.3f", p))
		}
		fmt.Printf("%-16s %10s %12s %-6s %s\n", x.Name, v, x.Target, passMiss(x.Pass), strings.Join(rounds, " "))
	}
	if r.Storm != nil {
		fmt.Printf("\nE storm (%d clients, wrong passwords to POST /.mfa/login): %s\n", r.StormConns, r.Storm)
	}
	if w := r.Waiting; w != nil {
		fmt.Printf("\nwaiting pages: %d seeded users with an active phone, a half-signed-in session and a pending request each (seeded in %.2f s)\n", w.Pages, w.SeedSeconds)
		fmt.Printf("  B0, no waiting page:      %10.0f req/s, Caddy CPU %.0f us/req\n", w.Idle.RequestsPerSec, w.Idle.CaddyCPUus)
		fmt.Printf("  Bwait, %5d pages waiting: %8.0f req/s, Caddy CPU %.0f us/req\n", w.Pages, w.Waiting.RequestsPerSec, w.Waiting.CaddyCPUus)
		fmt.Printf("  CPU ratio %.3f (target <= %.2f): %s; req/s ratio %.3f\n", w.CPURatio, w.TargetRatio, passMiss(w.Pass), w.RPSRatio)
		fmt.Printf("  long-polls open during the measurement: %d-%d; completed during it: %d (expected about %.0f = %d x %s / %s)\n",
			w.OpenMin, w.OpenMax, w.RoundTrips, w.ExpectedRoundTrips, w.Pages, r.Duration, waitLongPoll)
		fmt.Printf("  all long-polls: %d completed, %d answered pending, unexpected %v, errors %d\n", w.RoundTripsTotal, w.Pending, w.Unexpected, w.Errors)
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
	for _, label := range []string{"A", "B", "C", "D", "E"} {
		if t, ok := profiles[label]; ok {
			fmt.Printf("\nCPU profile under load %s (%s):\n%s\n", label, r.Profiles[label], indent(t, "  "))
		}
	}
}
