package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/mfagate/mfagate/internal/caddyproc"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
)

// waitLongPoll is how long the server holds one GET {prefix}push/wait
// while the request is pending (longPoll in internal/signin/push.go).
const waitLongPoll = 25 * time.Second

// waitingTarget is the largest acceptable ratio of B's Caddy CPU per
// request with the waiting pages to without them.
const waitingTarget = 1.05

// waitingResult is bench B on one gateway with and without N browsers
// waiting on the sign-in approval page (issue: waiting browsers must not
// load the store).
type waitingResult struct {
	Pages       int    `json:"pages"`
	Description string `json:"description"`
	// Idle is B's load with the seeded store but no waiting page; Waiting
	// the same load while every page holds its long-poll.
	Idle    wrkResult `json:"without_waiting"`
	Waiting wrkResult `json:"with_waiting"`
	// CPURatio is Waiting.CaddyCPUus / Idle.CaddyCPUus; RPSRatio is
	// Waiting.RequestsPerSec / Idle.RequestsPerSec.
	CPURatio    float64 `json:"cpu_ratio"`
	RPSRatio    float64 `json:"rps_ratio"`
	TargetRatio float64 `json:"target_cpu_ratio"`
	Pass        bool    `json:"pass"`
	// OpenMin and OpenMax are the fewest and most long-polls in flight
	// (client side) sampled every 50 ms during the measured run.
	OpenMin int64 `json:"open_min"`
	OpenMax int64 `json:"open_max"`
	// RoundTrips is how many long-polls completed during the measured run;
	// ExpectedRoundTrips is Pages x duration / 25 s.
	RoundTrips         int64   `json:"round_trips_during_measurement"`
	ExpectedRoundTrips float64 `json:"expected_round_trips"`
	// RoundTripsTotal counts every completed long-poll, Pending those that
	// answered "pending"; Unexpected the other answers by status and
	// Errors transport errors and non-200 statuses.
	RoundTripsTotal int64            `json:"round_trips_total"`
	Pending         int64            `json:"pending_answers"`
	Unexpected      map[string]int64 `json:"unexpected_answers,omitempty"`
	Errors          int64            `json:"errors"`
	SeedSeconds     float64          `json:"seed_seconds"`
	RampSeconds     float64          `json:"ramp_seconds"`
	Seconds         float64          `json:"seconds"`
	IdleOutput      string           `json:"wrk_output_without"`
	WaitingOutput   string           `json:"wrk_output_with"`
}

// waiter is one seeded browser half way through sign-in: its session
// cookie and the id of its pending request.
type waiter struct {
	cookie, id string
}

// raiseNoFile makes sure this process, and the Caddy it starts, may open
// need files: the soft limit goes up to the hard one (and the hard one to
// need when it is lower and we are root). Calling Setrlimit also makes
// children inherit the raised limit instead of the original one that
// os/exec would restore.
func raiseNoFile(need uint64) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return err
	}
	if lim.Max < need {
		lim.Max = need
	}
	if lim.Cur < need {
		lim.Cur = need
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("raising the open-file limit to %d: %w (run ulimit -n %d first)", need, err, need)
	}
	return nil
}

