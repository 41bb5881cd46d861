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
	// open opens an authenticator's sealed secret (Codes.Open), to tell
	// an authenticator already added.
	open func(userID int64, sealed []byte) ([]byte, error)
}

// ErrAlreadyEnrolled means the authenticator being added is one the user
// has (a form posted twice).
var ErrAlreadyEnrolled = errors.New("core: this authenticator app is already on the account")

// AddAuthenticator stores a verified, sealed secret. In one transaction,
// under the user's lock: an authenticator the user has already is refused
// (ErrAlreadyEnrolled); with onlyFirst (enrolment during sign-in) it is
// stored only if the user has no authenticator yet, else
// model.ErrConflict (a half-finished sign-in that knew only the password
// must never add a second method after the user enrolled their own);
// registering a method makes an Enabled user Enforced
// (promoteOnNewMethod, per-user MFA semantics); the audit rows.
func (m *Methods) AddAuthenticator(ctx context.Context, u *model.User, sealed []byte, ip string, onlyFirst bool) error {
	secret, err := m.open(u.ID, sealed)
	if err != nil {
		return fmt.Errorf("core: add authenticator: %w", err)
	}
	var rows []model.AuditEvent
	err = m.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		rows = nil
		// The state is promoted as stored now, not as cached with the
		// session: an admin may have changed it meanwhile.
		locked, err := tx.LockUser(ctx, u.ID)
		if err != nil {
			return err
		}
		a, promoted, err := addAuthenticatorIn(ctx, tx, m.open, locked, sealed, secret, onlyFirst)
		if err != nil {
			return err
		}
		var events []model.AuditEvent
		if promoted {
			events = append(events, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.MFAStateChanged,
				RemoteIP: ip, Detail: "enabled -> enforced (method registered)"})
		}
		events = append(events, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.TOTPEnrolled, RemoteIP: ip, Detail: a.Name})
		for _, e := range events {
			ev, err := auditIn(ctx, tx, e)
			if err != nil {
				return err
			}
			rows = append(rows, ev)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("core: add authenticator: %w", err)
	}
	for _, ev := range rows {
		m.Audit.Logged(ev)
	}
	return nil
}

// addAuthenticatorIn stores an authenticator app of user u (locked in tx,
// LockUser) sealed with secret, under the rules of adding one: with
// onlyFirst (enrolment at sign-in) only as the user's first
// (model.ErrConflict otherwise); never one the user has already
// (ErrAlreadyEnrolled, notEnrolledYet); an Enabled user becomes Enforced
// (promoteOnNewMethod). Enrolment, Security info's "Add" and
// AddAuthenticator all add through it.
func addAuthenticatorIn(ctx context.Context, tx store.Tx, open func(int64, []byte) ([]byte, error), u *model.User, sealed, secret []byte, onlyFirst bool) (*model.TOTPAuthenticator, bool, error) {
	existing, err := tx.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return nil, false, err
	}
	if onlyFirst && len(existing) > 0 {
		return nil, false, fmt.Errorf("%w: the user has an authenticator already", model.ErrConflict)
	}
	if err := notEnrolledYet(open, u.ID, existing, secret); err != nil {
		return nil, false, err
	}
	a := &model.TOTPAuthenticator{UserID: u.ID, Name: nextAuthenticatorName(existing), SealedSecret: sealed}
	if err := tx.AddTOTP(ctx, a); err != nil {
		return nil, false, err
	}
	promoted, err := promoteOnNewMethod(ctx, tx, u)
	if err != nil {
		return nil, false, err
	}
	return a, promoted, nil
}

// ErrNoSuchMethod means the user does not have the method asked for.
var ErrNoSuchMethod = errors.New("core: the user has no such sign-in method")

