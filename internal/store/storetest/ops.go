package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/store"
)

// The account changes the cases exercise. The store offers plain row
// operations inside Update; the rules (keep the last method, a report
// blocks, the last admin, promotion) are the core's, so the cases that
// check a rule run the core's own operations on the store under test:
// its transactions and locks must make them hold on every node.

// rules builds the domain core on s (fixed keys: nothing is read).
func rules(s store.Store) *core.Core {
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		panic(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	c, err := core.New(s, core.Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, AdminGroup: adminGroup})
	if err != nil {
		panic(err)
	}
	return c
}

// inTx runs fn in one transaction of s.
func inTx(s store.Store, ctx context.Context, fn func(ctx context.Context, tx store.Tx) error) error {
	return s.Update(ctx, fn)
}

// addTOTP stores an authenticator (a plain row: no rule applies).
func addTOTP(s store.Store, ctx context.Context, a *model.TOTPAuthenticator) error {
	return inTx(s, ctx, func(ctx context.Context, tx store.Tx) error { return tx.AddTOTP(ctx, a) })
}

// deleteTOTP removes an authenticator as Security info does: the core's
// removal (keep-last-method rule with keepOne, other sessions end).
func deleteTOTP(s store.Store, ctx context.Context, userID, id int64, keepOne bool, keepSession []byte) error {
	return rules(s).Methods.DeleteAuthenticator(ctx, &model.User{ID: userID}, id, keepOne, keepSession, "")
}

// deleteDevice removes a phone as Security info does (see deleteTOTP).
func deleteDevice(s store.Store, ctx context.Context, userID, id int64, keepOne bool, keepSession []byte) error {
	return rules(s).Phones.Remove(ctx, &model.User{ID: userID}, id, keepOne, keepSession, "")
}

// confirmPairing confirms a phone's code in one transaction as the core
// does (link first, then the user); a wrong code's attempt is committed
// and model.ErrConflict returned.
func confirmPairing(s store.Store, ctx context.Context, userID int64, sessionHash, codeHash []byte, now time.Time, maxAttempts int) (*model.Device, error) {
	var d *model.Device
	wrong := false
	err := inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		d, err = tx.ConfirmPairing(ctx, userID, sessionHash, codeHash, now, maxAttempts)
		if wrong = errors.Is(err, model.ErrConflict); wrong {
			return nil
		}
		if err != nil {
			return err
		}
		_, err = tx.LockUser(ctx, userID)
		return err
	})
	if err == nil && wrong {
		err = fmt.Errorf("%w: wrong confirmation code", model.ErrConflict)
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// answerApproval records a device's answer (the row alone).
func answerApproval(s store.Store, ctx context.Context, id string, userID, deviceID int64, status model.ApprovalStatus, now time.Time) (*model.Approval, error) {
	var a *model.Approval
	err := inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		a, err = tx.AnswerApproval(ctx, id, userID, deviceID, status, now)
		return err
	})
	return a, err
}

// setBlocked blocks (ending the user's sessions, as the core's block
// does) or unblocks the user.
func setBlocked(s store.Store, ctx context.Context, userID int64, at time.Time, reason string) error {
	return inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.SetBlocked(ctx, userID, at, reason); err != nil || at.IsZero() {
			return err
		}
		_, err := tx.DeleteSessions(ctx, userID, nil)
		return err
	})
}

// updateUserProfile replaces u's display name, email and groups.
func updateUserProfile(s store.Store, ctx context.Context, u *model.User) error {
	return inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.SetProfile(ctx, u.ID, u.DisplayName, u.Email, u.Groups)
	})
}

// setPassword replaces the password and ends the user's sessions and,
// with dropAppPasswords, deletes their app passwords, in one
// transaction; it says how many app passwords went.
func setPassword(s store.Store, ctx context.Context, userID int64, hash string, dropAppPasswords bool) (int64, error) {
	return replacePassword(s, ctx, userID, hash, time.Time{}, dropAppPasswords)
}

// setTemporaryPassword is setPassword with a temporary password valid
// until expires, always deleting app passwords.
func setTemporaryPassword(s store.Store, ctx context.Context, userID int64, hash string, expires time.Time) (int64, error) {
	return replacePassword(s, ctx, userID, hash, expires, true)
}

