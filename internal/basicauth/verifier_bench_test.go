package basicauth

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/factor/apppassword"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store/sqlite"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// benchVerifier: an enforced user with one app password in a SQLite store
// in b.TempDir, bcrypt cost 10 (the benchmark's server setting).
func benchVerifier(b *testing.B) (*Verifier, *model.User, string) {
	b.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		b.Fatal(err)
	}
	acct, _ := h.Hash("account pw")
	u := &model.User{Username: "bench", PasswordHash: acct, MFAState: model.MFAEnforced, Groups: []string{"staff"}}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	v, err := newVerifier(b, st, h, key)
	if err != nil {
		b.Fatal(err)
	}
	pw, _ := apppassword.Generate()
	hash, _ := h.Hash(pw)
	ap := &model.AppPassword{UserID: u.ID, Name: "dav", Hash: hash, LookupTag: secrets.UserTag(key, u.ID, pw)}
	if err := teststore.AddAppPassword(ctx, st, ap); err != nil {
		b.Fatal(err)
	}
	return v, u, pw
}

// BenchmarkVerifyCached: a known-good app password already in the cache
// (the steady state of configuration C).
func BenchmarkVerifyCached(b *testing.B) {
	v, _, pw := benchVerifier(b)
	ctx := context.Background()
	fixed := time.Now()
	v.now = func() time.Time { return fixed } // never expires, never due for a touch
	if _, err := v.Verify(ctx, policy.Site{}, "bench", pw, "192.0.2.1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(ctx, policy.Site{}, "bench", pw, "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyCachedParallel: the same from all CPUs (cache mutex).
func BenchmarkVerifyCachedParallel(b *testing.B) {
	v, _, pw := benchVerifier(b)
	ctx := context.Background()
	fixed := time.Now()
	v.now = func() time.Time { return fixed }
	if _, err := v.Verify(ctx, policy.Site{}, "bench", pw, "192.0.2.1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := v.Verify(ctx, policy.Site{}, "bench", pw, "192.0.2.1"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyUncached: the cache is emptied before each check, so each
// pays the lookups, one bcrypt (cost 10) and the last-used write.
func BenchmarkVerifyUncached(b *testing.B) {
	v, u, pw := benchVerifier(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		v.ForgetUser(u.ID)
		if _, err := v.Verify(ctx, policy.Site{}, "bench", pw, "192.0.2.1"); err != nil {
			b.Fatal(err)
		}
	}
}
