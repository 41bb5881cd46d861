package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// newGateway wires the request path with plain Go, no Caddy.
func newGateway(t testing.TB, site policy.Site) (*Gateway, *session.Manager, *model.User) {
	t.Helper()
	ctx := context.Background()
	svc := testfixture.Services(t)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "gus", Password: "gus rides a violet tractor", Groups: []string{"ops"}, MFAState: model.MFAEnabled})
	if err != nil {
		t.Fatal(err)
	}
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher},
		signin.Config{Issuer: "T", Policy: site})
	return New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{Policy: site}), svc.Sessions, u
}

// portalCore is the core behind g's sign-in portal, for tests that change
// an account the way an admin would.
func portalCore(g *Gateway) *core.Core { return g.portal.(*signin.Portal).Core }

func serve(g *Gateway, r *http.Request) (Result, *httptest.ResponseRecorder) {
	w := httptest.NewRecorder()
	res, _ := g.Serve(w, r)
	return res, w
}

func TestChallenges(t *testing.T) {
	g, _, _ := newGateway(t, policy.Site{})
	browser := httptest.NewRequest("GET", "/app?x=1", nil)
	browser.Header.Set("Accept", "text/html")
	if res, w := serve(g, browser); !res.Handled || w.Code != http.StatusFound || w.Header().Get("Location") != "/.mfa/login?rd=%2Fapp%3Fx%3D1" {
		t.Fatalf("browser: %d %q", w.Code, w.Header().Get("Location"))
	}
	client := httptest.NewRequest("PROPFIND", "/dav/", nil)
	if res, w := serve(g, client); !res.Handled || w.Code != 401 || !strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Basic realm=") {
		t.Fatalf("client: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	portal := httptest.NewRequest("GET", "/.mfa/login", nil)
	if res, w := serve(g, portal); !res.Handled || w.Code != 200 {
		t.Fatalf("portal: %d", w.Code)
	}
}

func TestSignedInRequestCarriesIdentityOnly(t *testing.T) {
	g, sm, u := newGateway(t, policy.Site{})
	w := httptest.NewRecorder()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StageComplete, MFAAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.AddCookie(w.Result().Cookies()[0])
	r.AddCookie(&http.Cookie{Name: "app", Value: "1"})
	// A passwordless sign-in's challenge cookie stays with mfagate too.
	r.AddCookie(&http.Cookie{Name: session.ChallengeCookieName, Value: "challenge"})
	r.Header.Set("Remote-User", "admin")
	r.Header.Set("Connection", "Remote-User")
	res, _ := serve(g, r)
	if res.Handled || res.User == nil || res.User.Username != "gus" {
		t.Fatalf("result: %+v", res)
	}
	if r.Header.Values("Remote-User")[0] != "gus" || len(r.Header.Values("Remote-User")) != 1 || r.Header.Get("Remote-Groups") != "ops" {
		t.Fatalf("identity headers: %v", r.Header)
	}
	if c := r.Header.Get("Cookie"); c != "app=1" || r.Header.Get("Connection") != "" {
		t.Fatalf("cookie %q connection %q", c, r.Header.Get("Connection"))
	}
}

func TestHalfSignedInIsNotSignedIn(t *testing.T) {
	g, sm, u := newGateway(t, policy.Site{})
	w := httptest.NewRecorder()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StagePassword}); err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Accept", "text/html")
	r.AddCookie(w.Result().Cookies()[0])
	if res, w := serve(g, r); !res.Handled || w.Code != http.StatusFound {
		t.Fatalf("password-only session let through: %d", w.Code)
	}
}

// A session completed with the password alone (the user was Disabled then,
// or it came from a site of the same host without require_mfa) does not pass
// once a second factor is needed: the user is sent to sign in again.
func TestPasswordOnlySessionNeedsSecondFactorWhenRequired(t *testing.T) {
	g, sm, u := newGateway(t, policy.Site{RequireMFA: true})
	w := httptest.NewRecorder()
	if err := sm.Start(w, httptest.NewRequest("GET", "/", nil), model.Session{UserID: u.ID, Stage: model.StageComplete}); err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0]
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("Accept", "text/html")
	r.AddCookie(cookie)
	if res, w := serve(g, r); !res.Handled || w.Code != http.StatusFound {
		t.Fatalf("password-only session passed where MFA is required: %d", w.Code)
	}
	// The login page shows the form instead of bouncing back (no loop).
	login := httptest.NewRequest("GET", "/.mfa/login?rd=%2Fx", nil)
	login.AddCookie(cookie)
	if res, w := serve(g, login); !res.Handled || w.Code != http.StatusOK {
		t.Fatalf("login page with an insufficient session: %d %q", w.Code, w.Header().Get("Location"))
	}
}

func TestPublicPathsAndBasicAuth(t *testing.T) {
	g, _, _ := newGateway(t, policy.Site{PublicPaths: []string{"/public/*"}})
	pub := httptest.NewRequest("GET", "/public/logo.png", nil)
	pub.Header.Set("Remote-User", "admin")
	pub.SetBasicAuth("gus", "an app password")
	if res, _ := serve(g, pub); res.Handled || !res.Public || pub.Header.Get("Remote-User") != "" || pub.Header.Get("Authorization") != "" {
		t.Fatalf("public: %+v %v", res, pub.Header)
	}
	bearer := httptest.NewRequest("GET", "/public/api", nil)
	bearer.Header.Set("Authorization", "Bearer upstream-token")
	if res, _ := serve(g, bearer); !res.Public || bearer.Header.Get("Authorization") != "Bearer upstream-token" {
		t.Fatalf("the upstream's own bearer token was removed: %v", bearer.Header)
	}
	trick := httptest.NewRequest("GET", "/public/..%2fsecret", nil)
	if res, w := serve(g, trick); !res.Handled || w.Code != 401 {
		t.Fatalf("encoded traversal: %d", w.Code)
	}
	// Enabled (unregistered) user: the account password passes basic auth,
	// and Authorization does not go upstream.
	r := httptest.NewRequest("GET", "/dav/", nil)
	r.SetBasicAuth("gus", "gus rides a violet tractor")
	res, w := serve(g, r)
	if res.Handled || res.User == nil || r.Header.Get("Authorization") != "" {
		t.Fatalf("basic auth: %d %+v", w.Code, res)
	}
	bad := httptest.NewRequest("GET", "/dav/", nil)
	bad.SetBasicAuth("gus", "nope")
	if res, w := serve(g, bad); !res.Handled || w.Code != 401 {
		t.Fatalf("wrong password: %d", w.Code)
	}
}
