package main

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/mfagate/mfagate/internal/session"
)

// browser is a cookie-keeping client that does not follow redirects, so
// each step of the sign-in flow can be checked.
type browser struct {
	c      *caddyInstance
	client *http.Client
}

func newBrowser(c *caddyInstance) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{c: c, client: &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(req *http.Request) (page, error) {
	req.Header.Set("Accept", "text/html")
	resp, err := b.client.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(body)}, nil
}

func (b *browser) get(path string) (page, error) {
	req, _ := http.NewRequest("GET", b.c.url(path), nil)
	return b.do(req)
}

// post submits a form the way a same-origin browser does.
func (b *browser) post(path string, form url.Values) (page, error) {
	req, _ := http.NewRequest("POST", b.c.url(path), strings.NewReader(form.Encode()))
	sameOrigin(req, b.c)
	return b.do(req)
}

func sameOrigin(req *http.Request, c *caddyInstance) {
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.url(""))
	req.Header.Set("Sec-Fetch-Site", "same-origin")
}

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
	p, err := b.post("/.mfa/login", url.Values{"username": {user}, "password": {pw}, "rd": {"/"}})
	if err != nil {
		return "", err
	}
	if p.status != http.StatusSeeOther || p.location != "/.mfa/enrol" {
		return "", fmt.Errorf("login: status %d location %q, want 303 to /.mfa/enrol", p.status, p.location)
	}
	p, err = b.get("/.mfa/enrol")
	if err != nil {
		return "", err
	}
	m := secretRE.FindStringSubmatch(p.body)
	if p.status != 200 || m == nil {
		return "", fmt.Errorf("enrol page: status %d, no secret", p.status)
	}
	secret := strings.ReplaceAll(html.UnescapeString(m[1]), " ", "")
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		return "", err
	}
	p, err = b.post("/.mfa/enrol", url.Values{"code": {code}})
	if err != nil {
		return "", err
	}
	if p.status != http.StatusSeeOther {
		return "", fmt.Errorf("enrol submit: status %d", p.status)
	}
	u, _ := url.Parse(b.c.url("/"))
	for _, ck := range b.client.Jar.Cookies(u) {
		if ck.Name == session.CookieName {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("no %s cookie after sign-in", session.CookieName)
}

// appPassword creates an app password through the Security info page and
// returns it without spaces.
func (b *browser) appPassword(name string) (string, error) {
	p, err := b.post("/.mfa/security/app-password", url.Values{"name": {name}})
	if err != nil {
		return "", err
	}
	m := appPasswordRE.FindStringSubmatch(p.body)
	if m == nil {
		return "", fmt.Errorf("no app password shown (status %d)", p.status)
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
