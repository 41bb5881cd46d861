package store

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Updater runs the core's changes: one call of Update is one write
// transaction, in which the core reads what its rule needs (under locks),
// decides in Go and writes the outcome. Rules live in the core; the store
// only offers locks and plain row operations.
type Updater interface {
	// Update runs fn in one write transaction and commits when fn returns
	// nil; any error rolls everything back and is returned as is.
	//
	// Rules for fn:
	//   - Take locks first, in the order pairings, users (LockUser,
	//     LockAdmins: by ID), failure counters; SQLite serialises every
	//     write transaction (BEGIN IMMEDIATE) and needs none, PostgreSQL
	//     takes row locks (FOR UPDATE), so a rule read under them holds
	//     until commit on every node.
	//   - No bcrypt, network call, push or other slow work inside fn, and
	//     no call of a Store method (on SQLite the one write connection
	//     is held by tx: it would wait for itself): judge secrets before,
	//     publish events after.
	//   - fn may run more than once (PostgreSQL retries a transaction
	//     that lost a deadlock or serialisation race), so it must not
	//     have effects outside tx: cache drops, events and NOTIFY happen
	//     after Update returns nil.
	//   - After an error of tx other than model.ErrNotFound, model.ErrLimit
	//     or a refused claim, the transaction may be unusable (PostgreSQL
	//     aborts it): return the error.
	Update(ctx context.Context, fn func(ctx context.Context, tx Tx) error) error
}

