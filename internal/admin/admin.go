// Package admin serves the admin center on the portal origin (never on a
// protected site's origin, where an upstream's script could drive it):
// the list of users with search, filters, sorting and paging; one user's
// page; actions on one user or several, each confirmed first and followed
// by a page saying what changed; and the sign-in log.
//
// Only members of the admin group with a complete multi-factor session
// get in; everyone else gets 403 and nothing is applied. Reading pages
// needs nothing more; a change also needs a second factor from the last
// ten minutes (a passkey, a code or the phone), asked for on its
// confirmation step (reverify.go). Sessions
// come from the portal's own sign-in (cookie only: basic auth and app
// passwords never reach these pages). Every POST
// passes the cross-origin check, and no GET changes anything.
package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/redirect"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// DefaultBase is where the admin center lives on the portal origin.
const DefaultBase = "/admin/"

// RecentMFA is how fresh the admin's second factor must be for a change.
const RecentMFA = 10 * time.Minute

// DefaultPageSize is how many users or sign-ins a page lists.
const DefaultPageSize = 50

// Deps are the shared services the pages use.
type Deps struct {
	web.Deps
}

// Config is per portal origin.
type Config struct {
	Base   string // default DefaultBase; must start and end with "/"
	Prefix string // the portal's sign-in prefix, e.g. "/.mfa/"
	Issuer string
	// Policy is the portal's sign-in policy: a session must satisfy it
	// (on the portal, a second factor for everyone).
	Policy   policy.Site
	PageSize int // default DefaultPageSize
}

// Pages serves the admin center under Config.Base.
type Pages struct {
	Deps
	cfg     Config
	page    web.Responder
	handler http.Handler
	now     func() time.Time
}

// New builds the pages.
func New(d Deps, cfg Config) *Pages {
	if cfg.Base == "" {
		cfg.Base = DefaultBase
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	d.Deps = d.Deps.WithDefaults()
	p := &Pages{Deps: d, cfg: cfg, now: time.Now, page: web.Responder{
		UI: d.UI, Logger: d.Logger, Issuer: cfg.Issuer, Prefix: cfg.Prefix,
		BackText: "Back to the admin center", BackHref: cfg.Base,
		Unavailable: "The admin center could not do that just now. Please try again in a moment.",
	}}
	p.handler = p.page.CrossOriginProtected(p.routes())
	return p
}

// ServeHTTP answers the admin center's paths.
func (p *Pages) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.handler.ServeHTTP(w, r)
}

func (p *Pages) routes() http.Handler {
	mux := http.NewServeMux()
	b := p.cfg.Base
	mux.HandleFunc("GET "+b+"{$}", p.users)
	mux.HandleFunc("GET "+b+"users/new", p.showAddUser)
	mux.HandleFunc("POST "+b+"users/new", p.addUser)
	mux.HandleFunc("GET "+b+"users/{id}", p.user)
	mux.HandleFunc("POST "+b+"action", p.action)
	mux.HandleFunc("GET "+b+"sign-ins", p.signIns)
	mux.HandleFunc("POST "+b+"reverify", p.reverify)
	mux.HandleFunc("POST "+b+"reverify/passkey/options", p.reverifyPasskeyOptions)
	mux.HandleFunc(b, p.notFound)
	return mux
}

func (p *Pages) notFound(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, HEAD, POST")
		p.page.Message(w, http.StatusMethodNotAllowed, "Method not allowed", "This page does not accept that kind of request.")
		return
	}
	p.page.Message(w, http.StatusNotFound, "Page not found", "There is no admin page at this address.")
}

// request is an admitted request: the session and the admin as stored now.
type request struct {
	cur   *session.Current
	admin *model.User
}

// signedInAdmin returns the session and a fresh copy of its user when the
// user is an admin with a complete session; otherwise it answers (the
// sign-in page, or 403) and returns nil. POST forms are read here.
func (p *Pages) signedInAdmin(w http.ResponseWriter, r *http.Request) *request {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return nil
	}
	if cur == nil || cur.Session.Stage != model.StageComplete {
		p.toSignIn(w, r)
		return nil
	}
	u, err := p.Core.Accounts.ByID(r.Context(), cur.User.ID)
	if errors.Is(err, model.ErrNotFound) {
		p.toSignIn(w, r)
		return nil
	}
	if err != nil {
		p.page.InternalError(w, r, "loading user", err)
		return nil
	}
	if !p.cfg.Policy.SessionSatisfies(&cur.Session, u) {
		p.toSignIn(w, r)
		return nil
	}
	if u.TemporaryPassword() {
		p.toNewPassword(w, r, u)
		return nil
	}
	if !p.Core.Admin.IsAdmin(u) {
		p.forbidden(w, u)
		return nil
	}
	if r.Method == http.MethodPost && !p.page.ReadForm(w, r) {
		return nil
	}
	return &request{cur: cur, admin: u}
}

// toSignIn sends the browser to the portal's sign-in, coming back to the
// page asked for (after a POST, whose form is not replayed, to the list).
func (p *Pages) toSignIn(w http.ResponseWriter, r *http.Request) {
	back := p.cfg.Base
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		back = p.safeBack(r.URL.RequestURI())
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.cfg.Prefix+"login?rd="+url.QueryEscape(back), http.StatusFound)
}

// toNewPassword answers a session whose user still has an admin's
// temporary password: they choose their own first, and nothing here is
// shown or applied until then.
func (p *Pages) toNewPassword(w http.ResponseWriter, r *http.Request, u *model.User) {
	w.Header().Set("Cache-Control", "no-store")
	target := p.cfg.Prefix + "password/new"
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, target, http.StatusSeeOther)
		return
	}
	p.UI.Render(w, http.StatusForbidden, loginui.MessagePage{
		Common:   p.page.Common("Choose a new password first", u),
		Heading:  "Choose a new password first",
		Message:  "You signed in with a temporary password. Choose your own password before using the admin center.",
		LinkText: "Choose a new password", LinkHref: target,
	})
}

// forbidden answers a signed-in user who is no admin.
func (p *Pages) forbidden(w http.ResponseWriter, u *model.User) {
	p.UI.Render(w, http.StatusForbidden, loginui.MessagePage{
		Common:   p.page.Common("You don't have access", u),
		Heading:  "You don't have access",
		Message:  "The admin center is for administrators only, and " + web.DisplayName(u) + " is not one. Sign in with an administrator's account, or go back to where you came from.",
		LinkText: "Sign in with another account", LinkHref: p.cfg.Prefix + "logout",
	})
}

// safeBack accepts only a path of the admin center (with its query), the
// list otherwise.
func (p *Pages) safeBack(target string) string {
	s := redirect.Safe(target, "")
	if !strings.HasPrefix(s, p.cfg.Base) || strings.ContainsAny(s, "\\#") {
		return p.cfg.Base
	}
	return s
}

func (p *Pages) nav(section string) loginui.AdminNav {
	return loginui.AdminNav{Base: p.cfg.Base, Section: section}
}

// Dates and times as the pages show them: UTC, to the minute.
const (
	timeLayout = "2006-01-02 15:04 UTC"
	dateLayout = "2006-01-02"
)

func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}
