package core

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// PasskeyInput is the authenticator's answer to the passkey step begun
// for this pending sign-in (Passkeys.BeginAssertion with the session's
// record hash).
type PasskeyInput struct {
	// Site is where the step runs: its origin is the one the answer
	// must name.
	Site PasskeySite
	// Response is the PublicKeyCredential as JSON.
	Response []byte
	Pending  Pending
	Client   Client
	Rotation Rotation
}

// methodPasskey is the audit's word for a sign-in completed with a
// passkey or security key.
const methodPasskey = "passkey"

// Passkey is the second step with one of the user's passkeys or security
// keys: complete on success, else refused. Like a code it is an attempt:
// its failure slots are claimed (committed) first, the answer is parsed
// outside any transaction, then ONE transaction consumes the session's
// challenge, judges the answer (origin, RP ID, signature, sign count),
// records the credential's use, settles the slots (a refusal keeps them,
// counted against the account like a wrong code) and, when it passed,
// stores the session complete under its new identity with the audit and
// sign-in log rows. ErrPasskeyNotOffered: this site cannot use passkeys
// (nothing judged, nothing counted).
func (s *SignIn) Passkey(ctx context.Context, in PasskeyInput) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StagePassword {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	rec := CodeInput{Pending: in.Pending, Rotation: in.Rotation}.completed()
	why, err := s.passkeyStep(ctx, in, &rec, passkeyRows{
		passed: func() ([]model.AuditEvent, *model.SignIn) {
			row := in.Client.signInRow(u, factorPasskey, model.SignInSuccess, ReasonNone)
			return []model.AuditEvent{in.Client.auditRow(u, audit.SignInComplete, methodPasskey)}, &row
		},
		refused: func(why Reason) (model.AuditEvent, *model.SignIn) {
			row := in.Client.signInRow(u, factorPasskey, model.SignInFailure, why)
			return in.Client.auditRow(u, audit.SignInPasskeyFail, why.Audit()), &row
		},
	})
	switch {
	case errors.Is(err, errSessionGone):
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	case err != nil:
		return Progress{}, fmt.Errorf("core: passkey step of %q: %w", u.Username, err)
	case why != ReasonNone:
		return Progress{State: StatePasskey, Refused: why, User: u}, nil
	}
	return s.progressTo(StateComplete, u, rec.RedirectTo), nil
}

