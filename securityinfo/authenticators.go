package securityinfo

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mfagate/mfagate/audit"
	"github.com/mfagate/mfagate/factor/totp"
	"github.com/mfagate/mfagate/loginui"
	"github.com/mfagate/mfagate/session"
	"github.com/mfagate/mfagate/signin"
	"github.com/mfagate/mfagate/store"
)

// startAuthenticator shows a new secret to scan; the sealed secret waits in
// the session until a code proves the app holds it.
func (p *Pages) startAuthenticator(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodAuthenticator))
	if cur == nil {
		return
	}
	e, err := totp.NewEnrolment(p.cfg.Issuer, u.Username)
	if err != nil {
		p.internalError(w, r, "new secret", err)
		return
	}
	sealed, err := p.Codes.Seal(u.ID, e.Secret)
	if err != nil {
		p.internalError(w, r, "sealing secret", err)
		return
	}
	rec := cur.Session
	rec.PendingTOTP = sealed
	if err := p.Sessions.Rotate(w, r, cur, rec); err != nil {
		p.internalError(w, r, "saving pending secret", err)
		return
	}
	p.renderEnrol(w, r, u, e.Secret, "")
}

func (p *Pages) renderEnrol(w http.ResponseWriter, r *http.Request, u *store.User, secret []byte, msg string) {
	view, err := signin.EnrolmentView(p.cfg.Issuer, u.Username, secret)
	if err != nil {
		p.internalError(w, r, "rendering enrolment", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.EnrolAnotherTOTPPage{
		Common: p.common("Add an authenticator app", u), QRDataURI: view.QRDataURI,
		Secret: view.Secret, Account: view.Account, Error: msg,
	})
}

// addAuthenticator verifies the code for the pending secret and saves it.
func (p *Pages) addAuthenticator(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodAuthenticator))
	if cur == nil {
		return
	}
	if cur.Session.PendingTOTP == nil {
		http.Redirect(w, r, p.addPath(methodAuthenticator), http.StatusSeeOther)
		return
	}
	ip := p.ClientIP(r)
	ok, detail, err := p.Codes.CheckPending(r.Context(), u, cur.Session.PendingTOTP, r.PostForm.Get("code"), ip)
	if err != nil {
		p.internalError(w, r, "checking code", err)
		return
	}
	if !ok {
		p.record(r, u, audit.SignInCodeFail, "adding authenticator: "+detail)
		secret, err := p.Codes.Open(u.ID, cur.Session.PendingTOTP)
		if err != nil {
			p.internalError(w, r, "opening pending secret", err)
			return
		}
		p.renderEnrol(w, r, u, secret, msgBadCode)
		return
	}
	if err := signin.SaveAuthenticator(r, p.Store, p.Audit, u, cur.Session.PendingTOTP, ip); err != nil {
		p.internalError(w, r, "saving authenticator", err)
		return
	}
	rec := cur.Session
	rec.PendingTOTP = nil
	if err := p.Sessions.Rotate(w, r, cur, rec); err != nil {
		p.internalError(w, r, "updating session", err)
		return
	}
	p.done(w, r, "authenticator-added")
}

// deleteAuthenticator removes one authenticator, never the last method of
// an Enforced user, and signs out the user's other sessions.
func (p *Pages) deleteAuthenticator(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		p.message(w, http.StatusBadRequest, "Bad request", "That sign-in method does not exist.")
		return
	}
	auths, err := p.Store.TOTPAuthenticators(r.Context(), u.ID)
	if err != nil {
		p.internalError(w, r, "listing authenticators", err)
		return
	}
	if u.MFAState == store.MFAEnforced && len(auths) <= 1 {
		p.message(w, http.StatusConflict, "Cannot delete", "This is the only authenticator app on your account, and your account requires multi-factor sign-in. Add another authenticator app first.")
		return
	}
	err = p.Store.DeleteTOTP(r.Context(), u.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		p.message(w, http.StatusNotFound, "Not found", "That sign-in method does not exist.")
		return
	}
	if err != nil {
		p.internalError(w, r, "deleting authenticator", err)
		return
	}
	p.record(r, u, audit.TOTPDeleted, strconv.FormatInt(id, 10))
	if err := p.keepOnlyThisSession(w, r, cur); err != nil {
		p.internalError(w, r, "ending other sessions", err)
		return
	}
	p.done(w, r, "authenticator-delete")
}

// keepOnlyThisSession ends every session of the user, then gives this
// browser a new one with the same state: a changed factor must end the
// sessions it may have protected.
func (p *Pages) keepOnlyThisSession(w http.ResponseWriter, r *http.Request, cur *session.Current) error {
	if err := p.Sessions.EndAllForUser(r.Context(), cur.User.ID); err != nil {
		return err
	}
	return p.Sessions.Start(w, r, cur.Session)
}
