package signin

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/session"
)

// Passwordless sign-in with a passkey on the login page (the core's
// SignIn.Passwordless): the options request stores nothing (its challenge
// goes back in a cookie, see session.SetChallenge), the answer completes
// the sign-in or is refused with one message.

// msgPasskeyRefused is the only answer to a refused passkey (unknown,
// deleted, replayed, expired, locked account…): it never tells whether an
// account exists.
const msgPasskeyRefused = "That passkey didn't sign you in. Try again, or sign in with your password."

// msgPasskeyTemporaryPassword answers a passkey that verified for an
// account with an admin's temporary password (only its holder learns
// it, as only the password's holder learns of a block).
const msgPasskeyTemporaryPassword = "Your administrator gave you a temporary password. Sign in with it to choose your own password; then your passkey works again."

// passkeySite is where r runs a passkey ceremony: its scheme and Host.
func passkeySite(r *http.Request) core.PasskeySite {
	if r.TLS != nil {
		return core.PasskeySite{Scheme: "https", Host: r.Host}
	}
	return core.PasskeySite{Scheme: "http", Host: r.Host}
}

// passwordlessOffered reports whether the login page on r offers
// passwordless sign-in: the site allows it and its host is under the RP
// ID (over https, or http on localhost).
func (p *Portal) passwordlessOffered(r *http.Request) bool {
	return p.cfg.Policy.PasswordlessPasskeys() && p.Core.Passkeys.Offered(passkeySite(r))
}

// passwordlessOptions answers POST login/passkey/options: the options for
// navigator.credentials.get as JSON, their challenge in the cookie.
func (p *Portal) passwordlessOptions(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	opts, token, err := p.Core.SignIn.PasswordlessOptions(p.cfg.Policy, passkeySite(r))
	switch {
	case errors.Is(err, core.ErrPasswordlessOff), errors.Is(err, core.ErrPasskeyNotOffered):
		http.Error(w, "Passwordless sign-in with a passkey is not offered on this site.", http.StatusNotFound)
		return
	case err != nil:
		p.Logger.Error("passkey options", zapErr(err))
		http.Error(w, "Sign-in is temporarily unavailable.", http.StatusServiceUnavailable)
		return
	}
	session.SetChallenge(w, r, token, core.PasskeyChallengeLifetime)
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(opts)
}

// submitPasskeyLogin answers POST login/passkey (fields credential and
// rd): the passkey's answer, judged once; the challenge cookie is cleared
// whatever the outcome.
func (p *Portal) submitPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	if !p.page.ReadForm(w, r) {
		return
	}
	rd := p.safeRedirect(r, r.PostForm.Get("rd"))
	if !p.passwordlessOffered(r) {
		p.notFound(w, r)
		return
	}
	token := session.Challenge(r)
	session.ClearChallenge(w, r)
	rot := p.startOver(w, r)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.Passwordless(r.Context(), core.PasswordlessInput{Token: token,
		Response: []byte(r.PostForm.Get("credential")), RedirectTo: rd, Site: p.cfg.Policy, Where: passkeySite(r),
		Client: p.client(r), Rotation: rot.Rotation})
	if errors.Is(err, core.ErrPasswordlessOff) || errors.Is(err, core.ErrPasskeyNotOffered) {
		p.notFound(w, r)
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "checking a passkey", err)
		return
	}
	switch {
	case pr.Refused == core.ReasonBlocked:
		p.renderLogin(w, r, http.StatusOK, "", rd, blockedMessage(pr.BlockedReason))
	case pr.Refused == core.ReasonTemporaryPassword:
		p.renderLogin(w, r, http.StatusOK, "", rd, msgPasskeyTemporaryPassword)
	case pr.Refused != core.ReasonNone:
		p.renderLogin(w, r, http.StatusOK, "", rd, msgPasskeyRefused)
	default:
		p.advance(w, r, pr, rot)
	}
}
