package core

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/store"
)

// Every recovery (a sign-in with a recovery code or a Temporary Access
// Pass) is announced to its user, as NIST SP 800-63B-4 asks: the
// transition that signs them in calls announceRecovery in its one apply
// transaction, which stores a notice (shown on Security info until
// dismissed, and once at the next sign-in) and an audit row; the
// transition writes its sign-in log row beside it; once committed, the
// returned Announcement pushes the notice to the user's paired phones.

// RecoveryNotices are the announcements of recoveries to their users.
type RecoveryNotices struct {
	store  store.Store
	phones *Phones
	sender Sender // nil: no push (the notices still show)
	audit  *audit.Log
	logger *zap.Logger
	now    func() time.Time
}

// Announcement is a recovery stored by announceRecovery, to be pushed
// once its transaction has committed (Push).
type Announcement struct {
	n      *RecoveryNotices
	notice model.RecoveryNotice
	row    model.AuditEvent
}

// NoticePayload is the push message of a recovery: a notification-only
// message (no request to answer) the phone's service worker shows.
type NoticePayload struct {
	Notice bool   `json:"notice"`
	Text   string `json:"text"`
}

// announceRecovery stores, in tx, the notice of u's recovery of kind from
// c (now: the recovery's time) and its audit row, and returns the
// announcement whose Push the caller runs after the commit. Called by
// every transition that signs a user in with a recovery code or a pass.
func (n *RecoveryNotices) announceRecovery(ctx context.Context, tx store.Tx, u *model.User, kind model.RecoveryKind, c Client, now time.Time) (*Announcement, error) {
	notice := model.RecoveryNotice{UserID: u.ID, Kind: kind, RemoteIP: c.IP, Site: c.Site, CreatedAt: now}
	if err := tx.AddRecoveryNotice(ctx, &notice); err != nil {
		return nil, fmt.Errorf("core: announcing a recovery: %w", err)
	}
	row, err := auditIn(ctx, tx, c.auditRow(u, audit.RecoveryAnnounced, string(kind)))
	if err != nil {
		return nil, err
	}
	return &Announcement{n: n, notice: notice, row: row}, nil
}

// Push logs the announcement's audit row and queues its notification to
// every paired phone of the user with a live subscription (sending never
// blocks the sign-in; a failure to list the phones is logged, the notices
// still show). Call it once the announcing transaction has committed.
func (a *Announcement) Push(ctx context.Context) {
	if a == nil {
		return
	}
	n := a.n
	n.audit.Logged(a.row)
	if n.sender == nil {
		return
	}
	devices, err := n.phones.Devices(ctx, a.notice.UserID)
	if err != nil {
		n.logger.Warn("recovery notice: listing phones", zap.Int64("user_id", a.notice.UserID), zap.Error(err))
		return
	}
	payload, err := json.Marshal(NoticePayload{Notice: true, Text: NoticeText(a.notice)})
	if err != nil {
		return
	}
	owner := strconv.FormatInt(a.notice.UserID, 10)
	for _, d := range activeDevices(devices) {
		if sub := n.phones.subscription(&d); sub != nil {
			n.sender.Send(push.Message{Subscription: *sub, Payload: payload, Urgency: push.UrgencyNormal, Owner: owner})
		}
	}
}

// NoticeText is the notice's sentence, the same on the phone, Security
// info and the next sign-in.
func NoticeText(n model.RecoveryNotice) string {
	how := "a recovery code"
	if n.Kind == model.RecoveryByPass {
		how = "a Temporary Access Pass"
	}
	from := ""
	if n.RemoteIP != "" {
		from = " from " + n.RemoteIP
	}
	return "On " + n.CreatedAt.UTC().Format("2006-01-02 15:04 UTC") + from + " you signed in with " + how +
		". If this wasn't you, change your password and remove sign-in methods you don't know on Security info, and tell your administrator."
}

// Pending lists the user's notices not dismissed yet, newest first
// (Security info shows them).
func (n *RecoveryNotices) Pending(ctx context.Context, userID int64) ([]model.RecoveryNotice, error) {
	ns, err := n.store.RecoveryNotices(ctx, userID)
	if err != nil {
		return nil, fmt.Errorf("core: recovery notices: %w", err)
	}
	return ns, nil
}

// DueAtSignIn lists the notices a sign-in that started at since shows
// once: those made before it (not by this very sign-in) that no sign-in
// has shown yet and the user has not dismissed.
func (n *RecoveryNotices) DueAtSignIn(ctx context.Context, userID int64, since time.Time) ([]model.RecoveryNotice, error) {
	ns, err := n.Pending(ctx, userID)
	if err != nil {
		return nil, err
	}
	// Stored times are whole milliseconds.
	since = since.Truncate(time.Millisecond)
	var due []model.RecoveryNotice
	for _, x := range ns {
		if x.ShownAtSignIn.IsZero() && x.CreatedAt.Before(since) {
			due = append(due, x)
		}
	}
	return due, nil
}

// ShownAtSignIn records that the sign-in that started at since showed
// the user's due notices, so the next one does not show them again.
func (n *RecoveryNotices) ShownAtSignIn(ctx context.Context, userID int64, since time.Time) error {
	err := n.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		_, err := tx.MarkRecoveryNoticesShown(ctx, userID, since, n.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("core: recovery notices shown: %w", err)
	}
	return nil
}

// Dismiss dismisses u's notices on Security info, with its audit row, in
// one transaction.
func (n *RecoveryNotices) Dismiss(ctx context.Context, u *model.User, ip string) error {
	var ev model.AuditEvent
	var dismissed int64
	err := n.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if dismissed, err = tx.DismissRecoveryNotices(ctx, u.ID, n.now()); err != nil || dismissed == 0 {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.RecoveryNoticeDismissed,
			RemoteIP: ip, Detail: strconv.FormatInt(dismissed, 10) + " notices"})
		return err
	})
	if err != nil {
		return fmt.Errorf("core: dismissing recovery notices: %w", err)
	}
	if dismissed > 0 {
		n.audit.Logged(ev)
	}
	return nil
}
