package core

import (
	"context"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// SignIn is the browser sign-in as one state machine. Its states are the
// pages a sign-in stands on (State); each transition is one call taking
// what the person typed, the client and the pending sign-in, and returning
// the next state or a refusal with its Reason:
//
//	password ──► enrol ───────────► complete (signin_password.go, signin_enrol.go)
//	         ├─► code ────────────► complete (signin_code.go)
//	         ├─► phone ───────────► complete (signin_phone.go)
//	         └─► complete (MFA not required: password only)
//	complete ──► new password (an admin's temporary one) ──► complete (signin_newpassword.go)
//	enrol ─────► code (enrolled in another browser meanwhile: AbandonEnrolment)
//	complete ──► re-verified: code or phone (signin_reverify.go)
//	complete ──► another authenticator app added (AddAuthenticator, signin_enrol.go)
//	any ───────► signed out (signin_logout.go)
//	password ──► access pass: Security info only (signin_accesspass.go)
//	code, phone ► recovery code ► complete (signin_recovery.go; announced: recovery_notice.go)
//	password ──► complete (a discoverable passkey alone, with user
//	             verification: signin_passwordless.go)
//	password ──► passkey ─────────► complete (signin_passkey.go; code, phone: "Sign in another way")
//
// A transition runs at most two store transactions: the failure-slot
// claim (account and client address, committed before the secret is
// judged, so however many guesses arrive at once at most the limit are
// judged), then, with the secret judged outside any transaction (no
// bcrypt while one is open), one transaction applying the outcome: the
// claim's release or the wrong secret's memory, the code's time step, the
// session's new stage under a new identifier, the audit row and the
// sign-in log row. Events (cache drops on other nodes) go after it.
type SignIn struct {
	store    store.Store
	attempts *Attempts
	codes    *Codes
	hasher   *password.Hasher
	phones   *Phones
	events   *Events
	audit    *audit.Log
	signins  *SignInLog
	sessions *Sessions
	accounts *Accounts
	recovery *RecoveryCodes
	notices  *RecoveryNotices
	passkeys *Passkeys
	issuer   string
	logger   *zap.Logger
	now      func() time.Time
	// matchCode judges a code against candidate secrets (matchAny; tests
	// count its calls).
	matchCode func(candidates [][]byte, code string, now time.Time) (int64, bool)
}

// State is where a browser sign-in stands.
type State string

// States of a browser sign-in.
const (
	// StatePassword: nothing passed yet (the login form).
	StatePassword State = "password"
	// StateEnrol: the password passed and the user has no second factor:
	// enrol an authenticator app ("More information required").
	StateEnrol State = "enrol"
	// StateCode: the password passed; a code from an authenticator app.
	StateCode State = "code"
	// StatePhone: the password passed; an approval on the paired phone.
	StatePhone State = "phone"
	// StateNewPassword: signed in with an admin's temporary password,
	// which leads only to choosing one's own.
	StateNewPassword State = "new password"
	// StateComplete: signed in.
	StateComplete State = "complete"
	// StateSignedOut: the session has ended.
	StateSignedOut State = "signed out"
	// StateAccessPass: signed in with a Temporary Access Pass, to
	// Security info only, to register a new method (never the upstream
	// or the admin center: model.StageAccessPass).
	StateAccessPass State = "access pass"
	// StateRecoveryCode: the password passed; one of the user's saved
	// recovery codes instead of their second factor.
	StateRecoveryCode State = "recovery code"
	// StatePasskey: the password passed; an assertion of one of the
	// user's passkeys or security keys usable on this site.
	StatePasskey State = "passkey"
)

// Client is who sent a transition: the client's address as the server
// trusts it, its user agent, and the site as the logs name it.
type Client struct {
	IP        string
	UserAgent string
	Site      string
}

// Pending is the browser's session a transition continues: its record
// and its user as the session has them.
type Pending struct {
	Session model.Session
	User    model.User
}

// Rotation is the new identity a transition gives the browser's session
// (package session makes it and sets its cookie once the transition has
// stored it): a session's identifier changes at every step, so a token
// seen before a step is worthless after it.
type Rotation struct {
	// OldHash is the record the browser has now; nil when none.
	OldHash []byte
	// IDHash, Origin and At are the new record's identifier, origin and
	// time (its creation time when it starts a sign-in).
	IDHash []byte
	Origin string
	At     time.Time
}

// record is base under the rotation's identity: a new sign-in when base
// has no start time, else base continued.
func (r Rotation) record(base model.Session) model.Session {
	base.IDHash, base.Origin, base.LastSeenAt = r.IDHash, r.Origin, r.At
	if base.CreatedAt.IsZero() {
		base.CreatedAt = r.At
	}
	return base
}

// Progress is a transition's outcome.
type Progress struct {
	// State is where the sign-in stands now (what to show next).
	State State
	// Refused says why the step did not pass; ReasonNone when it did.
	Refused Reason
	// BlockedReason is the block's reason with ReasonBlocked (only
	// someone who knew the password learns it).
	BlockedReason string
	// User is the account (nil when the typed name is none).
	User *model.User
	// RedirectTo is where a complete sign-in goes (validated when the
	// sign-in began).
	RedirectTo string
	// Rotated: the transition stored the rotation's record; the browser
	// gets its cookie now (session.Manager.Commit).
	Rotated bool
}

func newSignIn(c *Core, st store.Store, hasher *password.Hasher, issuer string, logger *zap.Logger) *SignIn {
	return &SignIn{store: st, attempts: c.Attempts, codes: c.Codes, hasher: hasher, phones: c.Phones, events: c.Events,
		audit: c.Audit, signins: c.SignInLog, sessions: c.Sessions, accounts: c.Accounts, issuer: issuer,
		passkeys: c.Passkeys, recovery: c.RecoveryCodes, notices: c.RecoveryNotices,
		logger: logger.Named("signin"), now: time.Now, matchCode: matchAny}
}

// record is an audit row of u for a transition from c.
func (c Client) auditRow(u *model.User, event string, detail string) model.AuditEvent {
	e := model.AuditEvent{Event: event, RemoteIP: c.IP, Detail: detail}
	if u != nil {
		e.UserID, e.Username = u.ID, u.Username
	}
	return e
}

// signInRow is a browser sign-in log row of u from c.
func (c Client) signInRow(u *model.User, second, result string, why Reason) model.SignIn {
	e := model.SignIn{Site: c.Site, RemoteIP: c.IP, UserAgent: c.UserAgent, Client: model.ClientBrowser,
		FirstFactor: "password", SecondFactor: second, Result: result, Reason: why.Log()}
	if u != nil {
		e.UserID, e.Username = u.ID, u.Username
	}
	return e
}

// Second factors as the sign-in log names them.
const (
	factorCode         = "code"
	factorNotification = "notification"
	factorNotRequired  = "not required"
	factorPasskey      = "passkey"
)

// appendRows writes a transition's audit and sign-in log rows in tx
// (cleaned as the logs keep them); a zero row is skipped.
func (s *SignIn) appendRows(ctx context.Context, tx store.Tx, events []model.AuditEvent, signIn *model.SignIn) error {
	for i := range events {
		e := audit.Clean(events[i])
		if err := tx.AppendAudit(ctx, &e); err != nil {
			return err
		}
	}
	if signIn != nil {
		e := s.signins.clean(*signIn)
		if err := tx.AppendSignIn(ctx, &e); err != nil {
			return err
		}
	}
	return nil
}

// logged writes the audit rows a committed transition stored to the
// server log.
func (s *SignIn) logged(events ...model.AuditEvent) {
	for _, e := range events {
		s.audit.Logged(e)
	}
}

// New builds the core on st: its services, and the sign-in on them.
func New(st store.Store, cfg Config) (*Core, error) {
	c, err := newServices(st, cfg)
	if err != nil {
		return nil, err
	}
	c.SignInLog.audit = c.Audit
	logger := cfg.Logger
	if logger == nil {
		logger = zap.NewNop()
	}
	c.SignIn = newSignIn(c, st, cfg.Hasher, cfg.Issuer, logger)
	return c, nil
}
