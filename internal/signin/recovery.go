package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadRecoveryCode answers every refused recovery code: wrong, used,
// locked.
const msgBadRecoveryCode = "That recovery code didn't work. Check it and try again; each code works only once."

func (p *Portal) showRecovery(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil {
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.RecoveryCodePage{Common: p.common("Use a recovery code", cur)})
}

// submitRecovery is the recovery-code transition (core.SignIn.RecoveryCode);
// a complete sign-in goes by "You used a recovery code; N left".
func (p *Portal) submitRecovery(w http.ResponseWriter, r *http.Request) {
	cur := p.halfSignedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	rot := p.prepare(w, r, cur)
	if rot == nil {
		return
	}
	pr, err := p.Core.SignIn.RecoveryCode(r.Context(), core.RecoveryCodeInput{Code: r.PostForm.Get("code"),
		Pending: pending(cur), Client: p.client(r), Rotation: rot.Rotation})
	if err != nil {
		p.page.InternalError(w, r, "checking recovery code", err)
		return
	}
	switch {
	case pr.Refused == core.ReasonBlocked:
		p.page.Message(w, http.StatusForbidden, "Sign-in blocked", blockedMessage(pr.BlockedReason))
		return
	case pr.Refused != core.ReasonNone && pr.State == core.StateRecoveryCode:
		p.UI.Render(w, http.StatusOK, loginui.RecoveryCodePage{Common: p.common("Use a recovery code", cur), Error: msgBadRecoveryCode})
		return
	case pr.State == core.StateComplete:
		if err := p.Sessions.Commit(w, r, rot); err != nil {
			p.page.InternalError(w, r, "setting the session cookie", err)
			return
		}
		p.redirect(w, r, p.cfg.Prefix+"recovery/used")
		return
	}
	p.advance(w, r, pr, rot)
}

// signedIn loads a complete session; otherwise it sends the browser to
// sign in and returns nil.
func (p *Portal) signedIn(w http.ResponseWriter, r *http.Request) *session.Current {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return nil
	}
	if cur == nil || cur.Session.Stage != model.StageComplete {
		p.redirect(w, r, p.cfg.Prefix+"login")
		return nil
	}
	return cur
}

// showRecoveryUsed says how many recovery codes are left, between the
// sign-in and where it goes.
func (p *Portal) showRecoveryUsed(w http.ResponseWriter, r *http.Request) {
	cur := p.signedIn(w, r)
	if cur == nil {
		return
	}
	left, err := p.Core.RecoveryCodes.Left(r.Context(), cur.User.ID)
	if err != nil {
		p.page.InternalError(w, r, "counting recovery codes", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.RecoveryUsedPage{Common: p.common("You used a recovery code", cur), Left: left,
		Remind: left <= core.RecoveryReminderAt, Continue: p.afterSignIn(&cur.User, cur.Session.RedirectTo)})
}

// dueNotices are the recovery notices this sign-in shows once.
func (p *Portal) dueNotices(r *http.Request, cur *session.Current) ([]model.RecoveryNotice, error) {
	return p.Core.RecoveryNotices.DueAtSignIn(r.Context(), cur.User.ID, cur.Session.CreatedAt)
}

// showRecoveryNotice shows, once at the sign-in after a recovery, that
// the account was recovered; with none due it goes on.
func (p *Portal) showRecoveryNotice(w http.ResponseWriter, r *http.Request) {
	cur := p.signedIn(w, r)
	if cur == nil {
		return
	}
	due, err := p.dueNotices(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "loading recovery notices", err)
		return
	}
	if len(due) == 0 {
		p.redirect(w, r, p.afterSignIn(&cur.User, cur.Session.RedirectTo))
		return
	}
	page := loginui.RecoveryNoticePage{Common: p.common("Your account was recovered", cur)}
	for _, n := range due {
		page.Notices = append(page.Notices, core.NoticeText(n))
	}
	p.UI.Render(w, http.StatusOK, page)
}

// ackRecoveryNotice records that this sign-in showed the notices and
// goes on to where the sign-in goes (they stay on Security info until
// dismissed there).
func (p *Portal) ackRecoveryNotice(w http.ResponseWriter, r *http.Request) {
	cur := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	if err := p.Core.RecoveryNotices.ShownAtSignIn(r.Context(), cur.User.ID, cur.Session.CreatedAt); err != nil {
		p.page.InternalError(w, r, "recording recovery notices shown", err)
		return
	}
	p.redirect(w, r, p.afterSignIn(&cur.User, cur.Session.RedirectTo))
}

// completeTarget is where a sign-in complete just now goes: by the
// notice of a recovery made since the user's last sign-in, when there is
// one, else to rd.
func (p *Portal) completeTarget(r *http.Request, pr core.Progress) string {
	if pr.User == nil {
		return p.pageFor(pr.State, pr.RedirectTo)
	}
	due, err := p.Core.RecoveryNotices.DueAtSignIn(r.Context(), pr.User.ID, p.now())
	if err != nil {
		p.Logger.Warn("loading recovery notices", zapErr(err))
	}
	if len(due) > 0 {
		return p.cfg.Prefix + "recovery/notice"
	}
	return p.pageFor(pr.State, pr.RedirectTo)
}
