package signin

import (
	"context"
	"net/http"
	"strconv"

	"github.com/mfagate/mfagate/audit"
	"github.com/mfagate/mfagate/factor/totp"
	"github.com/mfagate/mfagate/loginui"
	"github.com/mfagate/mfagate/session"
	"github.com/mfagate/mfagate/store"
)

// msgBadCode answers every failed code: wrong, reused, expired or locked.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// totpAAD binds a sealed authenticator secret to its user.
func totpAAD(userID int64) []byte {
	return []byte("mfagate/totp/" + strconv.FormatInt(userID, 10))
}

// halfSignedIn loads the session of a user who has passed the password step;
// otherwise it sends them to the login page and returns nil.
func (p *Portal) halfSignedIn(w http.ResponseWriter, r *http.Request) *session.Current {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.internalError(w, r, "loading session", err)
		return nil
	}
	if cur == nil {
		p.redirect(w, r, p.cfg.Prefix+"login")
		return nil
	}
	if cur.Session.Stage == store.StageComplete {
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
	p.renderVerify(w, cur, http.StatusOK, "")
}

func (p *Portal) renderVerify(w http.ResponseWriter, cur *session.Current, status int, msg string) {
	p.UI.Render(w, status, loginui.VerifyCodePage{Common: p.common("Enter code", cur), Error: msg})
}

func (p *Portal) submitVerify(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil || !p.readForm(w, r) {
		return
	}
	ok, detail, err := p.checkCode(r.Context(), cur, r.PostForm.Get("code"), p.ClientIP(r))
	if err != nil {
		p.internalError(w, r, "checking code", err)
		return
	}
	if !ok {
		p.Audit.Record(r.Context(), store.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
			Event: audit.SignInCodeFail, RemoteIP: p.ClientIP(r), Detail: detail})
		p.renderVerify(w, cur, http.StatusOK, msgBadCode)
		return
	}
	p.complete(w, r, cur, "authenticator code")
}

// checkCode verifies a code against the user's authenticators and claims
// its time step, so the same code never works twice.
func (p *Portal) checkCode(ctx context.Context, cur *session.Current, code, ip string) (bool, string, error) {
	blocked, err := p.Limiter.Blocked(ctx, cur.User.Username, ip)
	if err != nil {
		return false, "", err
	}
	auths, err := p.Store.TOTPAuthenticators(ctx, cur.User.ID)
	if err != nil {
		return false, "", err
	}
	step, matched := p.matchAny(auths, cur.User.ID, code)
	detail := "wrong code"
	if matched && blocked == "" {
		claimed, err := p.Store.ClaimTOTPStep(ctx, cur.User.ID, step)
		if err != nil {
			return false, "", err
		}
		if claimed {
			return true, "", nil
		}
		detail = "code already used"
	}
	if blocked != "" {
		detail = blocked
	}
	return false, detail, p.Limiter.Failed(ctx, cur.User.Username, ip)
}

func (p *Portal) matchAny(auths []store.TOTPAuthenticator, userID int64, code string) (int64, bool) {
	now := p.now()
	for _, a := range auths {
		secret, err := p.FactorBox.Open(a.SealedSecret, totpAAD(userID))
		if err != nil {
			p.Logger.Warn("cannot open authenticator secret (factor key changed?)")
			continue
		}
		if step, ok := totp.Match(secret, code, now); ok {
			return step, true
		}
	}
	return 0, false
}

// complete finishes sign-in: new identifier, stage complete, counter cleared.
func (p *Portal) complete(w http.ResponseWriter, r *http.Request, cur *session.Current, method string) {
	ctx := r.Context()
	rec := cur.Session
	rec.Stage = store.StageComplete
	rec.MFAAt = p.now()
	rec.PendingTOTP = nil
	if err := p.Sessions.Rotate(w, r, cur, rec); err != nil {
		p.internalError(w, r, "completing session", err)
		return
	}
	if err := p.Limiter.Succeeded(ctx, cur.User.Username); err != nil {
		p.Logger.Warn("clearing failure counter", zapErr(err))
	}
	p.Audit.Record(ctx, store.AuditEvent{UserID: cur.User.ID, Username: cur.User.Username,
		Event: audit.SignInComplete, RemoteIP: p.ClientIP(r), Detail: method})
	p.redirect(w, r, orRoot(rec.RedirectTo))
}