// Tx is one write transaction of Update. Its methods are plain row
// operations (the same-named Store methods describe their rows, without
// the rules some of those add) and locks; errors carry the store's
// sentinels (model.ErrNotFound, model.ErrConflict).
type Tx interface {
	// Passkeys and security keys: see WebAuthnTx.
	WebAuthnTx
	// Temporary Access Passes: see AccessPassTx.
	AccessPassTx
	// Recovery codes and notices: see RecoveryTx.
	RecoveryTx

	// LockUser locks the user's row for the rest of the transaction and
	// returns it as committed now; model.ErrNotFound when there is none.
	LockUser(ctx context.Context, userID int64) (*model.User, error)
	// LockAdmins locks the rows of group's members, by ID, so that changes
	// that could leave the group without a usable admin run one after the
	// other on every node.
	LockAdmins(ctx context.Context, group string) error
	// LockPairings locks the user's pairing links (links are locked before
	// users: whatever deletes devices a link refers to takes them first).
	LockPairings(ctx context.Context, userID int64) error

	// Methods counts the user's sign-in methods as of now in the
	// transaction: authenticators, active phones and passkeys.
	Methods(ctx context.Context, userID int64) (model.MethodCount, error)
	// GroupMembers lists group's members as of now in the transaction,
	// with their authenticators, active phones and passkeys, ordered by
	// ID.
	GroupMembers(ctx context.Context, group string) ([]model.Member, error)

	// SetMFAState changes the MFA state; model.ErrNotFound for unknown IDs.
	SetMFAState(ctx context.Context, userID int64, state model.MFAState) error
	// SetBlocked blocks (at non-zero, with reason) or unblocks (zero) the
	// user's sign-in; sessions are not touched (see DeleteSessions).
	SetBlocked(ctx context.Context, userID int64, at time.Time, reason string) error
	// UpgradePasswordHash replaces the password hash by newHash (the same
	// password, hashed anew) when it is still oldHash (model.ErrConflict
	// otherwise, and nothing changes). Sessions, app passwords and a
	// temporary password's expiry are left as they are.
	// model.ErrNotFound for unknown IDs.
	UpgradePasswordHash(ctx context.Context, userID int64, oldHash, newHash string) error
	// ClaimTOTPStep: see Store.ClaimTOTPStep.
	ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error)

	// ClaimFailure: see Store.ClaimFailure.
	ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error)
	// ReleaseFailure: see Store.ReleaseFailure.
	ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error
	// DeleteFailures deletes the named counters (missing ones are fine).
	DeleteFailures(ctx context.Context, keys ...string) error
	// AddFailedSignIn adds one to the user's consecutive failed sign-in
	// attempts (see Store.FailedSignIns) and returns the new count;
	// model.ErrNotFound for unknown IDs. Blocking at a limit is the
	// core's rule.
	AddFailedSignIn(ctx context.Context, userID int64) (int, error)
	// ResetFailedSignIns sets the user's consecutive failed sign-in
	// attempts back to 0 (an unknown ID is fine).
	ResetFailedSignIns(ctx context.Context, userID int64) error
	// RememberWrongSecret: see Store.RememberWrongSecret.
	RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error

	// AddTOTP inserts an authenticator and sets a.ID and a.CreatedAt
	// (nothing else: promotion is the core's rule).
	AddTOTP(ctx context.Context, a *model.TOTPAuthenticator) error
	// RenameTOTP sets the name of authenticator id of the user
	// (validated by the caller); model.ErrNotFound when the user has no
	// such authenticator.
	RenameTOTP(ctx context.Context, userID, id int64, name string) error
	// DeleteTOTP deletes authenticator id of the user; model.ErrNotFound
	// when the user has no such authenticator.
	DeleteTOTP(ctx context.Context, userID, id int64) error

	// CreateSession: see Store.CreateSession.
	CreateSession(ctx context.Context, s *model.Session) error
	// ReplaceSession: see Store.ReplaceSession.
	ReplaceSession(ctx context.Context, oldHash []byte, s *model.Session) error
	// DeleteSession deletes one session (a missing one is fine).
	DeleteSession(ctx context.Context, idHash []byte) error
	// DeleteSessions deletes the user's sessions except keep (nil: all)
	// and says how many went: the one statement that ends a user's
	// sessions.
	DeleteSessions(ctx context.Context, userID int64, keep []byte) (int64, error)
	// CountApprovalsSince counts the user's sign-in requests created at
	// or after since, as of now in the transaction (under LockUser, a
	// limit checked on it holds until commit on every node).
	CountApprovalsSince(ctx context.Context, userID int64, since time.Time) (int, error)
	// AddApproval stores a (all fields but Status, set Pending, and
	// AnsweredAt, DeviceID; CreatedAt is set, after the user's previous
	// request) and makes the user's other pending requests Cancelled: one
	// pending request per user. No limit: that is the core's rule.
	// model.ErrNotFound for unknown users.
	AddApproval(ctx context.Context, a *model.Approval) error
	// ConsumeApproval: see Store.ConsumeApproval.
	ConsumeApproval(ctx context.Context, id string, oldHash []byte, next *model.Session) error

	// AppendAudit: see Store.AppendAudit.
	AppendAudit(ctx context.Context, e *model.AuditEvent) error
	// AppendSignIn: see Store.AppendSignIn.
	AppendSignIn(ctx context.Context, e *model.SignIn) error

	// The rows of account changes (the core's rules decide which; none
	// of these checks a rule, ends a session or promotes a state).

	// TOTPAuthenticators lists the user's authenticators as of now in
	// the transaction, oldest first.
	TOTPAuthenticators(ctx context.Context, userID int64) ([]model.TOTPAuthenticator, error)
	// RenameDevice sets the name of device id of the user (validated by
	// the caller; the same name again is no error); model.ErrNotFound
	// when the user has no such device.
	RenameDevice(ctx context.Context, userID, id int64, name string) error
	// DeleteDevice deletes device id of the user (active or waiting on a
	// link); model.ErrNotFound when the user has no such device.
	DeleteDevice(ctx context.Context, userID, id int64) error
	// DeleteMethods deletes every authenticator, device, pairing link and
	// passkey of the user.
	DeleteMethods(ctx context.Context, userID int64) error
	// CountAppPasswords counts the user's app passwords as of now in the
	// transaction (under LockUser, a limit checked on it holds until
	// commit on every node).
	CountAppPasswords(ctx context.Context, userID int64) (int, error)
	// AddAppPassword inserts a and sets a.ID and a.CreatedAt (no limit:
	// that is the core's rule). model.ErrConflict when the user has an
	// app password with the same LookupTag; model.ErrNotFound for an
	// unknown user.
	AddAppPassword(ctx context.Context, a *model.AppPassword) error
	// DeleteAppPassword deletes app password id of the user;
	// model.ErrNotFound when the user has no such app password.
	DeleteAppPassword(ctx context.Context, userID, id int64) error
	// DeleteAppPasswords deletes every app password of the user and says
	// how many went.
	DeleteAppPasswords(ctx context.Context, userID int64) (int64, error)
	// SetProfile replaces the display name, email and groups (normalised
	// by the caller); model.ErrNotFound for unknown IDs.
	SetProfile(ctx context.Context, userID int64, displayName, email string, groups []string) error
	// SetPassword replaces the password hash, temporary until expires
	// (zero: the user's own, permanent); model.ErrNotFound for unknown
	// IDs.
	SetPassword(ctx context.Context, userID int64, hash string, expires time.Time) error
	// SetDefaultMethod changes the user's default sign-in method (an
	// unknown method is an error); model.ErrNotFound for unknown IDs.
	SetDefaultMethod(ctx context.Context, userID int64, m model.Method) error
	// DeleteUser deletes the user and, by cascade, their groups, methods,
	// app passwords and sessions (audit rows stay); model.ErrNotFound for
	// unknown IDs.
	DeleteUser(ctx context.Context, userID int64) error
	// AnswerApproval records device deviceID's answer (Approved, Denied,
	// Reported or WrongNumber) to request id of the user when it is
	// pending and unexpired at now, under the request's row lock, and
	// returns the request as answered. Reported may also follow the same
	// device's Denied answer (the phone offers "Report suspicious
	// activity" after Deny). model.ErrNotFound when the user has no such
	// request, model.ErrConflict when it is no longer pending or has
	// expired. The user is not touched (a report's block is the core's
	// rule).
	AnswerApproval(ctx context.Context, id string, userID, deviceID int64, status model.ApprovalStatus, now time.Time) (*model.Approval, error)
	// ConfirmPairing locks the user's pairing made by session
	// sessionHash and activates the device registered through it whose
	// code hashes to codeHash, when the pairing has not expired at now;
	// the pairing and the other devices waiting on it are deleted.
	// model.ErrNotFound when there is no such pairing or no device has
	// registered through it yet. A wrong code is model.ErrConflict with
	// its attempt written in the transaction (at maxAttempts the pairing
	// and its devices go): commit it (return nil from the callback) so
	// that it counts. The user is not touched (promotion is the core's
	// rule).
	ConfirmPairing(ctx context.Context, userID int64, sessionHash, codeHash []byte, now time.Time, maxAttempts int) (*model.Device, error)
	// CreateUser: see Store.CreateUser. A taken name is
	// model.ErrConflict, after which the transaction is unusable: return
	// it.
	CreateUser(ctx context.Context, u *model.User) error
	// ExpireApproval records that request id, still pending, has expired
	// at now, and reports whether this call did (so its expiry is logged
	// once).
	ExpireApproval(ctx context.Context, id string, now time.Time) (bool, error)
}

