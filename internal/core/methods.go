package core

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// AuthenticatorName labels an enrolled authenticator app.
const AuthenticatorName = "Authenticator app"

// Methods changes users' sign-in methods under the MFA-state rules, each
// change in one store transaction, and audits it.
type Methods struct {
	store  store.Store
	Audit  *audit.Log
	events *Events
}

// AddAuthenticator stores a verified, sealed secret. Registering a method
// switches an Enabled user to Enforced (per-user MFA semantics), in the
// same transaction. With onlyFirst (enrolment during sign-in) it stores the
// secret only if the user has no authenticator yet, else
// model.ErrConflict: a half-finished sign-in that knew only the password
// must never add a second method after the user enrolled their own.
func (m *Methods) AddAuthenticator(ctx context.Context, u *model.User, sealed []byte, ip string, onlyFirst bool) error {
	existing, err := m.store.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("core: authenticators: %w", err)
	}
	a := &model.TOTPAuthenticator{UserID: u.ID, Name: nextAuthenticatorName(existing), SealedSecret: sealed}
	// The state is promoted as stored now, not as cached with the session:
	// an admin may have changed it meanwhile.
	promoted, err := m.store.AddTOTP(ctx, a, onlyFirst)
	if err != nil {
		return fmt.Errorf("core: add authenticator: %w", err)
	}
	if promoted {
		m.Audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.MFAStateChanged,
			RemoteIP: ip, Detail: "enabled -> enforced (method registered)"})
	}
	m.Audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.TOTPEnrolled, RemoteIP: ip, Detail: a.Name})
	return nil
}

// ErrNoSuchMethod means the user does not have the method asked for.
var ErrNoSuchMethod = errors.New("core: the user has no such sign-in method")

// DeleteAuthenticator removes authenticator id of u and ends u's other
// sessions (see methodRemoved). With keepOne (the site's policy requires
// a second factor of u) it refuses, atomically in the store, to remove
// the last one (model.ErrLimit), so two deletes sent at once cannot leave
// such a user without a method. model.ErrNotFound when u has no such
// authenticator.
func (m *Methods) DeleteAuthenticator(ctx context.Context, u *model.User, id int64, keepOne bool, keepSession []byte, ip string) error {
	if err := m.store.DeleteTOTP(ctx, u.ID, id, keepOne, keepSession); err != nil {
		return fmt.Errorf("core: delete authenticator: %w", err)
	}
	methodRemoved(ctx, m.events, m.Audit, u, audit.TOTPDeleted, ip, strconv.FormatInt(id, 10))
	return nil
}

// methodRemoved is the one rule after any sign-in method (authenticator
// app or phone) is removed: the store has ended, in the removal's
// transaction, every session of u but the one that removed it (they may
// have been signed in with that method), and now every node drops its
// cached copies of u's sessions and basic-auth successes at once.
func methodRemoved(ctx context.Context, events *Events, log *audit.Log, u *model.User, event, ip, detail string) {
	events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	log.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: event, RemoteIP: ip, Detail: detail})
}

// SetDefaultMethod makes method the one u is offered first at sign-in;
// only a method u has (ErrNoSuchMethod otherwise).
func (m *Methods) SetDefaultMethod(ctx context.Context, u *model.User, method model.Method, ip string) error {
	has, err := m.has(ctx, u, method)
	if err != nil {
		return err
	}
	if !has {
		return ErrNoSuchMethod
	}
	if err := m.store.SetDefaultMethod(ctx, u.ID, method); err != nil {
		return fmt.Errorf("core: set default method: %w", err)
	}
	m.Audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.DefaultMethodSet, RemoteIP: ip, Detail: string(method)})
	return nil
}

// has reports whether u has a method of kind method: an authenticator
// app for codes, an active phone for notifications.
func (m *Methods) has(ctx context.Context, u *model.User, method model.Method) (bool, error) {
	switch method {
	case model.MethodCode:
		auths, err := m.store.TOTPAuthenticators(ctx, u.ID)
		if err != nil {
			return false, fmt.Errorf("core: authenticators: %w", err)
		}
		return len(auths) > 0, nil
	case model.MethodPush:
		ds, err := m.store.Devices(ctx, u.ID)
		if err != nil {
			return false, fmt.Errorf("core: devices: %w", err)
		}
		return len(activeDevices(ds)) > 0, nil
	}
	return false, nil
}

// nextAuthenticatorName numbers authenticators past the highest number in
// use, so names stay distinct after deletions and the user can tell which
// one to delete.
func nextAuthenticatorName(existing []model.TOTPAuthenticator) string {
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
