// Package signin serves the sign-in portal under a prefix of the protected
// site (default /.mfa/): password, then an authenticator code or the
// enrolment of a first authenticator, then back to where the user was going.
package signin

import (
	"net/http"
	"strings"
	"time"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/bruteforce"
	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/store"
	"github.com/mfagate/mfagate/loginui"
)

// DefaultPrefix is where the portal lives on every protected site.
const DefaultPrefix = "/.mfa/"

// maxFormBytes bounds a posted form; the real ones are tiny.
const maxFormBytes = 16 << 10

// Deps are the shared services the portal uses.
type Deps struct {
	Store    store.Store
	Sessions *session.Manager
	Hasher   *password.Hasher
	Limiter  *bruteforce.Limiter
	// Codes checks authenticator codes and seals their secrets.
	Codes  *totp.Checker
	UI     *loginui.Renderer
	Audit  *audit.Log
	Logger *zap.Logger
	// ClientIP returns the client address as the server trusts it (Caddy's
	// trusted-proxies handling); defaults to the connection's address.
	ClientIP func(*http.Request) string
}

// Config is per-site.
type Config struct {
	Prefix string // must start and end with "/"
	Issuer string // shown in pages and in authenticator apps
	Policy policy.Site
	// RedirectDomains allow-lists other https hosts as targets after
	// sign-in ("example.com", "*.example.com"); same host is always allowed.
	RedirectDomains []string
	// Extra serves further pages under Prefix (e.g. Security info),
	// registered on the portal's mux by pattern.
	Extra map[string]http.Handler
}

// Portal is an http.Handler for every path under Config.Prefix.
type Portal struct {
	Deps
	cfg     Config
	handler http.Handler
	now     func() time.Time
}

// New builds the portal. Every POST passes net/http's cross-origin check.
func New(d Deps, cfg Config) *Portal {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	if d.Logger == nil {
		d.Logger = zap.NewNop()
	}
	if d.ClientIP == nil {
		d.ClientIP = remoteIP
	}
	p := &Portal{Deps: d, cfg: cfg, now: time.Now}
	p.handler = p.crossOriginProtected(p.routes())
	return p
}

// Prefix returns the portal prefix.
func (p *Portal) Prefix() string { return p.cfg.Prefix }

// ServeHTTP answers portal requests.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.handler.ServeHTTP(w, r)
}

func (p *Portal) routes() http.Handler {
	mux := http.NewServeMux()
	pre := p.cfg.Prefix
	mux.Handle("GET "+pre+"static/", http.StripPrefix(pre+"static/", loginui.Static()))
	mux.HandleFunc("GET "+pre+"login", p.showLogin)
	mux.HandleFunc("POST "+pre+"login", p.submitLogin)
	mux.HandleFunc("GET "+pre+"verify", p.showVerify)
	mux.HandleFunc("POST "+pre+"verify", p.submitVerify)
	mux.HandleFunc("GET "+pre+"enrol", p.showEnrol)
	mux.HandleFunc("POST "+pre+"enrol", p.submitEnrol)
	mux.HandleFunc("GET "+pre+"logout", p.showLogout)
	mux.HandleFunc("POST "+pre+"logout", p.submitLogout)
	for pattern, h := range p.cfg.Extra {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc(pre, p.notFound)
	return mux
}

func (p *Portal) crossOriginProtected(next http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.message(w, r, http.StatusForbidden, "Request blocked",
			"This form was submitted from another site, so it was not accepted. Go back to the sign-in page and try again.")
	}))
	return cop.Handler(next)
}

// common fills what every page shows.
func (p *Portal) common(title string, cur *session.Current) loginui.Common {
	c := loginui.Common{Title: title, Issuer: p.cfg.Issuer, Prefix: p.cfg.Prefix}
	if cur != nil {
		c.User = displayName(&cur.User)
	}
	return c
}

func displayName(u *store.User) string {
	if u.DisplayName != "" {
		return u.DisplayName
	}
	return u.Username
}

func (p *Portal) message(w http.ResponseWriter, r *http.Request, status int, heading, msg string) {
	p.UI.Render(w, status, loginui.MessagePage{
		Common:   p.common(heading, nil),
		Heading:  heading,
		Message:  msg,
		LinkText: "Go to sign-in",
		LinkHref: p.cfg.Prefix + "login",
	})
}

func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.message(w, r, http.StatusMethodNotAllowed, "Method not allowed", "This page does not accept that kind of request.")
		return
	}
	p.message(w, r, http.StatusNotFound, "Page not found", "There is no sign-in page at this address.")
}

// internalError logs err and shows a calm page: the details are for the log.
func (p *Portal) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	p.Logger.Error(what, zap.Error(err), zap.String("path", r.URL.Path))
	p.message(w, r, http.StatusServiceUnavailable, "Something went wrong",
		"Sign-in is temporarily unavailable. Please try again in a moment.")
}

// readForm parses a small urlencoded body; false means a response was sent.
func (p *Portal) readForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		p.message(w, r, http.StatusBadRequest, "Bad request", "The form could not be read. Please try again.")
		return false
	}
	return true
}

func (p *Portal) redirect(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// remoteIP is the connection's address without the port.
func remoteIP(r *http.Request) string {
	addr := r.RemoteAddr
	if i := strings.LastIndexByte(addr, ':'); i > 0 {
		addr = addr[:i]
	}
	return strings.Trim(addr, "[]")
}
