package basicauth

import (
	"sync"
	"time"
)

// maxEntries bounds the cache; past it the cache is emptied (a cold cache
// only costs bcrypt again).
const maxEntries = 100_000

type entry struct {
	res       *Result
	fetched   time.Time
	lastTouch time.Time
}

// cache maps keyed hashes of (site, user, password) to verified results.
type cache struct {
	mu      sync.Mutex
	ttl     time.Duration
	entries map[[32]byte]*entry
	// generation counts forgets: a check that started before a forget
	// must not store its (possibly revoked) success after it.
	generation uint64
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: make(map[[32]byte]*entry)}
}

func (c *cache) get(k [32]byte, now time.Time) (*Result, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.fetched) >= c.ttl {
		return nil, false
	}
	return e.res, true
}

func (c *cache) currentGeneration() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.generation
}

func (c *cache) put(k [32]byte, res *Result, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.generation {
		return
	}
	if len(c.entries) >= maxEntries {
		c.entries = make(map[[32]byte]*entry)
	}
	lastTouch := now
	if old, ok := c.entries[k]; ok {
		lastTouch = old.lastTouch
	}
	c.entries[k] = &entry{res: res, fetched: now, lastTouch: lastTouch}
}

// dueForTouch reports (and records) whether a use should be written now.
func (c *cache) dueForTouch(k [32]byte, now time.Time, every time.Duration) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[k]
	if !ok || now.Sub(e.lastTouch) < every {
		return false
	}
	e.lastTouch = now
	return true
}

func (c *cache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.generation++
	for k, e := range c.entries {
		if e.res.User.ID == userID {
			delete(c.entries, k)
		}
	}
}