// DeleteAuthenticator removes authenticator id of u and ends u's other
// sessions (see removeMethod). With keepOne (the site's policy requires
// a second factor of u) it refuses to remove the last method
// (model.ErrLimit). model.ErrNotFound when u has no such authenticator.
func (m *Methods) DeleteAuthenticator(ctx context.Context, u *model.User, id int64, keepOne bool, keepSession []byte, ip string) error {
	err := removeMethod(ctx, m.store, m.Audit, m.events, methodRemoval{user: u, id: id, keepOne: keepOne, keepSession: keepSession, ip: ip})
	if err != nil {
		return fmt.Errorf("core: delete authenticator: %w", err)
	}
	return nil
}

// methodKind is a kind of sign-in method.
type methodKind int

// The kinds of sign-in methods.
const (
	kindAuthenticator methodKind = iota
	kindPhone
	kindPasskey
)

// methodRemoval is one sign-in method a user removes.
type methodRemoval struct {
	user *model.User
	kind methodKind
	id   int64
	// keepOne refuses to remove the user's last method.
	keepOne bool
	// keepSession is the session removing it, which stays (nil: none).
	keepSession []byte
	ip          string
}

// removeMethod is the one way a sign-in method (authenticator app, phone
// or passkey) goes: in one transaction the method is deleted, the
// keep-last-method rule checked (keepLastMethod), every other session of
// the user ended (they may have been signed in with that method) and the
// audit row written; after the commit every node drops its cached copies
// of the user's sessions and basic-auth successes at once.
func removeMethod(ctx context.Context, st store.Store, log *audit.Log, events *Events, r methodRemoval) error {
	u := r.user
	var ev model.AuditEvent
	err := st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if r.kind == kindPhone {
			// Links before users: a link's confirmation must not
			// activate the phone between the count and the delete.
			if err := tx.LockPairings(ctx, u.ID); err != nil {
				return err
			}
		}
		if _, err := tx.LockUser(ctx, u.ID); err != nil {
			return err
		}
		before, err := tx.Methods(ctx, u.ID)
		if err != nil {
			return err
		}
		var event string
		switch r.kind {
		case kindPhone:
			event, err = audit.DeviceRemoved, tx.DeleteDevice(ctx, u.ID, r.id)
		case kindPasskey:
			event, err = audit.PasskeyDeleted, tx.DeleteWebAuthnCredential(ctx, u.ID, r.id)
		default:
			event, err = audit.TOTPDeleted, tx.DeleteTOTP(ctx, u.ID, r.id)
		}
		if err != nil {
			return err
		}
		after, err := tx.Methods(ctx, u.ID)
		if err != nil {
			return err
		}
		if err := keepLastMethod(r.keepOne, before, after); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, u.ID, r.keepSession); err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: event, RemoteIP: r.ip,
			Detail: strconv.FormatInt(r.id, 10)})
		return err
	})
	if err != nil {
		return err
	}
	log.Logged(ev)
	events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return nil
}

// SetDefaultMethod makes method the one u is offered first at sign-in;
// only a method u has (ErrNoSuchMethod otherwise), as counted in the
// change's transaction under the user's lock.
func (m *Methods) SetDefaultMethod(ctx context.Context, u *model.User, method model.Method, ip string) error {
	var ev model.AuditEvent
	err := m.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.LockUser(ctx, u.ID); err != nil {
			return err
		}
		c, err := tx.Methods(ctx, u.ID)
		if err != nil {
			return err
		}
		if !hasMethod(c, method) {
			return ErrNoSuchMethod
		}
		if err := tx.SetDefaultMethod(ctx, u.ID, method); err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.DefaultMethodSet,
			RemoteIP: ip, Detail: string(method)})
		return err
	})
	if errors.Is(err, ErrNoSuchMethod) {
		return err
	}
	if err != nil {
		return fmt.Errorf("core: set default method: %w", err)
	}
	m.Audit.Logged(ev)
	return nil
}

// hasMethod reports whether c holds a method of kind method: an
// authenticator app for codes, an active phone for notifications.
func hasMethod(c model.MethodCount, method model.Method) bool {
	switch method {
	case model.MethodCode:
		return c.Authenticators > 0
	case model.MethodPush:
		return c.Phones > 0
	case model.MethodPasskey:
		return c.Passkeys > 0
	}
	return false
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
