package basicauth

import (
	"context"

	"github.com/mfagate/mfagate/internal/factor/password"
)

// upgradeHash replaces an imported argon2id hash by a bcrypt one once the
// account password matched it (see core.Accounts.UpgradePasswordHash), and
// makes the result prove the new hash. Best effort: on failure (shed under
// load, the store) the old hash stays and the next uncached check tries
// again.
func (v *Verifier) upgradeHash(ctx context.Context, res *Result, secret, ip string) {
	if res.Kind != KindAccountPassword || !password.NeedsUpgrade(res.proof) {
		return
	}
	if hash, err := v.accounts.UpgradePasswordHash(ctx, &res.User, secret, ip); err == nil && hash != "" {
		res.User.PasswordHash, res.proof = hash, hash
	}
}
