// Package testfixture gives unit tests what a server has: a real SQLite
// store in the test's temporary directory and the services wired on it
// exactly as the Caddy glue wires them (bcrypt at its lowest accepted
// cost, to keep tests fast). For tests only.
package testfixture

import (
	"context"
	"testing"

	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/testfixture/countingstore"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
	"github.com/mfagate/mfagate/internal/wiring"
)

// Services wires the services on a fresh store.
func Services(t testing.TB) *wiring.Services {
	t.Helper()
	svc, err := wiring.New(context.Background(), teststore.Open(t), wiring.Options{BcryptCost: password.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// ServicesWith wires the services with options o (at the lowest bcrypt
// cost) on a fresh store.
func ServicesWith(t testing.TB, o wiring.Options) *wiring.Services {
	t.Helper()
	o.BcryptCost = password.MinCost
	svc, err := wiring.New(context.Background(), teststore.Open(t), o)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// CountingServices wires the services on a fresh store that counts its
// write transactions (see countingstore).
func CountingServices(t testing.TB) (*wiring.Services, *countingstore.Store) {
	t.Helper()
	st := countingstore.New(teststore.Open(t))
	svc, err := wiring.New(context.Background(), st, wiring.Options{BcryptCost: password.MinCost})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}
