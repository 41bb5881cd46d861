package basicauth

import (
	"crypto/sha256"
	"encoding/binary"
	"sync"
	"time"

	"github.com/mfagate/mfagate/internal/policy"
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
// It runs on every cached pass: the common answer (not due) takes the read
// lock only.
func (c *cache) dueForTouch(k [32]byte, now time.Time, every time.Duration) bool {
	c.mu.RLock()
	e, ok := c.entries[k]
	due := ok && now.Sub(e.lastTouch) >= every
	c.mu.RUnlock()
	if !due {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok = c.entries[k]
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

// cacheKeyer computes the cache's keys: HMAC-SHA256 (RFC 2104) under a
// per-process random key of the site's options, the username and the
// secret. It is written out over sha256.Sum256, with the padded keys
// prepared once, so that a cached pass hashes on the stack and allocates
// nothing (crypto/hmac's hash.Hash interface makes every input escape).
type cacheKeyer struct {
	ipad, opad [sha256.BlockSize]byte
}

// maxStackKeyInput bounds the input hashed in a stack buffer; longer
// credentials (up to the header's limit) take one allocation.
const maxStackKeyInput = 512

func newCacheKeyer(key []byte) *cacheKeyer {
	if len(key) > sha256.BlockSize {
		sum := sha256.Sum256(key)
		key = sum[:]
	}
	k := &cacheKeyer{}
	for i := range sha256.BlockSize {
		var b byte
		if i < len(key) {
			b = key[i]
		}
		k.ipad[i] = b ^ 0x36
		k.opad[i] = b ^ 0x5c
	}
	return k
}

// key returns the cache key of (site, username, secret). The username's
// length is part of the input, so no two pairs hash the same input.
func (k *cacheKeyer) key(site policy.Site, username, secret string) [32]byte {
	var stack [sha256.BlockSize + 10 + maxStackKeyInput]byte
	in := stack[:0]
	if n := sha256.BlockSize + 10 + len(username) + len(secret); n > len(stack) {
		in = make([]byte, 0, n)
	}
	in = append(in, k.ipad[:]...)
	in = append(in, boolByte(site.RequireMFA), boolByte(site.RefuseAccountPassword))
	in = binary.BigEndian.AppendUint64(in, uint64(len(username)))
	in = append(in, username...)
	in = append(in, secret...)
	inner := sha256.Sum256(in)
	var outer [sha256.BlockSize + sha256.Size]byte
	copy(outer[:], k.opad[:])
	copy(outer[sha256.BlockSize:], inner[:])
	return sha256.Sum256(outer[:])
}

func boolByte(b bool) byte {
	if b {
		return 1
	}
	return 0
}
