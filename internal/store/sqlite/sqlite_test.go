package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/schema"
	"github.com/mfagate/mfagate/internal/store/sqlite"
	"github.com/mfagate/mfagate/internal/store/storetest"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

func openTemp(t *testing.T) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "dir", "mfagate.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s, path
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestOpenCreatesPrivateFiles(t *testing.T) {
	s, path := openTemp(t)
	defer s.Close()
	for p, want := range map[string]os.FileMode{filepath.Dir(path): 0o700, path: 0o600} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if got := fi.Mode().Perm(); got&^want != 0 {
			t.Errorf("%s mode = %v, want at most %v", p, got, want)
		}
	}
}

func TestOpenRejectsQuestionMark(t *testing.T) {
	if _, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "a?b.db")); err == nil {
		t.Fatal("Open accepted a path with '?'")
	}
}

func TestReopenKeepsDataAndMigrationsIdempotent(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	u := &model.User{Username: "alice", Groups: []string{"admins"}, MFAState: model.MFAEnforced}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	key, err := s.Secret(ctx, "k", func() ([]byte, error) { return []byte("v1"), nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 { // reopen twice: migrations must not run again
		s, err = sqlite.Open(ctx, path)
		if err != nil {
			t.Fatalf("reopen %d: %v", i, err)
		}
		got, err := s.UserByName(ctx, "alice")
		if err != nil || got.ID != u.ID || got.MFAState != model.MFAEnforced || len(got.Groups) != 1 {
			t.Fatalf("reopen %d: user = %+v, %v", i, got, err)
		}
		v, err := s.Secret(ctx, "k", func() ([]byte, error) { return []byte("v2"), nil })
		if err != nil || string(v) != string(key) {
			t.Fatalf("reopen %d: secret = %q, %v; want %q", i, v, err, key)
		}
		if err := s.IntegrityCheck(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestConcurrentOpen(t *testing.T) {
	// Several nodes starting at once on a fresh file: all migrate cleanly.
	path := filepath.Join(t.TempDir(), "db", "mfagate.db")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			s, err := sqlite.Open(t.Context(), path)
			if err == nil {
				err = errors.Join(s.IntegrityCheck(t.Context()), s.Close())
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("open %d: %v", i, err)
		}
	}
}

func TestIntegrityCheck(t *testing.T) {
	s, _ := openTemp(t)
	defer s.Close()
	if err := s.IntegrityCheck(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestClosedStoreFails(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ListUsers(t.Context()); err == nil {
		t.Fatal("ListUsers on a closed store succeeded")
	}
}

// TestConcurrentWriters hammers two Store instances on one file (two "nodes")
// from 32 goroutines with mixed writes and reads. None may fail, in
// particular not with SQLITE_BUSY ("database is locked").
func TestConcurrentWriters(t *testing.T) {
	ctx := t.Context()
	a, path := openTemp(t)
	defer a.Close()
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	nodes := []*sqlite.Store{a, b}

	const workers, rounds = 32, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds)
	var firstWins sync.Map
	for w := range workers {
		wg.Go(func() {
			s := nodes[w%len(nodes)]
			for r := range rounds {
				if err := writeRound(ctx, s, w, r, &firstWins); err != nil {
					errs <- fmt.Errorf("worker %d round %d: %w", w, r, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if strings.Contains(strings.ToLower(err.Error()), "busy") || strings.Contains(err.Error(), "locked") {
			t.Errorf("busy error: %v", err)
		} else {
			t.Error(err)
		}
	}
	if t.Failed() {
		return
	}

	users, err := a.ListUsers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := workers*rounds + 1; len(users) != want {
		t.Errorf("%d users, want %d", len(users), want)
	}
	wins := 0
	firstWins.Range(func(_, _ any) bool { wins++; return true })
	if wins != 1 {
		t.Errorf("CreateFirstUser won %d times across nodes, want 1", wins)
	}
	f, err := b.FailuresFor(ctx, "shared")
	if err != nil || f.Count != workers*rounds {
		t.Errorf("shared failure counter = %+v, %v; want %d", f, err, workers*rounds)
	}
	ev, err := a.AuditEvents(ctx, 0, 0)
	if err != nil || len(ev) != workers*rounds {
		t.Errorf("%d audit events, %v; want %d", len(ev), err, workers*rounds)
	}
	if err := a.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// writeRound does one round of mixed operations for worker w.
func writeRound(ctx context.Context, s *sqlite.Store, w, r int, firstWins *sync.Map) error {
	if r == 0 {
		ok, err := s.CreateFirstUser(ctx, &model.User{Username: fmt.Sprintf("first-%d", w), MFAState: model.MFAEnabled})
		if err != nil {
			return err
		}
		if ok {
			firstWins.Store(w, true)
		}
	}
	u := &model.User{Username: fmt.Sprintf("u-%d-%d", w, r), Groups: []string{"g1", "g2"}, MFAState: model.MFAEnabled}
	if err := s.CreateUser(ctx, u); err != nil {
		return err
	}
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.AddTOTP(ctx, &model.TOTPAuthenticator{UserID: u.ID, Name: "x", SealedSecret: []byte("s")})
	}); err != nil {
		return err
	}
	if _, err := s.ClaimTOTPStep(ctx, u.ID, int64(r)); err != nil {
		return err
	}
	sess := &model.Session{IDHash: fmt.Appendf(nil, "%032d", w*1000+r), UserID: u.ID, Stage: model.StagePassword}
	if err := s.CreateSession(ctx, sess); err != nil {
		return err
	}
	if err := s.TouchSession(ctx, sess.IDHash, time.Now()); err != nil {
		return err
	}
	if _, _, err := s.ClaimFailure(ctx, "shared", time.Now(), time.Hour, 1<<30, time.Hour); err != nil {
		return err
	}
	if _, err := s.Secret(ctx, "shared", func() ([]byte, error) { return fmt.Appendf(nil, "%d", w), nil }); err != nil {
		return err
	}
	if err := s.AppendAudit(ctx, &model.AuditEvent{UserID: u.ID, Event: "test"}); err != nil {
		return err
	}
	if _, err := s.UserByID(ctx, u.ID); err != nil {
		return err
	}
	if r%5 == 4 {
		if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.SetProfile(ctx, u.ID, "x", "", []string{"g3"})
		}); err != nil {
			return err
		}
	}
	return nil
}

// TestAppPasswordLimitTwoNodes creates app passwords for one user from 60
// goroutines on two Store instances sharing one file (two nodes): the limit
// holds across nodes, exactly.
func TestAppPasswordLimitTwoNodes(t *testing.T) {
	ctx := t.Context()
	a, path := openTemp(t)
	defer a.Close()
	b, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	u := &model.User{Username: "alice", MFAState: model.MFAEnabled}
	if err := a.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	storetest.CheckAppPasswordLimitAcross(t, []store.Store{a, b}, u.ID)
}

// rawDB opens the file without the store (and without migrating it).
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)&_pragma=foreign_keys(1)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func tableExists(t *testing.T, db *sql.DB, name string) bool {
	t.Helper()
	var n int
	if err := db.QueryRowContext(t.Context(),
		"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n == 1
}

// TestMigrateFromVersion1 upgrades a database written by a binary that knew
// only migration 0001: existing users keep their data and get no default
// method, app passwords work.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := sqlite.MigrateTo(ctx, path, 1); err != nil {
		t.Fatalf("MigrateTo(1): %v", err)
	}
	db := rawDB(t, path)
	if tableExists(t, db, "app_passwords") {
		t.Fatal("app_passwords exists after migration 1 only")
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO users
		(username, display_name, email, password_hash, mfa_state, created_at, updated_at)
		VALUES ('alice', 'Alice', 'alice@example.com', '$2a$10$x', 'enforced', 1700000000000, 1700000000123)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO user_groups (user_id, grp) VALUES (1, 'admins')`); err != nil {
		t.Fatal(err)
	}

	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(old database): %v", err)
	}
	defer s.Close()
	u, err := s.UserByName(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if u.DefaultMethod != model.MethodNone || u.MFAState != model.MFAEnforced || u.DisplayName != "Alice" ||
		len(u.Groups) != 1 || !u.UpdatedAt.Equal(time.UnixMilli(1700000000123)) {
		t.Errorf("migrated user = %+v", u)
	}
	if !tableExists(t, db, "app_passwords") {
		t.Fatal("app_passwords missing after Open")
	}
	var version int64
	ms, err := schema.Load(os.DirFS("."), "migrations")
	if err != nil {
		t.Fatal(err)
	}
	latest := ms[len(ms)-1].Version
	if err := db.QueryRowContext(ctx, "SELECT max(version) FROM schema_migrations").Scan(&version); err != nil || version != latest {
		t.Errorf("schema version = %d, %v; want %d (the latest)", version, err, latest)
	}

	a := &model.AppPassword{UserID: u.ID, Name: "mail", Hash: "h", LookupTag: []byte("tag")}
	if err := teststore.AddAppPassword(ctx, s, a); err != nil {
		t.Fatalf("CreateAppPassword after upgrade: %v", err)
	}
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetDefaultMethod(ctx, u.ID, model.MethodCode)
	}); err != nil {
		t.Fatalf("SetDefaultMethod after upgrade: %v", err)
	}
	// The column's CHECK holds even for writes that bypass the store.
	if _, err := db.ExecContext(ctx, "UPDATE users SET default_method = 'sms' WHERE id = ?", u.ID); err == nil {
		t.Error("default_method accepted 'sms'")
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
	rows, err := db.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("foreign_key_check reports violations")
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		t.Fatal(err)
	}
}

func TestInvalidDefaultMethodRejected(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	defer s.Close()
	bad := &model.User{Username: "alice", MFAState: model.MFAEnabled, DefaultMethod: "sms"}
	if ok, err := s.CreateFirstUser(ctx, bad); err == nil || ok {
		t.Errorf("CreateFirstUser(method sms) = %v, %v; want an error", ok, err)
	}
	if err := s.CreateUser(ctx, bad); err == nil {
		t.Error("CreateUser(method sms) succeeded")
	}
	if _, err := s.UserByName(ctx, "alice"); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("user with invalid method stored: err = %v", err)
	}
}

func TestAppPasswordEmptyTagRejected(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	defer s.Close()
	u := &model.User{Username: "alice", MFAState: model.MFAEnabled}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	for _, tag := range [][]byte{nil, {}} {
		if err := teststore.AddAppPassword(ctx, s, &model.AppPassword{UserID: u.ID, Name: "x", Hash: "h", LookupTag: tag}); err == nil {
			t.Errorf("CreateAppPassword(tag %v) succeeded", tag)
		}
	}
	if aps, err := s.AppPasswords(ctx, u.ID); err != nil || len(aps) != 0 {
		t.Errorf("app passwords = %+v, %v; want none", aps, err)
	}
}

// TestMigratePairingRegistrations upgrades a database with paired phones
// and an open pairing link from migration 0004: active phones stay; the
// open link and the phone waiting on it are dropped (links live ten
// minutes); pairing works on the new tables.
func TestMigratePairingRegistrations(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := sqlite.MigrateTo(ctx, path, 4); err != nil {
		t.Fatalf("MigrateTo(4): %v", err)
	}
	db := rawDB(t, path)
	for _, q := range []string{
		`INSERT INTO users (username, display_name, email, password_hash, mfa_state, created_at, updated_at)
			VALUES ('alice', 'Alice', '', '$2a$10$x', 'enforced', 1700000000000, 1700000000000)`,
		`INSERT INTO devices (id, user_id, name, public_key, active, created_at, activated_at) VALUES (1, 1, 'paired', x'01', 1, 1700000000000, 1700000000000)`,
		`INSERT INTO devices (id, user_id, name, public_key, active, created_at) VALUES (2, 1, 'waiting', x'02', 0, 1700000000000)`,
		`INSERT INTO pairings (token_hash, user_id, session_hash, created_at, expires_at, device_id, code_hash)
			VALUES (x'aa', 1, x'bb', 1700000000000, 1700000600000, 2, x'cc')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(old database): %v", err)
	}
	defer s.Close()
	ds, err := s.Devices(ctx, 1)
	if err != nil || len(ds) != 1 || ds[0].ID != 1 || !ds[0].Active {
		t.Fatalf("devices after the upgrade = %+v, %v; want only the active one", ds, err)
	}
	if _, err := s.PairingBySession(ctx, 1, []byte{0xbb}); !errors.Is(err, model.ErrNotFound) {
		t.Errorf("open link after the upgrade: %v", err)
	}
	now := time.Now()
	if err := s.CreatePairing(ctx, &model.Pairing{TokenHash: []byte("t"), UserID: 1, SessionHash: []byte("s"), ExpiresAt: now.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	d := &model.Device{Name: "new", PublicKey: []byte{3}}
	if err := s.RegisterDevice(ctx, []byte("t"), d, []byte("c"), now, model.MaxDevices, model.MaxPairingPhones); err != nil {
		t.Fatal(err)
	}
	var got *model.Device
	err = s.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		got, err = tx.ConfirmPairing(ctx, 1, []byte("s"), []byte("c"), now, 5)
		return err
	})
	if err != nil || got.ID != d.ID || !got.Active {
		t.Fatalf("ConfirmPairing after the upgrade = %+v, %v", got, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestMigrateApprovalNumberDigits upgrades a database from migration 0009,
// whose requests took two-digit numbers only: a pending request keeps its
// number and answers, and eight-digit numbers (push_number_digits 8) are
// taken after the upgrade.
func TestMigrateApprovalNumberDigits(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := sqlite.MigrateTo(ctx, path, 9); err != nil {
		t.Fatalf("MigrateTo(9): %v", err)
	}
	db := rawDB(t, path)
	for _, q := range []string{
		`INSERT INTO users (username, display_name, email, password_hash, mfa_state, created_at, updated_at)
			VALUES ('alice', 'Alice', '', '$2a$10$x', 'enforced', 1700000000000, 1700000000000)`,
		`INSERT INTO approvals (id, user_id, session_hash, number, status, created_at, expires_at, site, remote_ip, user_agent)
			VALUES ('old', 1, x'aa', 42, 'pending', 1700000000000, 4100000000000, 'app.example.com', '192.0.2.9', 'Firefox')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO approvals (id, user_id, session_hash, number, status, created_at, expires_at)
		VALUES ('long', 1, x'bb', 123456, 'pending', 1700000000000, 4100000000000)`); err == nil {
		t.Fatal("migration 0009 took a six-digit number: this test no longer shows the upgrade")
	}
	s, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open(old database): %v", err)
	}
	defer s.Close()
	old, err := s.ApprovalByID(ctx, "old")
	if err != nil || old.Number != 42 || old.Status != model.ApprovalPending || old.Site != "app.example.com" || old.UserID != 1 {
		t.Fatalf("request after the upgrade = %+v, %v", old, err)
	}
	a := &model.Approval{ID: "long", UserID: 1, SessionHash: []byte("s"), Number: 12345678, ExpiresAt: time.Now().Add(time.Minute)}
	if err := s.Update(ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddApproval(ctx, a) }); err != nil {
		t.Fatalf("eight-digit request after the upgrade: %v", err)
	}
	if got, err := s.ApprovalByID(ctx, "long"); err != nil || got.Number != 12345678 {
		t.Fatalf("eight-digit request read back = %+v, %v", got, err)
	}
	if err := s.IntegrityCheck(ctx); err != nil {
		t.Error(err)
	}
}

// TestMigrateDefaultMethodPasskey: migration 0014 replaces the default
// method's column to allow 'passkey': a user's chosen method and the rows
// referring to the user (their authenticators) stay; 'passkey' is
// accepted, anything else still refused by the database itself.
func TestMigrateDefaultMethodPasskey(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "old.db")
	if err := sqlite.MigrateTo(ctx, path, 9); err != nil {
		t.Fatalf("MigrateTo(9): %v", err)
	}
	db := rawDB(t, path)
	if _, err := db.ExecContext(ctx, `INSERT INTO users
		(username, display_name, email, password_hash, mfa_state, default_method, created_at, updated_at)
		VALUES ('alice', 'Alice', '', '$2a$10$x', 'enforced', 'push', 1700000000000, 1700000000123)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `INSERT INTO totp_authenticators (user_id, name, sealed_secret, created_at)
		VALUES (1, 'app', x'01', 1700000000000)`); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.MigrateTo(ctx, path, 14); err != nil {
		t.Fatalf("MigrateTo(14): %v", err)
	}
	var method string
	var auths int
	if err := db.QueryRowContext(ctx, `SELECT default_method, (SELECT count(*) FROM totp_authenticators) FROM users`).Scan(&method, &auths); err != nil {
		t.Fatal(err)
	}
	if method != "push" || auths != 1 {
		t.Errorf("after 0014: default method %q, %d authenticators; want push and 1", method, auths)
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET default_method = 'passkey'`); err != nil {
		t.Errorf("'passkey' refused: %v", err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE users SET default_method = 'sms'`); err == nil {
		t.Errorf("'sms' accepted")
	}
}
