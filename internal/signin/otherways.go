package signin

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// otherWays are the "Sign in another way" choices of cur's second step
// beside the code and the phone: a passkey usable on this site, and the
// user's unused recovery codes.
func (p *Portal) otherWays(r *http.Request, cur *session.Current) (loginui.OtherWays, error) {
	passkey, err := p.Core.Passkeys.Usable(r.Context(), &cur.User, web.PasskeySite(r))
	if err != nil {
		return loginui.OtherWays{}, err
	}
	recovery, err := p.Core.SignIn.HasRecoveryCodes(r.Context(), &cur.User)
	return loginui.OtherWays{CanUsePasskey: passkey, CanUseRecoveryCode: recovery}, err
}
