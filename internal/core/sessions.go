package core

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

// Sessions keeps the server-side records of browser sessions: who a
// session belongs to and how far its sign-in has got. Package session
// puts cookies and a per-node cache on top; this is where the records
// change.
type Sessions struct {
	store  store.Store
	events *Events
	audit  *audit.Log
}

// NewSessions returns the session records kept in st.
func NewSessions(st store.Store) *Sessions {
	return &Sessions{store: st, events: NewEvents(nil), audit: audit.New(st, nil)}
}

// Start stores a new session record.
func (s *Sessions) Start(ctx context.Context, rec *model.Session) error {
	if err := s.store.CreateSession(ctx, rec); err != nil {
		return fmt.Errorf("core: create session: %w", err)
	}
	return nil
}

// Find returns the session stored under idHash and its user; nil, nil
// when either is gone.
func (s *Sessions) Find(ctx context.Context, idHash []byte) (*model.Session, *model.User, error) {
	rec, err := s.store.SessionByHash(ctx, idHash)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("core: session: %w", err)
	}
	u, err := s.store.UserByID(ctx, rec.UserID)
	if errors.Is(err, model.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("core: session user: %w", err)
	}
	return rec, u, nil
}

// Advance replaces the record oldHash by rec, a new identifier, in one
// transaction (after each factor). model.ErrNotFound when oldHash was
// ended meanwhile; rec is then not stored either.
func (s *Sessions) Advance(ctx context.Context, oldHash []byte, rec *model.Session) error {
	if err := s.store.ReplaceSession(ctx, oldHash, rec); err != nil {
		return fmt.Errorf("core: advance session: %w", err)
	}
	return nil
}

// Touch records activity; model.ErrNotFound when the session is gone.
func (s *Sessions) Touch(ctx context.Context, idHash []byte, at time.Time) error {
	if err := s.store.TouchSession(ctx, idHash, at); err != nil {
		return fmt.Errorf("core: touch session: %w", err)
	}
	return nil
}

// End deletes one session of user userID (ending a missing one is not an
// error), and tells the other nodes to forget it; userID 0 (an expired
// session, which every node refuses anyway) tells nobody.
func (s *Sessions) End(ctx context.Context, idHash []byte, userID int64) error {
	return s.endAudited(ctx, idHash, userID, nil)
}

// endAudited ends session idHash of user userID as End does, writing ev
// (cleaned; nil: none) in the same transaction and to the server log
// after the commit.
func (s *Sessions) endAudited(ctx context.Context, idHash []byte, userID int64, ev *model.AuditEvent) error {
	var stored model.AuditEvent
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.DeleteSession(ctx, idHash); err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		var err error
		stored, err = auditIn(ctx, tx, *ev)
		return err
	})
	if err != nil {
		return fmt.Errorf("core: end session: %w", err)
	}
	if ev != nil {
		s.audit.Logged(stored)
	}
	if userID != 0 {
		s.events.Publish(ctx, Event{Kind: EventUser, UserID: userID})
	}
	return nil
}

// EndAllForUser deletes every session of a user and says how many.
func (s *Sessions) EndAllForUser(ctx context.Context, userID int64) (int64, error) {
	var n int64
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		n, err = tx.DeleteSessions(ctx, userID, nil)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("core: end sessions of user %d: %w", userID, err)
	}
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: userID})
	return n, nil
}

// EndAllBut ends every session of u except keepHash (the caller's own:
// "sign out everywhere else"; nil keeps none) and writes its audit row
// with ip, in one transaction, then tells the other nodes and says how
// many ended.
func (s *Sessions) EndAllBut(ctx context.Context, u *model.User, keepHash []byte, ip string) (int64, error) {
	var n int64
	var ev model.AuditEvent
	err := s.store.Update(ctx, func(ctx context.Context, tx store.Tx) (err error) {
		if n, err = tx.DeleteSessions(ctx, u.ID, keepHash); err != nil {
			return err
		}
		ev, err = auditIn(ctx, tx, model.AuditEvent{UserID: u.ID, Username: u.Username, Event: audit.SessionsEnded, RemoteIP: ip,
			Detail: fmt.Sprintf("signed out everywhere else by the user: %d ended", n)})
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("core: end other sessions of %q: %w", u.Username, err)
	}
	s.audit.Logged(ev)
	s.events.Publish(ctx, Event{Kind: EventUser, UserID: u.ID})
	return n, nil
}

// Sweep deletes sessions started before createdBefore or idle since
// before seenBefore, and says how many.
func (s *Sessions) Sweep(ctx context.Context, createdBefore, seenBefore time.Time) (int64, error) {
	n, err := s.store.DeleteStaleSessions(ctx, createdBefore, seenBefore)
	if err != nil {
		return 0, fmt.Errorf("core: sweep sessions: %w", err)
	}
	return n, nil
}
