package core

import (
	"context"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Actor is who makes an account change: an admin in the admin center or
// the operator at the CLI (later an import or a directory refresh). Every
// caller makes its changes through the same core operations, which name
// the actor in their audit rows.
type Actor struct {
	// Name says who, as the audit row ends: "by " + Name.
	Name string
	// IP is the client's address ("" for the CLI).
	IP string
	// AdminID is the acting admin's user ID. Then each change checks, in
	// its transaction, that they are still an unblocked admin and that a
	// usable admin remains, and refuses changes to their own account
	// (Action.RefusedForSelf). 0: the machine's operator (the CLI), who
	// is no member and may do what the admin center refuses — it is how
	// a locked-out last admin is let in again.
	AdminID int64
	// username is the acting admin's, as a block's reason names them.
	username string
}

// AdminActor is admin u acting in the admin center from ip.
func AdminActor(u *model.User, ip string) Actor {
	return Actor{Name: "admin " + u.Username + " (admin center)", IP: ip, AdminID: u.ID, username: u.Username}
}

// short names the actor in a block's reason: "by an admin (root)".
func (a Actor) short() string {
	if a.username != "" {
		return a.username
	}
	return a.Name
}

// CLIActor is the operator running `caddy mfa` as the operating-system
// user osUser ("" when unknown).
func CLIActor(osUser string) Actor {
	if osUser == "" {
		return Actor{Name: "cli"}
	}
	return Actor{Name: "cli (os user " + osUser + ")"}
}

// String names the actor in words: "admin NAME (admin center) from IP",
// "cli (os user NAME)".
func (a Actor) String() string {
	if a.IP == "" {
		return a.Name
	}
	return a.Name + " from " + a.IP
}

// auditIn appends the audit row of a change inside its transaction, as
// audit.Log.Record would store it, and returns it for the server log,
// which the caller writes once the transaction committed (log.Logged).
func auditIn(ctx context.Context, tx store.Tx, e model.AuditEvent) (model.AuditEvent, error) {
	e = audit.Clean(e)
	if err := tx.AppendAudit(ctx, &e); err != nil {
		return e, err
	}
	return e, nil
}
