// Package gateway is the request path of a protected site: portal requests
// go to the sign-in portal; every other request either carries a complete
// session, and continues upstream with the user's identity, or is sent to
// sign in. Data flows one way: request -> policy -> factor -> session ->
// upstream.
package gateway

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/mfagate/mfagate/identity"
	"github.com/mfagate/mfagate/session"
	"github.com/mfagate/mfagate/signin"
	"github.com/mfagate/mfagate/store"
)

// Gateway guards one site.
type Gateway struct {
	portal   *signin.Portal
	sessions *session.Manager
	prefix   string
}

// New returns a Gateway using portal for sign-in pages.
func New(portal *signin.Portal, sessions *session.Manager) *Gateway {
	return &Gateway{portal: portal, sessions: sessions, prefix: portal.Prefix()}
}

// Result says what Serve decided.
type Result struct {
	// Handled: a response was written (portal page, redirect, error); the
	// request must not go upstream.
	Handled bool
	// User is the signed-in user when the request may continue.
	User *store.User
}

// Serve strips client-supplied identity headers, then answers r itself or
// authorises it. On authorisation r's headers carry the identity and no
// longer carry the gateway's cookie.
func (g *Gateway) Serve(w http.ResponseWriter, r *http.Request) (Result, error) {
	identity.Strip(r.Header)
	if g.isPortal(r.URL.Path) {
		g.portal.ServeHTTP(w, r)
		return Result{Handled: true}, nil
	}
	cur, err := g.sessions.Load(r)
	if err != nil {
		return Result{}, err
	}
	if cur == nil || cur.Session.Stage != store.StageComplete {
		g.challenge(w, r)
		return Result{Handled: true}, nil
	}
	u := cur.User
	identity.Set(r.Header, identity.Identity{Username: u.Username, DisplayName: u.DisplayName, Email: u.Email, Groups: u.Groups})
	identity.RemoveCookies(r, session.CookieNames()...)
	return Result{User: &u}, nil
}

// isPortal matches the prefix exactly as configured; anything else is a
// protected path, so odd spellings can only ever lead to the sign-in wall.
func (g *Gateway) isPortal(path string) bool {
	return strings.HasPrefix(path, g.prefix)
}

// challenge sends a browser to sign in and remembers where it was going.
func (g *Gateway) challenge(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Sign-in required.", http.StatusUnauthorized)
		return
	}
	target := g.prefix + "login?rd=" + url.QueryEscape(r.URL.RequestURI())
	http.Redirect(w, r, target, http.StatusFound)
}
