package admin

import (
	"context"
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// Re-verification: reading the admin center needs only an admin's
// complete session, but a change also needs a second factor from the last
// RecentMFA. When it is older, the change's confirmation step (or the
// filled-in Add user form) asks for a fresh code in place of its button;
// the code posts the change's fields again to reverify, which shows the
// same step once more, now with its button. Nothing is ever applied
// without that second click.

// The steps reverify shows again (field "then").
const (
	thenAction  = "action"
	thenAddUser = "add-user"
)

// msgBadCode is the only answer to a failed code.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// recent reports whether the session's second factor is fresh enough for
// a change.
func (p *Pages) recent(s *model.Session) bool {
	return !s.MFAAt.IsZero() && p.now().Sub(s.MFAAt) < RecentMFA
}

// verifyStep is the re-verification asked for on a step (then) whose
// fields are posted again; problem is the last code's error. An admin
// without an authenticator app (a phone only) is told to sign in again.
func (p *Pages) verifyStep(ctx context.Context, admin *model.User, then string, fields []loginui.AdminField,
	cancel, problem string) (*loginui.AdminVerify, error) {
	auths, err := p.Core.Methods.Authenticators(ctx, admin.ID)
	if err != nil {
		return nil, err
	}
	return &loginui.AdminVerify{CanCode: len(auths) > 0, Fresh: humanize.Duration(RecentMFA), Then: then,
		Fields: fields, Cancel: cancel, Error: problem}, nil
}

// reverify checks a fresh code posted from a verify step and, when it
// passes, marks the session as recently verified (under a new
// identifier); either way it shows the same step again with the same
// fields: to confirm, or to try another code. It applies nothing.
func (p *Pages) reverify(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	then := r.PostForm.Get("then")
	if then != thenAction && then != thenAddUser {
		p.backMessage(w, http.StatusBadRequest, "Nothing was changed", "The form could not be read. Go back and try again.", p.cfg.Base)
		return
	}
	ok, err := p.reverifyCode(w, r, req)
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	problem := ""
	if !ok {
		problem = msgBadCode
	}
	if then == thenAddUser {
		p.addUserStep(w, r, req, readAddUser(r), ok, problem)
		return
	}
	f, bad := p.readAction(r)
	if bad != "" {
		p.backMessage(w, http.StatusBadRequest, "Nothing was changed", bad, f.back)
		return
	}
	p.confirm(w, r, req, f, ok, problem)
}

// reverifyCode re-verifies the admin with the posted code (see
// core.SignIn.ReverifyCode) and, when it passed, hands the browser its
// re-verified session.
func (p *Pages) reverifyCode(w http.ResponseWriter, r *http.Request, req *request) (bool, error) {
	rot, err := p.Sessions.Prepare(r, req.cur)
	if err != nil {
		return false, err
	}
	pr, err := p.Core.SignIn.ReverifyCode(r.Context(), core.CodeInput{Code: r.PostForm.Get("code"),
		Pending: core.Pending{Session: req.cur.Session, User: *req.admin}, Client: p.client(r), Rotation: rot.Rotation},
		core.ReverifyAdminCenter)
	if err != nil || pr.Refused != core.ReasonNone {
		return false, err
	}
	return true, p.Sessions.Commit(w, r, rot)
}

// client is the request's sender as the core records it.
func (p *Pages) client(r *http.Request) core.Client {
	return core.Client{IP: p.ClientIP(r), UserAgent: r.UserAgent(), Site: web.SiteLabel("", r)}
}
