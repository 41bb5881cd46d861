package signin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/redirect"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadLogin is the only answer to any failed password step: unknown user,
// wrong password and locked account look the same.
const msgBadLogin = "Your account or password is incorrect."

// msgBlocked answers the right password of a blocked account (only its
// owner, or whoever knows the password, learns that it is blocked).
const msgBlocked = "Sign-in to this account is blocked because a sign-in request was reported as suspicious. Ask your administrator to unblock it."

// msgBlockedByAdmin answers the right password of an account an admin
// blocked.
const msgBlockedByAdmin = "Sign-in to this account is blocked by an administrator. Ask your administrator to unblock it."

// blockedMessage is the answer to a right proof of an account blocked for
// reason (only someone who knows the proof sees it). An account blocked
// at the cap on consecutive failed sign-ins gets none: its proofs are no
// longer judged (core.reachedTheCap), so it looks locked.
func blockedMessage(reason string) string {
	if reason == model.BlockedByReport {
		return msgBlocked
	}
	return msgBlockedByAdmin
}

// msgBusy answers an attempt shed under load (nothing was checked).
const msgBusy = "Too many sign-in attempts are being processed right now. Please try again in a few seconds."

func (p *Portal) showLogin(w http.ResponseWriter, r *http.Request) {
	rd := p.safeRedirect(r, r.URL.Query().Get("rd"))
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return
	}
	if cur != nil && p.cfg.Policy.SessionSatisfies(&cur.Session, &cur.User) {
		p.redirect(w, r, rd)
		return
	}
	p.renderLogin(w, r, http.StatusOK, "", rd, "")
}

// safeRedirect keeps rd only if it stays on this host or an allow-listed
// https domain; anything else becomes "/".
func (p *Portal) safeRedirect(r *http.Request, rd string) string {
	return redirect.SafeWithDomains(rd, r.Host, p.cfg.RedirectDomains)
}

func (p *Portal) renderLogin(w http.ResponseWriter, r *http.Request, status int, username, rd, msg string) {
	p.UI.Render(w, status, loginui.LoginPage{
		Common:     p.common("Sign in", nil),
		Username:   username,
		RD:         rd,
		Error:      msg,
		ErrorField: loginErrorFields[msg],
		AccessPass: p.accessPassHref(),
		Passkey:    p.passwordlessOffered(r),
	})
}

// Messages that ask for one field. A refused password names neither field
// on purpose (it must not tell whether the account exists), but the
// username stays filled in, so the password is the field to type again.
const (
	msgEnterUsername = "Enter your username."
	msgEnterPassword = "Enter your password."
)

// loginErrorFields is the field each message asks to fix; the others (a
// blocked account, a busy server) are about neither.
var loginErrorFields = map[string]string{
	msgEnterUsername: "username",
	msgEnterPassword: "password",
	msgBadLogin:      "password",
}

func (p *Portal) submitLogin(w http.ResponseWriter, r *http.Request) {
	if !p.page.ReadForm(w, r) {
		return
	}
	typed := strings.TrimSpace(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	rd := p.safeRedirect(r, r.PostForm.Get("rd"))
	// An empty field judges no secret: it costs no attempt and tells
	// nothing about the account.
	switch {
	case typed == "":
		p.renderLogin(w, r, http.StatusOK, typed, rd, msgEnterUsername)
		return
	case pw == "":
		p.renderLogin(w, r, http.StatusOK, typed, rd, msgEnterPassword)
		return
	}

	rot := p.startOver(w, r)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.Password(r.Context(), core.PasswordInput{Username: typed, Password: pw, RedirectTo: rd,
		Site: p.cfg.Policy, Issuer: p.cfg.Issuer, Passkey: web.PasskeySite(r), Client: p.client(r), Rotation: rot.Rotation})
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		p.renderLogin(w, r, http.StatusServiceUnavailable, typed, rd, msgBusy)
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "checking password", err)
		return
	}
	switch {
	case pr.Refused == core.ReasonBlocked:
		p.renderLogin(w, r, http.StatusOK, typed, rd, blockedMessage(pr.BlockedReason))
	case pr.Refused != core.ReasonNone:
		p.renderLogin(w, r, http.StatusOK, typed, rd, msgBadLogin)
	default:
		p.advance(w, r, pr, rot)
	}
}
