package securityinfo

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mfagate/mfagate/internal/factor/apppassword"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// msgLimit tells the user why no more app passwords can be made.
var msgLimit = "You have " + strconv.Itoa(model.MaxAppPasswords) + " app passwords, the most allowed. Delete one you no longer use to create another."

// msgBusy answers a creation shed under load (nothing was stored).
const msgBusy = "Too many sign-ins are being processed right now, so no app password was created. Please try again in a few seconds."

func (p *Pages) showNewAppPassword(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodAppPassword))
	if cur == nil {
		return
	}
	if !p.appPasswordsAllowed(w, r, u) {
		return
	}
	p.renderNewAppPassword(w, r, u, "", "")
}

// appPasswordsAllowed applies the site's policy: only users effectively
// Enforced here create app passwords. false means a response was sent.
func (p *Pages) appPasswordsAllowed(w http.ResponseWriter, r *http.Request, u *model.User) bool {
	auths, err := p.Core.Methods.Authenticators(r.Context(), u.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing authenticators", err)
		return false
	}
	if !p.cfg.Policy.CanCreateAppPasswords(u, len(auths) > 0) {
		p.page.Message(w, http.StatusForbidden, "App passwords unavailable", p.cfg.Policy.WhyNoAppPasswords())
		return false
	}
	return true
}

func (p *Pages) renderNewAppPassword(w http.ResponseWriter, r *http.Request, u *model.User, name, msg string) {
	aps, err := p.Core.AppPasswords.List(r.Context(), u.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing app passwords", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.NewAppPasswordPage{
		Common: p.page.Common("App password", u), Name: name, Error: msg,
		Count: len(aps), Limit: model.MaxAppPasswords,
	})
}

// createAppPassword makes one app password and shows it exactly once.
func (p *Pages) createAppPassword(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodAppPassword))
	if cur == nil {
		return
	}
	if !p.appPasswordsAllowed(w, r, u) {
		return
	}
	name, msg := formName(r, apppassword.MaxNameLength)
	if msg != "" {
		p.renderNewAppPassword(w, r, u, r.PostForm.Get("name"), msg)
		return
	}
	pw, err := p.Core.AppPasswords.Create(r.Context(), u, name, p.ClientIP(r))
	if errors.Is(err, model.ErrLimit) {
		p.renderNewAppPassword(w, r, u, name, msgLimit)
		return
	}
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		p.page.Message(w, http.StatusServiceUnavailable, "Try again shortly", msgBusy)
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "creating app password", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.AppPasswordCreatedPage{Common: p.page.Common("App password", u), Name: name, Password: pw})
}

// deleteAppPassword removes one of the user's app passwords; cached
// successes on this node are dropped at once.
func (p *Pages) deleteAppPassword(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		p.page.Message(w, http.StatusBadRequest, "Bad request", "That app password does not exist.")
		return
	}
	err = p.Core.AppPasswords.Delete(r.Context(), u, id, p.ClientIP(r))
	if errors.Is(err, model.ErrNotFound) {
		p.page.Message(w, http.StatusNotFound, "Not found", "That app password does not exist.")
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "deleting app password", err)
		return
	}
	p.done(w, r, "app-password-deleted")
}
