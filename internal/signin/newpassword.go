package signin

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/loginui"
)

// Messages of the choose-a-new-password page.
const (
	msgNewRepeatMismatch = "The two passwords are not the same."
	msgNewSamePassword   = "Choose a password other than the temporary one."
)

// withTemporaryPassword loads a fully signed-in session whose user still
// has an admin's temporary password; anyone else is sent on (to sign in,
// or to where they were going).
func (p *Portal) withTemporaryPassword(w http.ResponseWriter, r *http.Request) (*session.Current, *model.User) {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return nil, nil
	}
	if cur == nil || cur.Session.Stage != model.StageComplete {
		p.redirect(w, r, p.cfg.Prefix+"login")
		return nil, nil
	}
	u, err := p.Core.Accounts.ByID(r.Context(), cur.User.ID)
	if err != nil {
		p.page.InternalError(w, r, "loading user", err)
		return nil, nil
	}
	if !u.TemporaryPassword() {
		p.redirect(w, r, orRoot(cur.Session.RedirectTo))
		return nil, nil
	}
	return cur, u
}

func (p *Portal) showNewPassword(w http.ResponseWriter, r *http.Request) {
	if cur, u := p.withTemporaryPassword(w, r); cur != nil {
		p.renderNewPassword(w, u, loginui.ChooseNewPasswordPage{})
	}
}

func (p *Portal) renderNewPassword(w http.ResponseWriter, u *model.User, page loginui.ChooseNewPasswordPage) {
	page.Common = p.page.Common("Choose a new password", u)
	page.MinLength = password.MinBytes
	p.UI.Render(w, http.StatusOK, page)
}

// submitNewPassword replaces the temporary password; this session stays
// signed in and continues where it was going.
func (p *Portal) submitNewPassword(w http.ResponseWriter, r *http.Request) {
	cur, u := p.withTemporaryPassword(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	newPW, repeat := r.PostForm.Get("new"), r.PostForm.Get("repeat")
	if newPW != repeat {
		p.renderNewPassword(w, u, loginui.ChooseNewPasswordPage{RepeatError: msgNewRepeatMismatch})
		return
	}
	err := p.Core.SignIn.ChooseNewPassword(r.Context(), u, newPW, cur.IDHash(), p.client(r))
	var policyErr *password.PolicyError
	switch {
	case err == nil:
		p.redirect(w, r, orRoot(cur.Session.RedirectTo))
	case errors.As(err, &policyErr):
		p.renderNewPassword(w, u, loginui.ChooseNewPasswordPage{NewError: policyErr.Message})
	case errors.Is(err, core.ErrSamePassword):
		p.renderNewPassword(w, u, loginui.ChooseNewPasswordPage{NewError: msgNewSamePassword})
	case errors.Is(err, core.ErrPasswordChanged):
		p.page.Message(w, http.StatusConflict, "Password not changed", "Your password was changed elsewhere in the meantime. Sign in again.")
	case errors.Is(err, password.ErrBusy):
		w.Header().Set("Retry-After", "1")
		p.page.Message(w, http.StatusServiceUnavailable, "Try again shortly", msgBusy)
	default:
		p.page.InternalError(w, r, "choosing password", err)
	}
}
