package core

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
)

// ErrPasswordlessOff: the site requires the password too (Caddyfile
// `passkeys_passwordless off`): no passwordless sign-in begins or
// completes there.
var ErrPasswordlessOff = errors.New("core: passwordless sign-in with a passkey is off on this site")

// PasswordlessInput is a passkey's answer to the login page's
// passwordless sign-in: the transition from the password state straight
// to complete.
type PasswordlessInput struct {
	// Token is the challenge cookie's value ("": the browser sent none).
	Token string
	// Response is the authenticator's answer (the PublicKeyCredential as
	// JSON).
	Response []byte
	// RedirectTo is where the sign-in goes once complete (validated by
	// the page).
	RedirectTo string
	// Site is the site's policy (PasswordlessPasskeys); Where is the
	// request's scheme and host, whose origin the answer must name.
	Site     policy.Site
	Where    PasskeySite
	Client   Client
	Rotation Rotation
}

// PasswordlessOptions begins a passwordless sign-in on where, storing
// nothing: it returns the options for navigator.credentials.get (JSON: a
// fresh random challenge, the RP ID, no allowCredentials, so the browser
// offers the discoverable passkeys it holds for the RP ID, and user
// verification required) and the token the browser's challenge cookie
// carries for PasskeyChallengeLifetime (see passkey_challenge.go).
// ErrPasswordlessOff, ErrPasskeyNotOffered.
func (s *SignIn) PasswordlessOptions(site policy.Site, where PasskeySite) (options []byte, token string, err error) {
	if !site.PasswordlessPasskeys() {
		return nil, "", ErrPasswordlessOff
	}
	p := s.passkeys
	wa, origin, err := p.relyingParty(where)
	if err != nil {
		return nil, "", err
	}
	c := passwordlessChallenge{challenge: make([]byte, challengeBytes), expires: p.now().Add(PasskeyChallengeLifetime)}
	if _, err := rand.Read(c.challenge); err != nil {
		return nil, "", fmt.Errorf("core: passkey challenge: %w", err)
	}
	assertion, _, err := wa.BeginDiscoverableLogin(webauthn.WithChallenge(c.challenge),
		webauthn.WithUserVerification(protocol.VerificationRequired), webauthn.WithLoginOrigin(origin))
	if err != nil {
		return nil, "", fmt.Errorf("core: begin passwordless sign-in: %w", err)
	}
	options, err = json.Marshal(assertion)
	if err != nil {
		return nil, "", fmt.Errorf("core: begin passwordless sign-in: %w", err)
	}
	return options, p.sealChallenge(c, wa.Config.RPID, origin), nil
}

// passwordlessVerdict is a passwordless answer judged outside any
// transaction: why it failed (ReasonNone: it verified) and what the apply
// needs.
type passwordlessVerdict struct {
	why    Reason
	detail string // the audit's words beyond the reason
	// challenge is the token's challenge, once its MAC and expiry held:
	// recorded as used whatever the outcome.
	challenge *passwordlessChallenge
	// stored is the credential the answer verified against; signCount,
	// userVerified and backupState its new values.
	stored                    *model.WebAuthnCredential
	signCount                 uint32
	userVerified, backupState bool
}

// Passwordless signs a user in with a discoverable passkey alone, where
// the site allows it (ErrPasswordlessOff, ErrPasskeyNotOffered
// otherwise): the passkey is something the user has, and its required
// user verification (a PIN or biometric) something they know or are.
//
// Like every transition it claims first: the client address's failure
// slot and, when the answer's user handle names a user, that account's
// (one transaction, before anything is judged). The answer is then judged
// outside any transaction: the challenge cookie's MAC and expiry, the
// exact origin, not cross-origin, the RP ID, the signature, the user
// verification flag, the sign count (a regression is refused and
// audited). One transaction then applies the outcome: the challenge is
// recorded as used (a replay is refused), the user is locked and passes
// the account checks of the password step (accountBar), the credential's
// sign count is checked again and recorded, the session rotates to
// complete with its second factor done, the slots go back or stay, and
// the audit and sign-in log rows are written.
//
// Refusals answer alike (State password, Refused set): the page tells
// them apart only for a blocked account or a temporary password, which
// it learns only when the passkey verified, as the password step tells a
// blocked account only after the right password.
func (s *SignIn) Passwordless(ctx context.Context, in PasswordlessInput) (Progress, error) {
	if !in.Site.PasswordlessPasskeys() {
		return Progress{}, ErrPasswordlessOff
	}
	wa, origin, err := s.passkeys.relyingParty(in.Where)
	if err != nil {
		return Progress{}, err
	}
	parsed, parseErr := protocol.ParseCredentialRequestResponseBytes(in.Response)
	u, err := s.passkeyOwner(ctx, parsed, parseErr)
	if err != nil {
		return Progress{}, err
	}
	at, err := s.attempts.claimProof(ctx, u, in.Client.IP)
	if err != nil {
		return Progress{}, err
	}
	v := passwordlessVerdict{why: at.refused}
	if at.judged() {
		if v, err = s.judgePasswordless(ctx, wa, origin, u, in.Token, parsed, parseErr); err != nil {
			return Progress{}, s.attempts.abandon(ctx, at, err)
		}
	}
	return s.applyPasswordless(ctx, at, v, u, in)
}

