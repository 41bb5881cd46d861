package securityinfo

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// startAuthenticator shows a new secret to scan. The secret travels sealed
// (AES-GCM, bound to this user) in the form, so showing the page (a GET)
// stores nothing; the code posted with it proves the app holds it.
func (p *Pages) startAuthenticator(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodAuthenticator))
	if cur == nil {
		return
	}
	e, err := totp.NewEnrolment(p.cfg.Issuer, u.Username)
	if err != nil {
		p.page.InternalError(w, r, "new secret", err)
		return
	}
	sealed, err := p.Codes.Seal(u.ID, e.Secret)
	if err != nil {
		p.page.InternalError(w, r, "sealing secret", err)
		return
	}
	p.renderEnrol(w, r, u, e.Secret, sealed, "")
}

func (p *Pages) renderEnrol(w http.ResponseWriter, r *http.Request, u *model.User, secret, sealed []byte, msg string) {
	view, err := web.EnrolmentView(p.cfg.Issuer, u.Username, secret)
	if err != nil {
		p.page.InternalError(w, r, "rendering enrolment", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.EnrolAnotherTOTPPage{
		Common: p.page.Common("Add an authenticator app", u), QRDataURI: view.QRDataURI,
		Secret: view.Secret, Account: view.Account, Error: msg,
		Pending: base64.RawURLEncoding.EncodeToString(sealed),
	})
}

// addAuthenticator verifies the code for the posted pending secret and
// saves it.
func (p *Pages) addAuthenticator(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodAuthenticator))
	if cur == nil {
		return
	}
	sealed, err := base64.RawURLEncoding.DecodeString(r.PostForm.Get("pending"))
	if err != nil || len(sealed) == 0 {
		p.page.Message(w, http.StatusBadRequest, "Bad request", "The form was incomplete. Start adding the authenticator app again.")
		return
	}
	secret, err := p.Codes.Open(u.ID, sealed)
	if err != nil {
		p.page.Message(w, http.StatusBadRequest, "Bad request", "The form was altered or belongs to another account. Start adding the authenticator app again.")
		return
	}
	why, err := p.Core.SignIn.AddAuthenticator(r.Context(), core.AnotherInput{User: u, Sealed: sealed,
		Code: r.PostForm.Get("code"), Client: p.client(r)})
	if err != nil {
		p.page.InternalError(w, r, "saving authenticator", err)
		return
	}
	switch why {
	case core.ReasonNone:
	case core.ReasonAlreadyEnrolled:
		p.page.Message(w, http.StatusConflict, "Already added", "This authenticator app is already on your account.")
		return
	default:
		p.renderEnrol(w, r, u, secret, sealed, msgBadCode)
		return
	}
	if p.passAdded(w, r, cur, "Authenticator app") {
		return
	}
	p.done(w, r, "authenticator-added")
}

// deleteAuthenticator removes one authenticator, never the last method of
// an Enforced user, and signs out the user's other sessions (as every
// removed method does; this one stays).
func (p *Pages) deleteAuthenticator(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		p.page.Message(w, http.StatusBadRequest, "Bad request", "That sign-in method does not exist.")
		return
	}
	err = p.Core.Methods.DeleteAuthenticator(r.Context(), u, id, p.cfg.Policy.MustKeepOneMethod(u), cur.IDHash(), p.ClientIP(r))
	if errors.Is(err, model.ErrLimit) {
		p.page.Message(w, http.StatusConflict, "Cannot delete", msgLastAuthenticator)
		return
	}
	if errors.Is(err, model.ErrNotFound) {
		p.page.Message(w, http.StatusNotFound, "Not found", "That sign-in method does not exist.")
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "deleting authenticator", err)
		return
	}
	p.done(w, r, "authenticator-delete")
}