// seedWaiters writes n users (no password), one active phone each, a
// session at the password stage each and a pending request bound to it,
// straight into the SQLite file in one transaction, and returns each
// session's cookie encoded with the gateway's configured keys.
func seedWaiters(dbPath string, n int, hashKey, blockKey []byte, site string) ([]waiter, error) {
	// The session manager's codecs (session.NewManager): one pair, its
	// MaxAge the default lifetime.
	codecs := securecookie.CodecsFromPairs(hashKey, blockKey)
	for _, c := range codecs {
		c.(*securecookie.SecureCookie).MaxAge(int(session.DefaultLifetime / time.Second))
	}
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	prep := func(q string) (*sql.Stmt, error) { return tx.PrepareContext(ctx, q) }
	insUser, err := prep(`INSERT INTO users (username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
		VALUES (?, ?, ?, '', 'enforced', 'push', ?, ?)`)
	if err != nil {
		return nil, err
	}
	insDevice, err := prep(`INSERT INTO devices (user_id, name, public_key, active, created_at, activated_at)
		VALUES (?, 'Bench phone', ?, 1, ?, ?)`)
	if err != nil {
		return nil, err
	}
	insSession, err := prep(`INSERT INTO sessions
		(id_hash, user_id, stage, created_at, last_seen_at, mfa_at, pending_totp, redirect_to, remote_ip, user_agent)
		VALUES (?, ?, ?, ?, ?, NULL, NULL, '/', ?, ?)`)
	if err != nil {
		return nil, err
	}
	// Expiring in an hour, the requests stay pending through the run
	// (push_timeout's maximum binds only requests the server makes).
	insApproval, err := prep(`INSERT INTO approvals
		(id, user_id, session_hash, number, status, created_at, expires_at, site, remote_ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, err
	}
	now := time.Now().UnixMilli()
	const agent = "Mozilla/5.0 (X11; Linux x86_64) bench waiting page"
	// A dummy uncompressed P-256 point: nothing verifies it here.
	pub := make([]byte, 65)
	pub[0] = 4
	out := make([]waiter, n)
	for i := range n {
		name := fmt.Sprintf("waiter%05d", i)
		res, err := insUser.ExecContext(ctx, name, "Waiting User "+name, name+"@example.com", now, now)
		if err != nil {
			return nil, fmt.Errorf("insert user %d: %w", i, err)
		}
		uid, err := res.LastInsertId()
		if err != nil {
			return nil, err
		}
		rand.Read(pub[1:])
		if _, err := insDevice.ExecContext(ctx, uid, pub, now, now); err != nil {
			return nil, fmt.Errorf("insert device %d: %w", i, err)
		}
		// The token and its stored hash as session.Manager makes them.
		tok := make([]byte, 32)
		rand.Read(tok)
		token := base64.RawURLEncoding.EncodeToString(tok)
		hash := sha256.Sum256([]byte(token))
		ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		if _, err := insSession.ExecContext(ctx, hash[:], uid, string(model.StagePassword), now, now, ip, agent); err != nil {
			return nil, fmt.Errorf("insert session %d: %w", i, err)
		}
		idb := make([]byte, 18)
		rand.Read(idb)
		id := base64.RawURLEncoding.EncodeToString(idb)
		num, _ := rand.Int(rand.Reader, big.NewInt(90))
		if _, err := insApproval.ExecContext(ctx, id, uid, hash[:], 10+num.Int64(), string(model.ApprovalPending),
			now, now+time.Hour.Milliseconds(), site, ip, agent); err != nil {
			return nil, fmt.Errorf("insert approval %d: %w", i, err)
		}
		cookie, err := securecookie.EncodeMulti(session.CookieName, token, codecs...)
		if err != nil {
			return nil, err
		}
		out[i] = waiter{cookie: cookie, id: id}
	}
	return out, tx.Commit()
}

// pollStatus sends one GET push/wait and returns the answer's status.
func pollStatus(ctx context.Context, client *http.Client, c *caddyInstance, w waiter, id string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", c.url("/.mfa/push/wait?id="+id), nil)
	if err != nil {
		return "", err
	}
	// As app.js's fetch: same-origin, with the session cookie.
	req.Header.Set("Cookie", session.CookieName+"="+w.cookie)
	req.Header.Set("Accept", "*/*")
	req.Header.Set("Cache-Control", "no-cache")
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %d: %.100q", resp.StatusCode, body)
	}
	var v struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("answer %.100q: %w", body, err)
	}
	return v.Status, nil
}

// checkWaiters asks about a wrong request id with every cookie: a valid
// half-signed session answers "replaced" at once (a bad cookie "done").
func checkWaiters(c *caddyInstance, ws []waiter) error {
	tr := &http.Transport{MaxIdleConns: 32, MaxIdleConnsPerHost: 32}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var next atomic.Int64
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(ws) {
					return
				}
				st, err := pollStatus(context.Background(), client, c, ws[i], "not-a-request")
				if err == nil && st != "replaced" {
					err = fmt.Errorf("status %q, want replaced (is the cookie valid?)", st)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("waiting page %d: %w", i, err)
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}

// waitingPages is len(ws) browsers each holding GET push/wait for its own
// request, re-issuing it as soon as it returns (as app.js does).
type waitingPages struct {
	open, roundTrips, pending, errors atomic.Int64
	mu                                sync.Mutex
	unexpected                        map[string]int64
	cancel                            context.CancelFunc
	wg                                sync.WaitGroup
	tr                                *http.Transport
}

// startWaiting opens the long-polls, the first ones spread evenly over
// ramp so that they return evenly spread in time, as real pages would.
func startWaiting(c *caddyInstance, ws []waiter, ramp time.Duration) *waitingPages {
	ctx, cancel := context.WithCancel(context.Background())
	p := &waitingPages{unexpected: map[string]int64{}, cancel: cancel,
		tr: &http.Transport{MaxIdleConns: len(ws) + 16, MaxIdleConnsPerHost: len(ws) + 16, IdleConnTimeout: 2 * waitLongPoll}}
	client := &http.Client{Transport: p.tr, Timeout: 2 * waitLongPoll}
	for i, w := range ws {
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			sleep := func(d time.Duration) bool {
				t := time.NewTimer(d)
				defer t.Stop()
				select {
				case <-t.C:
					return true
				case <-ctx.Done():
					return false
				}
			}
			if !sleep(ramp * time.Duration(i) / time.Duration(len(ws))) {
				return
			}
			for ctx.Err() == nil {
				p.open.Add(1)
				st, err := pollStatus(ctx, client, c, w, w.id)
				p.open.Add(-1)
				if ctx.Err() != nil {
					return
				}
				if err != nil {
					p.errors.Add(1)
					// app.js gives up and reloads after 2 s.
					sleep(2 * time.Second)
					continue
				}
				p.roundTrips.Add(1)
				if st == string(model.ApprovalPending) {
					p.pending.Add(1)
					continue
				}
				p.mu.Lock()
				p.unexpected[st]++
				p.mu.Unlock()
				sleep(2 * time.Second)
			}
		}()
	}
	return p
}

// sample records the fewest and most open long-polls until stop.
func (p *waitingPages) sample() (stop func() (lo, hi int64)) {
	done := make(chan struct{})
	var lo, hi int64 = -1, 0
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			n := p.open.Load()
			if lo < 0 || n < lo {
				lo = n
			}
			hi = max(hi, n)
			select {
			case <-t.C:
			case <-done:
				return
			}
		}
	}()
	return func() (int64, int64) {
		close(done)
		<-finished
		return lo, hi
	}
}

func (p *waitingPages) stop() {
	p.cancel()
	p.wg.Wait()
	p.tr.CloseIdleConnections()
}

// measureWaiting runs the waiting-pages scenario on a fresh gateway like
// B's with phones enabled (a portal site) and fixed session keys.
func measureWaiting(bin, root string, upstreamPort int, lastUser *atomic.Value, l load, warmup time.Duration, n int) (*waitingResult, error) {
	began := time.Now()
	// Both ends of each long-poll, wrk's connections and some slack.
	if err := raiseNoFile(uint64(2*n + 2*l.conns + 1024)); err != nil {
		return nil, err
	}
	c, err := newInstance(bin, root, "waiting")
	if err != nil {
		return nil, err
	}
	portalPort, err := caddyproc.FreePort()
	if err != nil {
		return nil, err
	}
	hashKey, blockKey := make([]byte, 64), make([]byte, 32)
	rand.Read(hashKey)
	rand.Read(blockKey)
	extra := fmt.Sprintf("\t\tportal http://localhost:%d\n\t\tkeys {\n\t\t\tsession_hash %s\n\t\t\tsession_block %s\n\t\t}\n",
		portalPort, base64.StdEncoding.EncodeToString(hashKey), base64.StdEncoding.EncodeToString(blockKey))
	portalSite := fmt.Sprintf("http://localhost:%d {\n\tbind 127.0.0.1\n\tmfa_portal\n}\n", portalPort)
	if err := c.start(c.globalBlock(c.mfaBlock(extra)) + portalSite +
		c.site(fmt.Sprintf("\tmfa_gateway\n\treverse_proxy 127.0.0.1:%d\n", upstreamPort))); err != nil {
		return nil, err
	}
	defer c.stop()

	cookie, err := newBrowser(c).signIn("bench", "bench password 1")
	if err != nil {
		return nil, fmt.Errorf("waiting: sign-in: %w", err)
	}
	headers := map[string]string{"Cookie": session.CookieName + "=" + cookie}
	lastUser.Store("")
	if err := checkOK(c, headers); err != nil {
		return nil, err
	}
	if u, _ := lastUser.Load().(string); u != "bench" {
		return nil, fmt.Errorf("waiting: upstream saw Remote-User %q, want bench", u)
	}

	res := &waitingResult{Pages: n, TargetRatio: waitingTarget, RampSeconds: waitLongPoll.Seconds(),
		Description: fmt.Sprintf("B's load on a gateway with %d seeded users, phones, half-signed-in sessions and pending requests, without and with a waiting page per request (GET /.mfa/push/wait long-polls)", n)}
	t0 := time.Now()
	ws, err := seedWaiters(c.dbPath(), n, hashKey, blockKey, fmt.Sprintf("127.0.0.1:%d", c.HTTPPort))
	if err != nil {
		return nil, fmt.Errorf("waiting: seeding: %w", err)
	}
	res.SeedSeconds = time.Since(t0).Seconds()
	fmt.Printf("  seeded %d users, phones, sessions and pending requests in %.2f s\n", n, res.SeedSeconds)
	if err := checkWaiters(c, ws); err != nil {
		return nil, err
	}

	measure := func(label string) (*wrkResult, error) {
		if warmup > 0 {
			if _, err := runWrk(l, warmup, c.url("/bench"), headers); err != nil {
				return nil, err
			}
		}
		fmt.Printf("  waiting, %s: measuring %s ...\n", label, l.duration)
		cpu0, _ := cpuSeconds(c.pid())
		r, err := runWrk(l, l.duration, c.url("/bench"), headers)
		if err != nil {
			return nil, err
		}
		if cpu1, cerr := cpuSeconds(c.pid()); cerr == nil && r.Requests > 0 {
			r.CaddyCPUus = (cpu1 - cpu0) / float64(r.Requests) * 1e6
		}
		fmt.Printf("    %.0f req/s, p50 %.3f ms, p99 %.3f ms, non-2xx %d, Caddy CPU %.0f us/req\n", r.RequestsPerSec, r.P50ms, r.P99ms, r.Non2xx3xx, r.CaddyCPUus)
		return r, nil
	}
	idle, err := measure("no waiting page")
	if err != nil {
		return nil, err
	}
	res.Idle, res.IdleOutput = *idle, idle.Raw

	fmt.Printf("  opening %d waiting pages, spread over %s ...\n", n, waitLongPoll)
	pages := startWaiting(c, ws, waitLongPoll)
	defer pages.stop()
	time.Sleep(waitLongPoll + 500*time.Millisecond)
	if warmup > 0 {
		if _, err := runWrk(l, warmup, c.url("/bench"), headers); err != nil {
			return nil, err
		}
	}
	fmt.Printf("  waiting, %d pages waiting (%d open now): measuring %s ...\n", n, pages.open.Load(), l.duration)
	stopSampling := pages.sample()
	rt0 := pages.roundTrips.Load()
	cpu0, _ := cpuSeconds(c.pid())
	w, err := runWrk(l, l.duration, c.url("/bench"), headers)
	cpu1, cerr := cpuSeconds(c.pid())
	res.RoundTrips = pages.roundTrips.Load() - rt0
	res.OpenMin, res.OpenMax = stopSampling()
	if err != nil {
		return nil, err
	}
	if cerr == nil && w.Requests > 0 {
		w.CaddyCPUus = (cpu1 - cpu0) / float64(w.Requests) * 1e6
	}
	fmt.Printf("    %.0f req/s, p50 %.3f ms, p99 %.3f ms, non-2xx %d, Caddy CPU %.0f us/req; long-polls open %d-%d, %d completed\n",
		w.RequestsPerSec, w.P50ms, w.P99ms, w.Non2xx3xx, w.CaddyCPUus, res.OpenMin, res.OpenMax, res.RoundTrips)
	pages.stop()
	res.Waiting, res.WaitingOutput = *w, w.Raw

	res.ExpectedRoundTrips = float64(n) * l.duration.Seconds() / waitLongPoll.Seconds()
	res.RoundTripsTotal, res.Pending, res.Errors = pages.roundTrips.Load(), pages.pending.Load(), pages.errors.Load()
	if len(pages.unexpected) > 0 {
		res.Unexpected = pages.unexpected
	}
	if res.Idle.CaddyCPUus > 0 {
		res.CPURatio = res.Waiting.CaddyCPUus / res.Idle.CaddyCPUus
	}
	if res.Idle.RequestsPerSec > 0 {
		res.RPSRatio = res.Waiting.RequestsPerSec / res.Idle.RequestsPerSec
	}
	res.Pass = res.CPURatio > 0 && res.CPURatio <= waitingTarget
	res.Seconds = time.Since(began).Seconds()
	return res, nil
}
