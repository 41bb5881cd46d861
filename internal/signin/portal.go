// Package signin serves the sign-in portal under a prefix of the protected
// site (default /.mfa/): password, then an authenticator code or the
// enrolment of a first authenticator, then back to where the user was going.
package signin

import (
	"context"
	"net/http"
	"time"

	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// DefaultPrefix is where the portal lives on every protected site.
const DefaultPrefix = "/.mfa/"

// Deps are the shared services the portal uses.
type Deps struct {
	web.Deps
	// Hasher is no longer used by the pages (the core judges passwords:
	// core.SignIn); kept so that the callers need not change.
	Hasher *password.Hasher
}

// Config is per-site.
type Config struct {
	Prefix string // must start and end with "/"
	Issuer string // shown in pages and in authenticator apps
	Policy policy.Site
	// RedirectDomains allow-lists other https hosts as targets after
	// sign-in ("example.com", "*.example.com"); same host is always allowed.
	RedirectDomains []string
	// SiteName is how the site is shown on the phone's prompt and in the
	// sign-in log; "": its host name, when the request's Host is one (see
	// web.SiteLabel).
	SiteName string
	// Extra serves further pages under Prefix (e.g. Security info),
	// registered on the portal's mux by pattern.
	Extra map[string]http.Handler // AccessPassAt is where a Temporary Access Pass is used when
	// Security info (the only place a pass session reaches) lives on
	// another origin, the portal's: that origin's access-pass page. ""
	// (Security info is under Prefix): Prefix+"access-pass".
	AccessPassAt string
}

// Portal is an http.Handler for every path under Config.Prefix.
type Portal struct {
	Deps
	page    web.Responder
	cfg     Config
	handler http.Handler
	now     func() time.Time
	// stopping ends when the portal is closed (config unloaded).
	stopping context.Context
	stop     context.CancelFunc
}

// New builds the portal. Every POST passes net/http's cross-origin check.
func New(d Deps, cfg Config) *Portal {
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultPrefix
	}
	d.Deps = d.Deps.WithDefaults()
	p := &Portal{Deps: d, cfg: cfg, now: time.Now, page: web.Responder{
		UI: d.UI, Logger: d.Logger, Issuer: cfg.Issuer, Prefix: cfg.Prefix,
		BackText: "Go to sign-in", BackHref: cfg.Prefix + "login",
		Unavailable: "Sign-in is temporarily unavailable. Please try again in a moment.",
	}}
	p.stopping, p.stop = context.WithCancel(context.Background())
	p.handler = p.page.CrossOriginProtected(p.routes())
	return p
}

// Close ends the long-polls this portal is holding (their pages poll
// again, on the config that replaced this one), so a config reload never
// waits on them.
func (p *Portal) Close() { p.stop() }

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
	mux.HandleFunc("POST "+pre+"login/passkey/options", p.passwordlessOptions)
	mux.HandleFunc("POST "+pre+"login/passkey", p.submitPasskeyLogin)
	mux.HandleFunc("GET "+pre+"verify", p.showVerify)
	mux.HandleFunc("POST "+pre+"verify", p.submitVerify)
	mux.HandleFunc("GET "+pre+"password/new", p.showNewPassword)
	mux.HandleFunc("POST "+pre+"password/new", p.submitNewPassword)
	mux.HandleFunc("GET "+pre+"push", p.showApproval)
	mux.HandleFunc("POST "+pre+"push/new", p.newApproval)
	mux.HandleFunc("GET "+pre+"push/wait", p.waitApproval)
	mux.HandleFunc("GET "+pre+"passkey", p.showPasskey)
	mux.HandleFunc("POST "+pre+"passkey", p.submitPasskey)
	mux.HandleFunc("POST "+pre+"passkey/options", p.passkeyOptions)
	mux.HandleFunc("GET "+pre+"enrol", p.showEnrol)
	mux.HandleFunc("POST "+pre+"enrol", p.submitEnrol)
	mux.HandleFunc("GET "+pre+"recovery", p.showRecovery)
	mux.HandleFunc("POST "+pre+"recovery", p.submitRecovery)
	mux.HandleFunc("GET "+pre+"recovery/used", p.showRecoveryUsed)
	mux.HandleFunc("GET "+pre+"recovery/notice", p.showRecoveryNotice)
	mux.HandleFunc("POST "+pre+"recovery/notice", p.ackRecoveryNotice)
	mux.HandleFunc("GET "+pre+"logout", p.showLogout)
	mux.HandleFunc("POST "+pre+"logout", p.submitLogout)
	mux.HandleFunc("GET "+pre+"access-pass", p.showAccessPass)
	mux.HandleFunc("POST "+pre+"access-pass", p.submitAccessPass)
	for pattern, h := range p.cfg.Extra {
		mux.Handle(pattern, h)
	}
	mux.HandleFunc(pre, p.notFound)
	return mux
}

// common fills what every page shows.
func (p *Portal) common(title string, cur *session.Current) loginui.Common {
	if cur == nil {
		return p.page.Common(title, nil)
	}
	return p.page.Common(title, &cur.User)
}

func (p *Portal) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.page.Message(w, http.StatusMethodNotAllowed, "Method not allowed", "This page does not accept that kind of request.")
		return
	}
	p.page.Message(w, http.StatusNotFound, "Page not found", "There is no sign-in page at this address.")
}

func (p *Portal) redirect(w http.ResponseWriter, r *http.Request, target string) {
	http.Redirect(w, r, target, http.StatusSeeOther)
}
