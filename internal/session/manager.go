// Package session keeps browser sessions: a random token in a signed and
// encrypted cookie (gorilla/sessions + securecookie), and a server-side
// record in the store keyed by the token's SHA-256. Logout and revocation
// delete the record, so a copied cookie dies with it.
package session

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// Cookie names: the __Host- prefix (Secure, Path=/, no Domain) is only
// usable over TLS, so plain-HTTP sites (local demos) use the bare name.
// The portal origin has names of its own: browsers send a host's cookies
// to every port of it, and a protected site's session must never pass
// for the portal's (nor the other way round; each record is also bound
// to its origin).
const (
	CookieName          = "mfagate"
	TLSCookieName       = "__Host-mfagate"
	PortalCookieName    = "mfagate-portal"
	PortalTLSCookieName = "__Host-mfagate-portal"
)

// CookieNames lists every name, e.g. to keep them from the upstream
// (the passwordless sign-in's challenge cookie's too: challenge.go).
func CookieNames() []string {
	return []string{CookieName, TLSCookieName, PortalCookieName, PortalTLSCookieName,
		ChallengeCookieName, TLSChallengeCookieName}
}

// Defaults (NIST SP 800-63B AAL2 limits).
const (
	DefaultIdleTimeout = time.Hour
	DefaultLifetime    = 24 * time.Hour
	// DefaultCacheTTL bounds how long a node trusts its cached copy of a
	// session: a revocation made on another node takes effect within it.
	DefaultCacheTTL = 4 * time.Second
	// touchEvery limits last-seen writes to one per session per minute.
	touchEvery = time.Minute
)

// Config sets the timeouts.
type Config struct {
	IdleTimeout time.Duration
	Lifetime    time.Duration
	CacheTTL    time.Duration
	// HashKey (HMAC) and BlockKey (AES) protect the cookie.
	HashKey  []byte
	BlockKey []byte
}

// Current is the session of the request being served.
type Current struct {
	token   string
	Session model.Session
	User    model.User
}

// Manager loads, starts, rotates and ends sessions.
type Manager struct {
	records *core.Sessions
	cfg     Config
	codecs  []securecookie.Codec
	cache   *cache
	now     func() time.Time
	// plainName and tlsName are the cookie's names over HTTP and TLS.
	plainName, tlsName string
}

// NewManager returns a Manager; zero durations take the defaults.
func NewManager(records *core.Sessions, cfg Config) (*Manager, error) {
	if len(cfg.HashKey) < 32 || len(cfg.BlockKey) != 32 {
		return nil, errors.New("session: hash key must be >= 32 bytes and block key 32 bytes")
	}
	if cfg.IdleTimeout <= 0 {
		cfg.IdleTimeout = DefaultIdleTimeout
	}
	if cfg.Lifetime <= 0 {
		cfg.Lifetime = DefaultLifetime
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultCacheTTL
	}
	codecs := securecookie.CodecsFromPairs(cfg.HashKey, cfg.BlockKey)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(cfg.Lifetime / time.Second))
		}
	}
	return &Manager{records: records, cfg: cfg, codecs: codecs, cache: newCache(cfg.CacheTTL), now: time.Now,
		plainName: CookieName, tlsName: TLSCookieName}, nil
}

// ForPortal returns a Manager for the portal origin: the same records and
// cache under the portal's own cookie names.
func (m *Manager) ForPortal() *Manager {
	p := *m
	p.plainName, p.tlsName = PortalCookieName, PortalTLSCookieName
	return &p
}

// Config returns the effective configuration.
func (m *Manager) Config() Config { return m.cfg }

// Load returns the request's valid session, or nil when it has none (no
// cookie, a forged or expired one, a record that is gone, or one made for
// another origin). Expired records are deleted.
func (m *Manager) Load(r *http.Request) (*Current, error) {
	entry, err := m.load(r)
	if err != nil || entry == nil {
		return nil, err
	}
	return &Current{token: entry.token, Session: entry.session, User: entry.user}, nil
}

