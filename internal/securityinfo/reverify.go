package securityinfo

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadCode is the only answer to a failed code.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// reverify checks a fresh code (core.SignIn.ReverifyCode: the session
// continues under a new identifier, recently verified), then returns to
// the page that asked.
func (p *Pages) reverify(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	next := p.safeNext(r.PostForm.Get("next"))
	rot, err := p.Sessions.Prepare(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "preparing the session", err)
		return
	}
	pr, err := p.Core.SignIn.ReverifyCode(r.Context(), core.CodeInput{Code: r.PostForm.Get("code"),
		Pending: core.Pending{Session: cur.Session, User: *u}, Client: p.client(r), Rotation: rot.Rotation}, core.ReverifySecurityInfo)
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	if pr.Refused != core.ReasonNone {
		p.renderReverify(w, r, cur, u, next, msgBadCode)
		return
	}
	p.verified(w, r, rot, next)
}

// verified hands the browser its re-verified session and returns to next.
func (p *Pages) verified(w http.ResponseWriter, r *http.Request, rot *session.Rotation, next string) {
	if err := p.Sessions.Commit(w, r, rot); err != nil {
		p.page.InternalError(w, r, "updating session", err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// client is the request's sender as the core records it.
func (p *Pages) client(r *http.Request) core.Client {
	return core.Client{IP: p.ClientIP(r), UserAgent: r.UserAgent(), Site: web.SiteLabel("", r)}
}

// renderReverify asks for a second factor before a change (code or
// phone, whichever the user has).
func (p *Pages) renderReverify(w http.ResponseWriter, r *http.Request, cur *session.Current, u *model.User, next, msg string) {
	p.UI.Render(w, http.StatusOK, loginui.ReverifyPage{Common: p.page.Common("Verify your identity", u), Next: next, Error: msg})
}
