package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/sqlite"
	"github.com/mfagate/mfagate/internal/store/storetest"
)

func TestConformanceShared(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := sqlite.OpenShared(t.Context(), filepath.Join(t.TempDir(), "m.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
