package signin

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadPasskey answers every refused passkey answer: wrong site, wrong
// key, used or expired request, locked.
const msgBadPasskey = "That passkey didn't work. Try again, or sign in another way."

// msgNoPasskeyHere answers the options of a sign-in that cannot use a
// passkey (none usable here, or the site does not offer passkeys).
const msgNoPasskeyHere = "You have no passkey that works on this site. Sign in another way."

// showPasskey is the passkey step: its page, when the user has a passkey
// usable on this site; else the code or phone step.
func (p *Portal) showPasskey(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil {
		return
	}
	if cur.Session.PendingTOTP != nil {
		p.redirect(w, r, p.cfg.Prefix+"enrol")
		return
	}
	ok, err := p.Core.Passkeys.Usable(r.Context(), &cur.User, web.PasskeySite(r))
	if err != nil {
		p.page.InternalError(w, r, "listing passkeys", err)
		return
	}
	if !ok {
		p.otherWay(w, r, cur)
		return
	}
	p.renderPasskey(w, r, cur, "")
}

// otherWay sends a sign-in that cannot use a passkey here to its other
// second step: the phone when the user has no authenticator app, else the
// code.
func (p *Portal) otherWay(w http.ResponseWriter, r *http.Request, cur *session.Current) {
	code, phone, err := p.Core.SignIn.SecondFactors(r.Context(), &cur.User)
	if err != nil {
		p.page.InternalError(w, r, "listing sign-in methods", err)
		return
	}
	if phone && !code {
		p.redirect(w, r, p.cfg.Prefix+"push")
		return
	}
	p.redirect(w, r, p.cfg.Prefix+"verify")
}

func (p *Portal) renderPasskey(w http.ResponseWriter, r *http.Request, cur *session.Current, msg string) {
	code, phone, err := p.Core.SignIn.SecondFactors(r.Context(), &cur.User)
	if err != nil {
		p.page.InternalError(w, r, "listing sign-in methods", err)
		return
	}
	ways, err := p.otherWays(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "listing the other ways to sign in", err)
		return
	}
	ways.CanUsePasskey = false // this page's own
	p.UI.Render(w, http.StatusOK, loginui.PasskeyPage{Common: p.common("Use a passkey", cur), Error: msg,
		CanUseCode: code, CanUsePhone: phone, OtherWays: ways})
}

// passkeyOptions begins the passkey step of this pending sign-in: the
// challenge is bound to the session's record (answered in JSON for
// passkey.js).
func (p *Portal) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return
	}
	if cur == nil || cur.Session.Stage != model.StagePassword {
		web.WriteJSONError(w, http.StatusConflict, "Your sign-in has ended. Reload the page to sign in again.")
		return
	}
	options, err := p.Core.Passkeys.BeginAssertion(r.Context(), &cur.User, cur.IDHash(), web.PasskeySite(r))
	switch {
	case errors.Is(err, core.ErrNoPasskey), errors.Is(err, core.ErrPasskeyNotOffered):
		web.WriteJSONError(w, http.StatusConflict, msgNoPasskeyHere)
		return
	case err != nil:
		p.Logger.Warn("beginning a passkey sign-in", zapErr(err))
		web.WriteJSONError(w, http.StatusServiceUnavailable, "Sign-in is temporarily unavailable. Please try again in a moment.")
		return
	}
	web.WriteJSON(w, options)
}

// submitPasskey completes the passkey step with the browser's answer.
func (p *Portal) submitPasskey(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	rot := p.prepare(w, r, cur)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.Passkey(r.Context(), core.PasskeyInput{Site: web.PasskeySite(r),
		Response: []byte(r.PostForm.Get("response")), Pending: pending(cur), Client: p.client(r), Rotation: rot.Rotation})
	if errors.Is(err, core.ErrPasskeyNotOffered) {
		p.otherWay(w, r, cur)
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "checking passkey", err)
		return
	}
	if pr.Refused != core.ReasonNone && pr.State == core.StatePasskey {
		p.renderPasskey(w, r, cur, msgBadPasskey)
		return
	}
	p.advance(w, r, pr, rot)
}
