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
	a, err := s.passkeys.prepareAssertion(in.Site, in.Response)
	if err != nil {
		return Progress{}, err
	}
	at, err := s.attempts.claimAttempt(ctx, bruteforce.Account(u.Username), u, in.Client.IP, passkeyGuess(in.Pending.Session.IDHash, in.Response))
	if err != nil {
		return Progress{}, err
	}
	rec := CodeInput{Pending: in.Pending, Rotation: in.Rotation}.completed()
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
			if len(out.rows) == 0 { // assertIn audited none: say why here
				events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInPasskeyFail, why.Audit())}
			}
			row := in.Client.signInRow(u, factorPasskey, model.SignInFailure, why)
			return s.appendRows(ctx, tx, events, &row)
		}
		if err := replaceSession(ctx, tx, in.Rotation.OldHash, &rec); err != nil {
			return err
		}
		events = []model.AuditEvent{in.Client.auditRow(u, audit.SignInComplete, methodPasskey)}
		row := in.Client.signInRow(u, factorPasskey, model.SignInSuccess, ReasonNone)
		return s.appendRows(ctx, tx, events, &row)
	})
	if errors.Is(err, errSessionGone) {
		return Progress{State: StatePassword, Refused: ReasonSessionGone}, nil
	}
	if err != nil {
		return Progress{}, fmt.Errorf("core: passkey step of %q: %w", u.Username, err)
	}
	out.logged(s.audit)
	s.logged(events...)
	if why != ReasonNone {
		return Progress{State: StatePasskey, Refused: why, User: u}, nil
	}
	return s.progressTo(StateComplete, u, rec.RedirectTo), nil
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
