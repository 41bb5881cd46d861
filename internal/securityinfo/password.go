package securityinfo

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// Answers of the password form, shown next to the field they concern.
const (
	msgEnterCurrent   = "Enter your current password."
	msgWrongCurrent   = "That is not your current password."
	msgRepeatMismatch = "The two new passwords are not the same. Type the new password again in both fields."
	msgSamePassword   = "The new password is your current one. Choose a different password."
	msgPasswordRaced  = "Your password was changed elsewhere in the meantime, so nothing was changed here. Sign in again with the new password."
	msgPasswordBusy   = "Too many sign-ins are being processed right now, so your password was not changed. Please try again in a few seconds."
)

func (p *Pages) passwordPath() string { return p.securityPath() + "/password" }

// showChangePassword shows the form (after a recent second factor).
func (p *Pages) showChangePassword(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.passwordPath())
	if cur == nil {
		return
	}
	p.renderChangePassword(w, r, u, loginui.ChangePasswordPage{})
}

func (p *Pages) renderChangePassword(w http.ResponseWriter, r *http.Request, u *model.User, page loginui.ChangePasswordPage) {
	aps, err := p.Core.AppPasswords.List(r.Context(), u.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing app passwords", err)
		return
	}
	page.Common = p.page.Common("Change password", u)
	page.MinLength = password.MinBytes
	page.AppPasswordCount = len(aps)
	p.UI.Render(w, http.StatusOK, page)
}

// changePassword changes the user's own password: the current one is
// checked under the brute-force rules, the new one against the password
// policy; this session stays, the others end, and the app passwords go
// when asked.
func (p *Pages) changePassword(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.passwordPath())
	if cur == nil {
		return
	}
	current, newPW, repeat := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("repeat")
	drop := r.PostForm.Get("delete-app-passwords") == "1"
	page := loginui.ChangePasswordPage{DeleteAppPasswords: drop}
	// Mistakes the form itself shows cost no bcrypt and no attempt.
	switch {
	case current == "":
		page.CurrentError = msgEnterCurrent
	case newPW != repeat:
		page.RepeatError = msgRepeatMismatch
	}
	if page.CurrentError != "" || page.RepeatError != "" {
		p.renderChangePassword(w, r, u, page)
		return
	}
	err := p.Core.Accounts.ChangeOwnPassword(r.Context(), u, current, newPW, cur.IDHash(), drop, p.ClientIP(r))
	var policyErr *password.PolicyError
	switch {
	case err == nil:
		notice := "password-changed"
		if drop {
			notice = "password-changed-app-passwords"
		}
		p.done(w, r, notice)
	case errors.Is(err, core.ErrWrongPassword):
		page.CurrentError = msgWrongCurrent
		p.renderChangePassword(w, r, u, page)
	case errors.As(err, &policyErr):
		page.NewError = policyErr.Message
		p.renderChangePassword(w, r, u, page)
	case errors.Is(err, core.ErrSamePassword):
		page.NewError = msgSamePassword
		p.renderChangePassword(w, r, u, page)
	case errors.Is(err, core.ErrPasswordChanged):
		p.page.Message(w, http.StatusConflict, "Password not changed", msgPasswordRaced)
	case errors.Is(err, password.ErrBusy):
		w.Header().Set("Retry-After", "1")
		p.page.Message(w, http.StatusServiceUnavailable, "Try again shortly", msgPasswordBusy)
	default:
		p.page.InternalError(w, r, "changing password", err)
	}
}

// signOutEverywhere ends the user's other sessions; this one stays. It
// only protects the account, so it needs no fresh second factor.
func (p *Pages) signOutEverywhere(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	if _, err := p.Core.Sessions.EndAllBut(r.Context(), u, cur.IDHash(), p.ClientIP(r)); err != nil {
		p.page.InternalError(w, r, "ending other sessions", err)
		return
	}
	p.done(w, r, "signed-out-everywhere")
}
