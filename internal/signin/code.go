package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadCode answers every failed code: wrong, reused, expired or locked.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// halfSignedIn loads the session of a user who has passed the password step;
// otherwise it sends them to the login page and returns nil.
func (p *Portal) halfSignedIn(w http.ResponseWriter, r *http.Request) *session.Current {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return nil
	}
	if cur == nil {
		if !p.showReported(w, r) {
			p.redirect(w, r, p.cfg.Prefix+"login")
		}
		return nil
	}
	if cur.Session.Stage == model.StageComplete {
		p.redirect(w, r, p.afterSignIn(&cur.User, cur.Session.RedirectTo))
		return nil
	}
	return cur
}

func orRoot(s string) string {
	if s == "" {
		return "/"
	}
	return s
}

func (p *Portal) showVerify(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil {
		return
	}
	if cur.Session.PendingTOTP != nil {
		p.redirect(w, r, p.cfg.Prefix+"enrol")
		return
	}
	p.renderVerify(w, r, cur, http.StatusOK, "")
}

func (p *Portal) renderVerify(w http.ResponseWriter, r *http.Request, cur *session.Current, status int, msg string) {
	phone, err := p.Core.Approvals.HasPhone(r.Context(), &cur.User)
	if err != nil {
		p.page.InternalError(w, r, "listing phones", err)
		return
	}
	ways, err := p.otherWays(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "listing the other ways to sign in", err)
		return
	}
	p.UI.Render(w, status, loginui.VerifyCodePage{Common: p.common("Enter code", cur), Error: msg, CanUsePhone: phone, OtherWays: ways})
}

func (p *Portal) submitVerify(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	rot := p.prepare(w, r, cur)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.Code(r.Context(), core.CodeInput{Code: r.PostForm.Get("code"), Pending: pending(cur),
		Client: p.client(r), Rotation: rot.Rotation})
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	if pr.Refused != core.ReasonNone && pr.State == core.StateCode {
		p.renderVerify(w, r, cur, http.StatusOK, msgBadCode)
		return
	}
	p.advance(w, r, pr, rot)
}

// afterSignIn is where a complete sign-in of u goes: to choose a new
// password first while u has an admin's temporary one (on the portal as
// on a site: nothing else may be used with it), else to rd.
func (p *Portal) afterSignIn(u *model.User, rd string) string {
	if u.TemporaryPassword() {
		return p.cfg.Prefix + "password/new"
	}
	return orRoot(rd)
}
