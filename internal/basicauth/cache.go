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
// Entries stay until forgotten, dropped after a failed re-validation, or
// the cache is emptied at maxEntries; they are re-validated (database
// reads) whenever older than ttl.
type cache struct {
	mu      sync.RWMutex
	ttl     time.Duration
	entries map[[32]byte]*entry
	// generation counts forgets: a check that started before a forget
	// must not store its (possibly revoked) success after it.
	generation uint64
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: make(map[[32]byte]*entry)}
}

// lookup returns a cached success and whether it is still fresh (younger
// than the TTL); a stale one must be re-validated before use.
func (c *cache) lookup(k [32]byte, now time.Time) (res *Result, fresh, found bool) {
	c.mu.RLock()
	e, ok := c.entries[k]
	c.mu.RUnlock()
	if !ok {
		return nil, false, false
	}
	return e.res, now.Sub(e.fetched) < c.ttl, true
}

// drop removes one entry whose success no longer stands.
func (c *cache) drop(k [32]byte) {
	c.mu.Lock()
	delete(c.entries, k)
	c.mu.Unlock()
}

func (c *cache) currentGeneration() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
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
