package core

import (
	"context"

	"github.com/mfagate/mfagate/internal/model"
)

// ChooseNewPassword is the transition out of StateNewPassword: a user
// signed in with an admin's temporary password replaces it by their own
// (see Accounts.ChooseNewPassword: the bcrypt runs before the one
// transaction that changes the password and ends the user's other
// sessions; this one, keepSessionHash, stays signed in).
func (s *SignIn) ChooseNewPassword(ctx context.Context, u *model.User, newPW string, keepSessionHash []byte, c Client) error {
	return s.accounts.ChooseNewPassword(ctx, u, newPW, keepSessionHash, c.IP)
}
