package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/postgres"
	"github.com/mfagate/mfagate/internal/store/storetest"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// adminDSN returns MFAGATE_TEST_POSTGRES_DSN, a database whose role may
// CREATE and DROP DATABASE. Without it the test is skipped, unless CI is
// set (and not "false" or "0"): then it fails.
func adminDSN(t *testing.T) string {
	t.Helper()
	if dsn := os.Getenv("MFAGATE_TEST_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	ci := os.Getenv("CI")
	if ci == "" || strings.EqualFold(ci, "false") || ci == "0" {
		t.Skip("MFAGATE_TEST_POSTGRES_DSN is not set: no PostgreSQL to test against (scripts/test.sh starts one)")
	}
	t.Fatalf("MFAGATE_TEST_POSTGRES_DSN is not set, but CI=%q: the PostgreSQL tests must run in CI", ci)
	return ""
}

// freshDB creates an empty database mfagate_t_<random> for this test,
// dropped when the test ends, and returns its DSN.
func freshDB(t *testing.T) string {
	t.Helper()
	admin := adminDSN(t)
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "mfagate_t_" + hex.EncodeToString(b[:])
	adminExec(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		err := adminExecErr(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "42601" { // syntax error: PostgreSQL < 13
			err = adminExecErr(admin, "DROP DATABASE IF EXISTS "+name)
		}
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	dsn, err := withDatabase(admin, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// withDatabase returns dsn (URL or keyword/value form) naming database db.
func withDatabase(dsn, db string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", fmt.Errorf("parse MFAGATE_TEST_POSTGRES_DSN: %w", err)
		}
		u.Path, u.RawPath = "/"+db, ""
		return u.String(), nil
	}
	return dsn + " dbname=" + db, nil // a later keyword wins
}

func adminExecErr(dsn, sql string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

func adminExec(t *testing.T, dsn, sql string) {
	t.Helper()
	if err := adminExecErr(dsn, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// connect opens a plain connection to dsn, closed when the test ends.
func connect(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { _ = conn.Close(context.Background()) })
	return conn
}

func open(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// openNode opens a store closed when the test ends.
func openNode(t *testing.T, dsn string) *postgres.Store {
	t.Helper()
	s := open(t, dsn)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	adminDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, freshDB(t))
	})
}

func appliedVersions(t *testing.T, dsn string) []int64 {
	t.Helper()
	rows, err := connect(t, dsn).Query(t.Context(), "SELECT version FROM schema_migrations ORDER BY version")
	if err != nil {
		t.Fatal(err)
	}
	vs, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestConcurrentOpen(t *testing.T) {
	// Several nodes starting at once on a fresh database: every migration
	// is applied exactly once (a second run would fail: the tables exist).
	dsn := freshDB(t)
	const n = 8
	errs := make([]error, n)
	stores := make([]*postgres.Store, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			stores[i], errs[i] = postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 2})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open %d: %v", i, err)
		}
	}
	for _, s := range stores {
		if s != nil {
			if _, err := s.ListUsers(t.Context()); err != nil {
				t.Errorf("ListUsers: %v", err)
			}
			_ = s.Close()
		}
	}
	want, err := postgres.MigrationVersions()
	if err != nil {
		t.Fatal(err)
	}
	if got := appliedVersions(t, dsn); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	dsn := freshDB(t)
	s := open(t, dsn)
	u := &model.User{Username: "alice", Groups: []string{"admins"}, MFAState: model.MFAEnforced}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key, err := s.Secret(ctx, "k", func() ([]byte, error) { return []byte("v1"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(s.Close(), s.Close()); err != nil { // a second Close is harmless
		t.Fatal(err)
	}
	for i := range 2 {
		s = open(t, dsn)
		got, err := s.UserByName(ctx, "alice")
		if err != nil || got.ID != u.ID || got.MFAState != model.MFAEnforced || len(got.Groups) != 1 {
			t.Fatalf("reopen %d: user = %+v, %v", i, got, err)
		}
		v, err := s.Secret(ctx, "k", func() ([]byte, error) { return []byte("v2"), nil })
		if err != nil || string(v) != string(key) {
			t.Fatalf("reopen %d: secret = %q, %v; want %q", i, v, err, key)
		}
		_ = s.Close()
	}
}

func TestUpgradeFromVersion1(t *testing.T) {
	ctx := t.Context()
	dsn := freshDB(t)
	if err := postgres.MigrateTo(ctx, dsn, 1); err != nil {
		t.Fatalf("MigrateTo(1): %v", err)
	}
	if got := appliedVersions(t, dsn); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after MigrateTo(1): versions %v", got)
	}
	_, err := connect(t, dsn).Exec(ctx, `INSERT INTO users (username, mfa_state, created_at, updated_at)
		VALUES ('old', 'enabled', now(), now())`)
	if err != nil {
		t.Fatal(err)
	}
	s := openNode(t, dsn)
	u, err := s.UserByName(ctx, "old")
	if err != nil {
		t.Fatal(err)
	}
	if u.DefaultMethod != model.MethodNone {
		t.Errorf("DefaultMethod of a pre-0002 user = %q, want none", u.DefaultMethod)
	}
	if err := teststore.AddAppPassword(ctx, s, &model.AppPassword{UserID: u.ID, Name: "n", Hash: "h", LookupTag: []byte("t")}); err != nil {
		t.Errorf("CreateAppPassword after upgrade: %v", err)
	}
	want, _ := postgres.MigrationVersions()
	if got := appliedVersions(t, dsn); !slices.Equal(got, want) {
		t.Errorf("schema_migrations = %v, want %v", got, want)
	}
}

func TestRefusesNewerSchema(t *testing.T) {
	ctx := t.Context()
	dsn := freshDB(t)
	_ = open(t, dsn).Close()
	if _, err := connect(t, dsn).Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES (9999, 'future.sql')"); err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err == nil {
		_ = s.Close()
		t.Fatal("Open accepted a database migrated by a newer binary")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("err = %v, want a newer-schema error", err)
	}
}

func TestOptions(t *testing.T) {
	dsn := freshDB(t)
	s := openNode(t, dsn)
	conns, ct, qt := postgres.PoolSettings(s)
	if conns != 10 || ct != 5*time.Second || qt != 5*time.Second {
		t.Errorf("defaults = %d conns, %v, %v; want 10, 5s, 5s", conns, ct, qt)
	}
	s2, err := postgres.Open(t.Context(), dsn, postgres.Options{MaxConns: 3, ConnectTimeout: time.Second, QueryTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	conns, ct, qt = postgres.PoolSettings(s2)
	if conns != 3 || ct != time.Second || qt != 2*time.Second {
		t.Errorf("settings = %d conns, %v, %v; want 3, 1s, 2s", conns, ct, qt)
	}
}

func TestOpenErrors(t *testing.T) {
	if _, err := postgres.Open(t.Context(), "", postgres.Options{}); err == nil {
		t.Error("Open accepted an empty DSN")
	}
	if _, err := postgres.Open(t.Context(), "postgres://x@127.0.0.1:0/db?bogus_option=1&sslmode=nope", postgres.Options{}); err == nil {
		t.Error("Open accepted an invalid DSN")
	}
	start := time.Now()
	// Port 1 on loopback: nothing listens, the connection is refused.
	_, err := postgres.Open(t.Context(), "postgres://x@127.0.0.1:1/db?sslmode=disable", postgres.Options{ConnectTimeout: time.Second})
	if err == nil {
		t.Error("Open succeeded without a server")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Open without a server took %v", d)
	}
}

func TestQueryTimeout(t *testing.T) {
	dsn := freshDB(t)
	s, err := postgres.Open(t.Context(), dsn, postgres.Options{QueryTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Another client holds a lock every query on users waits for.
	tx, err := connect(t, dsn).Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(t.Context(), "LOCK TABLE users IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = s.ListUsers(t.Context())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ListUsers under a lock: err = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("ListUsers returned after %v, want about 300ms", d)
	}
}

// TestTwoNodes runs the cross-node guarantees with two Store instances (two
// pools, as two Caddy nodes have) on one database.
func TestTwoNodes(t *testing.T) {
	dsn := freshDB(t)
	nodes := [2]*postgres.Store{openNode(t, dsn), openNode(t, dsn)}
	node := func(i int) *postgres.Store { return nodes[i%2] }
	ctx := t.Context()

	// parallel runs fn(i) for i in [0,n) at once and waits.
	parallel := func(n int, fn func(i int)) {
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				fn(i)
			})
		}
		close(start)
		wg.Wait()
	}

	var owner *model.User
	t.Run("CreateFirstUser", func(t *testing.T) {
		const n = 16
		users := make([]*model.User, n)
		inserted := make([]bool, n)
		errs := make([]error, n)
		parallel(n, func(i int) {
			users[i] = &model.User{Username: fmt.Sprintf("admin%d", i), Groups: []string{"admins"}, MFAState: model.MFAEnforced}
			inserted[i], errs[i] = node(i).CreateFirstUser(ctx, users[i])
		})
		wins := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("CreateFirstUser #%d: %v", i, errs[i])
			}
			if inserted[i] {
				wins++
				owner = users[i]
			}
		}
		if wins != 1 {
			t.Fatalf("%d CreateFirstUser calls on two nodes inserted, want exactly 1", wins)
		}
		for _, s := range nodes {
			list, err := s.ListUsers(ctx)
			if err != nil || len(list) != 1 || list[0].ID != owner.ID {
				t.Fatalf("ListUsers = %+v, %v; want only %q", list, err, owner.Username)
			}
		}
	})
	if owner == nil {
		t.FailNow()
	}

	t.Run("AppPasswordLimit", func(t *testing.T) {
		storetest.CheckAppPasswordLimitAcross(t, []store.Store{nodes[0], nodes[1]}, owner.ID)
	})

	t.Run("ClaimFailure", func(t *testing.T) {
		storetest.CheckClaimsAcross(t, []store.Store{nodes[0], nodes[1]}, "user:"+owner.Username, 40, 10)
	})

	t.Run("ClaimTOTPStep", func(t *testing.T) {
		const n = 16
		won := make([]bool, n)
		errs := make([]error, n)
		parallel(n, func(i int) { won[i], errs[i] = node(i).ClaimTOTPStep(ctx, owner.ID, 4242) })
		wins := 0
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("ClaimTOTPStep #%d: %v", i, errs[i])
			}
			if won[i] {
				wins++
			}
		}
		if wins != 1 {
			t.Errorf("%d of %d claims on two nodes won, want 1", wins, n)
		}
	})

	t.Run("Secret", func(t *testing.T) {
		const n = 16
		vals := make([][]byte, n)
		errs := make([]error, n)
		parallel(n, func(i int) {
			vals[i], errs[i] = node(i).Secret(ctx, "key", func() ([]byte, error) { return fmt.Appendf(nil, "v%d", i), nil })
		})
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Secret #%d: %v", i, errs[i])
			}
			if string(vals[i]) != string(vals[0]) {
				t.Fatalf("node %d got %q, caller 0 got %q", i%2, vals[i], vals[0])
			}
		}
	})
}

