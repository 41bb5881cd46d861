package admin

import (
	"errors"
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
// filled-in Add user form) asks for one in place of its button: the
// admin's passkey (Security info's passkey form and script), a fresh code
// or the phone's approval. Each posts the change's fields again to
// reverify, which shows the same step once more, now with its button.
// Nothing is ever applied without that second click.

// The steps reverify shows again (field "then").
const (
	thenAction  = "action"
	thenAddUser = "add-user"
)

// The verify step's field method for the phone and for a passkey (a
// code has none).
const (
	methodPhone   = "phone"
	methodPasskey = "passkey"
)

// msgBadCode is the only answer to a failed code.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// msgBadPasskey is the only answer to a refused passkey.
const msgBadPasskey = "That passkey didn't work. Try again, or verify another way."

// recent reports whether the session's second factor is fresh enough for
// a change.
func (p *Pages) recent(s *model.Session) bool {
	return !s.MFAAt.IsZero() && p.now().Sub(s.MFAAt) < RecentMFA
}

// verifyStep is the re-verification asked for on a step (then) whose
// fields are posted again; problem is the last attempt's error. It offers
// every second factor the admin can use here: a passkey made for this
// site's RP ID, a code, the phone. An admin with none of them is told to
// sign in again.
func (p *Pages) verifyStep(r *http.Request, admin *model.User, then string, fields []loginui.AdminField,
	cancel, problem string) (*loginui.AdminVerify, error) {
	code, phone, err := p.Core.SignIn.SecondFactors(r.Context(), admin)
	if err != nil {
		return nil, err
	}
	passkey, err := p.Core.Passkeys.Usable(r.Context(), admin, web.PasskeySite(r))
	if err != nil {
		return nil, err
	}
	return &loginui.AdminVerify{CanPasskey: passkey, CanCode: code, CanPhone: phone, Fresh: humanize.Duration(RecentMFA),
		Then: then, Fields: fields, Cancel: cancel, Error: problem}, nil
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
	var ok bool
	var problem string
	var err error
	switch r.PostForm.Get("method") {
	case methodPhone:
		ok, problem, err = p.reverifyPhone(w, r, req, then)
		if err != nil || (!ok && problem == "") {
			if err != nil {
				p.page.InternalError(w, r, "re-verifying", err)
			}
			return // the waiting page was shown
		}
	case methodPasskey:
		ok, problem, err = p.reverifyPasskey(w, r, req)
		if err != nil {
			p.page.InternalError(w, r, "checking passkey", err)
			return
		}
	default:
		ok, err = p.reverifyCode(w, r, req)
		if err != nil {
			p.page.InternalError(w, r, "checking code", err)
			return
		}
		if !ok {
			problem = msgBadCode
		}
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

// reverifyPasskeyOptions begins a passkey re-verification bound to this
// session (JSON for passkey.js, as on Security info).
func (p *Pages) reverifyPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	options, err := p.Core.Passkeys.BeginAssertion(r.Context(), req.admin, req.cur.IDHash(), web.PasskeySite(r))
	switch {
	case errors.Is(err, core.ErrNoPasskey), errors.Is(err, core.ErrPasskeyNotOffered):
		web.WriteJSONError(w, http.StatusConflict, "You have no passkey that works on this site. Verify another way.")
		return
	case err != nil:
		p.page.InternalError(w, r, "beginning a passkey re-verification", err)
		return
	}
	web.WriteJSON(w, options)
}

// reverifyPasskey re-verifies the admin with the passkey's answer to the
// challenge begun for this session (see core.SignIn.ReverifyPasskey)
// and, when it passed, hands the browser its re-verified session; a
// refusal is said as problem ("" when this site offers no passkey: the
// step, shown again, no longer offers one).
func (p *Pages) reverifyPasskey(w http.ResponseWriter, r *http.Request, req *request) (bool, string, error) {
	rot, err := p.Sessions.Prepare(r, req.cur)
	if err != nil {
		return false, "", err
	}
	pr, err := p.Core.SignIn.ReverifyPasskey(r.Context(), core.PasskeyInput{Site: web.PasskeySite(r),
		Response: []byte(r.PostForm.Get("response")), Pending: core.Pending{Session: req.cur.Session, User: *req.admin},
		Client: p.client(r), Rotation: rot.Rotation}, core.ReverifyAdminCenter)
	switch {
	case errors.Is(err, core.ErrPasskeyNotOffered):
		return false, "", nil
	case err != nil:
		return false, "", err
	case pr.Refused != core.ReasonNone:
		return false, msgBadPasskey, nil
	}
	return true, "", p.Sessions.Commit(w, r, rot)
}

// client is the request's sender as the core records it.
func (p *Pages) client(r *http.Request) core.Client {
	return core.Client{IP: p.ClientIP(r), UserAgent: r.UserAgent(), Site: web.SiteLabel("", r)}
}

// reverifyPhone re-verifies the admin with the phone's approval of this
// session's request: once approved it is consumed (core.SignIn.
// ReverifyPhone) and ok; while none is pending (or again is posted) a new
// one is sent; while the phone has not answered, the sign-in's waiting
// page is shown (ok false, problem ""), whose check form posts the step's
// fields back here. A refusal is said as problem.
func (p *Pages) reverifyPhone(w http.ResponseWriter, r *http.Request, req *request, then string) (bool, string, error) {
	ctx := r.Context()
	ap, err := p.Core.Approvals.ForSession(ctx, req.cur.IDHash())
	if err != nil {
		return false, "", err
	}
	now := p.now()
	if ap != nil && ap.Status == model.ApprovalApproved && !ap.Expired(now) {
		rot, err := p.Sessions.Prepare(r, req.cur)
		if err != nil {
			return false, "", err
		}
		pr, err := p.Core.SignIn.ReverifyPhone(ctx, core.PhoneInput{RequestID: ap.ID,
			Pending: core.Pending{Session: req.cur.Session, User: *req.admin}, Client: p.client(r), Rotation: rot.Rotation})
		if err != nil {
			return false, "", err
		}
		if pr.Refused != core.ReasonNone {
			return false, web.MsgApprovalGone, nil
		}
		return true, "", p.Sessions.Commit(w, r, rot)
	}
	page := loginui.ApprovalWaitPage{}
	// The verify step's button and "Send another request" post again;
	// the waiting page's check does not: it shows the request's answer.
	if ap == nil || r.PostForm.Get("again") != "" || ap.Status == model.ApprovalConsumed {
		c := p.client(r)
		ap, err = p.Core.Approvals.Request(ctx, req.admin, req.cur.IDHash(), core.Context{Site: c.Site, RemoteIP: c.IP, UserAgent: c.UserAgent})
		switch {
		case errors.Is(err, core.ErrTooManyApprovals):
			return false, web.MsgTooManyApprovals, nil
		case errors.Is(err, core.ErrNoPhone):
			return false, web.MsgApprovalGone, nil
		case err != nil:
			return false, "", err
		}
	}
	page = web.ApprovalWait(page, ap, now)
	page.Common = p.page.Common("Approve the request on your phone", req.admin)
	fields := []loginui.HiddenField{{Name: "then", Value: then}, {Name: "method", Value: methodPhone}}
	for name, values := range r.PostForm {
		if name == "then" || name == "method" || name == "again" || name == "code" {
			continue
		}
		for _, v := range values {
			fields = append(fields, loginui.HiddenField{Name: name, Value: v})
		}
	}
	page.Reverify = &loginui.ApprovalReverify{Check: p.cfg.Base + "reverify", CheckMethod: "post", Fields: fields, Cancel: p.cfg.Base}
	p.UI.Render(w, http.StatusOK, page)
	return false, "", nil
}