// WebAuthnTx are the row operations of passkeys and security keys inside
// Update; the ceremonies' rules (challenge expiry, sign counts,
// promotion) are the core's.
type WebAuthnTx interface {
	// WebAuthnUserHandle returns the user's WebAuthn user handle, storing
	// fresh (32 random bytes) as it when the user has none yet: every
	// caller, on any node, gets the one stored. model.ErrNotFound for
	// unknown users.
	WebAuthnUserHandle(ctx context.Context, userID int64, fresh []byte) ([]byte, error)
	// WebAuthnCredentials: see Store.WebAuthnCredentials (as of now in
	// the transaction).
	WebAuthnCredentials(ctx context.Context, userID int64) ([]model.WebAuthnCredential, error)
	// AddWebAuthnCredential inserts c and sets c.ID and c.CreatedAt;
	// model.ErrConflict when its credential ID is registered already (to
	// anyone; the transaction stays usable), model.ErrNotFound for
	// unknown users.
	AddWebAuthnCredential(ctx context.Context, c *model.WebAuthnCredential) error
	// UseWebAuthnCredential records an assertion of credential id of the
	// user: its new sign count, flags and last use at at.
	// model.ErrNotFound when the user has no such credential.
	UseWebAuthnCredential(ctx context.Context, userID, id int64, signCount uint32, userVerified, backupState bool, at time.Time) error
	// DeleteWebAuthnCredential deletes credential id of the user;
	// model.ErrNotFound when the user has no such credential.
	DeleteWebAuthnCredential(ctx context.Context, userID, id int64) error
	// RenameWebAuthnCredential sets the name of credential id of the user
	// (validated by the caller); model.ErrNotFound when the user has no
	// such credential.
	RenameWebAuthnCredential(ctx context.Context, userID, id int64, name string) error

	// PutWebAuthnChallenge stores c as the session's one pending ceremony
	// of its kind (replacing an earlier one), first deleting every
	// challenge, of any session, that expired before now.
	PutWebAuthnChallenge(ctx context.Context, c *model.WebAuthnChallenge, now time.Time) error
	// TakeWebAuthnChallenge deletes and returns the pending ceremony of
	// kind ceremony of session sessionHash, so it is used once, expired or
	// not (the caller judges expiry); model.ErrNotFound when there is
	// none. Of two concurrent takes, on any node, one gets it.
	TakeWebAuthnChallenge(ctx context.Context, sessionHash []byte, ceremony model.WebAuthnCeremony) (*model.WebAuthnChallenge, error)
	// UsePasskeyChallenge records the challenge of a passwordless sign-in
	// (its SHA-256, challengeHash) as used until expiresAt, first deleting
	// every record that expired before now; model.ErrConflict when it is
	// recorded already (the transaction stays usable). Of two concurrent
	// records of one challenge, on any node, one succeeds.
	UsePasskeyChallenge(ctx context.Context, challengeHash []byte, expiresAt, now time.Time) error
}
