package signin

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
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
	auths, err := p.Core.Methods.Authenticators(r.Context(), cur.User.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing authenticators", err)
		return nil, nil
	}
	if len(auths) > 0 {
		p.abandonEnrolment(w, r, cur)
		return nil, nil
	}
	secret, err := p.Codes.Open(cur.User.ID, cur.Session.PendingTOTP)
	if err != nil {
		p.page.InternalError(w, r, "opening pending secret", err)
		return nil, nil
	}
	return cur, secret
}

// abandonEnrolment handles a user who has an authenticator by now (enrolled
// in another browser since this sign-in began): the pending secret is
// dropped and the sign-in continues with a code from that authenticator.
func (p *Portal) abandonEnrolment(w http.ResponseWriter, r *http.Request, cur *session.Current) {
	rec := cur.Session
	rec.PendingTOTP = nil
	if err := p.Sessions.Rotate(w, r, cur, rec); err != nil {
		p.page.InternalError(w, r, "ending enrolment", err)
		return
	}
	p.Audit.Record(r.Context(), model.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
		Event: audit.SignInCodeFail, RemoteIP: p.ClientIP(r), Detail: "enrolment refused: the user has an authenticator already"})
	p.redirect(w, r, p.cfg.Prefix+"verify")
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
	ctx := r.Context()
	ip := p.ClientIP(r)
	ok, detail, err := p.Codes.CheckPending(ctx, &cur.User, cur.Session.PendingTOTP, r.PostForm.Get("code"), ip)
	if err != nil {
		p.page.InternalError(w, r, "checking enrolment code", err)
		return
	}
	if !ok {
		p.Audit.Record(ctx, model.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
			Event: audit.SignInCodeFail, RemoteIP: ip, Detail: "enrolment: " + detail})
		p.logSignIn(r, cur.User, factorCode, model.SignInFailure, detail)
		p.renderEnrol(w, r, cur, secret, http.StatusOK, msgBadCode)
		return
	}
	err = p.Core.Methods.AddAuthenticator(ctx, &cur.User, cur.Session.PendingTOTP, ip, true)
	if errors.Is(err, model.ErrConflict) {
		p.abandonEnrolment(w, r, cur)
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "saving authenticator", err)
		return
	}
	p.complete(w, r, cur, "authenticator enrolled", true)
}
