// Package teststore opens a real SQLite store for a unit test, in the
// test's temporary directory. It depends on the store alone, so that the
// packages the wiring is built from can use it in their own tests (see
// package testfixture for the wired services). For tests only.
package teststore

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/mfagate/mfagate/internal/store/sqlite"
)

// Open opens a fresh SQLite store, closed when the test ends.
func Open(t testing.TB) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}
