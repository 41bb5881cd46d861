package securityinfo

import (
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// notices are the confirmations a finished change may show.
var notices = map[string]string{
	"default":                        "Default sign-in method updated.",
	"renamed":                        "Sign-in method renamed.",
	"authenticator-added":            "Authenticator app added.",
	"authenticator-delete":           "Authenticator app deleted. Your other sessions were signed out.",
	"app-password-deleted":           "App password deleted. Apps using it can no longer sign in.",
	"phone-added":                    "Phone paired. Sign-in requests will be sent to it.",
	"phone-removed":                  "Phone removed. It can no longer approve sign-ins.",
	"passkey-added":                  "Passkey added. You can sign in with it on this organisation's sites.",
	"passkey-deleted":                "Passkey deleted. Your other sessions were signed out.",
	"password-changed":               "Password changed. Your other sessions were signed out.",
	"password-changed-app-passwords": "Password changed. Your other sessions were signed out and your app passwords deleted.",
	"signed-out-everywhere":          "Your other sessions were signed out. This one stays signed in.",
	"recovery-notice-dismissed":      "Notice dismissed.",
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
	page.AccessPass = cur.Session.Stage == model.StageAccessPass
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
	devices, err := p.Core.Phones.Devices(ctx, u.ID)
	if err != nil {
		return loginui.SecurityPage{}, err
	}
	phones := activeCount(devices)
	passkeys, err := p.Core.Passkeys.Credentials(ctx, u.ID)
	if err != nil {
		return loginui.SecurityPage{}, err
	}
	page := loginui.SecurityPage{
		Common:        p.page.Common("Security info", u),
		DefaultMethod: string(u.DefaultMethod),
		MFAState:      string(u.MFAState),
	}
	if !p.cfg.OnPortal {
		page.AppHref = "/"
	}
	page.DefaultChoices, page.DefaultMethod = defaultChoices(len(auths) > 0, phones > 0, len(passkeys) > 0, u.DefaultMethod)
	lastOfEnforced := p.lastMethod(u, len(auths)+phones+len(passkeys))
	page.Devices = deviceRows(devices, lastOfEnforced)
	page.Passkeys = passkeyRows(passkeys, lastOfEnforced)
	for _, a := range auths {
		row := loginui.AuthenticatorRow{ID: a.ID, Name: a.Name, Added: a.CreatedAt.UTC().Format(dateFormat), CanDelete: !lastOfEnforced}
		if lastOfEnforced {
			row.WhyNotDelete = msgLastAuthenticator
		}
		page.Authenticators = append(page.Authenticators, row)
	}
	for _, a := range aps {
		page.AppPasswords = append(page.AppPasswords, loginui.AppPasswordRow{
			ID: a.ID, Name: a.Name, Created: a.CreatedAt.UTC().Format(dateFormat),
			LastUsed: web.DescribeUse(a.LastUsedAt, a.LastUsedIP),
		})
	}
	page.Activity, err = p.activity(r, u)
	if err != nil {
		return loginui.SecurityPage{}, err
	}
	if page.Recovery, err = p.recoveryInfo(r, u); err != nil {
		return loginui.SecurityPage{}, err
	}
	return page, nil
}

// activityRows is how many recent sign-ins Security info shows.
const activityRows = 20

// activity lists the user's sign-ins of the last 30 days.
func (p *Pages) activity(r *http.Request, u *model.User) ([]loginui.ActivityRow, error) {
	rows, err := p.Core.SignInLog.Recent(r.Context(), u.ID, activityRows)
	if err != nil {
		return nil, err
	}
	out := make([]loginui.ActivityRow, 0, len(rows))
	for _, e := range rows {
		method := e.FirstFactor
		if e.SecondFactor != "" && !strings.HasPrefix(e.SecondFactor, "not required") {
			method += " + " + e.SecondFactor
		}
		out = append(out, loginui.ActivityRow{When: e.At.UTC().Format("2006-01-02 15:04 UTC"), Site: e.Site, From: e.RemoteIP,
			Client: e.Client, Method: method, Success: e.Result == model.SignInSuccess, Reason: e.Reason})
	}
	return out, nil
}

// defaultChoices offers the methods the user has (passkey, phone, code,
// the system-preferred order), and the default as it applies: the chosen
// one if the user still has it, else the first available in that order
// (what a sign-in starts with where passkeys are offered).
func defaultChoices(hasCode, hasPhone, hasPasskey bool, chosen model.Method) ([]loginui.MethodChoice, string) {
	var choices []loginui.MethodChoice
	if hasPasskey {
		choices = append(choices, loginui.MethodChoice{Value: string(model.MethodPasskey), Label: loginui.PasskeyMethod})
	}
	if hasPhone {
		choices = append(choices, loginui.MethodChoice{Value: string(model.MethodPush), Label: loginui.PhoneMethod})
	}
	if hasCode {
		choices = append(choices, loginui.MethodChoice{Value: string(model.MethodCode), Label: "Authenticator app or hardware token – code"})
	}
	switch {
	case chosen == model.MethodPasskey && hasPasskey, chosen == model.MethodPush && hasPhone, chosen == model.MethodCode && hasCode:
		return choices, string(chosen)
	case len(choices) > 0:
		return choices, choices[0].Value
	}
	return choices, string(chosen)
}