// TestUpgradePairingRegistrations upgrades a database with paired phones
// and an open pairing link from migration 0004: active phones stay; the
// open link and the phone waiting on it are dropped; pairing works on the
// new tables.
func TestUpgradePairingRegistrations(t *testing.T) {
	ctx := t.Context()
	dsn := freshDB(t)
	if err := postgres.MigrateTo(ctx, dsn, 4); err != nil {
		t.Fatalf("MigrateTo(4): %v", err)
	}
	conn := connect(t, dsn)
	var uid, active, waiting int64
	for _, q := range []struct {
		sql string
		id  *int64
	}{
		{`INSERT INTO users (username, mfa_state, created_at, updated_at) VALUES ('alice', 'enforced', now(), now()) RETURNING id`, &uid},
		{`INSERT INTO devices (user_id, name, public_key, active, created_at, activated_at)
			SELECT id, 'paired', '\x01', 1, now(), now() FROM users RETURNING id`, &active},
		{`INSERT INTO devices (user_id, name, public_key, active, created_at) SELECT id, 'waiting', '\x02', 0, now() FROM users RETURNING id`, &waiting},
	} {
		if err := conn.QueryRow(ctx, q.sql).Scan(q.id); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `INSERT INTO pairings (token_hash, user_id, session_hash, created_at, expires_at, device_id, code_hash)
		VALUES ('\xaa', $1, '\xbb', now(), now() + interval '10 minutes', $2, '\xcc')`, uid, waiting); err != nil {
		t.Fatal(err)
	}
	s := openNode(t, dsn)
	ds, err := s.Devices(ctx, uid)
	if err != nil || len(ds) != 1 || ds[0].ID != active || !ds[0].Active {
		t.Fatalf("devices after the upgrade = %+v, %v; want only the active one", ds, err)
	}
	if _, err := s.PairingBySession(ctx, uid, []byte{0xbb}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("open link after the upgrade: %v", err)
	}
	now := time.Now()
	if err := s.CreatePairing(ctx, &model.Pairing{TokenHash: []byte("t"), UserID: uid, SessionHash: []byte("s"), ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	d := &model.Device{Name: "new", PublicKey: []byte{3}}
	if err := s.RegisterDevice(ctx, []byte("t"), d, []byte("c"), now, model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	var got *model.Device
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.ConfirmPairing(ctx, uid, []byte("s"), []byte("c"), now, 5)
		return err
	})
	if err != nil || got.ID != d.ID || !got.Active {
		t.Fatalf("ConfirmPairing after the upgrade = %+v, %v", got, err)
	}
}
