package signin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/loginui"
)

// The access-pass page (Prefix+"access-pass"): "Sign in another way" on
// the login form, for a user who lost every method and got a Temporary
// Access Pass from an admin. It is the core's AccessPass transition: a
// right pass leads to Security info in a restricted session
// (core.StateAccessPass), which reaches nothing else.

// msgBadAccessPass is the only answer to a refused pass: unknown user, no
// pass, wrong, expired or used pass, a locked account and an account with
// a temporary password look the same (as at the login form).
const msgBadAccessPass = "Your account or Temporary Access Pass is incorrect, or the pass has expired."

// Messages that ask for one field of the access-pass form.
const msgEnterAccessPass = "Enter the Temporary Access Pass your administrator gave you."

// accessPassHref is where the login form's "Use a Temporary Access
// Pass" leads: this origin's page, or the portal's when Security info
// lives there (a pass session made here could not reach it).
func (p *Portal) accessPassHref() string {
	if p.cfg.AccessPassAt != "" {
		return p.cfg.AccessPassAt
	}
	return p.cfg.Prefix + "access-pass"
}

func (p *Portal) showAccessPass(w http.ResponseWriter, r *http.Request) {
	if p.cfg.AccessPassAt != "" {
		http.Redirect(w, r, p.cfg.AccessPassAt, http.StatusFound)
		return
	}
	p.renderAccessPass(w, http.StatusOK, "", "", "")
}

func (p *Portal) renderAccessPass(w http.ResponseWriter, status int, username, msg, field string) {
	p.UI.Render(w, status, loginui.AccessPassPage{Common: p.common("Sign in with a Temporary Access Pass", nil),
		Username: username, Error: msg, ErrorField: field})
}

func (p *Portal) submitAccessPass(w http.ResponseWriter, r *http.Request) {
	if p.cfg.AccessPassAt != "" {
		p.UI.Render(w, http.StatusForbidden, loginui.MessagePage{Common: p.common("Use the pass on the portal", nil),
			Heading: "Use the pass on the portal", Message: "Temporary Access Passes are used where Security info is. Nothing was checked here.",
			LinkText: "Use a Temporary Access Pass", LinkHref: p.cfg.AccessPassAt})
		return
	}
	if !p.page.ReadForm(w, r) {
		return
	}
	typed := strings.TrimSpace(r.PostForm.Get("username"))
	pass := r.PostForm.Get("pass")
	// An empty field judges nothing: it costs no attempt.
	switch {
	case typed == "":
		p.renderAccessPass(w, http.StatusOK, typed, msgEnterUsername, "username")
		return
	case strings.TrimSpace(pass) == "":
		p.renderAccessPass(w, http.StatusOK, typed, msgEnterAccessPass, "pass")
		return
	}
	rot := p.startOver(w, r)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.AccessPass(r.Context(), core.AccessPassInput{Username: typed, Pass: pass,
		RedirectTo: p.cfg.Prefix + "security", Client: p.client(r), Rotation: rot.Rotation})
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		p.renderAccessPass(w, http.StatusServiceUnavailable, typed, msgBusy, "")
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "checking the access pass", err)
		return
	}
	switch {
	case pr.Refused == core.ReasonBlocked:
		p.renderAccessPass(w, http.StatusOK, typed, blockedMessage(pr.BlockedReason), "")
	case pr.Refused != core.ReasonNone:
		p.renderAccessPass(w, http.StatusOK, typed, msgBadAccessPass, "pass")
	default:
		p.advance(w, r, pr, rot)
	}
}
