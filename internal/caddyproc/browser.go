package caddyproc

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

// Browser is a cookie-keeping HTTP client that does not follow redirects,
// so each step of the sign-in flow can be checked.
type Browser struct {
	// URL turns a path into the address of the site under test.
	URL    func(path string) string
	Client *http.Client
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(url func(string) string) *Browser {
	jar, _ := cookiejar.New(nil)
	return &Browser{URL: url, Client: &http.Client{
		Jar:     jar,
		Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}}
}

// Page is one response.
type Page struct {
	Status   int
	Location string
	Body     string
	Header   http.Header
}

// Do sends req as a browser asking for HTML.
func (b *Browser) Do(req *http.Request) (Page, error) {
	req.Header.Set("Accept", "text/html")
	resp, err := b.Client.Do(req)
	if err != nil {
		return Page{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return Page{Status: resp.StatusCode, Location: resp.Header.Get("Location"), Body: string(body), Header: resp.Header}, err
}

// Get fetches path; headers are name, value pairs.
func (b *Browser) Get(path string, headers ...string) (Page, error) {
	req, err := http.NewRequest("GET", b.URL(path), nil)
	if err != nil {
		return Page{}, err
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return b.Do(req)
}

// Post submits a form the way a same-origin browser does.
func (b *Browser) Post(path string, form url.Values) (Page, error) {
	req, err := http.NewRequest("POST", b.URL(path), strings.NewReader(form.Encode()))
	if err != nil {
		return Page{}, err
	}
	SameOrigin(req, b.URL(""))
	return b.Do(req)
}

// SameOrigin marks req as a form posted from origin itself.
func SameOrigin(req *http.Request, origin string) {
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
}
