package session

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// benchSession opens a SQLite store in b.TempDir, starts one complete
// session and returns the manager and a request carrying its cookie.
func benchSession(b *testing.B, cacheTTL time.Duration) (*Manager, *http.Request) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	u := &model.User{Username: "bench", PasswordHash: "x", MFAState: model.MFAEnforced,
		DisplayName: "Bench User", Email: "bench@example.com", Groups: []string{"staff", "bench"}}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	hashKey := make([]byte, 64)
	blockKey := make([]byte, 32)
	for i := range hashKey {
		hashKey[i] = byte(i)
	}
	for i := range blockKey {
		blockKey[i] = byte(200 - i)
	}
	m, err := NewManager(core.NewSessions(st), Config{HashKey: hashKey, BlockKey: blockKey, CacheTTL: cacheTTL})
	if err != nil {
		b.Fatal(err)
	}
	w := httptest.NewRecorder()
	if err := m.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StageComplete}); err != nil {
		b.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/app/page", nil)
	r.Header.Set("Cookie", "theme=dark; "+CookieName+"="+w.Result().Cookies()[0].Value+"; lang=en")
	if cur, err := m.Load(r); err != nil || cur == nil {
		b.Fatalf("load: %v %v", cur, err)
	}
	return m, r
}

// BenchmarkLoadCached: a signed-in request whose session is in the
// per-node cache (the steady state of configuration B).
func BenchmarkLoadCached(b *testing.B) {
	m, r := benchSession(b, time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if cur, err := m.Load(r); err != nil || cur == nil {
			b.Fatal("no session")
		}
	}
}

// BenchmarkLoadCachedParallel: the same from all CPUs (cache lock sharing).
func BenchmarkLoadCachedParallel(b *testing.B) {
	m, r := benchSession(b, time.Hour)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if cur, err := m.Load(r); err != nil || cur == nil {
				b.Error("no session")
				return
			}
		}
	})
}

// BenchmarkLoadUncached: cache disabled, so every Load reads the session
// and the user from SQLite (what each session costs once per cache TTL).
func BenchmarkLoadUncached(b *testing.B) {
	m, r := benchSession(b, time.Nanosecond)
	b.ReportAllocs()
	for b.Loop() {
		if cur, err := m.Load(r); err != nil || cur == nil {
			b.Fatal("no session")
		}
	}
}

// BenchmarkLoadInvalidCookie: a forged cookie is refused by the codec.
func BenchmarkLoadInvalidCookie(b *testing.B) {
	m, r := benchSession(b, time.Hour)
	c, _ := r.Cookie(CookieName)
	forged := r.Clone(context.Background())
	forged.Header.Set("Cookie", CookieName+"="+c.Value[:len(c.Value)-4]+"AAAA")
	b.ReportAllocs()
	for b.Loop() {
		if cur, _ := m.Load(forged); cur != nil {
			b.Fatal("forged cookie accepted")
		}
	}
}

// BenchmarkCookieCodec isolates the cookie decoding that dominates
// BenchmarkLoadCached: securecookie with its default gob serializer (what
// the Manager uses) against the JSON and no-op serializers.
func BenchmarkCookieCodec(b *testing.B) {
	hashKey := make([]byte, 64)
	blockKey := make([]byte, 32)
	token := "q3Jx8m2V0c9Kp4Lr7Tn1Wb6Yh5Gd0Sf2Ae8Zu3Ci9Ok"
	for _, c := range []struct {
		name  string
		ser   securecookie.Serializer
		value any
		dst   func() any
	}{
		{"gob", securecookie.GobEncoder{}, token, func() any { var s string; return &s }},
		{"json", securecookie.JSONEncoder{}, token, func() any { var s string; return &s }},
		{"nop", securecookie.NopEncoder{}, []byte(token), func() any { var p []byte; return &p }},
	} {
		sc := securecookie.New(hashKey, blockKey).SetSerializer(c.ser)
		enc, err := sc.Encode(CookieName, c.value)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := sc.Decode(CookieName, enc, c.dst()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
