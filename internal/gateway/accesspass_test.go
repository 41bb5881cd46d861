package gateway

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/securityinfo"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// A user who lost their authenticator signs in with a Temporary Access
// Pass: never in basic auth; the pass session reaches Security info,
// where it adds an authenticator app (the pass is the re-verification),
// but not the site, nor Security info's other changes; adding the app
// ends the session, so the site stays refused until a normal sign-in.
func TestAccessPassReachesSecurityInfoOnly(t *testing.T) {
	ctx := context.Background()
	svc := testfixture.Services(t)
	c := svc.Core
	u, err := c.Accounts.Add(ctx, core.NewUser{Username: "gus", Password: "gus rides a violet tractor"})
	if err != nil {
		t.Fatal(err)
	}
	lost, _ := c.Codes.Seal(u.ID, []byte("a lost phone's secret"))
	if err := c.Methods.AddAuthenticator(ctx, u, lost, "192.0.2.1", false); err != nil {
		t.Fatal(err)
	}
	site := policy.Site{}
	info := securityinfo.New(securityinfo.Deps{Deps: svc.Web(nil, nil)}, securityinfo.Config{Prefix: "/.mfa/", Issuer: "T", Policy: site})
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher},
		signin.Config{Issuer: "T", Policy: site, Extra: info.Routes()})
	g := New(portal, svc.Sessions, svc.Verifier, c.Audit, Config{Policy: site})

	pass, _, err := c.Accounts.As(core.CLIActor("test")).IssueAccessPass(ctx, "gus", 0, false)
	if err != nil {
		t.Fatal(err)
	}
	basic := httptest.NewRequest("GET", "/dav/", nil)
	basic.SetBasicAuth("gus", pass)
	if res, w := serve(g, basic); !res.Handled || w.Code != http.StatusUnauthorized {
		t.Fatalf("basic auth with a pass: %d", w.Code)
	}
	basic.SetBasicAuth("gus", strings.ReplaceAll(pass, "-", ""))
	if res, w := serve(g, basic); !res.Handled || w.Code != http.StatusUnauthorized {
		t.Fatalf("basic auth with a pass: %d", w.Code)
	}

	var cookie *http.Cookie
	do := func(method, path string, form url.Values) *httptest.ResponseRecorder {
		var r *http.Request
		if form != nil {
			r = httptest.NewRequest(method, path, strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		} else {
			r = httptest.NewRequest(method, path, nil)
		}
		r.Header.Set("Accept", "text/html")
		if cookie != nil {
			r.AddCookie(cookie)
		}
		_, w := serve(g, r)
		return w
	}
	if w := do("GET", "/.mfa/login", nil); !strings.Contains(w.Body.String(), `href="/.mfa/access-pass"`) {
		t.Fatalf("the login page offers no access pass:\n%s", w.Body)
	}
	if w := do("POST", "/.mfa/access-pass", url.Values{"username": {"gus"}, "pass": {"ABCD-EFGH-JKLM-NPQR"}}); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), "Your account or Temporary Access Pass is incorrect") {
		t.Fatalf("wrong pass: %d\n%s", w.Code, w.Body)
	}
	if w := do("POST", "/.mfa/access-pass", url.Values{"username": {"nobody"}, "pass": {pass}}); !strings.Contains(w.Body.String(), "Your account or Temporary Access Pass is incorrect") {
		t.Fatalf("unknown user: %d\n%s", w.Code, w.Body)
	}
	w := do("POST", "/.mfa/access-pass", url.Values{"username": {"gus"}, "pass": {strings.ToLower(pass)}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/security" || len(w.Result().Cookies()) == 0 {
		t.Fatalf("right pass: %d %q", w.Code, w.Header().Get("Location"))
	}
	cookie = w.Result().Cookies()[0]

	if w := do("GET", "/.mfa/security", nil); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `id="access-pass-notice"`) ||
		strings.Contains(w.Body.String(), "security/sign-out-everywhere") {
		t.Fatalf("Security info in a pass session: %d\n%s", w.Code, w.Body)
	}
	if w := do("GET", "/app", nil); w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.mfa/login?") {
		t.Fatalf("the site in a pass session: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := do("GET", "/.mfa/security/add?method=app-password", nil); w.Code != http.StatusForbidden {
		t.Fatalf("an app password in a pass session: %d", w.Code)
	}
	if w := do("POST", "/.mfa/security/sign-out-everywhere", url.Values{}); w.Code != http.StatusForbidden {
		t.Fatalf("sign out everywhere in a pass session: %d", w.Code)
	}
	if w := do("GET", "/.mfa/security/add", nil); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "method=app-password") {
		t.Fatalf("the chooser in a pass session: %d\n%s", w.Code, w.Body)
	}

	w = do("GET", "/.mfa/security/add?method=authenticator", nil)
	m := regexp.MustCompile(`name="pending" value="([^"]+)"`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("adding an authenticator in a pass session: %d\n%s", w.Code, w.Body)
	}
	sealed, _ := base64.RawURLEncoding.DecodeString(m[1])
	secret, err := c.Codes.Open(u.ID, sealed)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.CodeAt(totp.EncodeSecret(secret), time.Now().Unix()/30)
	w = do("POST", "/.mfa/security/authenticator", url.Values{"pending": {m[1]}, "code": {code}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Authenticator app added") {
		t.Fatalf("added an authenticator: %d\n%s", w.Code, w.Body)
	}
	if auths, _ := c.Methods.Authenticators(ctx, u.ID); len(auths) != 2 {
		t.Fatalf("authenticators after the add: %d, want 2", len(auths))
	}
	// The pass session ended: the site and Security info ask to sign in.
	if w := do("GET", "/app", nil); w.Code != http.StatusFound || !strings.HasPrefix(w.Header().Get("Location"), "/.mfa/login?") {
		t.Fatalf("the site after the add: %d %q", w.Code, w.Header().Get("Location"))
	}
	if w := do("GET", "/.mfa/security", nil); w.Code != http.StatusFound {
		t.Fatalf("Security info after the add: %d", w.Code)
	}
}
