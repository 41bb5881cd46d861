package caddymodule

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/jackc/pgx/v5"
)

// loadedStorage loads the storage module of an app whose "storage" is raw
// (nil: left out), as Provision does, without opening it.
func loadedStorage(t *testing.T, raw string) Storage {
	t.Helper()
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	a := new(App)
	if raw != "" {
		a.StorageRaw = json.RawMessage(raw)
	}
	if err := a.loadStorage(ctx); err != nil {
		t.Fatalf("loading storage %s: %v", raw, err)
	}
	return a.storage
}

// Configs written before the backends were modules load unchanged: no
// storage, or a storage object without "type", mean SQLite.
func TestStorageTypeDefaultsToSQLite(t *testing.T) {
	data := t.TempDir()
	t.Setenv("XDG_DATA_HOME", data)
	db := filepath.Join(t.TempDir(), "x.db")
	cases := map[string]string{
		"":                                      filepath.Join(data, "caddy", "mfagate", "mfagate.db"),
		`null`:                                  filepath.Join(data, "caddy", "mfagate", "mfagate.db"),
		`{}`:                                    filepath.Join(data, "caddy", "mfagate", "mfagate.db"),
		`{"path":"` + db + `"}`:                 db,
		`{"type":"","path":"` + db + `"}`:       db,
		`{"type":"sqlite","path":"` + db + `"}`: db,
	}
	for raw, want := range cases {
		s, ok := loadedStorage(t, raw).(*SQLiteStorage)
		if !ok || s.path != want {
			t.Errorf("storage %s: got %#v, want sqlite at %s", raw, s, want)
		}
	}
	if _, ok := loadedStorage(t, `{"type":"postgres","dsn":"postgres://x@127.0.0.1/db"}`).(*PostgresStorage); !ok {
		t.Error("type postgres did not load the postgres module")
	}
}

// The pool key covers every option, so a reload that changes one opens a
// new pool (and the old one is released); options left out and their
// defaults written out share one.
func TestPostgresPoolKeyCoversEveryOption(t *testing.T) {
	const dsn = `"dsn":"postgres://mfagate@127.0.0.1/mfagate"`
	key := func(opts string) string { return loadedStorage(t, `{"type":"postgres",`+dsn+opts+`}`).poolKey() }
	base := key("")
	if got := key(`,"max_conns":10,"query_timeout":"5s","connect_timeout":"5s"`); got != base {
		t.Errorf("defaults written out: key %q, left out: %q", got, base)
	}
	seen := map[string]string{"": base}
	for _, opts := range []string{`,"max_conns":20`, `,"max_conns":21`, `,"query_timeout":"3s"`, `,"connect_timeout":"2s"`} {
		k := key(opts)
		for other, ok := range seen {
			if k == ok {
				t.Errorf("options %q and %q share the pool key %q", opts, other, k)
			}
		}
		seen[opts] = k
	}
}

// The Caddyfile's storage block sets the PostgreSQL options.
func TestCaddyfilePostgresStorageBlock(t *testing.T) {
	out, err := adapt(t, "{\n\tmfa {\n\t\tstorage postgres {env.DSN} {\n\t\t\tmax_conns 20\n\t\t\tquery_timeout 3s\n\t\t\tconnect_timeout 2s\n\t\t}\n\t}\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	want := `"storage":{"connect_timeout":2000000000,"dsn":"{env.DSN}","max_conns":20,"query_timeout":3000000000,"type":"postgres"}`
	if !strings.Contains(out, want) {
		t.Fatalf("adapted JSON lacks %s:\n%s", want, out)
	}
	for name, text := range map[string]string{
		"unknown option": "{\n\tmfa {\n\t\tstorage postgres x {\n\t\t\tmax_con 20\n\t\t}\n\t}\n}\n",
		"no dsn":         "{\n\tmfa {\n\t\tstorage postgres\n\t}\n}\n",
		"zero conns":     "{\n\tmfa {\n\t\tstorage postgres x {\n\t\t\tmax_conns 0\n\t\t}\n\t}\n}\n",
		"sqlite block":   "{\n\tmfa {\n\t\tstorage sqlite x.db {\n\t\t\tmax_conns 2\n\t\t}\n\t}\n}\n",
	} {
		if _, err := adapt(t, text); err == nil || !strings.Contains(err.Error(), "Caddyfile:") {
			t.Errorf("%s: error %v does not name the line", name, err)
		}
	}
}

// postgresDSN returns a fresh database on MFAGATE_TEST_POSTGRES_DSN for
// this test (dropped at the end). Without the variable the test is
// skipped, unless CI is set: then it fails.
func postgresDSN(t *testing.T) string {
	t.Helper()
	admin := os.Getenv("MFAGATE_TEST_POSTGRES_DSN")
	if admin == "" {
		if ci := os.Getenv("CI"); ci != "" && ci != "0" && !strings.EqualFold(ci, "false") {
			t.Fatal("MFAGATE_TEST_POSTGRES_DSN is not set, but CI is: the PostgreSQL tests must run in CI")
		}
		t.Skip("MFAGATE_TEST_POSTGRES_DSN is not set (scripts/test.sh starts a throwaway PostgreSQL)")
	}
	if !strings.HasPrefix(admin, "postgres://") && !strings.HasPrefix(admin, "postgresql://") {
		t.Skip("this test needs MFAGATE_TEST_POSTGRES_DSN as a URL")
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	name := "mfagate_cm_" + hex.EncodeToString(rnd[:])
	exec := func(sql string) error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path, u.RawPath = "/"+name, ""
	return u.String()
}

// migrateLockKey is the advisory lock key internal/store/postgres takes
// around migrations ("mfagate\x01").
const migrateLockKey int64 = 0x6d66616761746501

// A migration lock held elsewhere (another node stuck mid-migration) makes
// provisioning fail after openTimeout with an error saying so, instead of
// hanging the config load.
func TestProvisionGivesUpOnHeldMigrationLock(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the open timeout")
	}
	dsn := postgresDSN(t)
	ctx := context.Background()
	holder, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close(ctx)
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLockKey); err != nil {
		t.Fatal(err)
	}
	a := &App{StorageRaw: storageJSON(t, "postgres", "dsn", dsn), BcryptCost: 10}
	start := time.Now()
	err = provision(t, a)
	took := time.Since(start)
	if err == nil || !strings.Contains(err.Error(), "timed out after "+openTimeout.String()) {
		t.Fatalf("Provision with the migration lock held: %v, want a timeout error", err)
	}
	if took < openTimeout || took > openTimeout+10*time.Second {
		t.Fatalf("Provision gave up after %s, want about %s", took, openTimeout)
	}
	t.Logf("after %s: %v", took.Round(time.Millisecond), err)
	// Nothing of the failed open stays in the pool.
	if _, loaded := storagePool.References(loadedStorage(t, string(storageJSON(t, "postgres", "dsn", dsn))).poolKey()); loaded {
		t.Fatal("the failed store is left in the pool")
	}
}

// Cleanup stops the session sweeper and waits for it, also when Stop was
// not called, before the store is released.
func TestCleanupWaitsForSweeper(t *testing.T) {
	a := &App{StorageRaw: storageJSON(t, "sqlite", "path", filepath.Join(t.TempDir(), "mfagate.db")), BcryptCost: 10}
	if err := provision(t, a); err != nil {
		t.Fatal(err)
	}
	if err := a.Start(); err != nil {
		t.Fatal(err)
	}
	done := a.swept
	if err := a.Cleanup(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-done:
	default:
		t.Fatal("Cleanup returned while the sweeper still runs")
	}
}
