package core

import (
	"context"

	"github.com/mfagate/mfagate/internal/audit"
)

// SignOut ends the browser's session (idHash; a missing one is fine) and,
// when it belonged to a user (p non-nil), audits it and tells the other
// nodes to forget it.
func (s *SignIn) SignOut(ctx context.Context, idHash []byte, p *Pending, c Client) error {
	var userID int64
	if p != nil {
		userID = p.User.ID
	}
	if err := s.sessions.End(ctx, idHash, userID); err != nil {
		return err
	}
	if p != nil {
		s.audit.Record(ctx, c.auditRow(&p.User, audit.SignOut, ""))
	}
	return nil
}
