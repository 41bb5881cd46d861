// Package securityinfo serves the Security info page, where signed-in users
// manage their own sign-in methods: authenticator apps, the default
// sign-in method, and app passwords for clients that cannot do MFA; they
// also change their password and sign out their other sessions. Every
// change but signing out needs a second factor within the last ten
// minutes.
package securityinfo

import (
	"maps"
	"net/http"
	"net/url"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/web"
)

// RecentMFA is how fresh a second factor must be to change sign-in methods.
const RecentMFA = 10 * time.Minute

// Deps are the shared services the pages use.
type Deps struct {
	web.Deps
}

// Config is per site.
type Config struct {
	Prefix string // portal prefix, e.g. "/.mfa/"
	Issuer string
	// Policy is the site's, as the gateway applies it: the same session
	// rule guards these pages, and it decides who may create app passwords.
	Policy policy.Site
	// Portal is the portal origin phones pair on ("" when none is
	// configured: phones cannot be paired).
	Portal string
	// OnPortal: the pages are served on the portal origin, which has no
	// app to link back to.
	OnPortal bool
}

// Pages serves Security info under Prefix+"security".
type Pages struct {
	Deps
	page web.Responder
	cfg  Config
	now  func() time.Time
}

// New returns the pages.
func New(d Deps, cfg Config) *Pages {
	d.Deps = d.Deps.WithDefaults()
	return &Pages{Deps: d, cfg: cfg, now: time.Now, page: web.Responder{
		UI: d.UI, Logger: d.Logger, Issuer: cfg.Issuer, Prefix: cfg.Prefix,
		BackText: "Back to Security info", BackHref: cfg.Prefix + "security",
		Unavailable: "Your change could not be made. Please try again in a moment.",
	}}
}

// Routes returns the handlers by ServeMux pattern, for the portal's mux
// (which applies the cross-origin check to every POST).
func (p *Pages) Routes() map[string]http.Handler {
	pre := p.cfg.Prefix + "security"
	routes := map[string]http.Handler{
		"GET " + pre:                                http.HandlerFunc(p.show),
		"GET " + pre + "/add":                       http.HandlerFunc(p.showAdd),
		"POST " + pre + "/default":                  http.HandlerFunc(p.setDefault),
		"GET " + pre + "/rename":                    http.HandlerFunc(p.showRename),
		"POST " + pre + "/rename":                   http.HandlerFunc(p.rename),
		"GET " + pre + "/delete":                    http.HandlerFunc(p.confirmDelete),
		"POST " + pre + "/authenticator":            http.HandlerFunc(p.addAuthenticator),
		"POST " + pre + "/authenticator/delete":     http.HandlerFunc(p.deleteAuthenticator),
		"POST " + pre + "/app-password":             http.HandlerFunc(p.createAppPassword),
		"POST " + pre + "/app-password/delete":      http.HandlerFunc(p.deleteAppPassword),
		"POST " + pre + "/reverify":                 http.HandlerFunc(p.reverify),
		"POST " + pre + "/reverify/push":            http.HandlerFunc(p.requestReverifyPhone),
		"POST " + pre + "/reverify/passkey":         http.HandlerFunc(p.reverifyPasskey),
		"POST " + pre + "/reverify/passkey/options": http.HandlerFunc(p.reverifyPasskeyOptions),
		"GET " + pre + "/reverify/push":             http.HandlerFunc(p.checkReverifyPhone),
		"POST " + pre + "/phone":                    http.HandlerFunc(p.confirmPairing),
		"POST " + pre + "/phone/delete":             http.HandlerFunc(p.deletePhone),
		"POST " + pre + "/passkey":                  http.HandlerFunc(p.addPasskey),
		"POST " + pre + "/passkey/options":          http.HandlerFunc(p.passkeyOptions),
		"POST " + pre + "/passkey/delete":           http.HandlerFunc(p.deletePasskey),
		"GET " + pre + "/password":                  http.HandlerFunc(p.showChangePassword),
		"POST " + pre + "/password":                 http.HandlerFunc(p.changePassword),
		"POST " + pre + "/sign-out-everywhere":      http.HandlerFunc(p.signOutEverywhere),
	}
	maps.Copy(routes, p.recoveryRoutes(pre))
	return routes
}

