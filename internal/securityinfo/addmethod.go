package securityinfo

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// Methods offered by "Add sign-in method" (field method of
// Prefix+"security/add"); methodPhone is beside the pairing.
const (
	methodAuthenticator = "authenticator"
	methodAppPassword   = "app-password"
)

// What each method is for, one line on the chooser.
const (
	aboutAuthenticator = "Sign in with a 6-digit code from an app on your phone or a hardware token."
	aboutPhone         = "Approve sign-ins on your phone by typing the number the sign-in page shows."
	aboutAppPassword   = "For an app that cannot ask for a second step, such as a mail client."
)

// showAdd serves "+ Add sign-in method": without a method, the chooser;
// with one, that method's add flow (after a recent second factor).
func (p *Pages) showAdd(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Query().Get("method") {
	case "":
		p.showChooser(w, r)
	case methodAuthenticator:
		p.startAuthenticator(w, r)
	case methodAppPassword:
		p.showNewAppPassword(w, r)
	case methodPhone:
		p.startPairing(w, r)
	case methodPasskey:
		p.startPasskey(w, r)
	default:
		p.page.Message(w, http.StatusBadRequest, "Unknown method", "Choose a sign-in method from the list.")
	}
}

// showChooser lists the methods the user may add, each linking to its
// add flow, and says why a method is missing. It changes nothing, so it
// needs no recent second factor: each flow asks for one itself.
func (p *Pages) showChooser(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return
	}
	auths, err := p.Core.Methods.Authenticators(r.Context(), u.ID)
	if err != nil {
		p.page.InternalError(w, r, "listing authenticators", err)
		return
	}
	page := loginui.AddMethodPage{Common: p.page.Common("Add a sign-in method", u)}
	page.Options = append(page.Options, loginui.AddMethodOption{Method: methodAuthenticator, Label: "Authenticator app", Description: aboutAuthenticator})
	if p.Core.Passkeys.Offered(web.PasskeySite(r)) {
		page.Options = append(page.Options, loginui.AddMethodOption{Method: methodPasskey, Label: loginui.PasskeyMethod, Description: aboutPasskey})
	} else {
		page.Missing = append(page.Missing, msgPasskeyNotOffered)
	}
	if p.cfg.Portal != "" {
		page.Options = append(page.Options, loginui.AddMethodOption{Method: methodPhone, Label: loginui.PhoneMethod, Description: aboutPhone})
	} else {
		page.Missing = append(page.Missing, msgNoPortal)
	}
	switch {
	case cur.Session.Stage == model.StageAccessPass:
		// A pass session registers a sign-in method, nothing else.
	case p.cfg.Policy.CanCreateAppPasswords(u, len(auths) > 0):
		page.Options = append(page.Options, loginui.AddMethodOption{Method: methodAppPassword, Label: "App password", Description: aboutAppPassword})
	default:
		page.Missing = append(page.Missing, p.cfg.Policy.WhyNoAppPasswords())
	}
	p.UI.Render(w, http.StatusOK, page)
}