// ReverifyPasskey re-verifies a complete session with one of the user's
// passkeys (where: ReverifySecurityInfo or ReverifyAdminCenter), the
// challenge begun for this session (Passkeys.BeginAssertion): the claim,
// then one transaction consuming the challenge, judging the answer,
// settling the slots and storing the session under a new identifier with
// its second factor's time now (or the refusal's audit row).
func (s *SignIn) ReverifyPasskey(ctx context.Context, in PasskeyInput, where string) (Progress, error) {
	u := &in.Pending.User
	if in.Pending.Session.Stage != model.StageComplete {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	rec := in.Rotation.record(in.Pending.Session)
	rec.MFAAt = in.Rotation.At
	why, err := s.passkeyStep(ctx, in, &rec, passkeyRows{
		passed: func() ([]model.AuditEvent, *model.SignIn) { return nil, nil },
		refused: func(why Reason) (model.AuditEvent, *model.SignIn) {
			return in.Client.auditRow(u, audit.SignInPasskeyFail, where+": "+why.Audit()), nil
		},
	})
	switch {
	case errors.Is(err, errSessionGone):
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	case err != nil:
		return Progress{}, fmt.Errorf("core: re-verification of %q: %w", u.Username, err)
	case why != ReasonNone:
		return Progress{State: StateComplete, Refused: why, User: u}, nil
	}
	return Progress{State: StateComplete, User: u, RedirectTo: rec.RedirectTo, Rotated: true}, nil
}

// passkeyRows are the rows a passkey step writes besides the ceremony's
// own audit rows: on success, and on a refusal (its audit row is written
// only when the ceremony wrote none, say a claim refused by the limits).
type passkeyRows struct {
	passed  func() ([]model.AuditEvent, *model.SignIn)
	refused func(Reason) (model.AuditEvent, *model.SignIn)
}

// passkeyStep is a passkey step of the pending session in.Pending: its
// failure slots claimed (committed) first, the answer parsed outside any
// transaction, then ONE transaction consuming the session's challenge,
// judging the answer, recording the credential's use, settling the slots
// and, when it passed, storing rec in place of the session, with rows'
// audit and sign-in log rows. It says why the step was refused
// (ReasonNone: it passed); errSessionGone when the session was ended
// meanwhile.
func (s *SignIn) passkeyStep(ctx context.Context, in PasskeyInput, rec *model.Session, rows passkeyRows) (Reason, error) {
	u := &in.Pending.User
	a, err := s.passkeys.prepareAssertion(in.Site, in.Response)
	if err != nil {
		return ReasonNone, err
	}
	at, err := s.attempts.claimAttempt(ctx, bruteforce.Account(u.Username), u, in.Client.IP, passkeyGuess(in.Pending.Session.IDHash, in.Response))
	if err != nil {
		return ReasonNone, err
	}
	var why Reason
	var out ceremonyOutcome
	var events []model.AuditEvent
	err = s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		out, events = ceremonyOutcome{}, nil
		why = at.refused
		if at.judged() {
			if _, out, err = a.assertIn(ctx, tx, u, in.Pending.Session.IDHash, in.Client.IP); err != nil {
				return err
			}
			why = passkeyReason(out.refusal)
		}
		if err := at.settle(ctx, tx, why == ReasonNone); err != nil {
			return err
		}
		if why != ReasonNone {
			ev, row := rows.refused(why)
			if len(out.rows) == 0 { // the ceremony audited none: say why here
				events = []model.AuditEvent{ev}
			}
			return s.appendRows(ctx, tx, events, row)
		}
		if err := reverified(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := replaceSession(ctx, tx, in.Rotation.OldHash, rec); err != nil {
			return err
		}
		var row *model.SignIn
		events, row = rows.passed()
		return s.appendRows(ctx, tx, events, row)
	})
	if err != nil {
		return ReasonNone, err
	}
	out.logged(s.audit)
	s.logged(events...)
	at.logged(ctx)
	return why, nil
}

// passkeyReason is the sign-in's reason for a passkey refusal (nil: it
// passed).
func passkeyReason(refusal error) Reason {
	switch {
	case refusal == nil:
		return ReasonNone
	case errors.Is(refusal, ErrPasskeyCloned):
		return ReasonPasskeyCloned
	}
	return ReasonPasskeyRefused
}

// passkeyGuess is a passkey answer as the brute-force rules see it: the
// same answer sent again in the same session after it was refused is a
// repeat, refused unjudged (its challenge is used up anyway). It is
// judged against the session's own challenge, so the session is part of
// the guess: an answer refused in another session stays another guess.
func passkeyGuess(sessionHash, response []byte) Guess {
	h := sha256.Sum256(response)
	return Guess{Secret: hex.EncodeToString(h[:]), As: "passkey answer in session " + hex.EncodeToString(sessionHash)}
}

// Usable reports whether u has a passkey site can use: the site offers
// passkeys (see Offered) and one of u's credentials was made for its RP
// ID. A zero site (no request to run a ceremony on) offers none.
func (p *Passkeys) Usable(ctx context.Context, u *model.User, site PasskeySite) (bool, error) {
	if site.Host == "" || !p.Offered(site) {
		return false, nil
	}
	cs, err := p.Credentials(ctx, u.ID)
	if err != nil {
		return false, err
	}
	rpID := p.RPID(site)
	for _, c := range cs {
		if c.RPID == rpID {
			return true, nil
		}
	}
	return false, nil
}
