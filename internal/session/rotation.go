package session

import (
	"net/http"

	"github.com/gorilla/sessions"

	"github.com/mfagate/mfagate/internal/core"
)

// Rotation is a session identity prepared for a sign-in transition: the
// core stores the new record under it in the transition's transaction,
// and Commit then hands the browser its cookie. Nothing is stored or sent
// until then, so a refused transition leaves the session as it was.
type Rotation struct {
	core.Rotation
	token string
}

// Prepare makes a new identity replacing cur (nil: the request has no
// session yet): a fresh token, its record's hash, the request's origin
// and the time.
func (m *Manager) Prepare(r *http.Request, cur *Current) (*Rotation, error) {
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	rot := &Rotation{token: token, Rotation: core.Rotation{IDHash: hashToken(token), Origin: Origin(r), At: m.now()}}
	if cur != nil {
		rot.OldHash = hashToken(cur.token)
	}
	return rot, nil
}

// Commit gives the browser the cookie of a rotation the core has stored,
// and drops this node's cached copy of the record it replaced.
func (m *Manager) Commit(w http.ResponseWriter, r *http.Request, rot *Rotation) error {
	if rot.OldHash != nil {
		m.cache.forget(rot.OldHash)
	}
	return m.setCookie(w, r, rot.token)
}

// Forget drops this node's cached copy of cur (nil: none) and expires the
// browser's cookie, once the core has ended the session (signing out).
func (m *Manager) Forget(w http.ResponseWriter, r *http.Request, cur *Current) {
	if cur != nil {
		m.cache.forget(hashToken(cur.token))
	}
	opts := m.cookieOptions(r)
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(m.cookieName(r), "", opts))
}
