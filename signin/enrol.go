package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/audit"
	"github.com/mfagate/mfagate/factor/totp"
	"github.com/mfagate/mfagate/loginui"
	"github.com/mfagate/mfagate/session"
	"github.com/mfagate/mfagate/store"
)

// authenticatorName labels an enrolled authenticator app.
const authenticatorName = "Authenticator app"

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
	secret, err := p.FactorBox.Open(cur.Session.PendingTOTP, totpAAD(cur.User.ID))
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

func (p *Portal) renderEnrol(w http.ResponseWriter, r *http.Request, cur *session.Current, secret []byte, status int, msg string) {
	uri, err := totp.URI(p.cfg.Issuer, cur.User.Username, secret)
	if err != nil {
		p.internalError(w, r, "building otpauth uri", err)
		return
	}
	qr, err := totp.QRDataURI(uri)
	if err != nil {
		p.internalError(w, r, "rendering qr code", err)
		return
	}
	p.UI.Render(w, status, loginui.EnrolTOTPPage{
		Common:    p.common("More information required", cur),
		QRDataURI: qr,
		Secret:    totp.DisplaySecret(secret),
		Account:   cur.User.Username,
		Error:     msg,
	})
}

func (p *Portal) submitEnrol(w http.ResponseWriter, r *http.Request) {
	cur, secret := p.pendingEnrolment(w, r)
	if cur == nil || !p.readForm(w, r) {
		return
	}
	ctx := r.Context()
	ip := p.ClientIP(r)
	ok, err := p.checkEnrolmentCode(r, cur, secret, ip)
	if err != nil {
		p.internalError(w, r, "checking enrolment code", err)
		return
	}
	if !ok {
		p.Audit.Record(ctx, store.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
			Event: audit.SignInCodeFail, RemoteIP: ip, Detail: "enrolment code"})
		p.renderEnrol(w, r, cur, secret, http.StatusOK, msgBadCode)
		return
	}
	if err := p.saveAuthenticator(r, cur); err != nil {
		p.internalError(w, r, "saving authenticator", err)
		return
	}
	p.complete(w, r, cur, "authenticator enrolled")
}

// checkEnrolmentCode proves the user's app holds the secret; the step is
// claimed like any other, so the code cannot be replayed afterwards.
func (p *Portal) checkEnrolmentCode(r *http.Request, cur *session.Current, secret []byte, ip string) (bool, error) {
	ctx := r.Context()
	blocked, err := p.Limiter.Blocked(ctx, cur.User.Username, ip)
	if err != nil {
		return false, err
	}
	step, matched := totp.Match(secret, r.PostForm.Get("code"), p.now())
	if matched && blocked == "" {
		claimed, err := p.Store.ClaimTOTPStep(ctx, cur.User.ID, step)
		if err != nil || claimed {
			return claimed, err
		}
	}
	return false, p.Limiter.Failed(ctx, cur.User.Username, ip)
}

// saveAuthenticator stores the verified secret; an Enabled user becomes
// Enforced once registered (per-user MFA semantics).
func (p *Portal) saveAuthenticator(r *http.Request, cur *session.Current) error {
	ctx := r.Context()
	a := &store.TOTPAuthenticator{UserID: cur.User.ID, Name: authenticatorName, SealedSecret: cur.Session.PendingTOTP}
	if err := p.Store.AddTOTP(ctx, a); err != nil {
		return err
	}
	if cur.User.MFAState == store.MFAEnabled {
		if err := p.Store.SetMFAState(ctx, cur.User.ID, store.MFAEnforced); err != nil {
			return err
		}
	}
	p.Audit.Record(ctx, store.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
		Event: audit.TOTPEnrolled, RemoteIP: p.ClientIP(r)})
	return nil
}
