package push

import (
	"sync"
	"time"
)

// A subscription whose push service timed out backoffTimeouts times in a
// row is skipped for backoffPause. Push hosts are shared (one serves every
// Chrome user), so the backoff is per subscription, never per host.
const (
	backoffTimeouts = 2
	backoffPause    = 10 * time.Minute
	// backoffPrune is the map size past which entries not backing off are
	// forgotten, bounding its memory.
	backoffPrune = 4096
)

// backoff counts timeouts per subscription endpoint.
type backoff struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*strikes
}

type strikes struct {
	timeouts int
	until    time.Time // skipped before this
}

func newBackoff(now func() time.Time) *backoff {
	return &backoff{now: now, m: map[string]*strikes{}}
}

// skipping reports whether messages to endpoint are skipped now.
func (b *backoff) skipping(endpoint string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.m[endpoint]
	return st != nil && b.now().Before(st.until)
}

// timedOut counts a timeout; the backoffTimeouts-th in a row starts a
// pause.
func (b *backoff) timedOut(endpoint string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	st := b.m[endpoint]
	if st == nil {
		b.pruneLocked()
		st = &strikes{}
		b.m[endpoint] = st
	}
	st.timeouts++
	if st.timeouts >= backoffTimeouts {
		st.timeouts = 0
		st.until = b.now().Add(backoffPause)
	}
}

// succeeded forgets the subscription's timeouts.
func (b *backoff) succeeded(endpoint string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.m, endpoint)
}

// pruneLocked forgets entries not backing off once the map is large.
func (b *backoff) pruneLocked() {
	if len(b.m) < backoffPrune {
		return
	}
	now := b.now()
	for k, st := range b.m {
		if !now.Before(st.until) {
			delete(b.m, k)
		}
	}
}
