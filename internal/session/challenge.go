package session

import (
	"net/http"
	"time"
)

// The passwordless sign-in's challenge cookie: the login page's options
// request puts a passkey challenge (MAC'd by the core, see
// core.SignIn.PasswordlessOptions) in it instead of a store row, so an
// anonymous page view stores nothing; the answer's request brings it
// back, and its answer clears it. Like the session cookie it is
// __Host- (Secure, Path=/, no Domain) over TLS and bare on plain-HTTP
// demos, HttpOnly, SameSite=Strict (only the page's own requests carry
// it), and short-lived.
const (
	ChallengeCookieName    = "mfagate-passkey"
	TLSChallengeCookieName = "__Host-mfagate-passkey"
)

// challengeCookieName is the challenge cookie's name for r.
func challengeCookieName(r *http.Request) string {
	if r.TLS != nil {
		return TLSChallengeCookieName
	}
	return ChallengeCookieName
}

// SetChallenge sets the challenge cookie to token for lifetime.
func SetChallenge(w http.ResponseWriter, r *http.Request, token string, lifetime time.Duration) {
	http.SetCookie(w, &http.Cookie{Name: challengeCookieName(r), Value: token, Path: "/",
		MaxAge: int(lifetime / time.Second), Secure: r.TLS != nil, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}

// Challenge is the request's challenge cookie ("" when none).
func Challenge(r *http.Request) string {
	c, err := r.Cookie(challengeCookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

// ClearChallenge expires the challenge cookie: a challenge is answered
// once.
func ClearChallenge(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: challengeCookieName(r), Value: "", Path: "/", MaxAge: -1,
		Secure: r.TLS != nil, HttpOnly: true, SameSite: http.SameSiteStrictMode})
}
