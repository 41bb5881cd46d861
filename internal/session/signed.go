package session

import (
	"net/http"

	"github.com/mfagate/mfagate/internal/identity"
	"github.com/mfagate/mfagate/internal/model"
)

// Signed is a read-only view of a request's valid session, for the
// gateway's pass on every signed-in request: it shares the cached entry
// instead of copying it (no allocation), so nothing it returns may be
// modified.
type Signed struct{ entry *cacheEntry }

// Session is the session record (read only).
func (s Signed) Session() *model.Session { return &s.entry.session }

// User is the signed-in user (read only).
func (s Signed) User() *model.User { return &s.entry.user }

// IdentityHeaders are the user's identity header values.
func (s Signed) IdentityHeaders() identity.Values { return s.entry.headers }

// LoadSigned is Load for a request that only reads its session: false
// when it has none.
func (m *Manager) LoadSigned(r *http.Request) (Signed, bool, error) {
	entry, err := m.load(r)
	return Signed{entry}, entry != nil, err
}
