package teststore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/mfagate/mfagate/internal/store/postgres"
)

// OpenPostgres opens a store on a fresh PostgreSQL database, dropped when
// the test ends, on the server MFAGATE_TEST_POSTGRES_DSN names (its role
// may CREATE DATABASE). Without it the test is skipped, unless CI is set:
// then it fails.
func OpenPostgres(t testing.TB) *postgres.Store {
	t.Helper()
	admin := os.Getenv("MFAGATE_TEST_POSTGRES_DSN")
	if admin == "" {
		if ci := os.Getenv("CI"); ci != "" && !strings.EqualFold(ci, "false") && ci != "0" {
			t.Fatalf("MFAGATE_TEST_POSTGRES_DSN is not set, but CI=%q: the PostgreSQL tests must run in CI", ci)
		}
		t.Skip("MFAGATE_TEST_POSTGRES_DSN is not set: no PostgreSQL to test against (scripts/test.sh starts one)")
	}
	var b [8]byte
	_, _ = rand.Read(b[:])
	name := "mfagate_t_" + hex.EncodeToString(b[:])
	if err := adminExec(admin, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := adminExec(admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("MFAGATE_TEST_POSTGRES_DSN must be a postgres:// URL here: %v", err)
	}
	u.Path, u.RawPath = "/"+name, ""
	st, err := postgres.Open(context.Background(), u.String(), postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func adminExec(dsn, sql string) error {
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
