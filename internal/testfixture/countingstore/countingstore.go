// Package countingstore wraps a store to count its write transactions:
// each Update and each call of another writing method is one. Tests use
// it to hold the core to its rule of at most two transactions per sign-in
// transition (the failure-slot claim, then the outcome's apply). For
// tests only.
package countingstore

import (
	"context"
	"slices"
	"sync"

	"github.com/mfagate/mfagate/internal/store"
)

// Store is a store.Store that counts its writes.
type Store struct {
	store.Store
	mu     sync.Mutex
	writes []string
}

// New wraps st.
func New(st store.Store) *Store { return &Store{Store: st} }

func (c *Store) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = append(c.writes, op)
}

// Update counts one write transaction.
func (c *Store) Update(ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	c.count("Update")
	return c.Store.Update(ctx, fn)
}

// Writes returns the writes since the last Reset, in order ("Update" or
// the writing method's name).
func (c *Store) Writes() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.writes)
}

// Reset forgets the writes counted so far.
func (c *Store) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes = nil
}
