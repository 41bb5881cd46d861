package signin

import (
	"context"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/model"
)

// upgradeHash replaces a hash whose scheme or cost is not the server's (an
// imported one) by a bcrypt one at the server's cost once the password
// matched it (see core.Accounts.UpgradePasswordHash). A failure
// (shed under load, the store) is logged, never shown: the password was
// right, and the next sign-in tries again.
func (p *Portal) upgradeHash(ctx context.Context, u *model.User, pw, ip string) {
	if !p.Hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	hash, err := p.Core.Accounts.UpgradePasswordHash(ctx, u, pw, ip)
	if err != nil {
		p.Logger.Warn("upgrading an imported password hash", zap.String("user", u.Username), zap.Error(err))
		return
	}
	if hash != "" {
		u.PasswordHash = hash
	}
}
