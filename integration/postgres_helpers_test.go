package integration

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// postgresAdminDSN returns MFAGATE_TEST_POSTGRES_DSN (set by
// scripts/test.sh). Without it the test is skipped locally and fails in CI.
func postgresAdminDSN(t *testing.T) string {
	t.Helper()
	dsn := os.Getenv("MFAGATE_TEST_POSTGRES_DSN")
	if dsn != "" {
		return dsn
	}
	switch strings.ToLower(strings.TrimSpace(os.Getenv("CI"))) {
	case "", "false", "0":
		t.Skip("MFAGATE_TEST_POSTGRES_DSN is not set (scripts/test.sh starts a throwaway PostgreSQL and sets it)")
	default:
		t.Fatal("MFAGATE_TEST_POSTGRES_DSN is not set, but CI is: PostgreSQL tests must run in CI (use scripts/test.sh)")
	}
	return ""
}

// withDatabase returns dsn pointing at database name instead.
func withDatabase(t *testing.T, dsn, name string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("MFAGATE_TEST_POSTGRES_DSN: %v", err)
		}
		u.Path = "/" + name
		u.RawPath = ""
		return u.String()
	}
	// keyword=value form: a later keyword wins.
	return dsn + " dbname=" + name
}

// freshPostgresDB creates an empty database for this test only and returns
// its DSN. The database is dropped when the test ends; call this before
// starting the gateways that use it, so their cleanup (stopping Caddy)
// runs first.
func freshPostgresDB(t *testing.T) string {
	t.Helper()
	admin := postgresAdminDSN(t)
	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatal(err)
	}
	name := "mfagate_it_" + hex.EncodeToString(rnd[:])
	runAdmin := func(ctx context.Context, sql string) error {
		conn, err := pgx.Connect(ctx, admin)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		_, err = conn.Exec(ctx, sql)
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := runAdmin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("creating database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := runAdmin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping database %s: %v", name, err)
		}
	})
	return withDatabase(t, admin, name)
}

// caddyfilePostgres is caddyfileFor with `storage postgres <dsn>`.
func caddyfilePostgres(dsn string, httpPort, adminPort int, upstreamPort string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	mfa {
		storage postgres %q
		issuer "Test Corp"
		bcrypt_cost 10
	}
}

:%d {
	mfa_gateway
	reverse_proxy 127.0.0.1:%s
}
`, adminPort, dsn, httpPort, upstreamPort)
}

// newPostgresGateway prepares (but does not start) a node using dsn; it is
// stopped when the test ends.
func newPostgresGateway(t *testing.T, up *upstream, dsn string) *gatewayInstance {
	t.Helper()
	g := newGatewayInstance(t)
	g.writeCaddyfile(caddyfilePostgres(dsn, g.httpPort, g.adminPort, up.port()))
	t.Cleanup(g.stop)
	return g
}

// launchGateway runs `caddy run` without waiting for the site, so several
// nodes can boot at the same time; call g.waitReady next.
func launchGateway(g *gatewayInstance) {
	g.t.Helper()
	g.launch("run", "--config", "Caddyfile")
}

// startPostgresGateway starts one node on dsn and waits until it answers.
func startPostgresGateway(t *testing.T, up *upstream, dsn string) *gatewayInstance {
	t.Helper()
	g := newPostgresGateway(t, up, dsn)
	launchGateway(g)
	g.waitReady()
	return g
}
