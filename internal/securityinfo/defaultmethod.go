package securityinfo

import (
	"errors"
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// setDefault changes the default sign-in method among those the user has.
func (p *Pages) setDefault(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	m := model.Method(r.PostForm.Get("method"))
	if m != model.MethodCode && m != model.MethodPush && m != model.MethodPasskey {
		p.page.Message(w, http.StatusBadRequest, "Unknown method", "Choose one of the methods offered.")
		return
	}
	err := p.Core.Methods.SetDefaultMethod(r.Context(), u, m, p.ClientIP(r))
	if errors.Is(err, core.ErrNoSuchMethod) {
		what := "Add an authenticator app first"
		switch m {
		case model.MethodPush:
			what = "Pair a phone first"
		case model.MethodPasskey:
			what = "Add a passkey or security key first"
		}
		p.page.Message(w, http.StatusConflict, "No such method", what+"; then it can be your default sign-in method.")
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "setting default method", err)
		return
	}
	p.done(w, r, "default")
}
