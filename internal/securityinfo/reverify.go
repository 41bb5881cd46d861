package securityinfo

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// Re-verification before a change takes any second factor the user has:
// a code (reverify), or the approval of a request sent to the paired
// phone (requestReverifyPhone, then checkReverifyPhone once the phone has
// answered: the sign-in's waiting page, checking here). Each is a
// transition of the core's sign-in (core.SignIn.ReverifyCode,
// ReverifyPhone): the session continues under a new identifier, recently
// verified, and the browser returns to the page that asked.

// msgBadCode is the only answer to a failed code.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// reverifyPost is a posted re-verification: the session it continues,
// its user, the page to return to and the session's next identity.
type reverifyPost struct {
	cur  *session.Current
	u    *model.User
	next string
	rot  *session.Rotation
}

// readReverify reads a posted re-verification of a signed-in session
// (nil: answered already).
func (p *Pages) readReverify(w http.ResponseWriter, r *http.Request) *reverifyPost {
	cur, u := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return nil
	}
	rot, err := p.Sessions.Prepare(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "preparing the session", err)
		return nil
	}
	return &reverifyPost{cur: cur, u: u, next: p.safeNext(r.PostForm.Get("next")), rot: rot}
}

// reverify checks a fresh code, then returns to the page that asked.
func (p *Pages) reverify(w http.ResponseWriter, r *http.Request) {
	f := p.readReverify(w, r)
	if f == nil {
		return
	}
	cur, u, next, rot := f.cur, f.u, f.next, f.rot
	pr, err := p.Core.SignIn.ReverifyCode(r.Context(), core.CodeInput{Code: r.PostForm.Get("code"),
		Pending: core.Pending{Session: cur.Session, User: *u}, Client: p.client(r), Rotation: rot.Rotation}, core.ReverifySecurityInfo)
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	if pr.Refused != core.ReasonNone {
		p.renderReverifyFor(w, r, u, next, msgBadCode)
		return
	}
	p.verified(w, r, rot, next)
}

// requestReverifyPhone sends a request to the user's phone for this
// session and shows the waiting page (via checkReverifyPhone).
func (p *Pages) requestReverifyPhone(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	next := p.safeNext(r.PostForm.Get("next"))
	c := p.client(r)
	_, err := p.Core.Approvals.Request(r.Context(), u, cur.IDHash(), core.Context{Site: c.Site, RemoteIP: c.IP, UserAgent: c.UserAgent})
	switch {
	case errors.Is(err, core.ErrTooManyApprovals):
		p.renderWait(w, u, next, loginui.ApprovalWaitPage{Problem: web.MsgTooManyApprovals})
		return
	case errors.Is(err, core.ErrNoPhone):
		p.renderReverifyFor(w, r, u, next, "")
		return
	case err != nil:
		p.page.InternalError(w, r, "sending a request to the phone", err)
		return
	}
	http.Redirect(w, r, p.phoneCheckPath(next), http.StatusSeeOther)
}

// checkReverifyPhone shows this session's request while the phone has
// not answered, re-verifies once it approved, and explains a refusal.
func (p *Pages) checkReverifyPhone(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return
	}
	next := p.safeNext(r.URL.Query().Get("next"))
	ap, err := p.Core.Approvals.ForSession(r.Context(), cur.IDHash())
	if err != nil {
		p.page.InternalError(w, r, "loading the request", err)
		return
	}
	if ap == nil {
		// No request of this session (used by the session it replaced):
		// the page asks again if it must.
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	if ap.Status != model.ApprovalApproved || ap.Expired(p.now()) {
		p.renderWait(w, u, next, web.ApprovalWait(loginui.ApprovalWaitPage{}, ap, p.now()))
		return
	}
	rot, err := p.Sessions.Prepare(r, cur)
	if err != nil {
		p.page.InternalError(w, r, "preparing the session", err)
		return
	}
	pr, err := p.Core.SignIn.ReverifyPhone(r.Context(), core.PhoneInput{RequestID: ap.ID,
		Pending: core.Pending{Session: cur.Session, User: *u}, Client: p.client(r), Rotation: rot.Rotation})
	if err != nil {
		p.page.InternalError(w, r, "re-verifying", err)
		return
	}
	if pr.Refused != core.ReasonNone {
		p.renderWait(w, u, next, loginui.ApprovalWaitPage{Problem: web.MsgApprovalGone})
		return
	}
	p.verified(w, r, rot, next)
}