// load finds the request's valid session (see Load): nil when none.
func (m *Manager) load(r *http.Request) (*cacheEntry, error) {
	name := m.cookieName(r)
	value, ok := cookieValue(r.Header, name)
	if !ok || value == "" {
		return nil, nil
	}
	now := m.now()
	entry, err := m.entryForCookie(r.Context(), name, value, now)
	if err != nil || entry == nil {
		return nil, err
	}
	hash := entry.hash
	if !fromOrigin(entry.session.Origin, r) {
		// Another origin's session (a cookie replayed here, or sent by
		// the browser to another port of the host): not this one's.
		return nil, nil
	}
	if m.expired(&entry.session, now) {
		m.cache.forget(hash)
		if err := m.records.End(r.Context(), hash, 0); err != nil {
			return nil, fmt.Errorf("session: delete expired: %w", err)
		}
		return nil, nil
	}
	if now.Sub(entry.session.LastSeenAt) >= touchEvery {
		if err := m.touch(r.Context(), hash, entry, now); err != nil {
			return nil, err
		}
	}
	return entry, nil
}

// entryForCookie returns the session a cookie proves: from the cache when
// this exact cookie value was verified recently (no decoding), else by
// decoding the cookie and looking the token up. nil when invalid. A cache
// hit costs one map lookup of the value: no decoding, no hashing.
func (m *Manager) entryForCookie(ctx context.Context, name, value string, now time.Time) (*cacheEntry, error) {
	if e, ok := m.cache.getByCookie(value, now); ok {
		return e, nil
	}
	var token string
	if err := securecookie.DecodeMulti(name, value, &token, m.codecs...); err != nil || token == "" {
		return nil, nil
	}
	return m.lookup(ctx, hashToken(token), token, value)
}

func (m *Manager) expired(s *model.Session, now time.Time) bool {
	return now.Sub(s.CreatedAt) >= m.cfg.Lifetime || now.Sub(s.LastSeenAt) >= m.cfg.IdleTimeout
}

// lookup reads through the per-node cache; nil when the session is unknown.
func (m *Manager) lookup(ctx context.Context, hash []byte, token, cookie string) (*cacheEntry, error) {
	if e, ok := m.cache.get(hash, m.now()); ok {
		return e, nil
	}
	s, u, err := m.records.Find(ctx, hash)
	if err != nil || s == nil {
		return nil, err
	}
	e := newCacheEntry(s, u, hash, token, cookie)
	m.cache.put(hash, e, m.now())
	return e, nil
}

func (m *Manager) touch(ctx context.Context, hash []byte, e *cacheEntry, now time.Time) error {
	err := m.records.Touch(ctx, hash, now)
	if errors.Is(err, model.ErrNotFound) {
		m.cache.forget(hash)
		return nil
	}
	if err != nil {
		return fmt.Errorf("session: touch: %w", err)
	}
	updated := *e
	updated.session.LastSeenAt = now
	m.cache.put(hash, &updated, now)
	return nil
}

// Start creates a new session record for rec and sets its cookie. Any
// session the request already had should be passed to Rotate instead.
func (m *Manager) Start(w http.ResponseWriter, r *http.Request, rec model.Session) error {
	token, err := newToken()
	if err != nil {
		return err
	}
	m.stamp(&rec, token, r)
	if err := m.records.Start(r.Context(), &rec); err != nil {
		return fmt.Errorf("session: create: %w", err)
	}
	return m.setCookie(w, r, token)
}

// Rotate replaces cur by rec under a fresh identifier (after each factor),
// so a token seen before a step is worthless after it. If cur vanished in
// the meantime (logout elsewhere), ErrGone is returned.
func (m *Manager) Rotate(w http.ResponseWriter, r *http.Request, cur *Current, rec model.Session) error {
	return m.RotateVia(w, r, cur, rec, m.records.Advance)
}

