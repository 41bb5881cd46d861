package core

import (
	"context"
	"fmt"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/safetext"
	"github.com/mfagate/mfagate/internal/store"
)

// DefaultSignInLogRetention is how long sign-in log rows are kept.
const DefaultSignInLogRetention = 90 * 24 * time.Hour

// sweepBatch rows are deleted per transaction when the log is trimmed.
const sweepBatch = 1000

// basicSuccessEvery: a successful basic-auth request is logged once per
// app password (or account) per this period; clients send far too many to
// log each.
const basicSuccessEvery = time.Hour

// SignInLog records every sign-in attempt, browser and basic auth, for the
// admin's sign-in log and each user's recent activity. Writing is best
// effort: a lost row must not refuse a sign-in.
type SignInLog struct {
	store     store.Store
	audit     *audit.Log
	logger    *zap.Logger
	retention time.Duration
	now       func() time.Time

	mu        sync.Mutex
	basicSeen map[basicKey]time.Time // last logged success per credential
}

type basicKey struct {
	userID, appPasswordID int64
}

// Field limits of sign-in log rows, in bytes.
const (
	maxSignInField = 256
	maxSignInAgent = 512
)

// Record stores e (At defaults to now), cleaning what clients sent.
func (l *SignInLog) Record(ctx context.Context, e model.SignIn) {
	e = l.clean(e)
	if err := l.store.AppendSignIn(context.WithoutCancel(ctx), &e); err != nil {
		l.logger.Error("writing sign-in log", zap.Error(err))
	}
}

// BasicAuthRefused records a refused basic-auth request, e (its row in
// the sign-in log, Reason filled from why), and its audit row in one
// transaction. Best effort, as Record.
func (l *SignInLog) BasicAuthRefused(ctx context.Context, e model.SignIn, why Reason) {
	e.Result, e.Reason = model.SignInFailure, why.Log()
	e = l.clean(e)
	ev := audit.Clean(model.AuditEvent{UserID: e.UserID, Username: e.Username, Event: audit.BasicAuthFail,
		RemoteIP: e.RemoteIP, Detail: why.Audit()})
	err := l.store.Update(context.WithoutCancel(ctx), func(ctx context.Context, tx store.Tx) error {
		row, event := e, ev
		if err := tx.AppendAudit(ctx, &event); err != nil {
			return err
		}
		return tx.AppendSignIn(ctx, &row)
	})
	if err != nil {
		l.logger.Error("writing a refused basic-auth request", zap.Error(err))
		return
	}
	l.audit.Logged(ev)
}

// clean is e as the log keeps it (At defaults to now).
func (l *SignInLog) clean(e model.SignIn) model.SignIn {
	if e.At.IsZero() {
		e.At = l.now()
	}
	e.Username = safetext.Clean(e.Username, maxSignInField)
	e.Site = safetext.Clean(e.Site, maxSignInField)
	e.RemoteIP = safetext.Clean(e.RemoteIP, maxSignInField)
	e.UserAgent = safetext.Clean(e.UserAgent, maxSignInAgent)
	e.Reason = safetext.Clean(e.Reason, maxSignInField)
	return e
}

// BasicSuccessDue reports whether a successful basic-auth request of
// this credential (an app password, or the account password when
// appPasswordID is 0) is to be logged: the first per credential per hour.
// It is on the signed-in hot path, so it builds nothing; the caller builds
// and records the row only when it is due.
func (l *SignInLog) BasicSuccessDue(userID, appPasswordID int64) bool {
	now := l.now()
	k := basicKey{userID: userID, appPasswordID: appPasswordID}
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, seen := l.basicSeen[k]; seen && now.Sub(last) < basicSuccessEvery {
		return false
	}
	l.basicSeen[k] = now
	l.forgetOld(now)
	return true
}

// forgetOld drops credentials not seen for an hour (mu held), so the map
// stays as small as the set of busy clients.
func (l *SignInLog) forgetOld(now time.Time) {
	if len(l.basicSeen) < 1024 {
		return
	}
	for k, t := range l.basicSeen {
		if now.Sub(t) >= basicSuccessEvery {
			delete(l.basicSeen, k)
		}
	}
}

// Search returns the rows f selects, newest first.
func (l *SignInLog) Search(ctx context.Context, f model.SignInFilter) ([]model.SignIn, error) {
	rows, err := l.store.SignIns(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("core: sign-in log: %w", err)
	}
	return rows, nil
}

// Recent returns a user's sign-ins of the last 30 days, newest first, at
// most limit.
func (l *SignInLog) Recent(ctx context.Context, userID int64, limit int) ([]model.SignIn, error) {
	return l.Search(ctx, model.SignInFilter{UserID: userID, Since: l.now().Add(-30 * 24 * time.Hour), Limit: limit})
}

// Sweep deletes rows older than the retention in small batches until none
// is left or ctx ends.
func (l *SignInLog) Sweep(ctx context.Context) error {
	before := l.now().Add(-l.retention)
	for ctx.Err() == nil {
		n, err := l.store.DeleteSignInsBefore(ctx, before, sweepBatch)
		if err != nil {
			return fmt.Errorf("core: trimming the sign-in log: %w", err)
		}
		if n < sweepBatch {
			return nil
		}
	}
	return ctx.Err()
}
