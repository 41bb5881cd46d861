package basicauth

import (
	"context"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// upgradeHash prepares the replacement of a hash whose scheme or cost is
// not the server's (an imported one) by a bcrypt one at the server's
// cost, once the account password matched it (res; see
// core.Accounts.PrepareHashUpgrade): the core stores it with the
// attempt's release, in one transaction. Best effort: nil when none is
// needed or it cannot be made now (shed under load), and the next
// uncached check tries again.
func (v *Verifier) upgradeHash(ctx context.Context, res *Result, u *model.User, secret, ip string) *core.HashUpgrade {
	if res == nil || res.Kind != KindAccountPassword { // the core says whether the hash needs it
		return nil
	}
	return v.accounts.PrepareHashUpgrade(ctx, u, secret, ip)
}