// RotateVia is Rotate with replace storing the change, so that another
// change can share its transaction (consuming a sign-in approval, say).
// replace gets the old identifier's hash and the new record; its
// model.ErrNotFound means the session was ended meanwhile (ErrGone).
func (m *Manager) RotateVia(w http.ResponseWriter, r *http.Request, cur *Current, rec model.Session,
	replace func(ctx context.Context, oldHash []byte, next *model.Session) error) error {
	token, err := newToken()
	if err != nil {
		return err
	}
	old := hashToken(cur.token)
	m.stamp(&rec, token, r)
	m.cache.forget(old)
	err = replace(r.Context(), old, &rec)
	if errors.Is(err, model.ErrNotFound) {
		return ErrGone
	}
	if err != nil {
		return fmt.Errorf("session: rotate: %w", err)
	}
	return m.setCookie(w, r, token)
}

// ErrGone means the session was ended while a request was using it.
var ErrGone = errors.New("session: ended meanwhile")

// stamp gives rec its identifier, times and the request's origin.
func (m *Manager) stamp(rec *model.Session, token string, r *http.Request) {
	now := m.now()
	rec.IDHash = hashToken(token)
	rec.Origin = Origin(r)
	if rec.CreatedAt.IsZero() {
		rec.CreatedAt = now
	}
	rec.LastSeenAt = now
}

// End deletes the session server-side and expires the cookie.
func (m *Manager) End(w http.ResponseWriter, r *http.Request, cur *Current) error {
	if cur != nil {
		hash := hashToken(cur.token)
		m.cache.forget(hash)
		if err := m.records.End(r.Context(), hash, cur.User.ID); err != nil {
			return fmt.Errorf("session: end: %w", err)
		}
	}
	opts := m.cookieOptions(r)
	opts.MaxAge = -1
	http.SetCookie(w, sessions.NewCookie(m.cookieName(r), "", opts))
	return nil
}

// EndAllForUser deletes every session of a user (password change, admin
// revoke). Other nodes notice within the cache TTL.
func (m *Manager) EndAllForUser(ctx context.Context, userID int64) error {
	m.cache.forgetUser(userID)
	if _, err := m.records.EndAllForUser(ctx, userID); err != nil {
		return fmt.Errorf("session: end all for user %d: %w", userID, err)
	}
	return nil
}

// IDHash returns the hash the session's record is stored under.
func (c *Current) IDHash() []byte { return hashToken(c.token) }

// ForgetUser drops this node's cached sessions of a user, after a change
// made here or announced by another node.
func (m *Manager) ForgetUser(userID int64) { m.cache.forgetUser(userID) }

// Sweep deletes the records of sessions past their lifetime or idle
// timeout at now, and says how many.
func (m *Manager) Sweep(ctx context.Context, now time.Time) (int64, error) {
	return m.records.Sweep(ctx, now.Add(-m.cfg.Lifetime), now.Add(-m.cfg.IdleTimeout))
}

// CookieHash returns the record hash the request's cookie names, whether
// or not the record still exists (a session ended by a block still names
// the sign-in request it was waiting on); false without a valid cookie.
func (m *Manager) CookieHash(r *http.Request) ([]byte, bool) {
	token, ok := m.tokenFromCookie(r)
	if !ok {
		return nil, false
	}
	return hashToken(token), true
}

func (m *Manager) tokenFromCookie(r *http.Request) (string, bool) {
	c, err := r.Cookie(m.cookieName(r))
	if err != nil || c.Value == "" {
		return "", false
	}
	var token string
	if err := securecookie.DecodeMulti(c.Name, c.Value, &token, m.codecs...); err != nil || token == "" {
		return "", false
	}
	return token, true
}

func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, token string) error {
	name := m.cookieName(r)
	encoded, err := securecookie.EncodeMulti(name, token, m.codecs...)
	if err != nil {
		return fmt.Errorf("session: encode cookie: %w", err)
	}
	http.SetCookie(w, sessions.NewCookie(name, encoded, m.cookieOptions(r)))
	return nil
}

func (m *Manager) cookieOptions(r *http.Request) *sessions.Options {
	return &sessions.Options{
		Path:     "/",
		MaxAge:   int(m.cfg.Lifetime / time.Second),
		Secure:   r.TLS != nil,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
	}
}

func (m *Manager) cookieName(r *http.Request) string {
	if r.TLS != nil {
		return m.tlsName
	}
	return m.plainName
}

// newToken returns 256 random bits, base64url encoded.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session: random token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}
