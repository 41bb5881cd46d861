// Package gateway is the request path of a protected site: portal requests
// go to the sign-in portal; every other request either proves who it is (a
// complete browser session, or HTTP basic auth with an app password) and
// continues upstream with the user's identity, or is challenged. Data flows
// one way: request -> policy -> factor -> session -> upstream.
package gateway

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/basicauth"
	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/identity"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
)

// Config is one site's gateway setup.
type Config struct {
	Policy policy.Site
	// Realm for WWW-Authenticate; default: the request's host.
	Realm string
	// ClientIP returns the client address as the server trusts it.
	ClientIP func(*http.Request) string
	// StripHeaders are further client headers to remove (besides Remote-*).
	StripHeaders []string
	// SignInLog receives basic-auth attempts (nil: not logged).
	SignInLog *core.SignInLog
	// SiteName is how the site is named in the sign-in log; "": see
	// web.SiteLabel.
	SiteName string
}

// Portal is the site's sign-in portal (*signin.Portal), which answers
// every request under its prefix. The gateway names only what it needs,
// so it does not import another page package (see .golangci.yml).
type Portal interface {
	http.Handler
	// Prefix is the path the portal's pages live under ("/mfa/").
	Prefix() string
}

// Gateway guards one site.
type Gateway struct {
	portal   Portal
	sessions *session.Manager
	verifier *basicauth.Verifier
	cfg      Config
	prefix   string
}

// New returns a Gateway using portal for sign-in pages. Refused basic-auth
// requests are audited with their sign-in log rows (cfg.SignInLog); the
// audit log argument is no longer used.
func New(portal Portal, sessions *session.Manager, verifier *basicauth.Verifier, _ *audit.Log, cfg Config) *Gateway {
	if cfg.ClientIP == nil {
		cfg.ClientIP = web.RemoteIP
	}
	return &Gateway{portal: portal, sessions: sessions, verifier: verifier, cfg: cfg, prefix: portal.Prefix()}
}

// Result says what Serve decided.
type Result struct {
	// Handled: a response was written (portal page, redirect, challenge);
	// the request must not go upstream.
	Handled bool
	// User is the signed-in user when the request may continue. It is
	// shared with the gateway's caches: read only.
	User *model.User
	// Public: the path needs no sign-in; the request continues without
	// identity headers.
	Public bool
}

// Serve strips client-supplied identity headers, then answers r itself or
// authorises it. On authorisation r's headers carry the identity and no
// longer carry the gateway's cookie or the client's Authorization.
func (g *Gateway) Serve(w http.ResponseWriter, r *http.Request) (Result, error) {
	identity.Strip(r.Header, g.cfg.StripHeaders...)
	res, ans, err := g.route(r)
	switch {
	case err != nil:
		// Caddy answers 503, leaving the body unread.
		web.CloseUnreadBody(w, r)
		return Result{}, err
	case ans != nil:
		// Every answer of the gateway's own (refusals, redirects, the
		// sign-in pages) is written here and only here: one that leaves an
		// announced body unread closes the connection, so a client waiting
		// for "100 Continue" gets it at once. Requests that pass never
		// come here and pay nothing for it.
		ans(web.CloseUnlessBodyRead(w, r), r)
		return Result{Handled: true}, nil
	}
	return res, nil
}

// answer writes the gateway's own response: r goes no further.
type answer func(http.ResponseWriter, *http.Request)

// route decides what becomes of r: the answer to write, or the Result of
// a request that continues.
func (g *Gateway) route(r *http.Request) (Result, answer, error) {
	if g.isPortal(r.URL.Path) {
		return Result{}, g.portal.ServeHTTP, nil
	}
	if g.cfg.Policy.IsPublic(r) {
		// Our credentials never reach the upstream: neither the session
		// cookie nor Basic credentials (browsers resend them to the whole
		// realm, and DAV clients send app passwords up front).
		identity.RemoveCookies(r, session.CookieNames()...)
		if basicauth.IsBasic(authorization(r)) {
			r.Header.Del("Authorization")
		}
		return Result{Public: true}, nil, nil
	}
	if basicauth.IsBasic(authorization(r)) {
		return g.serveBasic(r)
	}
	cur, ok, err := g.sessions.LoadSigned(r)
	if err != nil {
		return Result{}, nil, err
	}
	if !ok || !g.cfg.Policy.SessionSatisfies(cur.Session(), cur.User()) {
		return Result{}, g.challenge, nil
	}
	if cur.User().TemporaryPassword() {
		return Result{}, g.toNewPassword, nil
	}
	return g.pass(r, cur.User(), cur.IdentityHeaders()), nil, nil
}

