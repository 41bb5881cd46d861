package signin

import (
	"net/http"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/loginui"
)

func zapErr(err error) zap.Field { return zap.Error(err) }

// showLogout asks for confirmation: a GET never changes state.
func (p *Portal) showLogout(w http.ResponseWriter, r *http.Request) {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.LogoutPage{Common: p.common("Sign out", cur)})
}

func (p *Portal) submitLogout(w http.ResponseWriter, r *http.Request) {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return
	}
	if cur != nil {
		pend := pending(cur)
		if err := p.Core.SignIn.SignOut(r.Context(), cur.IDHash(), &pend, p.client(r)); err != nil {
			p.page.InternalError(w, r, "ending session", err)
			return
		}
	}
	p.Sessions.Forget(w, r, cur)
	p.UI.Render(w, http.StatusOK, loginui.MessagePage{
		Common:   p.common("Signed out", nil),
		Heading:  "You have signed out",
		Message:  "Your session has ended on this device.",
		LinkText: "Sign in again",
		LinkHref: p.cfg.Prefix + "login",
	})
}
