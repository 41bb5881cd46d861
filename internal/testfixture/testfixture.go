// Package testfixture gives unit tests what a server has: a real SQLite
// store in the test's temporary directory and the services wired on it
// exactly as the Caddy glue wires them (bcrypt at its lowest accepted
// cost, to keep tests fast). For tests only.
package testfixture

import (
	"context"
	"testing"

	"github.com/mfagate/mfagate/internal/factor/password"
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