// passkeyOwner is the user the answer's user handle names (nil: it names
// none, or the answer does not parse). It only reads: it decides which
// failure slots the attempt claims, nothing more.
func (s *SignIn) passkeyOwner(ctx context.Context, parsed *protocol.ParsedCredentialAssertionData, parseErr error) (*model.User, error) {
	if parseErr != nil || len(parsed.Response.UserHandle) == 0 {
		return nil, nil
	}
	id, err := s.store.WebAuthnUserByHandle(ctx, parsed.Response.UserHandle)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: passkey's user: %w", err)
	}
	u, err := s.store.UserByID(ctx, id)
	if errors.Is(err, model.ErrNotFound) { // removed meanwhile
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: passkey's user: %w", err)
	}
	return u, nil
}

// judgePasswordless judges an answer of u (nil: its user handle names
// no one) to the challenge in token, outside any transaction (see
// Passwordless). The error is the store's: nothing was judged.
func (s *SignIn) judgePasswordless(ctx context.Context, wa *webauthn.WebAuthn, origin string, u *model.User, token string, parsed *protocol.ParsedCredentialAssertionData, parseErr error) (passwordlessVerdict, error) {
	p := s.passkeys
	rpID := wa.Config.RPID
	c, err := p.openChallenge(token, rpID, origin, p.now())
	if err != nil {
		return passwordlessVerdict{why: ReasonPasskeyChallenge, detail: err.Error()}, nil
	}
	v := passwordlessVerdict{why: ReasonPasskeyRefused, challenge: &c}
	switch {
	case parseErr != nil:
		v.detail = refusalDetail(parseErr)
		return v, nil
	case u == nil:
		v.detail = "its user handle names no user"
		return v, nil
	}
	if err := checkClientData(parsed.Response.CollectedClientData, origin); err != nil {
		v.detail = err.Error()
		return v, nil
	}
	creds, err := s.store.WebAuthnCredentials(ctx, u.ID)
	if err != nil {
		return passwordlessVerdict{}, fmt.Errorf("core: passkeys of %q: %w", u.Username, err)
	}
	user := newPasskeyUser(u, parsed.Response.UserHandle, creds, rpID)
	session := webauthn.SessionData{Challenge: protocol.URLEncodedBase64(c.challenge).String(), RelyingPartyID: rpID,
		UserVerification: protocol.VerificationRequired}
	cred, err := wa.ValidateDiscoverableLogin(func(_, handle []byte) (webauthn.User, error) {
		if !bytes.Equal(handle, user.handle) {
			return nil, errors.New("another user's handle")
		}
		return user, nil
	}, session, parsed)
	if err != nil {
		v.detail = refusalDetail(err)
		return v, nil
	}
	// The library refuses an answer without user verification when it is
	// required; checked here too, as the rule this step stands on.
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() {
		v.detail = "no user verification"
		return v, nil
	}
	v.stored = user.record(cred.ID)
	if v.stored == nil { // the library verified against one of user.creds
		return passwordlessVerdict{}, fmt.Errorf("core: credential %x verified but not stored", cred.ID)
	}
	v.signCount, v.userVerified, v.backupState = parsed.Response.AuthenticatorData.Counter, cred.Flags.UserVerified,
		cred.Flags.BackupState
	if cred.Authenticator.CloneWarning {
		v.why, v.detail = ReasonPasskeyCloned, clonedDetail(v.stored, v.signCount)
		return v, nil
	}
	v.why = ReasonNone
	return v, nil
}

// clonedDetail is the audit's words for a sign count that went back.
func clonedDetail(c *model.WebAuthnCredential, got uint32) string {
	return fmt.Sprintf("%d: %s: sign count %d after %d", c.ID, c.Name, got, c.SignCount)
}

// signCountWentBack is the clone rule (as go-webauthn's UpdateCounter):
// a count not above the stored one, unless the authenticator keeps none
// (both 0).
func signCountWentBack(stored, got uint32) bool {
	return got <= stored && (got != 0 || stored != 0)
}

// Sign-in log and audit words of a passwordless sign-in: the passkey is
// the first factor and stands in for the second, as an app password does.
// (factorPasskey is the second factors' word, in signin.go.)
const (
	factorPasskeyStandsIn   = "not required: " + factorPasskey
	methodPasskeyNoPassword = "passkey without password"
)

