package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
)

// pendingEnrolment returns the half-signed-in session that is enrolling and
// its secret in the clear; otherwise it answers and returns nil.
func (p *Portal) pendingEnrolment(w http.ResponseWriter, r *http.Request) (*session.Current, []byte) {
	cur := p.halfSignedIn(w, r)
	if cur == nil {
		return nil, nil
	}
	if cur.Session.PendingTOTP == nil {
		p.redirect(w, r, p.cfg.Prefix+"verify")
		return nil, nil
	}
	secret, ok, err := p.Core.SignIn.EnrolmentSecret(r.Context(), pending(cur))
	if err != nil {
		p.page.InternalError(w, r, "opening pending secret", err)
		return nil, nil
	}
	if !ok {
		p.abandonEnrolment(w, r, cur)
		return nil, nil
	}
	return cur, secret
}

// abandonEnrolment handles a user who has an authenticator by now (enrolled
// in another browser since this sign-in began): the pending secret is
// dropped and the sign-in continues with a code from that authenticator.
func (p *Portal) abandonEnrolment(w http.ResponseWriter, r *http.Request, cur *session.Current) {
	rot := p.prepare(w, r, cur)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.AbandonEnrolment(r.Context(), core.AbandonInput{Pending: pending(cur), Client: p.client(r), Rotation: rot.Rotation})
	if err != nil {
		p.page.InternalError(w, r, "ending enrolment", err)
		return
	}
	p.advance(w, r, pr, rot)
}

func (p *Portal) showEnrol(w http.ResponseWriter, r *http.Request) {
	cur, secret := p.pendingEnrolment(w, r)
	if cur == nil {
		return
	}
	p.renderEnrol(w, r, cur, secret, http.StatusOK, "")
}

func (p *Portal) renderEnrol(w http.ResponseWriter, r *http.Request, cur *session.Current, secret []byte, status int, msg string) {
	page, err := web.EnrolmentView(p.cfg.Issuer, cur.User.Username, secret)
	if err != nil {
		p.page.InternalError(w, r, "rendering enrolment", err)
		return
	}
	page.Common = p.common("More information required", cur)
	page.Error = msg
	p.UI.Render(w, status, page)
}

func (p *Portal) submitEnrol(w http.ResponseWriter, r *http.Request) {
	cur, secret := p.pendingEnrolment(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	rot := p.prepare(w, r, cur)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.Enrol(r.Context(), core.CodeInput{Code: r.PostForm.Get("code"), Pending: pending(cur),
		Client: p.client(r), Rotation: rot.Rotation})
	if err != nil {
		p.page.InternalError(w, r, "saving authenticator", err)
		return
	}
	if pr.Refused != core.ReasonNone && pr.State == core.StateEnrol {
		p.renderEnrol(w, r, cur, secret, http.StatusOK, msgBadCode)
		return
	}
	p.advance(w, r, pr, rot)
}
