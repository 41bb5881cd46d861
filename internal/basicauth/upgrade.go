package basicauth

import (
	"context"
)

// upgradeHash replaces a hash whose scheme or cost is not the server's (an
// imported one) by a bcrypt one at the server's cost once the account
// password matched it (see core.Accounts.UpgradePasswordHash), and
// makes the result prove the new hash. Best effort: on failure (shed under
// load, the store) the old hash stays and the next uncached check tries
// again.
func (v *Verifier) upgradeHash(ctx context.Context, res *Result, secret, ip string) {
	if res.Kind != KindAccountPassword { // the core says whether the hash needs it
		return
	}
	if hash, err := v.accounts.UpgradePasswordHash(ctx, &res.User, secret, ip); err == nil && hash != "" {
		res.User.PasswordHash, res.proof = hash, hash
	}
}
