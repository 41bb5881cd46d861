package postgres_test

import (
	"slices"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// TestSearchUsersTenThousand times the admin center's user queries on
// PostgreSQL with 10,000 users (every tenth Enforced, every seventh with
// a sign-in, every hundredth locked): each page within 100 ms.
func TestSearchUsersTenThousand(t *testing.T) {
	dsn := freshDB(t)
	s := openNode(t, dsn)
	conn := connect(t, dsn)
	for _, q := range []string{
		`INSERT INTO users (username, display_name, email, password_hash, mfa_state, created_at, updated_at)
			SELECT 'seed' || lpad(i::text, 5, '0'), 'Seeded Person ' || lpad(i::text, 5, '0'), 'seed' || i || '@example.com', 'x',
				CASE WHEN i % 10 = 0 THEN 'enforced' ELSE 'enabled' END, now(), now()
			FROM generate_series(0, 9999) AS i`,
		`INSERT INTO user_groups (user_id, grp) SELECT id, 'team' || (id % 20) FROM users`,
		`INSERT INTO sign_in_log (at, user_id, username, site, result, first_factor)
			SELECT now() - make_interval(secs => id), id, username, 'files.example', 'success', 'password' FROM users WHERE id % 7 = 0`,
		// What AppendSignIn keeps on the user row with each success.
		`UPDATE users u SET last_sign_in_at = s.at FROM sign_in_log s WHERE s.user_id = u.id`,
		`INSERT INTO failures (key, count, window_start, locked_until)
			SELECT 'acct:' || username, 10, now(), now() + interval '1 hour' FROM users WHERE id % 100 = 0`,
		`ANALYZE`,
	} {
		if _, err := conn.Exec(t.Context(), q); err != nil {
			t.Fatalf("seeding: %v", err)
		}
	}
	queries := []struct {
		name  string
		q     model.UserQuery
		total int
	}{
		{"first page", model.UserQuery{}, 10000},
		{"page 100", model.UserQuery{Offset: 4950}, 10000},
		{"search", model.UserQuery{Search: "PERSON 0999"}, 10},
		{"enforced", model.UserQuery{MFAState: model.MFAEnforced, Offset: 450}, 1000},
		{"locked", model.UserQuery{Status: model.StatusLocked}, 100},
		{"active page 150", model.UserQuery{Status: model.StatusActive, Offset: 7450}, 9900},
		{"last sign-in", model.UserQuery{Sort: model.SortLastSignIn, Desc: true, Offset: 950}, 10000},
		{"by name", model.UserQuery{Sort: model.SortDisplayName, Offset: 5950}, 10000},
	}
	for _, c := range queries {
		c.q.Limit, c.q.LockKeyPrefix, c.q.Now = 50, "acct:", time.Now()
		var times []time.Duration
		for range 5 {
			t0 := time.Now()
			page, err := s.SearchUsers(t.Context(), c.q)
			times = append(times, time.Since(t0))
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if page.Total != c.total || len(page.Users) != min(50, c.total) {
				t.Fatalf("%s: %d rows of %d, want %d", c.name, len(page.Users), page.Total, c.total)
			}
		}
		slices.Sort(times)
		med := times[len(times)/2]
		t.Logf("timing: %-16s median %5.1f ms (max %5.1f)", c.name, float64(med.Microseconds())/1000, float64(times[len(times)-1].Microseconds())/1000)
		if med > 100*time.Millisecond {
			t.Errorf("%s: median %v, want at most 100 ms", c.name, med)
		}
	}
}
