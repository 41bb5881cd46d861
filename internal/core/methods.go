package core

import (
	"context"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/store"
)

// AuthenticatorName labels an enrolled authenticator app.
const AuthenticatorName = "Authenticator app"

// Methods changes users' sign-in methods under the MFA-state rules, each
// change in one store transaction, and audits it.
type Methods struct {
	Store store.Store
	Audit *audit.Log
}

// AddAuthenticator stores a verified, sealed secret. Registering a method
// switches an Enabled user to Enforced (per-user MFA semantics), in the
// same transaction. With onlyFirst (enrolment during sign-in) it stores the
// secret only if the user has no authenticator yet, else
// store.ErrConflict: a half-finished sign-in that knew only the password
// must never add a second method after the user enrolled their own.
func (m *Methods) AddAuthenticator(ctx context.Context, u *store.User, sealed []byte, ip string, onlyFirst bool) error {
	existing, err := m.Store.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("core: authenticators: %w", err)
	}
	a := &store.TOTPAuthenticator{UserID: u.ID, Name: nextAuthenticatorName(existing), SealedSecret: sealed}
	// The state is promoted as stored now, not as cached with the session:
	// an admin may have changed it meanwhile.
	promoted, err := m.Store.AddTOTP(ctx, a, onlyFirst)
	if err != nil {
		return fmt.Errorf("core: add authenticator: %w", err)
	}
	if promoted {
		m.Audit.Record(ctx, store.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.MFAStateChanged,
			RemoteIP: ip, Detail: "enabled -> enforced (method registered)"})
	}
	m.Audit.Record(ctx, store.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.TOTPEnrolled, RemoteIP: ip, Detail: a.Name})
	return nil
}

// nextAuthenticatorName numbers authenticators past the highest number in
// use, so names stay distinct after deletions and the user can tell which
// one to delete.
func nextAuthenticatorName(existing []store.TOTPAuthenticator) string {
	if len(existing) == 0 {
		return AuthenticatorName
	}
	highest := 1
	for _, a := range existing {
		var n int
		if _, err := fmt.Sscanf(a.Name, AuthenticatorName+" %d", &n); err == nil && n > highest {
			highest = n
		}
	}
	return fmt.Sprintf("%s %d", AuthenticatorName, highest+1)
}
