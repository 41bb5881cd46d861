package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
)

// memoryResult is the peak RSS of a gateway after the session load.
type memoryResult struct {
	SessionsInserted      int     `json:"sessions_inserted"`
	SignedInRequests      int     `json:"signed_in_requests"`
	SignedInOK            int64   `json:"signed_in_ok"`
	InvalidCookieRequests int     `json:"invalid_cookie_requests"`
	InvalidCookieOK       int64   `json:"invalid_cookie_answered"`
	StartHWMMB            float64 `json:"start_vmhwm_mb"`
	AfterInsertHWMMB      float64 `json:"after_insert_vmhwm_mb"`
	PeakHWMMB             float64 `json:"vmhwm_mb"`
	RSSMB                 float64 `json:"vmrss_mb"`
	TargetMB              float64 `json:"target_mb"`
	Pass                  bool    `json:"pass"`
	Seconds               float64 `json:"seconds"`
}

// insertSessions writes n complete sessions of userID straight into the
// SQLite file (schema: store/sqlite/migrations/0001_init.sql), each keyed
// by the SHA-256 of a random token, as the server does.
func insertSessions(dbPath string, userID int64, n int) error {
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO sessions
		(id_hash, user_id, stage, created_at, last_seen_at, mfa_at, pending_totp, redirect_to, remote_ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, NULL, '/', ?, ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	now := time.Now().UnixMilli()
	tok := make([]byte, 32)
	for i := range n {
		rand.Read(tok)
		sum := sha256.Sum256([]byte(base64.RawURLEncoding.EncodeToString(tok)))
		// Spread activity over the last 50 minutes: all still live.
		seen := now - int64(i%3000)*1000
		if _, err := stmt.ExecContext(ctx, sum[:], userID, string(model.StageComplete), seen-60_000, seen, seen-60_000,
			fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255), "Mozilla/5.0 (X11; Linux x86_64) bench"); err != nil {
			return fmt.Errorf("insert session %d: %w", i, err)
		}
	}
	return tx.Commit()
}

func userID(dbPath, name string) (int64, error) {
	db, err := sql.Open("sqlite", dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, err
	}
	defer db.Close()
	var id int64
	err = db.QueryRow("SELECT id FROM users WHERE username = ?", name).Scan(&id)
	return id, err
}

// drive sends total GETs from workers goroutines; cookie(i) gives the
// cookie value of request i. It returns how many got a 200.
func drive(c *caddyInstance, total, workers int, cookie func(i int) string) (ok, answered int64) {
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var next, okN, ans atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= total {
					return
				}
				req, _ := http.NewRequest("GET", c.url(fmt.Sprintf("/doc/%d", i%1000)), nil)
				req.Header.Set("Cookie", session.CookieName+"="+cookie(i))
				resp, err := client.Do(req)
				if err != nil {
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
				resp.Body.Close()
				ans.Add(1)
				if resp.StatusCode == 200 {
					okN.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	return okN.Load(), ans.Load()
}

// measureMemory runs the memory scenario on a fresh gateway.
func measureMemory(bin, root string, upstreamPort int, sessions, signedIn, invalid int, targetMB float64) (*memoryResult, error) {
	start := time.Now()
	c, err := newInstance(bin, root, "memory")
	if err != nil {
		return nil, err
	}
	if err := c.start(c.globalBlock(c.mfaBlock("")) + c.site(fmt.Sprintf("\tmfa_gateway\n\treverse_proxy 127.0.0.1:%d\n", upstreamPort))); err != nil {
		return nil, err
	}
	defer c.stop()
	res := &memoryResult{SessionsInserted: sessions, SignedInRequests: signedIn, InvalidCookieRequests: invalid, TargetMB: targetMB}
	cookie, err := newBrowser(c).signIn("memuser", "memuser password 1")
	if err != nil {
		return nil, err
	}
	hwm := func() float64 {
		kb, _ := procStatusKB(c.pid(), "VmHWM")
		return float64(kb) / 1024
	}
	res.StartHWMMB = hwm()
	id, err := userID(c.dbPath(), "memuser")
	if err != nil {
		return nil, fmt.Errorf("user id: %w", err)
	}
	if err := insertSessions(c.dbPath(), id, sessions); err != nil {
		return nil, err
	}
	res.AfterInsertHWMMB = hwm()
	res.SignedInOK, _ = drive(c, signedIn, 8, func(int) string { return cookie })
	if res.SignedInOK != int64(signedIn) {
		return nil, fmt.Errorf("memory: only %d of %d signed-in requests got 200", res.SignedInOK, signedIn)
	}
	fakeLen := len(cookie)
	_, res.InvalidCookieOK = drive(c, invalid, 32, func(int) string {
		b := make([]byte, fakeLen*3/4+1)
		rand.Read(b)
		return base64.URLEncoding.EncodeToString(b)[:fakeLen]
	})
	res.PeakHWMMB = hwm()
	rss, _ := procStatusKB(c.pid(), "VmRSS")
	res.RSSMB = float64(rss) / 1024
	res.Pass = res.PeakHWMMB <= targetMB
	res.Seconds = time.Since(start).Seconds()
	return res, nil
}
