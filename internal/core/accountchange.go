package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// An account change, as every caller makes it: the admin center (Apply)
// and the CLI (Accounts) call applyOne with their Actor. One store
// transaction reads the user and, for an admin, the admin group under
// locks, applies the change as plain row operations, checks the rules in
// Go (rules.go: the acting admin is still one, a usable admin remains, a
// block ends the sessions, removed methods end them too) and writes the
// audit row; every node drops its cached copies of the user after the
// commit.

// changeInput is an Action with what is prepared outside the
// transaction (a bcrypt hash never runs inside one).
type changeInput struct {
	act Action
	at  time.Time
	// hash and expires are ActionResetPassword's temporary password
	// (or ActionAccessPass's pass).
	hash    string
	expires time.Time
}

// msgGone says a user went meanwhile.
const msgGone = "no such user (removed meanwhile?)"

// errSelf refuses a change to the acting admin's own account
// (Action.RefusedForSelf).
var errSelf = errors.New("core: a change to the acting admin's own account")

// applyOne applies act to user id as actor and says what happened.
func (a *Admin) applyOne(ctx context.Context, actor Actor, act Action, id int64) (Result, error) {
	in := changeInput{act: act, at: a.now()}
	res := Result{UserID: id}
	if act.Kind == ActionResetPassword {
		var err error
		if res.Secret, in.hash, err = a.temporaryPassword(); err != nil {
			return Result{}, err
		}
		in.expires = in.at.Add(TemporaryPasswordTTL)
	}
	if act.Kind == ActionAccessPass {
		var err error
		if in, err = a.prepareAccessPass(in, &res); err != nil {
			return Result{}, err
		}
		act = in.act // with its lifetime's default
	}
	var ev model.AuditEvent
	var target *model.User // as locked: a refusal names them
	err := a.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		target = nil
		before, n, err := a.changeIn(ctx, tx, actor, in, id, &target)
		if err != nil {
			return err
		}
		res.Username, res.Count = before.Username, n
		res.Kind, res.Detail = a.describe(act, before, n)
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: id, Username: before.Username, Event: auditEvent(act.Kind),
			RemoteIP: actor.IP, Detail: res.Detail + "; by " + actor.Name})
		return err
	})
	if target != nil {
		res.Username = target.Username
	}
	switch {
	case errors.Is(err, model.ErrNotFound):
		return Result{UserID: id, Kind: ResultGone, Detail: msgGone}, nil
	case errors.Is(err, errSelf):
		return Result{UserID: id, Username: res.Username, Kind: ResultSkipped, Detail: msgSelf}, nil
	case errors.Is(err, model.ErrLastAdmin), errors.Is(err, model.ErrNotAdmin):
		res.Kind, res.Detail, res.Secret, res.Count = ResultRefused, msgLastAdmin, "", 0
		if errors.Is(err, model.ErrNotAdmin) {
			res.Detail = msgNotAdmin
		}
		// A refusal changes nothing: its row is written on its own.
		a.audit.Record(ctx, model.AuditEvent{UserID: id, Username: res.Username, Event: audit.AdminRefused, RemoteIP: actor.IP,
			Detail: string(act.Kind) + ": " + strings.TrimPrefix(res.Detail, "refused: ") + "; by " + actor.Name})
		return res, nil
	case err != nil:
		return Result{}, fmt.Errorf("core: %s user %d: %w", act.Kind, id, err)
	}
	a.audit.Logged(ev)
	// Sessions, basic-auth successes and waiting pages cached on any node
	// are dropped at once.
	a.events.Publish(ctx, Event{Kind: EventUser, UserID: id})
	return res, nil
}

