package signin

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/redirect"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadLogin is the only answer to any failed password step: unknown user,
// wrong password and locked account look the same.
const msgBadLogin = "Your account or password is incorrect."

// msgBlocked answers the right password of a blocked account (only its
// owner, or whoever knows the password, learns that it is blocked).
const msgBlocked = "Sign-in to this account is blocked because a sign-in request was reported as suspicious. Ask your administrator to unblock it."

// msgBlockedByAdmin answers the right password of an account an admin
// blocked.
const msgBlockedByAdmin = "Sign-in to this account is blocked by an administrator. Ask your administrator to unblock it."

// msgBusy answers an attempt shed under load (nothing was checked).
const msgBusy = "Too many sign-in attempts are being processed right now. Please try again in a few seconds."

func (p *Portal) showLogin(w http.ResponseWriter, r *http.Request) {
	rd := p.safeRedirect(r, r.URL.Query().Get("rd"))
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return
	}
	if cur != nil && p.cfg.Policy.SessionSatisfies(&cur.Session, &cur.User) {
		p.redirect(w, r, rd)
		return
	}
	p.renderLogin(w, http.StatusOK, "", rd, "")
}

// safeRedirect keeps rd only if it stays on this host or an allow-listed
// https domain; anything else becomes "/".
func (p *Portal) safeRedirect(r *http.Request, rd string) string {
	return redirect.SafeWithDomains(rd, r.Host, p.cfg.RedirectDomains)
}

func (p *Portal) renderLogin(w http.ResponseWriter, status int, username, rd, msg string) {
	p.UI.Render(w, status, loginui.LoginPage{
		Common:     p.common("Sign in", nil),
		Username:   username,
		RD:         rd,
		Error:      msg,
		ErrorField: loginErrorFields[msg],
	})
}

// Messages that ask for one field. A refused password names neither field
// on purpose (it must not tell whether the account exists), but the
// username stays filled in, so the password is the field to type again.
const (
	msgEnterUsername = "Enter your username."
	msgEnterPassword = "Enter your password."
)

// loginErrorFields is the field each message asks to fix; the others (a
// blocked account, a busy server) are about neither.
var loginErrorFields = map[string]string{
	msgEnterUsername: "username",
	msgEnterPassword: "password",
	msgBadLogin:      "password",
}

func (p *Portal) submitLogin(w http.ResponseWriter, r *http.Request) {
	if !p.page.ReadForm(w, r) {
		return
	}
	typed := strings.TrimSpace(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	rd := p.safeRedirect(r, r.PostForm.Get("rd"))
	ip := p.ClientIP(r)
	// An empty field judges no secret: it costs no attempt and tells
	// nothing about the account.
	switch {
	case typed == "":
		p.renderLogin(w, http.StatusOK, typed, rd, msgEnterUsername)
		return
	case pw == "":
		p.renderLogin(w, http.StatusOK, typed, rd, msgEnterPassword)
		return
	}

	out, err := p.checkPassword(r, typed, pw, ip)
	if errors.Is(err, password.ErrBusy) {
		w.Header().Set("Retry-After", "1")
		p.renderLogin(w, http.StatusServiceUnavailable, typed, rd, msgBusy)
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "checking password", err)
		return
	}
	if out.User == nil {
		p.Audit.Record(r.Context(), model.AuditEvent{UserID: out.Who.ID, Username: out.Who.Username, Event: audit.SignInPasswordFail, RemoteIP: ip, Detail: out.Detail})
		p.logSignIn(r, out.Who, "", model.SignInFailure, out.Detail)
		msg := msgBadLogin
		if out.Blocked {
			msg = msgBlockedByAdmin
			if out.BlockedReason == model.BlockedByReport {
				msg = msgBlocked
			}
		}
		p.renderLogin(w, http.StatusOK, typed, rd, msg)
		return
	}
	p.upgradeHash(r.Context(), out.User, pw, ip)
	p.startSecondStep(w, r, out.User, rd, ip)
}

