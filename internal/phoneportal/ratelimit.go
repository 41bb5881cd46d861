package phoneportal

import (
	"sync"
	"time"
)

// Nonces are handed to any device id (so the answer says nothing about
// which phones exist); what bounds them is this per-address limit.
const (
	// nonceLimit is how many nonces one client address gets per
	// nonceWindow: an open phone app uses about 30 a minute, and phones
	// behind one NAT share an address.
	nonceLimit  = 600
	nonceWindow = time.Minute
	// maxTrackedAddrs bounds the limiter's memory: past it, the window's
	// counts start over (a flood from many addresses only resets them).
	maxTrackedAddrs = 100_000
)

// addrLimiter counts requests per client address in fixed windows. It is
// per node: the nonce endpoint only needs its CPU and bandwidth bounded.
type addrLimiter struct {
	limit  int
	window time.Duration

	mu      sync.Mutex
	started time.Time
	counts  map[string]int
}

func newAddrLimiter(limit int, window time.Duration) *addrLimiter {
	return &addrLimiter{limit: limit, window: window, counts: map[string]int{}}
}

// allow counts one request from addr at now and says whether it is within
// the limit.
func (l *addrLimiter) allow(addr string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.started) >= l.window || now.Before(l.started) || len(l.counts) >= maxTrackedAddrs {
		clear(l.counts)
		l.started = now
	}
	if l.counts[addr] >= l.limit {
		return false
	}
	l.counts[addr]++
	return true
}
