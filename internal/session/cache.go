package session

import (
	"sync"
	"time"

	"github.com/mfagate/mfagate/internal/identity"
	"github.com/mfagate/mfagate/internal/model"
)

// maxCacheEntries bounds the per-node cache; past it, the cache is emptied
// rather than grown (a cold cache costs one query per active session).
const maxCacheEntries = 200_000

// cacheEntry is one validated session with everything a signed-in request
// needs from it, computed once when the entry is made: the record's hash
// (no SHA-256 per request) and the identity header values (no joining or
// sanitising per request). Entries are never modified once cached; a
// change replaces the entry.
type cacheEntry struct {
	session model.Session
	user    model.User
	fetched time.Time
	// cookie is the exact cookie value that proved the token, so a
	// repeat request can skip decoding (HMAC, AES, gob) altogether.
	cookie  string
	token   string
	hash    []byte
	headers identity.Values
}

// newCacheEntry builds the entry for a session found under hash.
func newCacheEntry(s *model.Session, u *model.User, hash []byte, token, cookie string) *cacheEntry {
	return &cacheEntry{session: *s, user: *u, hash: hash, token: token, cookie: cookie,
		headers: identity.NewValues(identity.Identity{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Groups: u.Groups})}
}

// cache holds recently validated sessions so that a signed-in request costs
// no database round trip. Entries live at most ttl.
type cache struct {
	mu      sync.RWMutex
	ttl     time.Duration
	entries map[string]*cacheEntry
	// byCookie indexes the same entries by the verified cookie value: a
	// repeat request finds its session with one map lookup of the value
	// it sent.
	byCookie map[string]*cacheEntry
}

func newCache(ttl time.Duration) *cache {
	return &cache{ttl: ttl, entries: make(map[string]*cacheEntry), byCookie: make(map[string]*cacheEntry)}
}

// getByCookie finds a fresh entry by the exact cookie value.
func (c *cache) getByCookie(value string, now time.Time) (*cacheEntry, bool) {
	c.mu.RLock()
	e := c.byCookie[value]
	c.mu.RUnlock()
	if e == nil || now.Sub(e.fetched) >= c.ttl {
		return nil, false
	}
	return e, true
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
		c.byCookie = make(map[string]*cacheEntry)
	}
	if old, ok := c.entries[string(hash)]; ok && old.cookie != e.cookie {
		delete(c.byCookie, old.cookie)
	}
	c.entries[string(hash)] = e
	if e.cookie != "" {
		c.byCookie[e.cookie] = e
	}
}

func (c *cache) forget(hash []byte) {
	c.mu.Lock()
	c.remove(string(hash))
	c.mu.Unlock()
}

// remove deletes an entry and its cookie index; c.mu must be held.
func (c *cache) remove(hash string) {
	if e, ok := c.entries[hash]; ok {
		delete(c.byCookie, e.cookie)
	}
	delete(c.entries, hash)
}

func (c *cache) forgetUser(userID int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.session.UserID == userID {
			c.remove(k)
		}
	}
}
