package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/audit"
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
		p.redirect(w, r, orRoot(cur.Session.RedirectTo))
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
	p.UI.Render(w, status, loginui.VerifyCodePage{Common: p.common("Enter code", cur), Error: msg, CanUsePhone: phone})
}

func (p *Portal) submitVerify(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	ip := p.ClientIP(r)
	ok, detail, err := p.Codes.Check(r.Context(), &cur.User, r.PostForm.Get("code"), ip)
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	if !ok {
		p.Audit.Record(r.Context(), model.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
			Event: audit.SignInCodeFail, RemoteIP: ip, Detail: detail})
		p.logSignIn(r, cur.User, factorCode, model.SignInFailure, detail)
		p.renderVerify(w, r, cur, http.StatusOK, msgBadCode)
		return
	}
	p.complete(w, r, cur, "authenticator code", true)
}

// complete finishes sign-in: new identifier, stage complete, counter
// cleared. withMFA records that a second factor passed just now.
func (p *Portal) complete(w http.ResponseWriter, r *http.Request, cur *session.Current, method string, withMFA bool) {
	rec := cur.Session
	rec.Stage = model.StageComplete
	if withMFA {
		rec.MFAAt = p.now()
	}
	rec.PendingTOTP = nil
	if err := p.Sessions.Rotate(w, r, cur, rec); err != nil {
		p.page.InternalError(w, r, "completing session", err)
		return
	}
	p.finish(w, r, &cur.User, rec.RedirectTo, method)
}

// finish clears the failure counter, records the sign-in and redirects.
func (p *Portal) finish(w http.ResponseWriter, r *http.Request, u *model.User, rd, method string) {
	ctx := r.Context()
	if err := p.Core.Attempts.Completed(ctx, u.Username); err != nil {
		p.Logger.Warn("clearing failure counter", zapErr(err))
	}
	p.Audit.Record(ctx, model.AuditEvent{UserID: u.ID, Username: u.Username,
		Event: audit.SignInComplete, RemoteIP: p.ClientIP(r), Detail: method})
	p.logSignIn(r, *u, secondFactors[method], model.SignInSuccess, "")
	p.redirect(w, r, orRoot(rd))
}
