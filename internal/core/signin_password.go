package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
)

// PasswordInput is the login form: the first transition.
type PasswordInput struct {
	Username, Password string
	// RedirectTo is where the sign-in goes once complete (validated by
	// the page).
	RedirectTo string
	// Site is the site's policy: whether a second factor is due.
	Site policy.Site
	// Issuer names the organisation in authenticator apps (an
	// enrolment's secret); "": the core's.
	Issuer string
	// Passkey is where the sign-in runs, for the passkey step (zero:
	// passkeys are not offered).
	Passkey  PasskeySite
	Client   Client
	Rotation Rotation
}

// Password judges the password typed with a username and moves the
// sign-in on: to the second step (code, phone), to enrolment when the
// user has no second factor, or straight to complete when the site does
// not require one of this user. Unknown user, wrong password and locked
// account are refused alike (and cost one bcrypt alike); a blocked
// account is told so only when the password was right. password.ErrBusy:
// shed under load, nothing judged.
func (s *SignIn) Password(ctx context.Context, in PasswordInput) (Progress, error) {
	a := s.attempts
	t, err := a.typedAccount(ctx, in.Username)
	if err != nil {
		return Progress{}, err
	}
	user, subject, who := t.user, t.subject, t.who
	at, err := a.claimAttempt(ctx, bruteforce.Account(subject.Counter), user, in.Client.IP,
		Guess{Secret: in.Password, As: GuessAccountPassword})
	if err != nil {
		return Progress{}, err
	}
	passed, why := false, at.refused
	if !at.repeat {
		judged := user
		if !at.judged() {
			judged = nil // refused by the limits: the real hash is not consulted
		}
		ok, reason, err := s.judgePassword(ctx, judged, in.Password)
		if err != nil {
			return Progress{}, a.abandon(ctx, at, err)
		}
		if at.judged() {
			passed, why = ok, reason
		}
	}
	if !passed {
		return s.passwordRefused(ctx, at, who, why, in)
	}
	if accountBar(user, true) != ReasonNone {
		return s.passwordBlocked(ctx, at, user, in)
	}
	return s.passwordPassed(ctx, at, user, in)
}

// accountBar is why an account whose proof passed may still not sign in
// (ReasonNone: nothing bars it): the one account check every way in
// applies once its proof passed (the password here, a passkey alone in
// Passwordless). A blocked account is refused, and, the proof being
// right, may be told so. An admin's temporary password is typed, and
// replaced, before anything else signs the user in: a proof without the
// password (typed says whether it was) is refused while one is set (the
// password step judges its expiry: JudgeAccountPassword). Locked
// accounts never get here: their claim is refused before any proof is
// judged, and answered as a wrong proof; removed ones are no account.
func accountBar(u *model.User, typed bool) Reason {
	switch {
	case !u.BlockedAt.IsZero():
		return ReasonBlocked
	case u.TemporaryPassword() && !typed:
		return ReasonTemporaryPassword
	}
	return ReasonNone
}

// judgePassword judges pw for u (nil: no such account) at the login form
// (see JudgeAccountPassword).
func (s *SignIn) judgePassword(ctx context.Context, u *model.User, pw string) (bool, Reason, error) {
	return JudgeAccountPassword(ctx, s.hasher, u, pw, false, s.now())
}

// PasswordChecker is the bounded bcrypt comparison (*password.Hasher).
type PasswordChecker interface {
	VerifyBounded(ctx context.Context, hash, pw string) (bool, error)
}

// JudgeAccountPassword is the one judgement of an account password, at
// the login form and in basic auth (basicAuth) alike: one bounded bcrypt
// whatever the case (a dummy one for no account, u nil), refusing an
// admin's temporary password once it has expired, and always in basic
// auth (it only leads to choosing one's own). Blocked accounts and the
// brute-force limits are the caller's attempt's (core.Attempts).
func JudgeAccountPassword(ctx context.Context, h PasswordChecker, u *model.User, pw string, basicAuth bool, now time.Time) (bool, Reason, error) {
	hash := ""
	if u != nil && !(basicAuth && u.TemporaryPassword()) {
		hash = u.PasswordHash
	}
	matched, err := h.VerifyBounded(ctx, hash, pw)
	switch {
	case err != nil:
		return false, ReasonNone, err
	case u == nil:
		return false, ReasonUnknownUser, nil
	case basicAuth && u.TemporaryPassword():
		return false, ReasonTemporaryPasswordInBasicAuth, nil
	case !matched:
		return false, ReasonWrongPassword, nil
	case TemporaryPasswordExpired(u, now):
		return false, ReasonTemporaryPasswordExpired, nil
	}
	return true, ReasonNone, nil
}