func replacePassword(s store.Store, ctx context.Context, userID int64, hash string, expires time.Time, drop bool) (int64, error) {
	var n int64
	err := inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		n = 0
		if err := tx.SetPassword(ctx, userID, hash, expires); err != nil {
			return err
		}
		if _, err := tx.DeleteSessions(ctx, userID, nil); err != nil || !drop {
			return err
		}
		var err error
		n, err = tx.DeleteAppPasswords(ctx, userID)
		return err
	})
	return n, err
}

// setDefaultMethod changes the default method (the row alone).
func setDefaultMethod(s store.Store, ctx context.Context, userID int64, m model.Method) error {
	return inTx(s, ctx, func(ctx context.Context, tx store.Tx) error { return tx.SetDefaultMethod(ctx, userID, m) })
}

// deleteUser deletes the user and the named failure counters.
func deleteUser(s store.Store, ctx context.Context, userID int64, failureKeys ...string) error {
	return inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteUser(ctx, userID); err != nil {
			return err
		}
		return tx.DeleteFailures(ctx, failureKeys...)
	})
}

// deleteAllAppPasswords deletes the user's app passwords.
func deleteAllAppPasswords(s store.Store, ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		n, err = tx.DeleteAppPasswords(ctx, userID)
		return err
	})
	return n, err
}

// clearFailures deletes counter key.
func clearFailures(s store.Store, ctx context.Context, key string) error {
	return inTx(s, ctx, func(ctx context.Context, tx store.Tx) error { return tx.DeleteFailures(ctx, key) })
}

// deleteAllMethods removes the user's methods with the core's reset
// (the CLI's, unguarded) and says how many there were.
func deleteAllMethods(s store.Store, ctx context.Context, userID int64) (int64, error) {
	u, err := s.UserByID(ctx, userID)
	if err != nil {
		return 0, err
	}
	return rules(s).Accounts.ResetMethods(ctx, u.Username)
}

// adminChange applies act to user id as the admin actorID does in the
// admin center (the core's Admin.Apply, with its rules), and returns
// what the core says; refusals come back as model.ErrLastAdmin,
// model.ErrNotAdmin and model.ErrNotFound.
func adminChange(t *testing.T, s store.Store, actorID, id int64, act core.Action) (core.Result, error) {
	t.Helper()
	ctx := t.Context()
	actor, err := s.UserByID(ctx, actorID)
	if err != nil {
		return core.Result{}, err
	}
	res, err := rules(s).Admin.Apply(ctx, core.AdminActor(actor, ""), act, []int64{id})
	if err != nil {
		return core.Result{}, err
	}
	if len(res) != 1 {
		return core.Result{}, fmt.Errorf("%d results", len(res))
	}
	r := res[0]
	switch {
	case r.Kind == core.ResultGone:
		return r, model.ErrNotFound
	case r.Kind == core.ResultRefused && strings.Contains(r.Detail, "last admin"):
		return r, model.ErrLastAdmin
	case r.Kind == core.ResultRefused:
		return r, model.ErrNotAdmin
	case r.Kind == core.ResultSkipped:
		return r, errors.New(r.Detail)
	}
	return r, nil
}

// enrol adds an authenticator with the given secret as the core does
// (sealed for the user): with onlyFirst only as the user's first
// (model.ErrConflict otherwise), promoting an Enabled user.
func enrol(s store.Store, ctx context.Context, userID int64, secret []byte, onlyFirst bool) error {
	c := rules(s)
	sealed, err := c.Codes.Seal(userID, secret)
	if err != nil {
		return err
	}
	return c.Methods.AddAuthenticator(ctx, &model.User{ID: userID}, sealed, "", onlyFirst)
}

// expireApproval marks request id expired in a transaction of its own.
func expireApproval(s store.Store, ctx context.Context, id string, now time.Time) (bool, error) {
	var done bool
	err := inTx(s, ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		done, err = tx.ExpireApproval(ctx, id, now)
		return err
	})
	return done, err
}