// phoneCheckPath is where the waiting page checks the request.
func (p *Pages) phoneCheckPath(next string) string {
	return p.securityPath() + "/reverify/push?next=" + url.QueryEscape(next)
}

// renderWait shows the sign-in's waiting page as this re-verification's.
func (p *Pages) renderWait(w http.ResponseWriter, u *model.User, next string, page loginui.ApprovalWaitPage) {
	page.Common = p.page.Common("Approve the request on your phone", u)
	page.Reverify = &loginui.ApprovalReverify{Check: p.securityPath() + "/reverify/push", CheckMethod: "get",
		Fields: []loginui.HiddenField{{Name: "next", Value: next}}, CodeHref: next, Cancel: p.securityPath()}
	if page.Problem != "" {
		// Asking again is a POST to the same address.
		page.Reverify.CheckMethod = "post"
	}
	p.UI.Render(w, http.StatusOK, page)
}

// verified hands the browser its re-verified session and returns to next.
func (p *Pages) verified(w http.ResponseWriter, r *http.Request, rot *session.Rotation, next string) {
	if err := p.Sessions.Commit(w, r, rot); err != nil {
		p.page.InternalError(w, r, "updating session", err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// client is the request's sender as the core records it.
func (p *Pages) client(r *http.Request) core.Client {
	return core.Client{IP: p.ClientIP(r), UserAgent: r.UserAgent(), Site: web.SiteLabel("", r)}
}

// renderReverifyFor asks u for a second factor before a change, with
// whichever u has.
func (p *Pages) renderReverifyFor(w http.ResponseWriter, r *http.Request, u *model.User, next, msg string) {
	m, err := p.reverifyMethods(r, u)
	if err != nil {
		p.page.InternalError(w, r, "listing sign-in methods", err)
		return
	}
	p.renderReverify(w, u, next, m, msg)
}

// reverifiers are the second factors a user can re-verify with here.
type reverifiers struct{ code, phone, passkey bool }

func (m reverifiers) any() bool { return m.code || m.phone || m.passkey }

// reverifyMethods says which second factors u can re-verify with on
// this site: a code, the phone, a passkey usable here.
func (p *Pages) reverifyMethods(r *http.Request, u *model.User) (reverifiers, error) {
	code, phone, err := p.Core.SignIn.SecondFactors(r.Context(), u)
	if err != nil {
		return reverifiers{}, err
	}
	passkey, err := p.Core.Passkeys.Usable(r.Context(), u, web.PasskeySite(r))
	return reverifiers{code: code, phone: phone, passkey: passkey}, err
}

// renderReverify asks for a second factor among m.
func (p *Pages) renderReverify(w http.ResponseWriter, u *model.User, next string, m reverifiers, msg string) {
	p.UI.Render(w, http.StatusOK, loginui.ReverifyPage{Common: p.page.Common("Verify your identity", u), Next: next,
		Error: msg, NoCode: !m.code, CanPhone: m.phone, CanPasskey: m.passkey})
}

// msgBadPasskey is the only answer to a refused passkey.
const msgBadPasskey = "That passkey didn't work. Try again, or verify another way."

// reverifyPasskeyOptions begins a passkey re-verification bound to this
// session (JSON for passkey.js).
func (p *Pages) reverifyPasskeyOptions(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return
	}
	options, err := p.Core.Passkeys.BeginAssertion(r.Context(), u, cur.IDHash(), web.PasskeySite(r))
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

// reverifyPasskey checks the passkey's answer, then returns to the page
// that asked.
func (p *Pages) reverifyPasskey(w http.ResponseWriter, r *http.Request) {
	f := p.readReverify(w, r)
	if f == nil {
		return
	}
	cur, u, next, rot := f.cur, f.u, f.next, f.rot
	pr, err := p.Core.SignIn.ReverifyPasskey(r.Context(), core.PasskeyInput{Site: web.PasskeySite(r),
		Response: []byte(r.PostForm.Get("response")), Pending: core.Pending{Session: cur.Session, User: *u},
		Client: p.client(r), Rotation: rot.Rotation}, core.ReverifySecurityInfo)
	if errors.Is(err, core.ErrPasskeyNotOffered) {
		p.renderReverifyFor(w, r, u, next, "")
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "checking passkey", err)
		return
	}
	if pr.Refused != core.ReasonNone {
		p.renderReverifyFor(w, r, u, next, msgBadPasskey)
		return
	}
	p.verified(w, r, rot, next)
}
