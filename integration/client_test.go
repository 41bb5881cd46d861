package integration

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/caddyproc"
	"github.com/pquerna/otp/totp"
)

// browser is a cookie-keeping HTTP client that does not follow redirects
// (a caddyproc.Browser), so each step of the flow can be checked; it fails
// the test when a request cannot be sent.
type browser struct {
	t      testing.TB
	g      *gatewayInstance
	client *http.Client
	// origin is the origin paths are sent to when it is not the protected
	// site's (g): the portal's, where Security info lives when one is
	// configured.
	origin string
}

func newBrowser(t testing.TB, g *gatewayInstance) *browser {
	return &browser{t: t, g: g, client: caddyproc.NewBrowser(g.url).Client}
}

// newPortalBrowser is a browser of the portal origin (e.g.
// http://localhost:PORT) of the config g runs.
func newPortalBrowser(t testing.TB, g *gatewayInstance, origin string) *browser {
	b := newBrowser(t, g)
	b.origin = origin
	return b
}

// url is the address of path on the browser's origin.
func (b *browser) url(path string) string {
	if b.origin != "" {
		return b.origin + path
	}
	return b.g.url(path)
}

type page struct {
	status   int
	location string
	body     string
	header   http.Header
}

func (b *browser) web() *caddyproc.Browser {
	return &caddyproc.Browser{URL: b.url, Client: b.client}
}

func (b *browser) must(p caddyproc.Page, err error) page {
	b.t.Helper()
	if err != nil {
		b.t.Fatal(err)
	}
	return page{status: p.Status, location: p.Location, body: p.Body, header: p.Header}
}

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	return b.must(b.web().Do(req))
}

func (b *browser) get(path string, headers ...string) page {
	b.t.Helper()
	return b.must(b.web().Get(path, headers...))
}

// post submits a form the way a same-origin browser does.
func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	return b.must(b.web().Post(path, form))
}

func (b *browser) login(user, pw, rd string) page {
	b.t.Helper()
	return b.post("/.mfa/login", url.Values{"username": {user}, "password": {pw}, "rd": {rd}})
}

func (b *browser) submitCode(path, code string) page {
	b.t.Helper()
	return b.post(path, url.Values{"code": {code}})
}

var secretRE = regexp.MustCompile(`<code class="secret" id="secret">([^<]+)</code>`)

// enrolSecret reads the manual-entry key from the enrolment page.
func enrolSecret(t testing.TB, p page) string {
	t.Helper()
	m := secretRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no secret on enrolment page (status %d):\n%s", p.status, p.body)
	}
	return strings.ReplaceAll(html.UnescapeString(m[1]), " ", "")
}

// codeAt is what an authenticator app shows at step s.
func codeAt(t testing.TB, secret string, step int64) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, time.Unix(step*30, 0))
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func currentStep() int64 { return time.Now().Unix() / 30 }

// enrolled signs a new user in for the first time and enrols an
// authenticator; it returns the secret and the step it used.
func (b *browser) enrolled(user, pw string) (secret string, step int64) {
	b.t.Helper()
	p := b.login(user, pw, "/")
	if p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		b.t.Fatalf("login: status %d location %q, want 303 to enrol\n%s", p.status, p.location, p.body)
	}
	p = b.get("/.mfa/enrol")
	if p.status != 200 || !strings.Contains(p.body, "More information required") {
		b.t.Fatalf("enrol page: %d\n%s", p.status, p.body)
	}
	secret = enrolSecret(b.t, p)
	step = currentStep()
	p = b.submitCode("/.mfa/enrol", codeAt(b.t, secret, step))
	if p.status != http.StatusSeeOther {
		b.t.Fatalf("enrol submit: %d\n%s", p.status, p.body)
	}
	return secret, step
}