// passwordRefused applies a refused password: its slots stay counted and
// the secret is remembered; audited and logged.
func (s *SignIn) passwordRefused(ctx context.Context, at *attempt, who *model.User, why Reason, in PasswordInput) (Progress, error) {
	ev := in.Client.auditRow(who, audit.SignInPasswordFail, why.Audit())
	row := in.Client.signInRow(who, "", model.SignInFailure, why)
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := at.settle(ctx, tx, false); err != nil {
			return err
		}
		return s.appendRows(ctx, tx, []model.AuditEvent{ev}, &row)
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: refusing a password: %w", err)
	}
	s.logged(ev)
	at.logged(ctx)
	var u *model.User
	if who.ID != 0 {
		u = who
	}
	return Progress{State: StatePassword, Refused: why, User: u}, nil
}

// passwordBlocked applies the right password of a blocked account: its
// slots go back (it was right), the sign-in is refused.
func (s *SignIn) passwordBlocked(ctx context.Context, at *attempt, u *model.User, in PasswordInput) (Progress, error) {
	ev := in.Client.auditRow(u, audit.SignInPasswordFail, ReasonBlocked.Audit())
	row := in.Client.signInRow(u, "", model.SignInFailure, ReasonBlocked)
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := at.settle(ctx, tx, true); err != nil {
			return err
		}
		return s.appendRows(ctx, tx, []model.AuditEvent{ev}, &row)
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: refusing a blocked account: %w", err)
	}
	s.logged(ev)
	return Progress{State: StatePassword, Refused: ReasonBlocked, BlockedReason: u.BlockedReason, User: u}, nil
}

// passwordPassed moves a right password on (see nextAfterPassword) in one
// transaction: the slots go back, an imported or weaker hash is replaced
// (hashed before it), the browser's session is replaced by a new one at
// the next state, audited; a password-only sign-in is also logged.
func (s *SignIn) passwordPassed(ctx context.Context, at *attempt, u *model.User, in PasswordInput) (Progress, error) {
	next, pending, err := s.nextAfterPassword(ctx, u, in.Site, in.Passkey, in.Issuer)
	if err != nil {
		return Progress{}, err
	}
	rehash := s.rehash(ctx, u, in.Password)
	rec := in.Rotation.record(model.Session{UserID: u.ID, Stage: model.StagePassword, RedirectTo: in.RedirectTo,
		RemoteIP: in.Client.IP, UserAgent: safetext.Clean(in.Client.UserAgent, 256), PendingTOTP: pending})
	events := []model.AuditEvent{in.Client.auditRow(u, audit.SignInPasswordOK, "")}
	var row *model.SignIn
	if next == StateComplete {
		rec.Stage = model.StageComplete
		events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInComplete, methodPasswordOnly)}
		r := in.Client.signInRow(u, factorNotRequired, model.SignInSuccess, ReasonNone)
		row = &r
	}
	var upgraded bool
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		upgraded = false
		if err := at.settle(ctx, tx, true); err != nil {
			return err
		}
		evs := events
		if rehash != "" {
			err := tx.UpgradePasswordHash(ctx, u.ID, u.PasswordHash, rehash)
			switch {
			case errors.Is(err, model.ErrConflict): // changed meanwhile: left alone
			case err != nil:
				return err
			default:
				upgraded = true
				evs = append([]model.AuditEvent{in.Client.auditRow(u, audit.PasswordHashUpgraded,
					fmt.Sprintf("%s hash replaced by bcrypt (cost %d) at sign-in", describeHash(u.PasswordHash), s.hasher.Cost()))}, evs...)
			}
		}
		if err := startOrReplace(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		return s.appendRows(ctx, tx, evs, row)
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: password step of %q: %w", u.Username, err)
	}
	if upgraded {
		u.PasswordHash = rehash
		s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	}
	s.logged(events...)
	return s.progressTo(next, u, rec.RedirectTo), nil
}

