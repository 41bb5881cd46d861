package securityinfo

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/loginui"
)

// msgBadCode is the only answer to a failed code.
const msgBadCode = "That code didn't work. Wait for a new code in your authenticator app and try again."

// reverify checks a fresh code and marks the session as recently verified
// (under a new identifier), then returns to the page that asked.
func (p *Pages) reverify(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	next := p.safeNext(r.PostForm.Get("next"))
	ip := p.ClientIP(r)
	ok, detail, err := p.Codes.Check(r.Context(), u, r.PostForm.Get("code"), ip)
	if err != nil {
		p.page.InternalError(w, r, "checking code", err)
		return
	}
	if !ok {
		p.record(r, u, audit.SignInCodeFail, "re-verification: "+detail)
		p.UI.Render(w, http.StatusOK, loginui.ReverifyPage{Common: p.page.Common("Verify your identity", u), Next: next, Error: msgBadCode})
		return
	}
	rec := cur.Session
	rec.MFAAt = p.now()
	if err := p.Sessions.Rotate(w, r, cur, rec); err != nil {
		p.page.InternalError(w, r, "updating session", err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}
