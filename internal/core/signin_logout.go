package core

import (
	"context"

	"github.com/mfagate/mfagate/internal/audit"
)

// SignOut ends the browser's session (idHash; a missing one is fine) and,
// when it belonged to a user (p non-nil), writes its audit row in the
// same transaction and tells the other nodes to forget it.
func (s *SignIn) SignOut(ctx context.Context, idHash []byte, p *Pending, c Client) error {
	if p == nil {
		return s.sessions.End(ctx, idHash, 0)
	}
	ev := c.auditRow(&p.User, audit.SignOut, "")
	return s.sessions.endAudited(ctx, idHash, p.User.ID, &ev)
}