// changeIn makes the change in tx under the rules and returns the user as
// they were (also in *target once locked) and how many rows of the kind
// the change deletes went. Locks are taken in the store's order: the
// user's pairing links (when devices go), the admin group's members (an
// admin's change: this serialises admin changes on every node), the user.
// Every check reads under them: the actor still an admin, not their own
// account, a usable admin left after the change.
func (a *Admin) changeIn(ctx context.Context, tx store.Tx, actor Actor, in changeInput, id int64, target **model.User) (*model.User, int64, error) {
	if in.act.Kind == ActionResetMethods || in.act.Kind == ActionRemove {
		if err := tx.LockPairings(ctx, id); err != nil {
			return nil, 0, err
		}
	}
	var members []model.Member
	if actor.AdminID != 0 {
		if err := tx.LockAdmins(ctx, a.group); err != nil {
			return nil, 0, err
		}
		var err error
		if members, err = tx.GroupMembers(ctx, a.group); err != nil {
			return nil, 0, err
		}
	}
	before, err := tx.LockUser(ctx, id)
	if err != nil {
		return nil, 0, err
	}
	*target = before
	if actor.AdminID != 0 {
		if err := stillAdmin(members, actor.AdminID); err != nil {
			return nil, 0, err
		}
		if actor.AdminID == id && in.act.RefusedForSelf(before) {
			return nil, 0, errSelf
		}
	}
	n, err := applyChange(ctx, tx, actor, in, before)
	if err != nil {
		return nil, 0, err
	}
	if actor.AdminID != 0 {
		after, err := tx.GroupMembers(ctx, a.group)
		if err != nil {
			return nil, 0, err
		}
		if err := keepAnAdmin(members, after); err != nil {
			return nil, 0, err
		}
	}
	return before, n, nil
}

// applyChange writes the change to user u (as locked) in tx and says how
// many app passwords, methods or sessions went.
func applyChange(ctx context.Context, tx store.Tx, actor Actor, in changeInput, u *model.User) (int64, error) {
	id := u.ID
	switch in.act.Kind {
	case ActionEnable, ActionEnforce, ActionDisable:
		return 0, tx.SetMFAState(ctx, id, actionState(in.act.Kind))
	case ActionDeleteAppPasswords:
		return tx.DeleteAppPasswords(ctx, id)
	case ActionResetMethods:
		return resetMethods(ctx, tx, id)
	case ActionSignOut:
		return tx.DeleteSessions(ctx, id, nil)
	case ActionBlock:
		return 0, blockUser(ctx, tx, id, in.at, "by an admin ("+actor.short()+")")
	case ActionUnblock:
		return 0, unblock(ctx, tx, u)
	case ActionEdit:
		return 0, tx.SetProfile(ctx, id, in.act.DisplayName, in.act.Email, in.act.Groups)
	case ActionRemove:
		if err := tx.DeleteUser(ctx, id); err != nil {
			return 0, err
		}
		// A user added again under this name starts clean.
		return 0, tx.DeleteFailures(ctx, failureKeys(u.Username)...)
	case ActionAccessPass:
		return putAccessPass(ctx, tx, actor, in, u)
	case ActionResetPassword:
		if in.hash == "" || in.expires.IsZero() {
			return 0, errors.New("core: a temporary password needs a hash and an expiry")
		}
		if err := tx.SetPassword(ctx, id, in.hash, in.expires); err != nil {
			return 0, err
		}
		if _, err := tx.DeleteSessions(ctx, id, nil); err != nil {
			return 0, err
		}
		return tx.DeleteAppPasswords(ctx, id)
	}
	return 0, fmt.Errorf("core: unknown action %q", in.act.Kind)
}

// resetMethods removes every sign-in method of the user (authenticators,
// phones and pairing links, passkeys) and their recovery codes (a lost
// phone's owner starts over: new codes come with a new method) and, as
// every removed method does, ends their sessions. It counts what the user
// could sign in with: authenticators, active phones and passkeys (a phone
// still waiting for its code is none; recovery codes are no method), the
// same count wherever the reset is made.
func resetMethods(ctx context.Context, tx store.Tx, userID int64) (int64, error) {
	c, err := tx.Methods(ctx, userID)
	if err != nil {
		return 0, err
	}
	if err := tx.DeleteMethods(ctx, userID); err != nil {
		return 0, err
	}
	if _, err := tx.DeleteRecoveryCodes(ctx, userID); err != nil {
		return 0, err
	}
	if _, err := tx.DeleteSessions(ctx, userID, nil); err != nil {
		return 0, err
	}
	return int64(c.Total()), nil
}

// temporaryPassword makes a random temporary password and its hash; the
// password is returned in the clear to be shown once.
func (a *Admin) temporaryPassword() (string, string, error) {
	pw, err := RandomPassword()
	if err != nil {
		return "", "", err
	}
	hash, err := a.hasher.Hash(pw)
	if err != nil {
		return "", "", fmt.Errorf("core: hashing a temporary password: %w", err)
	}
	return pw, hash, nil
}
