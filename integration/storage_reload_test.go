package integration

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// caddyfilePostgresPool is caddyfilePostgres with the storage block's
// max_conns.
func caddyfilePostgresPool(dsn string, maxConns, httpPort, adminPort int, upstreamPort string) string {
	return fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	mfa {
		storage postgres %q {
			max_conns %d
			query_timeout 20s
		}
		issuer "Test Corp"
		bcrypt_cost 10
	}
}

:%d {
	mfa_gateway
	reverse_proxy 127.0.0.1:%s
}
`, adminPort, dsn, maxConns, httpPort, upstreamPort)
}

// testAppName marks the test's own connections in pg_stat_activity.
const testAppName = "mfagate-integration-test"

func testConn(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.RuntimeParams["application_name"] = testAppName
	conn, err := pgx.ConnectConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// listenAppName marks each node's LISTEN connection (outside its pool).
const listenAppName = "mfagate-listen"

// gatewayConns counts the gateway's pool connections to the test database:
// all of them, and those waiting for a lock.
func gatewayConns(t *testing.T, watch *pgx.Conn) (total, waiting int) {
	t.Helper()
	err := watch.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE wait_event_type = 'Lock')
		FROM pg_stat_activity WHERE datname = current_database() AND application_name NOT IN ($1, $2)`,
		testAppName, listenAppName).Scan(&total, &waiting)
	if err != nil {
		t.Fatal(err)
	}
	return total, waiting
}

// poolBoundUnderLoad locks the failures table, sends many basic-auth
// guesses at once (each claims a failure slot first, so each holds a pool
// connection waiting on the lock) and returns the most connections seen
// waiting at once: the pool's max_conns. Then it lets them finish.
func poolBoundUnderLoad(t *testing.T, g *gatewayInstance, holder, watch *pgx.Conn, tag string) int {
	t.Helper()
	ctx := t.Context()
	tx, err := holder.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE failures IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	const requests = 12
	var wg sync.WaitGroup
	for i := range requests {
		wg.Go(func() {
			// Distinct names: identical concurrent checks would share one.
			req, _ := http.NewRequest("GET", g.url("/pool"), nil)
			req.SetBasicAuth(fmt.Sprintf("nobody-%s-%d", tag, i), "wrong password")
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
		})
	}
	most := 0
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		_, waiting := gatewayConns(t, watch)
		most = max(most, waiting)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	return most
}

// TestReloadAppliesChangedPostgresOptions: a `caddy reload` that changes
// only max_conns opens a new pool with the new bound and closes the old
// one (the shared-store key covers every storage option).
func TestReloadAppliesChangedPostgresOptions(t *testing.T) {
	dsn := freshPostgresDB(t)
	up := newUpstream(t)
	g := newGatewayInstance(t)
	g.writeCaddyfile(caddyfilePostgresPool(dsn, 2, g.httpPort, g.adminPort, up.port()))
	launchGateway(g)
	t.Cleanup(g.stop)
	g.waitReady()
	g.bootstrapPassword()
	holder, watch := testConn(t, dsn), testConn(t, dsn)

	if got := poolBoundUnderLoad(t, g, holder, watch, "a"); got != 2 {
		t.Fatalf("max_conns 2: %d connections waited at once", got)
	}
	g.reload(caddyfilePostgresPool(dsn, 4, g.httpPort, g.adminPort, up.port()))
	if got := poolBoundUnderLoad(t, g, holder, watch, "b"); got != 4 {
		t.Fatalf("after reload to max_conns 4: %d connections waited at once", got)
	}
	// The old pool was closed when the old config unloaded: only the new
	// pool's connections are left (a closing connection may take a moment
	// to leave pg_stat_activity, as the LISTEN one below).
	total := 0
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if total, _ = gatewayConns(t, watch); total <= 4 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d gateway connections after the reload, want at most the new pool's 4", total)
		}
	}
	// And the old pool's LISTEN connection went with it: one is left.
	deadline := time.Now().Add(5 * time.Second)
	for {
		var listeners int
		if err := watch.QueryRow(t.Context(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND application_name = $1`, listenAppName).Scan(&listeners); err != nil {
			t.Fatal(err)
		}
		if listeners == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d LISTEN connections after the reload, want 1", listeners)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
