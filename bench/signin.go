package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/mfagate/mfagate/internal/caddyproc"
	"github.com/mfagate/mfagate/internal/session"
)

// browser walks the sign-in pages of one instance (a caddyproc.Browser).
type browser struct {
	c *caddyInstance
	*caddyproc.Browser
}

func newBrowser(c *caddyInstance) *browser {
	return &browser{c: c, Browser: caddyproc.NewBrowser(c.url)}
}

func sameOrigin(req *http.Request, c *caddyInstance) { caddyproc.SameOrigin(req, c.url("")) }

var (
	secretRE      = regexp.MustCompile(`<code class="secret" id="secret">([^<]+)</code>`)
	appPasswordRE = regexp.MustCompile(`<code id="app-password">([a-z ]+)</code>`)
)

// signIn adds user through the CLI (MFA enforced), signs in with the
// password, enrols an authenticator and returns the session cookie value.
func (b *browser) signIn(user, pw string) (string, error) {
	if err := b.c.addUser(user, pw, "--mfa", "enforced", "--group", "staff", "--group", "bench",
		"--name", "Bench User "+user, "--email", user+"@example.com"); err != nil {
		return "", err
	}
	p, err := b.Post("/.mfa/login", url.Values{"username": {user}, "password": {pw}, "rd": {"/"}})
	if err != nil {
		return "", err
	}
	if p.Status != http.StatusSeeOther || p.Location != "/.mfa/enrol" {
		return "", fmt.Errorf("login: status %d location %q, want 303 to /.mfa/enrol", p.Status, p.Location)
	}
	p, err = b.Get("/.mfa/enrol")
	if err != nil {
		return "", err
	}
	m := secretRE.FindStringSubmatch(p.Body)
	if p.Status != 200 || m == nil {
		return "", fmt.Errorf("enrol page: status %d, no secret", p.Status)
	}
	secret := strings.ReplaceAll(html.UnescapeString(m[1]), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		return "", err
	}
	p, err = b.Post("/.mfa/enrol", url.Values{"code": {code}})
	if err != nil {
		return "", err
	}
	if p.Status != http.StatusSeeOther {
		return "", fmt.Errorf("enrol submit: status %d", p.Status)
	}
	u, _ := url.Parse(b.c.url("/"))
	for _, ck := range b.Client.Jar.Cookies(u) {
		if ck.Name == session.CookieName {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("no %s cookie after sign-in", session.CookieName)
}

// appPassword creates an app password through the Security info page and
// returns it without spaces.
func (b *browser) appPassword(name string) (string, error) {
	p, err := b.Post("/.mfa/security/app-password", url.Values{"name": {name}})
	if err != nil {
		return "", err
	}
	m := appPasswordRE.FindStringSubmatch(p.Body)
	if m == nil {
		return "", fmt.Errorf("no app password shown (status %d)", p.Status)
	}
	return strings.ReplaceAll(m[1], " ", ""), nil
}

// checkOK sends one request with the given headers and expects the
// upstream's answer.
func checkOK(c *caddyInstance, headers map[string]string) error {
	req, _ := http.NewRequest("GET", c.url("/bench"), nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != upstreamBody {
		return fmt.Errorf("%s: status %d body %.80q, want 200 from the upstream", c.name, resp.StatusCode, body)
	}
	return nil
}
