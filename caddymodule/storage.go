package caddymodule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/store"
)

// Storage is provided by the guest modules in the mfa.storage namespace
// (mfa.storage.sqlite, mfa.storage.postgres). Its methods are unexported
// because store.Store is an internal type: backends live in this package.
type Storage interface {
	// poolKey identifies the store this module opens: the database and
	// every option that shapes the open store, so that a reload with
	// changed options opens a new store (and the old one is released).
	poolKey() string
	// open opens (and migrates) the store; the pool calls it once per key,
	// the CLI calls it directly. logger receives the store's warnings.
	open(ctx context.Context, logger *zap.Logger) (store.Store, error)
	// describe names the store for `caddy mfa` messages; never a secret.
	describe(configFile string) string
}

// defaultStorage is the backend of a config that names none: the storage
// object used to have an optional "type" defaulting to sqlite, and configs
// written then must load unchanged.
const defaultStorage = "sqlite"

// openTimeout bounds opening a store: connecting and applying migrations,
// which may wait for another node migrating the same database. A stuck
// database then fails the config load with a clear error instead of
// hanging `caddy run` or `caddy reload`. The bound is generous because the
// node that migrates runs under it too.
const openTimeout = 30 * time.Second

// storagePool shares one open store per pool key across config reloads,
// so `caddy reload` neither leaks nor re-opens it.
var storagePool = caddy.NewUsagePool()

// pooledStore is a store and its event hub, shared by the configs using
// the store: a browser waiting across a reload is woken by the new config,
// and on PostgreSQL one LISTEN connection per node serves every config.
// It closes the store when the last config using it unloads.
type pooledStore struct {
	store.Store
	events     *core.Events
	stopListen context.CancelFunc
	listening  chan struct{} // closed when the listener has returned
}

// newPooledStore starts listening on the store's event channel, when it
// has one (PostgreSQL LISTEN/NOTIFY).
func newPooledStore(st store.Store, logger *zap.Logger) pooledStore {
	ch, _ := st.(core.Channel)
	p := pooledStore{Store: st, events: core.NewEvents(ch), listening: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	p.stopListen = cancel
	go func() {
		defer close(p.listening)
		p.events.Run(ctx, func(err error) { logger.Warn("listening for other nodes' changes; retrying", zap.Error(err)) })
	}()
	return p
}

// Destruct implements caddy.Destructor.
func (p pooledStore) Destruct() error {
	p.stopListen()
	<-p.listening
	return p.Close()
}

// withDefaultType returns the storage JSON with "type" filled in: an absent
// storage object, or one without "type" (or with an empty one), means
// sqlite, as it did before the backends were modules.
func withDefaultType(raw json.RawMessage) (json.RawMessage, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return json.RawMessage(`{"type":"` + defaultStorage + `"}`), nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, fmt.Errorf("storage: %w", err)
	}
	if t, ok := obj["type"]; ok && string(t) != `""` && string(t) != "null" {
		return raw, nil
	}
	obj["type"] = json.RawMessage(`"` + defaultStorage + `"`)
	return json.Marshal(obj)
}

// loadStorage loads the storage guest module (which checks its options)
// without opening anything.
func (a *App) loadStorage(ctx caddy.Context) error {
	raw, err := withDefaultType(a.StorageRaw)
	if err != nil {
		return err
	}
	a.StorageRaw = raw
	mod, err := ctx.LoadModule(a, "StorageRaw")
	if err != nil {
		return fmt.Errorf("loading storage module: %w", err)
	}
	a.storage = mod.(Storage)
	return nil
}

// acquire returns the shared store for s, opening it under ctx within
// openTimeout when no loaded config uses it yet; release it with
// storagePool.Delete(s.poolKey()).
func acquire(ctx context.Context, s Storage, logger *zap.Logger) (store.Store, *core.Events, error) {
	val, _, err := storagePool.LoadOrNew(s.poolKey(), func() (caddy.Destructor, error) {
		st, err := openBounded(ctx, s, logger)
		if err != nil {
			return nil, err
		}
		return newPooledStore(st, logger), nil
	})
	if err != nil {
		return nil, nil, err
	}
	p := val.(pooledStore)
	return p.Store, p.events, nil
}

// openBounded opens s outside the pool within openTimeout. The store does
// not keep ctx: it outlives the config that opened it.
func openBounded(ctx context.Context, s Storage, logger *zap.Logger) (store.Store, error) {
	octx, cancel := context.WithTimeout(ctx, openTimeout)
	defer cancel()
	st, err := s.open(octx, logger)
	if err != nil && errors.Is(octx.Err(), context.DeadlineExceeded) {
		return nil, fmt.Errorf("timed out after %s (database unreachable, or another node holding the migration lock?): %w", openTimeout, err)
	}
	return st, err
}
