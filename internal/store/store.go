// Package store defines the persistence contract of mfagate. Every piece of
// state a sign-in needs (users, factors, server-side sessions, failure
// counters, generated keys, audit events) lives behind this interface so that
// any node sharing the same database can serve any step of any sign-in.
//
// Implementations: store/sqlite (embedded default) and store/postgres (several
// nodes sharing one database). The conformance suite in
// store/storetest is run against every implementation.
package store

import (
	"context"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

// Store is the persistence contract. All methods are safe for concurrent use
// and honour ctx cancellation. Times are stored with at least millisecond
// precision and returned in UTC.
type Store interface {
	// Update runs the core's changes in one write transaction (see
	// Updater).
	Updater
	// Passkeys and security keys: see WebAuthnReader.
	WebAuthnReader
	// Temporary Access Passes: see AccessPassReader.
	AccessPassReader
	// Recovery codes and notices: see RecoveryReader.
	RecoveryReader

	// CreateUser inserts u (Username lower-cased by the caller), sets u.ID,
	// CreatedAt and UpdatedAt. model.ErrConflict when the username exists.
	CreateUser(ctx context.Context, u *model.User) error
	// CreateUsers inserts every user of us (as CreateUser, with BlockedAt
	// and BlockedReason) in one transaction, or none: model.ErrConflict,
	// naming the username, when one exists or us names it twice. Sets each
	// ID, CreatedAt and UpdatedAt.
	CreateUsers(ctx context.Context, us []*model.User) error
	// CreateFirstUser inserts u only when the users table is empty, atomically
	// (several nodes may start at once). Reports whether it was inserted.
	CreateFirstUser(ctx context.Context, u *model.User) (bool, error)
	// UserByName finds a user by lower-cased username; model.ErrNotFound otherwise.
	UserByName(ctx context.Context, username string) (*model.User, error)
	// UserByID finds a user by ID; model.ErrNotFound otherwise.
	UserByID(ctx context.Context, id int64) (*model.User, error)
	// ListUsers returns all users ordered by username.
	ListUsers(ctx context.Context) ([]model.User, error)
	// SetMFAState changes the MFA state; model.ErrNotFound for unknown IDs.
	SetMFAState(ctx context.Context, userID int64, state model.MFAState) error

	// AppPasswords lists a user's app passwords, oldest first.
	AppPasswords(ctx context.Context, userID int64) ([]model.AppPassword, error)
	// AppPasswordByTag finds a user's app password by lookup tag;
	// model.ErrNotFound otherwise.
	AppPasswordByTag(ctx context.Context, userID int64, tag []byte) (*model.AppPassword, error)
	// TouchAppPassword records a use (time and client IP); model.ErrNotFound if
	// it was deleted.
	TouchAppPassword(ctx context.Context, id int64, at time.Time, ip string) error

	// TOTPAuthenticators lists a user's authenticators, oldest first.
	TOTPAuthenticators(ctx context.Context, userID int64) ([]model.TOTPAuthenticator, error)
	// ClaimTOTPStep atomically records that the user has used time step
	// `step`. It returns false (and changes nothing) when a step >= step was
	// already claimed: each step is accepted once per user (RFC 6238 §5.2).
	ClaimTOTPStep(ctx context.Context, userID int64, step int64) (bool, error)

	// CreateSession inserts s. model.ErrConflict if IDHash exists.
	CreateSession(ctx context.Context, s *model.Session) error
	// SessionByHash returns the session; model.ErrNotFound otherwise.
	SessionByHash(ctx context.Context, idHash []byte) (*model.Session, error)
	// ReplaceSession atomically deletes the session oldHash and inserts s
	// (identifier rotation), and moves the pairing link made by oldHash, if
	// any, to s, so a link started before a re-verification can still be
	// confirmed. model.ErrNotFound when oldHash no longer exists, in which
	// case nothing changes.
	ReplaceSession(ctx context.Context, oldHash []byte, s *model.Session) error
	// TouchSession sets LastSeenAt; model.ErrNotFound if the session is gone.
	TouchSession(ctx context.Context, idHash []byte, lastSeen time.Time) error
	// DeleteStaleSessions removes sessions created before createdBefore or
	// last seen before seenBefore, and returns how many.
	DeleteStaleSessions(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error)

	// ClaimFailure reserves one failure slot in counter key at time now,
	// before a guess is checked, so that concurrent guesses can never check
	// more than limit per window (a right guess gives its slot back with
	// ReleaseFailure). While LockedUntil is after now it claims nothing and
	// returns false. Otherwise a window that has ended (now >=
	// WindowStart+window) or a lock that has expired restarts the counter at
	// now; Count grows by one, and when it reaches limit (limit > 0)
	// LockedUntil becomes now+lockout. Returns whether the slot was claimed
	// and the counter after the call. Atomic across nodes.
	ClaimFailure(ctx context.Context, key string, now time.Time, window time.Duration, limit int, lockout time.Duration) (bool, model.Failures, error)
	// ReleaseFailure gives back one slot claimed in the window that started
	// at window (the WindowStart its ClaimFailure returned) because the
	// guess was right or was never checked: Count drops by one (a counter
	// at zero is deleted) and, once it is below limit, a lock is lifted.
	// Nothing changes when the counter is gone or has restarted since (the
	// slot belonged to an old window). Comparing window starts rather than
	// clock readings keeps this exact when concurrent claims read the clock
	// in another order than they reach the store.
	ReleaseFailure(ctx context.Context, key string, window time.Time, limit int) error
	// FailuresFor returns the counter for key (zero value when none).
	FailuresFor(ctx context.Context, key string) (model.Failures, error)
	// FailedSignIns returns the user's consecutive failed sign-in
	// attempts: every failure since the account's last successful sign-in
	// (a success row of AppendSignIn, or ResetFailedSignIns) or unblock,
	// however many windows and locks ago; model.ErrNotFound for unknown
	// IDs.
	FailedSignIns(ctx context.Context, userID int64) (int, error)
	// WrongSecretSeen reports whether digest (a keyed hash of a secret
	// judged wrong) is among those remembered for counter key at or after
	// since.
	WrongSecretSeen(ctx context.Context, key string, digest []byte, since time.Time) (bool, error)
	// RememberWrongSecret remembers digest for counter key at at (again:
	// at replaces the earlier time), then keeps only the keep most recent
	// digests of key and forgets every digest, of any key, remembered
	// before before. Only keyed hashes are stored, never a secret.
	RememberWrongSecret(ctx context.Context, key string, digest []byte, at time.Time, keep int, before time.Time) error

	// Secret returns the value stored under name, creating it with generate
	// when absent. Concurrent callers on any node all get the same value.
	Secret(ctx context.Context, name string, generate func() ([]byte, error)) ([]byte, error)

	// AppendAudit stores an event and sets e.ID (and e.At when zero).
	AppendAudit(ctx context.Context, e *model.AuditEvent) error
	// AuditEvents returns up to limit most recent events, newest first,
	// optionally only those of one user (userID 0 = all).
	AuditEvents(ctx context.Context, userID int64, limit int) ([]model.AuditEvent, error)

	// CreatePairing stores p (TokenHash, UserID, SessionHash, ExpiresAt;
	// CreatedAt is set), voiding, in the same transaction, the user's
	// earlier pairings and the inactive devices registered through them:
	// a new link voids the old. model.ErrNotFound for unknown users.
	CreatePairing(ctx context.Context, p *model.Pairing) error
	// PairingBySession returns the user's pairing made by session
	// sessionHash (with Waiting counted); model.ErrNotFound when there is
	// none.
	PairingBySession(ctx context.Context, userID int64, sessionHash []byte) (*model.Pairing, error)
	// SetPairingManifest records on the pairing tokenHash, unexpired at
	// now, the hash of its install manifest's handle and the token sealed
	// for that manifest (replacing earlier ones); model.ErrNotFound when
	// there is no such pairing.
	SetPairingManifest(ctx context.Context, tokenHash, manifestHash, sealedToken []byte, now time.Time) error
	// PairingByManifest returns the pairing whose install manifest's
	// handle hashes to manifestHash (with ManifestToken); model.ErrNotFound
	// when there is none. Expiry is the caller's to check.
	PairingByManifest(ctx context.Context, manifestHash []byte) (*model.Pairing, error)
	// RegisterDevice stores d, inactive, through the pairing tokenHash with
	// codeHash (the keyed hash of the confirmation code it shows), in one
	// transaction, when the pairing exists, has not expired at now and has
	// fewer than maxWaiting devices waiting (model.ErrNotFound otherwise),
	// and the user has fewer than limit active devices (model.ErrLimit).
	// model.ErrConflict when a device waiting on the link has the same
	// codeHash (make another code). Sets d.ID, d.UserID and d.CreatedAt.
	RegisterDevice(ctx context.Context, tokenHash []byte, d *model.Device, codeHash []byte, now time.Time, limit, maxWaiting int) error

	// Devices lists a user's devices (active or not), oldest first.
	Devices(ctx context.Context, userID int64) ([]model.Device, error)
	// DeviceByID returns a device; model.ErrNotFound otherwise.
	DeviceByID(ctx context.Context, id int64) (*model.Device, error)
	// SetDevicePush replaces a device's sealed push subscription (nil:
	// none) and clears PushDead; model.ErrNotFound for unknown devices.
	SetDevicePush(ctx context.Context, id int64, sealed []byte) error
	// MarkPushDead records that the device's subscription is gone.
	MarkPushDead(ctx context.Context, id int64) error
	// TouchDevice records a use; model.ErrNotFound for unknown devices.
	TouchDevice(ctx context.Context, id int64, at time.Time) error

	// UseNonce records that a device's signed call used a nonce (its
	// hash), until expires, first dropping the device's records that have
	// expired at now: model.ErrConflict when the nonce was used already (a
	// replay), model.ErrLimit when the device holds max unexpired records,
	// model.ErrNotFound for unknown devices. Atomic across nodes: of two
	// uses of one nonce, one fails.
	UseNonce(ctx context.Context, deviceID int64, nonceHash []byte, now, expires time.Time, max int) error

	// ApprovalByID returns a request; model.ErrNotFound otherwise.
	ApprovalByID(ctx context.Context, id string) (*model.Approval, error)
	// ApprovalForSession returns the newest request made for session
	// sessionHash; model.ErrNotFound when there is none.
	ApprovalForSession(ctx context.Context, sessionHash []byte) (*model.Approval, error)
	// PendingApproval returns the user's pending request unexpired at now;
	// model.ErrNotFound when there is none.
	PendingApproval(ctx context.Context, userID int64, now time.Time) (*model.Approval, error)
	// ConsumeApproval completes the sign-in request id approved for
	// session oldHash: in one transaction the request becomes Consumed and
	// session oldHash is replaced by next (see ReplaceSession).
	// model.ErrConflict when the request is not Approved or belongs to
	// another session; model.ErrNotFound when it or the session is gone.
	ConsumeApproval(ctx context.Context, id string, oldHash []byte, next *model.Session) error
	// DeleteStaleApprovals removes requests created before `before` and
	// expired nonces and pairings, and returns how many requests went.
	DeleteStaleApprovals(ctx context.Context, before, now time.Time) (int64, error)

	// AppendSignIn stores a sign-in log row and sets e.ID (and e.At when
	// zero). A success row, in the same transaction, becomes its user's
	// last sign-in and sets their consecutive failed sign-ins back to 0.
	AppendSignIn(ctx context.Context, e *model.SignIn) error
	// SignIns returns the sign-in log rows f selects, newest first, at
	// most f.Limit (all when <= 0).
	SignIns(ctx context.Context, f model.SignInFilter) ([]model.SignIn, error)
	// DeleteSignInsBefore deletes at most batch rows older than before,
	// oldest first, and says how many.
	DeleteSignInsBefore(ctx context.Context, before time.Time, batch int) (int64, error)

	// SearchUsers returns the page of users q selects, in q's order (ties
	// by ID), with their method counts, last successful sign-in and
	// locks (the account's and basic auth's), and how many users match
	// in all. Only the page's rows
	// are read into memory.
	SearchUsers(ctx context.Context, q model.UserQuery) (model.UserPage, error)

	// Close releases the database.
	Close() error
}

// WebAuthnReader reads users' passkeys and security keys (their changes
// go through Update: see WebAuthnTx).
type WebAuthnReader interface {
	// WebAuthnCredentials lists a user's passkeys and security keys,
	// oldest first.
	WebAuthnCredentials(ctx context.Context, userID int64) ([]model.WebAuthnCredential, error)
	// WebAuthnUserByHandle returns the ID of the user whose WebAuthn user
	// handle is handle (a discoverable credential names its user so);
	// model.ErrNotFound when no user has it.
	WebAuthnUserByHandle(ctx context.Context, handle []byte) (int64, error)
}
