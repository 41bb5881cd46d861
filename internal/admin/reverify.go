package admin

import (
	"context"
	"net/http"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/internal/model"
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
	ip := p.ClientIP(r)
	ok, detail, err := p.Codes.Check(r.Context(), req.admin, r.PostForm.Get("code"), ip)
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	problem := ""
	if ok {
		rec := req.cur.Session
		rec.MFAAt = p.now()
		if err := p.Sessions.Rotate(w, r, req.cur, rec); err != nil {
			p.page.InternalError(w, r, "updating session", err)
			return
		}
	} else {
		p.Audit.Record(r.Context(), model.AuditEvent{UserID: req.admin.ID, Username: req.admin.Username,
			Event: audit.SignInCodeFail, RemoteIP: ip, Detail: "admin center re-verification: " + detail})
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
