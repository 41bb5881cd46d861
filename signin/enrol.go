package signin

import (
	"fmt"
	"net/http"

	"github.com/mfagate/mfagate/audit"
	"github.com/mfagate/mfagate/factor/totp"
	"github.com/mfagate/mfagate/loginui"
	"github.com/mfagate/mfagate/session"
	"github.com/mfagate/mfagate/store"
)

// AuthenticatorName labels an enrolled authenticator app.
const AuthenticatorName = "Authenticator app"

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
	secret, err := p.Codes.Open(cur.User.ID, cur.Session.PendingTOTP)
	if err != nil {
		p.internalError(w, r, "opening pending secret", err)
		return nil, nil
	}
	return cur, secret
}

func (p *Portal) showEnrol(w http.ResponseWriter, r *http.Request) {
	cur, secret := p.pendingEnrolment(w, r)
	if cur == nil {
		return
	}
	p.renderEnrol(w, r, cur, secret, http.StatusOK, "")
}

// EnrolmentView builds what a page needs to show a secret for enrolment.
func EnrolmentView(issuer, account string, secret []byte) (qr loginui.EnrolTOTPPage, err error) {
	uri, err := totp.URI(issuer, account, secret)
	if err != nil {
		return qr, err
	}
	img, err := totp.QRDataURI(uri)
	if err != nil {
		return qr, err
	}
	return loginui.EnrolTOTPPage{QRDataURI: img, Secret: totp.DisplaySecret(secret), Account: account}, nil
}

func (p *Portal) renderEnrol(w http.ResponseWriter, r *http.Request, cur *session.Current, secret []byte, status int, msg string) {
	page, err := EnrolmentView(p.cfg.Issuer, cur.User.Username, secret)
	if err != nil {
		p.internalError(w, r, "rendering enrolment", err)
		return
	}
	page.Common = p.common("More information required", cur)
	page.Error = msg
	p.UI.Render(w, status, page)
}

func (p *Portal) submitEnrol(w http.ResponseWriter, r *http.Request) {
	cur, secret := p.pendingEnrolment(w, r)
	if cur == nil || !p.readForm(w, r) {
		return
	}
	ctx := r.Context()
	ip := p.ClientIP(r)
	ok, detail, err := p.Codes.CheckPending(ctx, &cur.User, cur.Session.PendingTOTP, r.PostForm.Get("code"), ip)
	if err != nil {
		p.internalError(w, r, "checking enrolment code", err)
		return
	}
	if !ok {
		p.Audit.Record(ctx, store.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
			Event: audit.SignInCodeFail, RemoteIP: ip, Detail: "enrolment: " + detail})
		p.renderEnrol(w, r, cur, secret, http.StatusOK, msgBadCode)
		return
	}
	if err := SaveAuthenticator(r, p.Store, p.Audit, &cur.User, cur.Session.PendingTOTP, ip); err != nil {
		p.internalError(w, r, "saving authenticator", err)
		return
	}
	p.complete(w, r, cur, "authenticator enrolled", true)
}

// SaveAuthenticator stores a verified, sealed secret. Registering a method
// switches an Enabled user to Enforced (per-user MFA semantics).
func SaveAuthenticator(r *http.Request, st store.Store, log *audit.Log, u *store.User, sealed []byte, ip string) error {
	ctx := r.Context()
	existing, err := st.TOTPAuthenticators(ctx, u.ID)
	if err != nil {
		return err
	}
	name := AuthenticatorName
	if len(existing) > 0 {
		// Distinct names, so the user can tell which one to delete.
		name = fmt.Sprintf("%s %d", AuthenticatorName, len(existing)+1)
	}
	a := &store.TOTPAuthenticator{UserID: u.ID, Name: name, SealedSecret: sealed}
	if err := st.AddTOTP(ctx, a); err != nil {
		return err
	}
	if u.MFAState == store.MFAEnabled {
		if err := st.SetMFAState(ctx, u.ID, store.MFAEnforced); err != nil {
			return err
		}
		log.Record(ctx, store.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.MFAStateChanged,
			RemoteIP: ip, Detail: "enabled -> enforced (method registered)"})
	}
	log.Record(ctx, store.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.TOTPEnrolled, RemoteIP: ip})
	return nil
}
