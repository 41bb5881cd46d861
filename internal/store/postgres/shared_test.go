package postgres_test

import (
	"testing"

	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/internal/store/postgres"
	"github.com/mfagate/mfagate/internal/store/storetest"
)

func TestConformanceShared(t *testing.T) {
	adminDSN(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		s, err := postgres.OpenShared(t.Context(), freshDB(t), postgres.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