// toNewPassword sends a user signed in with an admin's temporary password
// to choose their own, and nowhere else.
func (g *Gateway) toNewPassword(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, g.prefix+"password/new", http.StatusSeeOther)
		return
	}
	http.Error(w, "Choose a new password first: open "+g.prefix+"password/new", http.StatusForbidden)
}

// pass lets r continue as u, whose identity header values were built
// when u's session or credential was cached.
func (g *Gateway) pass(r *http.Request, u *model.User, headers identity.Values) Result {
	headers.Set(r.Header)
	identity.RemoveCookies(r, session.CookieNames()...)
	delete(r.Header, "Authorization")
	return Result{User: u}
}

// serveBasic checks HTTP basic auth; it is never redirected.
func (g *Gateway) serveBasic(r *http.Request) (Result, answer, error) {
	username, secret, ok := basicauth.ParseHeader(authorization(r))
	if !ok {
		return Result{}, g.unauthorizedWith("Malformed basic authorization."), nil
	}
	ip := g.cfg.ClientIP(r)
	res, err := g.verifier.Verify(r.Context(), g.cfg.Policy, username, secret, ip)
	if err != nil {
		return g.basicRefused(r, ip, err)
	}
	if g.cfg.SignInLog != nil && g.cfg.SignInLog.BasicSuccessDue(res.User.ID, res.AppPasswordID) {
		g.cfg.SignInLog.Record(r.Context(), g.basicEntry(r, ip, model.SignIn{UserID: res.User.ID, Username: res.User.Username,
			FirstFactor: string(res.Kind), SecondFactor: "not required: " + string(res.Kind), Result: model.SignInSuccess}))
	}
	return g.pass(r, &res.User, res.IdentityHeaders()), nil, nil
}

// basicRefused answers a basic-auth check that did not pass (kept apart
// from serveBasic so that a pass allocates nothing for the error's sake).
func (g *Gateway) basicRefused(r *http.Request, ip string, err error) (Result, answer, error) {
	var denied *basicauth.ErrDenied
	if errors.As(err, &denied) {
		if g.cfg.SignInLog != nil {
			g.cfg.SignInLog.BasicAuthRefused(r.Context(), g.basicEntry(r, ip, model.SignIn{UserID: denied.UserID,
				Username: denied.Username, FirstFactor: "basic auth"}), denied.Reason)
		}
		return Result{}, g.unauthorizedWith("Invalid credentials."), nil
	}
	if errors.Is(err, basicauth.ErrBusy) {
		return Result{}, busy, nil
	}
	return Result{}, nil, err
}

// busy answers a check the CPU budget could not take now.
func busy(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Retry-After", "1")
	http.Error(w, "Too many sign-in attempts in progress; try again shortly.", http.StatusServiceUnavailable)
}

// basicEntry fills in what every basic-auth row has.
func (g *Gateway) basicEntry(r *http.Request, ip string, e model.SignIn) model.SignIn {
	e.Site, e.RemoteIP, e.UserAgent, e.Client = web.SiteLabel(g.cfg.SiteName, r), ip, r.UserAgent(), model.ClientNonBrowser
	return e
}

// isPortal matches the prefix exactly as configured; anything else is a
// protected path, so odd spellings can only ever lead to the sign-in wall.
func (g *Gateway) isPortal(path string) bool {
	return strings.HasPrefix(path, g.prefix)
}

// challenge sends a browser to sign in and asks other clients for basic
// auth, so WebDAV, git and mail clients prompt for an app password.
func (g *Gateway) challenge(w http.ResponseWriter, r *http.Request) {
	if !looksLikeBrowser(r) {
		g.unauthorized(w, r, "Sign-in required.")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "Sign-in required.", http.StatusUnauthorized)
		return
	}
	target := g.prefix + "login?rd=" + url.QueryEscape(r.URL.RequestURI())
	http.Redirect(w, r, target, http.StatusFound)
}

func looksLikeBrowser(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// unauthorizedWith is the basic-auth challenge saying msg.
func (g *Gateway) unauthorizedWith(msg string) answer {
	return func(w http.ResponseWriter, r *http.Request) { g.unauthorized(w, r, msg) }
}

func (g *Gateway) unauthorized(w http.ResponseWriter, r *http.Request, msg string) {
	realm := g.cfg.Realm
	if realm == "" {
		realm = r.Host
	}
	w.Header().Set("WWW-Authenticate", basicauth.Realm(realm))
	w.Header().Set("Cache-Control", "no-store")
	http.Error(w, msg, http.StatusUnauthorized)
}

// authorization is r's first Authorization value, looked up under its
// canonical name without canonicalising it on every request.
func authorization(r *http.Request) string {
	if v := r.Header["Authorization"]; len(v) > 0 {
		return v[0]
	}
	return ""
}
