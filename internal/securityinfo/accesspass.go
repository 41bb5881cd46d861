package securityinfo

import (
	"net/http"
	"net/url"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/loginui"
)

// A session signed in with a Temporary Access Pass (model.StageAccessPass)
// reaches Security info only, and there only what registers a new
// method: the list, the chooser, and adding an authenticator app, a phone
// or a passkey (the list shows no other control: security.html). The
// pass stands for both factors, so it is also the recent
// second factor adding asks for (its MFAAt is the pass's sign-in), and
// the session works for RecentMFA only. Once a method is added the
// session ends (passAdded): the user signs in normally with it, so
// nothing but the new method's registration ever rests on the pass.

// passAllowed reports whether r is one of the requests a pass session may make (method and path,
// the add chooser's method parameter apart).
func (p *Pages) passAllowed(r *http.Request) bool {
	pre := p.securityPath()
	switch r.Method + " " + r.URL.Path {
	case "GET " + pre, "HEAD " + pre, "POST " + pre + "/authenticator", "POST " + pre + "/phone",
		"POST " + pre + "/passkey/options", "POST " + pre + "/passkey":
		return true
	case "GET " + pre + "/add":
		switch r.URL.Query().Get("method") {
		case "", methodAuthenticator, methodPhone, methodPasskey:
			return true
		}
	}
	return false
}

// msgPassOnly says what a pass session cannot do.
const msgPassOnly = "You signed in with a Temporary Access Pass: add a sign-in method (an authenticator app, a phone or a passkey), then sign in with it to do anything else."

// passSessionMay reports whether the pass session cur may make request
// r now; when not, it has answered (sign in again once the session is
// older than RecentMFA; else a page saying what the session is for).
func (p *Pages) passSessionMay(w http.ResponseWriter, r *http.Request, cur *session.Current) bool {
	since := cur.Session.MFAAt
	if since.IsZero() || p.now().Sub(since) >= RecentMFA {
		p.toSignIn(w, r)
		return false
	}
	if !p.passAllowed(r) {
		page := p.page
		page.BackText, page.BackHref = "Back to Security info", p.securityPath()
		page.Message(w, http.StatusForbidden, "Add a sign-in method first", msgPassOnly)
		return false
	}
	return true
}

// passAdded ends a pass session once a method was added with it, and
// says to sign in with the new method; false when cur is no pass
// session (the caller goes on as usual).
func (p *Pages) passAdded(w http.ResponseWriter, r *http.Request, cur *session.Current, what string) bool {
	if cur.Session.Stage != model.StageAccessPass {
		return false
	}
	pend := core.Pending{Session: cur.Session, User: cur.User}
	if err := p.Core.SignIn.SignOut(r.Context(), cur.IDHash(), &pend, p.client(r)); err != nil {
		p.page.InternalError(w, r, "ending the access-pass session", err)
		return true
	}
	p.Sessions.Forget(w, r, cur)
	p.UI.Render(w, http.StatusOK, loginui.MessagePage{
		Common:   p.page.Common(what+" added", nil),
		Heading:  what + " added",
		Message:  "Your Temporary Access Pass session has ended. Sign in with your password and your new sign-in method.",
		LinkText: "Sign in",
		LinkHref: p.cfg.Prefix + "login?rd=" + url.QueryEscape(p.securityPath()),
	})
	return true
}