func (p *Pages) securityPath() string { return p.cfg.Prefix + "security" }

// signedIn returns the session and a fresh copy of its user, or sends the
// browser to sign in. The session must satisfy the site's policy exactly
// as at the gateway: a password-only session of a user who now needs a
// second factor may neither see nor change the sign-in methods.
func (p *Pages) signedIn(w http.ResponseWriter, r *http.Request) (*session.Current, *model.User) {
	cur, err := p.Sessions.Load(r)
	if err != nil {
		p.page.InternalError(w, r, "loading session", err)
		return nil, nil
	}
	if cur == nil || (cur.Session.Stage != model.StageComplete && cur.Session.Stage != model.StageAccessPass) {
		p.toSignIn(w, r)
		return nil, nil
	}
	u, err := p.Core.Accounts.ByID(r.Context(), cur.User.ID)
	if err != nil {
		p.page.InternalError(w, r, "loading user", err)
		return nil, nil
	}
	// A temporary password from an admin leads only to choosing one's own.
	if u.TemporaryPassword() {
		http.Redirect(w, r, p.cfg.Prefix+"password/new", http.StatusSeeOther)
		return nil, nil
	}
	if cur.Session.Stage == model.StageAccessPass {
		if !p.passSessionMay(w, r, cur) {
			return nil, nil
		}
		return cur, u
	}
	// The fresh user, not the session's cached copy: a state the admin
	// just raised applies here at once.
	if !p.cfg.Policy.SessionSatisfies(&cur.Session, u) {
		p.toSignIn(w, r)
		return nil, nil
	}
	return cur, u
}

// toSignIn redirects to the login page, which comes back here afterwards:
// to the page asked for on a GET, to Security info after a POST (whose
// form is not replayed).
func (p *Pages) toSignIn(w http.ResponseWriter, r *http.Request) {
	back := p.securityPath()
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		back = r.URL.RequestURI()
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, p.cfg.Prefix+"login?rd="+url.QueryEscape(back), http.StatusFound)
}

// recentlyVerified: a second factor passed within RecentMFA. A user with no
// second factor at all counts a fresh sign-in instead.
func (p *Pages) recentlyVerified(cur *session.Current, hasMethod bool) bool {
	since := cur.Session.MFAAt
	if !hasMethod {
		since = cur.Session.CreatedAt
	}
	return !since.IsZero() && p.now().Sub(since) < RecentMFA
}

// forChange loads the session for a state change and demands a recent
// second factor; nil means a response was sent.
func (p *Pages) forChange(w http.ResponseWriter, r *http.Request, next string) (*session.Current, *model.User) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return nil, nil
	}
	if r.Method == http.MethodPost && !p.page.ReadForm(w, r) {
		return nil, nil
	}
	m, err := p.reverifyMethods(r, u)
	if err != nil {
		p.page.InternalError(w, r, "listing sign-in methods", err)
		return nil, nil
	}
	if p.recentlyVerified(cur, m.any()) {
		return cur, u
	}
	if !m.any() {
		// Nothing to re-verify with: a fresh sign-in is the way.
		p.page.Message(w, http.StatusForbidden, "Sign in again", "For your security, sign out and sign in again before changing your sign-in methods.")
		return nil, nil
	}
	p.renderReverify(w, u, next, m, "")
	return nil, nil
}

// done redirects to the list with a confirmation chosen from a fixed set
// (never text from the request).
func (p *Pages) done(w http.ResponseWriter, r *http.Request, notice string) {
	http.Redirect(w, r, p.securityPath()+"?done="+notice, http.StatusSeeOther)
}

// safeNext accepts only known Security info pages as the place to return
// to after re-verification.
func (p *Pages) safeNext(next string) string {
	switch next {
	case p.addPath(methodAuthenticator), p.addPath(methodAppPassword), p.addPath(methodPhone), p.addPath(methodPasskey), p.passwordPath(),
		p.recoveryCodesPath():
		return next
	}
	if ref, ok := p.methodPagePath(next); ok {
		return ref
	}
	return p.securityPath()
}

func (p *Pages) addPath(method string) string {
	return p.securityPath() + "/add?method=" + method
}
