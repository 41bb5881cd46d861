package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
)

// Second factors as the sign-in log names them.
const (
	factorCode         = "code"
	factorNotification = "notification"
	factorNotRequired  = "not required"
)

// secondFactors maps the audit log's method words to the sign-in log's.
var secondFactors = map[string]string{
	"authenticator code":           factorCode,
	"authenticator enrolled":       factorCode,
	"phone approval":               factorNotification,
	"password only (MFA disabled)": factorNotRequired,
}

// logSignIn writes a browser sign-in attempt of u (or of who, the typed
// name's stand-in, when u is nil) to the sign-in log.
func (p *Portal) logSignIn(r *http.Request, who model.User, secondFactor, result, detail string) {
	p.Core.SignInLog.Record(r.Context(), model.SignIn{
		UserID: who.ID, Username: who.Username, Site: web.SiteLabel(p.cfg.SiteName, r), RemoteIP: p.ClientIP(r), UserAgent: r.UserAgent(),
		Client: model.ClientBrowser, FirstFactor: "password", SecondFactor: secondFactor,
		Result: result, Reason: core.Reason(detail),
	})
}
