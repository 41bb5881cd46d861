package securityinfo

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/basicauth"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// Methods offered by "Add sign-in method".
const (
	methodAuthenticator = "authenticator"
	methodAppPassword   = "app-password"
)

// notices are the confirmations a finished change may show.
var notices = map[string]string{
	"default":              "Default sign-in method updated.",
	"authenticator-added":  "Authenticator app added.",
	"authenticator-delete": "Authenticator app deleted. Your other sessions were signed out.",
	"app-password-deleted": "App password deleted. Apps using it can no longer sign in.",
}

const dateFormat = "2006-01-02"

func (p *Pages) show(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return
	}
	page, err := p.securityPage(r, u)
	if err != nil {
		p.page.InternalError(w, r, "building security info", err)
		return
	}
	page.Notice = notices[r.URL.Query().Get("done")]
	p.UI.Render(w, http.StatusOK, page)
}

// securityPage lists the user's methods.
func (p *Pages) securityPage(r *http.Request, u *model.User) (loginui.SecurityPage, error) {
	ctx := r.Context()
	auths, err := p.Core.Methods.Authenticators(ctx, u.ID)
	if err != nil {
		return loginui.SecurityPage{}, err
	}
	aps, err := p.Core.AppPasswords.List(ctx, u.ID)
	if err != nil {
		return loginui.SecurityPage{}, err
	}
	page := loginui.SecurityPage{
		Common:                p.page.Common("Security info", u),
		DefaultMethod:         string(u.DefaultMethod),
		MFAState:              string(u.MFAState),
		CanCreateAppPasswords: p.cfg.Policy.CanCreateAppPasswords(u, len(auths) > 0),
		AppPasswordCount:      len(aps),
		AppPasswordLimit:      model.MaxAppPasswords,
	}
	if !page.CanCreateAppPasswords {
		page.AppPasswordsWhyNot = p.cfg.Policy.WhyNoAppPasswords()
	}
	if len(auths) > 0 {
		page.DefaultChoices = []loginui.MethodChoice{{Value: string(model.MethodCode), Label: "Authenticator app – code"}}
		if page.DefaultMethod == "" {
			page.DefaultMethod = string(model.MethodCode)
		}
	}
	lastOfEnforced := p.cfg.Policy.MustKeepOneMethod(u) && len(auths) == 1
	for _, a := range auths {
		row := loginui.AuthenticatorRow{ID: a.ID, Name: a.Name, Added: a.CreatedAt.UTC().Format(dateFormat), CanDelete: !lastOfEnforced}
		if lastOfEnforced {
			row.WhyNotDelete = "This is the only authenticator app on your account, and your account requires multi-factor sign-in. Add another authenticator app first."
		}
		page.Authenticators = append(page.Authenticators, row)
	}
	for _, a := range aps {
		page.AppPasswords = append(page.AppPasswords, loginui.AppPasswordRow{
			ID: a.ID, Name: a.Name, Created: a.CreatedAt.UTC().Format(dateFormat),
			LastUsed: basicauth.DescribeUse(a.LastUsedAt, a.LastUsedIP),
		})
	}
	return page, nil
}

// showAdd starts adding a method (after a recent second factor).
func (p *Pages) showAdd(w http.ResponseWriter, r *http.Request) {
	method := r.URL.Query().Get("method")
	switch method {
	case methodAuthenticator:
		p.startAuthenticator(w, r)
	case methodAppPassword:
		p.showNewAppPassword(w, r)
	default:
		p.page.Message(w, http.StatusBadRequest, "Unknown method", "Choose a sign-in method from the list.")
	}
}