// methodPasswordOnly is the audit's word for a sign-in that needed no
// second factor.
const methodPasswordOnly = "password only (MFA disabled)"

// nextAfterPassword chooses the step after the password: complete when
// the site requires no second factor of u; else u's own default method
// when u has it here (passkey, phone, code), else the strongest u has
// (firstMethod); enrolment of an authenticator, with its new secret
// sealed, when u has none usable here.
func (s *SignIn) nextAfterPassword(ctx context.Context, u *model.User, site policy.Site, where PasskeySite, issuer string) (State, []byte, error) {
	if !site.BrowserNeedsSecondFactor(u) {
		return StateComplete, nil, nil
	}
	secrets, err := s.codes.store.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return "", nil, fmt.Errorf("core: authenticators: %w", err)
	}
	phone, err := s.hasPhone(ctx, u.ID)
	if err != nil {
		return "", nil, err
	}
	passkey, err := s.passkeys.Usable(ctx, u, where)
	if err != nil {
		return "", nil, fmt.Errorf("core: passkeys: %w", err)
	}
	if next := firstMethod(u.DefaultMethod, passkey, phone, len(secrets) > 0); next != "" {
		return next, nil, nil
	}
	if issuer == "" {
		issuer = s.issuer
	}
	e, err := totp.NewEnrolment(issuer, u.Username)
	if err != nil {
		return "", nil, fmt.Errorf("core: new secret: %w", err)
	}
	sealed, err := s.codes.Seal(u.ID, e.Secret)
	if err != nil {
		return "", nil, fmt.Errorf("core: sealing a new secret: %w", err)
	}
	return StateEnrol, sealed, nil
}

// firstMethod is the second step a sign-in starts with: the user's own
// default when they have it here, else the system-preferred order, the
// strongest first: passkey (phishing-resistant), phone approval, code.
// "" when the user has none of them.
func firstMethod(chosen model.Method, passkey, phone, code bool) State {
	switch {
	case chosen == model.MethodPasskey && passkey:
		return StatePasskey
	case chosen == model.MethodPush && phone:
		return StatePhone
	case chosen == model.MethodCode && code:
		return StateCode
	case passkey:
		return StatePasskey
	case phone:
		return StatePhone
	case code:
		return StateCode
	}
	return ""
}

// hasPhone reports whether the user has an active paired phone.
func (s *SignIn) hasPhone(ctx context.Context, userID int64) (bool, error) {
	ds, err := s.phones.Devices(ctx, userID)
	if err != nil {
		return false, err
	}
	return len(activeDevices(ds)) > 0, nil
}

// rehash is a bcrypt hash of pw at the server's cost when u's hash is of
// another scheme or cost (see Accounts.UpgradePasswordHash), "" when none
// is needed or it could not be made now (shed under load: the next
// sign-in tries again; the password was right, so the sign-in goes on).
func (s *SignIn) rehash(ctx context.Context, u *model.User, pw string) string {
	if !s.hasher.NeedsRehash(u.PasswordHash) {
		return ""
	}
	hash, err := s.hasher.HashBounded(ctx, pw)
	if err != nil {
		s.logger.Warn("upgrading an imported password hash", zap.String("user", u.Username), zap.Error(err))
		return ""
	}
	return hash
}

// startOrReplace stores rec in place of the record oldHash (nil: none),
// or as a new record when that one is gone: a sign-in that starts over
// needs no old session.
func startOrReplace(ctx context.Context, tx store.Tx, oldHash []byte, rec *model.Session) error {
	if oldHash != nil {
		err := tx.ReplaceSession(ctx, oldHash, rec)
		if !errors.Is(err, model.ErrNotFound) {
			return err
		}
	}
	return tx.CreateSession(ctx, rec)
}

// progressTo is the progress of a sign-in of u now at next: a complete
// one with an admin's temporary password goes on to choose one's own.
func (s *SignIn) progressTo(next State, u *model.User, rd string) Progress {
	if next == StateComplete && u.TemporaryPassword() {
		next = StateNewPassword
	}
	return Progress{State: next, User: u, RedirectTo: rd, Rotated: true}
}
