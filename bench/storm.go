package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stormCounts tallies the answers to wrong-password submissions.
type stormCounts struct {
	S200   int64 `json:"200"`
	S429   int64 `json:"429"`
	S503   int64 `json:"503"`
	Other  int64 `json:"other"`
	Errors int64 `json:"transport_errors"`
	// OtherStatuses lists the other statuses seen (status -> count).
	OtherStatuses map[int]int64 `json:"other_statuses,omitempty"`
}

func (s *stormCounts) add(o stormCounts) {
	s.S200 += o.S200
	s.S429 += o.S429
	s.S503 += o.S503
	s.Other += o.Other
	s.Errors += o.Errors
	for k, v := range o.OtherStatuses {
		if s.OtherStatuses == nil {
			s.OtherStatuses = map[int]int64{}
		}
		s.OtherStatuses[k] += v
	}
}

func (s stormCounts) String() string {
	return fmt.Sprintf("200: %d, 429: %d, 503: %d, other: %d, transport errors: %d", s.S200, s.S429, s.S503, s.Other, s.Errors)
}

// storm runs n clients posting wrong passwords for user to /.mfa/login until
// stop is called; stop returns the tallies.
func storm(c *caddyInstance, n int, user string) (stop func() stormCounts) {
	ctx, cancel := context.WithCancel(context.Background())
	tr := &http.Transport{MaxIdleConns: n, MaxIdleConnsPerHost: n, MaxConnsPerHost: n}
	client := &http.Client{Transport: tr, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var s200, s429, s503, other, errs atomic.Int64
	var mu sync.Mutex
	others := map[int]int64{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; ctx.Err() == nil; j++ {
				form := url.Values{"username": {user}, "password": {fmt.Sprintf("wrong password %d-%d", i, j)}}
				req, _ := http.NewRequestWithContext(ctx, "POST", c.url("/.mfa/login"), strings.NewReader(form.Encode()))
				sameOrigin(req, c)
				req.Header.Set("Accept", "text/html")
				resp, err := client.Do(req)
				if err != nil {
					if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
						errs.Add(1)
						time.Sleep(10 * time.Millisecond)
					}
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
				resp.Body.Close()
				switch resp.StatusCode {
				case 200:
					s200.Add(1)
				case 429:
					s429.Add(1)
				case 503:
					s503.Add(1)
				default:
					other.Add(1)
					mu.Lock()
					others[resp.StatusCode]++
					mu.Unlock()
				}
			}
		}()
	}
	return func() stormCounts {
		cancel()
		wg.Wait()
		tr.CloseIdleConnections()
		res := stormCounts{S200: s200.Load(), S429: s429.Load(), S503: s503.Load(), Other: other.Load(), Errors: errs.Load()}
		if len(others) > 0 {
			res.OtherStatuses = others
		}
		return res
	}
}