// applyPasswordless is the transition's one apply transaction (see
// Passwordless).
func (s *SignIn) applyPasswordless(ctx context.Context, at *attempt, judged passwordlessVerdict, u *model.User, in PasswordlessInput) (Progress, error) {
	now := s.passkeys.now()
	rec := in.Rotation.record(model.Session{Stage: model.StageComplete, RedirectTo: in.RedirectTo,
		RemoteIP: in.Client.IP, UserAgent: safetext.Clean(in.Client.UserAgent, 256)})
	rec.MFAAt = in.Rotation.At
	var v passwordlessVerdict
	var locked *model.User
	var events []model.AuditEvent
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		v, locked, events = judged, nil, nil
		var err error
		if u != nil {
			locked, err = tx.LockUser(ctx, u.ID)
			switch {
			case errors.Is(err, model.ErrNotFound):
				if v.why == ReasonNone {
					v.why, v.detail = ReasonPasskeyRefused, "user removed meanwhile"
				}
			case err != nil:
				return err
			}
		}
		if v.challenge != nil {
			err := tx.UsePasskeyChallenge(ctx, v.challenge.hash(), v.challenge.expires, now)
			switch {
			case errors.Is(err, model.ErrConflict):
				if v.why == ReasonNone || v.why == ReasonPasskeyRefused || v.why == ReasonPasskeyCloned {
					v.why, v.detail = ReasonPasskeyReplayed, ""
				}
			case err != nil:
				return err
			}
		}
		if v.why == ReasonNone {
			v.why = accountBar(locked, false)
		}
		if v.why == ReasonNone {
			if err := recheckCredential(ctx, tx, locked.ID, &v); err != nil {
				return err
			}
		}
		// A proof that verified gives its slots back, even when the
		// account then bars it (as the password step does for a blocked
		// account); any other failure keeps them.
		proven := v.why == ReasonNone || v.why == ReasonBlocked || v.why == ReasonTemporaryPassword
		if err := at.settle(ctx, tx, proven); err != nil {
			return err
		}
		if v.why != ReasonNone {
			events, err = s.passwordlessRefused(ctx, tx, in.Client, orUser(locked, u), v)
			return err
		}
		if err := tx.UseWebAuthnCredential(ctx, locked.ID, v.stored.ID, v.signCount, v.userVerified, v.backupState, now); err != nil {
			return err
		}
		rec.UserID = locked.ID
		if err := startOrReplace(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		events = []model.AuditEvent{
			in.Client.auditRow(locked, audit.SignInPasskeyOK, "passwordless: "+strconv.FormatInt(v.stored.ID, 10)+": "+v.stored.Name),
			in.Client.auditRow(locked, audit.SignInComplete, methodPasskeyNoPassword),
		}
		row := in.Client.signInRow(locked, factorPasskeyStandsIn, model.SignInSuccess, ReasonNone)
		row.FirstFactor = factorPasskey
		return s.appendRows(ctx, tx, events, &row)
	})
	if err != nil {
		return Progress{}, fmt.Errorf("core: passwordless sign-in: %w", err)
	}
	s.logged(events...)
	at.logged(ctx)
	if v.why != ReasonNone {
		pr := Progress{State: StatePassword, Refused: v.why}
		if v.why == ReasonBlocked {
			pr.BlockedReason, pr.User = locked.BlockedReason, locked
		}
		return pr, nil
	}
	return Progress{State: StateComplete, User: locked, RedirectTo: rec.RedirectTo, Rotated: true}, nil
}

// recheckCredential judges the verified credential again as stored now,
// under its user's lock: deleted meanwhile, or its sign count passed by
// a concurrent sign-in (the clone rule again), it is refused.
func recheckCredential(ctx context.Context, tx store.Tx, userID int64, v *passwordlessVerdict) error {
	all, err := tx.WebAuthnCredentials(ctx, userID)
	if err != nil {
		return err
	}
	for i := range all {
		if all[i].ID != v.stored.ID {
			continue
		}
		if signCountWentBack(all[i].SignCount, v.signCount) {
			v.why, v.detail = ReasonPasskeyCloned, clonedDetail(&all[i], v.signCount)
		}
		return nil
	}
	v.why, v.detail = ReasonPasskeyRefused, "credential deleted meanwhile"
	return nil
}

// orUser is locked when the transaction found the user, else u as read
// before (nil: none).
func orUser(locked, u *model.User) *model.User {
	if locked != nil {
		return locked
	}
	return u
}

// unknownPasskey names, in the logs, the account of a passkey whose user
// handle names none (never a username: those have no spaces).
const unknownPasskey = "unknown: passkey"

// passwordlessRefused writes a refused passwordless answer's audit row
// (a sign count that went back has its own event) and sign-in log row in
// tx, and returns the audit rows to log once committed.
func (s *SignIn) passwordlessRefused(ctx context.Context, tx store.Tx, c Client, u *model.User, v passwordlessVerdict) ([]model.AuditEvent, error) {
	if u == nil { // nothing typed to name it by (see bruteforce.Subject)
		u = &model.User{Username: unknownPasskey}
	}
	event := audit.SignInPasskeyFail
	if v.why == ReasonPasskeyCloned {
		event = audit.SignInPasskeyCloned
	}
	detail := "passwordless: " + v.why.Audit()
	if v.detail != "" {
		detail += ": " + v.detail
	}
	events := []model.AuditEvent{c.auditRow(u, event, detail)}
	row := c.signInRow(u, "", model.SignInFailure, v.why)
	row.FirstFactor = factorPasskey
	return events, s.appendRows(ctx, tx, events, &row)
}
