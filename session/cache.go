package session

import (
	"sync"
	"time"

	"github.com/mfagate/mfagate/store"
)

// maxCacheEntries bounds the per-node cache; past it, the cache is emptied
// rather than grown (a cold cache costs one query per active session).
const maxCacheEntries = 200_000

type cacheEntry struct {
	session store.Session
	user    store.User
	fetched time.Time
}

// cache holds recently validated sessions so that a signed-in request costs
// no database round trip. Entries live at most ttl.
type cache struct {
	mu      sync.RWMutex
	ttl     time.Duration
	entries map[string]*cacheEntry
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: make(map[string]*cacheEntry)}
}

func (c *cache) get(hash []byte, now time.Time) (*cacheEntry, bool) {
	c.mu.RLock()
	e, ok := c.entries[string(hash)]
	c.mu.RUnlock()
	if !ok || now.Sub(e.fetched) >= c.ttl {
		return nil, false
	}
	return e, true
}

func (c *cache) put(hash []byte, e *cacheEntry, now time.Time) {
	if e.fetched.IsZero() {
		e.fetched = now
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= maxCacheEntries {
		c.entries = make(map[string]*cacheEntry)
	}
	c.entries[string(hash)] = e
}

func (c *cache) forget(hash []byte) {
	c.mu.Lock()
	delete(c.entries, string(hash))
	c.mu.Unlock()
}

func (c *cache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.session.UserID == userID {
			delete(c.entries, k)
		}
	}
}