// checkPassword judges the password under the brute-force rules (see
// core.Attempts). It always pays one bcrypt comparison, whether the user
// exists, is locked out or not, so neither answer nor timing tells them
// apart; only a repeat of a wrong password sent for the same name
// recently is refused without one (which tells the sender only what they
// already learnt).
func (p *Portal) checkPassword(r *http.Request, typed, pw, ip string) (core.Outcome, error) {
	return p.Core.Attempts.ByName(r.Context(), typed, ip, core.Guess{Secret: pw, As: core.GuessAccountPassword}, func(ctx context.Context, u *model.User) (bool, string, error) {
		hash := ""
		if u != nil {
			hash = u.PasswordHash
		}
		matched, err := p.Hasher.VerifyBounded(ctx, hash, pw)
		switch {
		case err != nil:
			return false, "", err
		case u == nil:
			return false, "unknown user", nil
		case !matched:
			return false, "wrong password", nil
		case core.TemporaryPasswordExpired(u, p.now()):
			return false, "temporary password expired", nil
		}
		return true, "", nil
	})
}

// startSecondStep records the passed first factor in a fresh session (new
// identifier) and sends the user to the code or the enrolment page.
func (p *Portal) startSecondStep(w http.ResponseWriter, r *http.Request, user *model.User, rd, ip string) {
	ctx := r.Context()
	rec := model.Session{
		UserID:     user.ID,
		Stage:      model.StagePassword,
		RedirectTo: rd,
		RemoteIP:   ip,
		UserAgent:  safetext.Clean(r.UserAgent(), 256),
	}
	if !p.cfg.Policy.BrowserNeedsSecondFactor(user) {
		p.signInWithPasswordOnly(w, r, user, rec)
		return
	}
	auths, err := p.Core.Methods.Authenticators(ctx, user.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing authenticators", err)
		return
	}
	phone, err := p.Core.Approvals.HasPhone(ctx, user)
	if err != nil {
		p.page.InternalError(w, r, "listing phones", err)
		return
	}
	next := p.cfg.Prefix + "verify"
	if phone && (len(auths) == 0 || user.DefaultMethod == model.MethodPush) {
		next = p.cfg.Prefix + "push"
	}
	if len(auths) == 0 && !phone {
		pending, err := p.newPendingSecret(user)
		if err != nil {
			p.page.InternalError(w, r, "preparing enrolment", err)
			return
		}
		rec.PendingTOTP = pending
		next = p.cfg.Prefix + "enrol"
	}
	if err := p.replaceOrStart(w, r, rec); err != nil {
		p.page.InternalError(w, r, "starting session", err)
		return
	}
	p.Audit.Record(ctx, model.AuditEvent{UserID: user.ID, Username: user.Username, Event: audit.SignInPasswordOK, RemoteIP: ip})
	p.redirect(w, r, next)
}

// replaceOrStart rotates the browser's existing session (if any) into rec,
// so an old identifier never survives a sign-in step.
func (p *Portal) replaceOrStart(w http.ResponseWriter, r *http.Request, rec model.Session) error {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		return err
	}
	if cur != nil {
		err := p.Sessions.Rotate(w, r, cur, rec)
		if !errors.Is(err, session.ErrGone) {
			return err
		}
	}
	return p.Sessions.Start(w, r, rec)
}

// signInWithPasswordOnly completes sign-in for users whose MFA state is
// Disabled on a site that does not require MFA.
func (p *Portal) signInWithPasswordOnly(w http.ResponseWriter, r *http.Request, user *model.User, rec model.Session) {
	rec.Stage = model.StageComplete
	if err := p.replaceOrStart(w, r, rec); err != nil {
		p.page.InternalError(w, r, "starting session", err)
		return
	}
	p.finish(w, r, user, rec.RedirectTo, "password only (MFA disabled)")
}

func (p *Portal) newPendingSecret(user *model.User) ([]byte, error) {
	e, err := totp.NewEnrolment(p.cfg.Issuer, user.Username)
	if err != nil {
		return nil, err
	}
	return p.Codes.Seal(user.ID, e.Secret)
}
