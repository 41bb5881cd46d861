package securityinfo

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
)

// withPortal serves f's pages again with a portal origin configured (so
// phones can be paired).
func (f *fixture) withPortal() *fixture {
	pages := New(Deps{Deps: f.pages.Deps.Deps}, Config{Prefix: "/.mfa/", Issuer: "T", Portal: "https://portal.example"})
	mux := http.NewServeMux()
	for pattern, h := range pages.Routes() {
		mux.Handle(pattern, h)
	}
	g := *f
	g.pages, g.mux = pages, mux
	return &g
}

var addLinkRE = regexp.MustCompile(`<a class="btn small" id="add-([a-z-]+)" href="([^"]+)"`)

// addLinks returns the chooser's add links by method.
func addLinks(body string) map[string]string {
	out := map[string]string{}
	for _, m := range addLinkRE.FindAllStringSubmatch(body, -1) {
		out[m[1]] = html.UnescapeString(m[2])
	}
	return out
}

// TestSecurityInfoLinksToTheChooser: "+ Add sign-in method" on Security
// info is a link to the chooser, not a dropdown.
func TestSecurityInfoLinksToTheChooser(t *testing.T) {
	f := newFixture(t, time.Minute)
	body := f.get("/.mfa/security").Body.String()
	if !strings.Contains(body, `href="/.mfa/security/add">+ Add sign-in method</a>`) {
		t.Errorf("Security info has no link to the chooser:\n%s", body)
	}
	if strings.Contains(body, `<select id="add-method"`) || strings.Contains(body, `<form method="get"`) {
		t.Error("Security info still has the add-method dropdown")
	}
}

// TestAddMethodChooser: GET security/add lists the methods the user may
// add (authenticator app; phone with a portal; app password when the
// policy allows), each with its description and its own link to the
// existing add flow; it needs no recent second factor and changes
// nothing, while each link's flow still asks for one.
func TestAddMethodChooser(t *testing.T) {
	f := newFixture(t, 11*time.Minute).withPortal() // an Enforced user, second factor stale
	w := f.get("/.mfa/security/add")
	body := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(body, "<h1>Add a sign-in method</h1>") {
		t.Fatalf("chooser: %d\n%s", w.Code, body)
	}
	links := addLinks(body)
	want := map[string]string{
		"authenticator": "/.mfa/security/add?method=authenticator",
		"phone":         "/.mfa/security/add?method=phone",
		"app-password":  "/.mfa/security/add?method=app-password",
	}
	for m, href := range want {
		if links[m] != href {
			t.Errorf("link to add %s = %q, want %q", m, links[m], href)
		}
	}
	if len(links) != len(want) {
		t.Errorf("links %v, want %v", links, want)
	}
	for _, s := range []string{aboutAuthenticator, aboutPhone, aboutAppPassword} {
		if !strings.Contains(body, html.EscapeString(s)) {
			t.Errorf("chooser lacks %q", s)
		}
	}
	if !strings.Contains(body, `<a href="/.mfa/security">Back to Security info</a>`) {
		t.Error("chooser has no way back to Security info")
	}
	if strings.Contains(body, "<form") || strings.Contains(body, "Verify your identity") {
		t.Error("the chooser has a form or asks for re-verification")
	}
	// Each link leads to its flow, which asks for a recent second factor
	// and comes back to that flow afterwards.
	for m, href := range want {
		w := f.get(href)
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Verify your identity") ||
			!strings.Contains(w.Body.String(), `name="next" value="`+html.EscapeString(href)+`"`) {
			t.Errorf("%s: %d, want the re-verification before %s\n%s", m, w.Code, href, w.Body)
		}
	}
	// A fresh second factor: the links open the flows themselves.
	fresh := newFixture(t, time.Minute).withPortal()
	for m, mark := range map[string]string{"authenticator": `id="secret"`, "phone": "https://portal.example/phone/pair#t=", "app-password": `action="/.mfa/security/app-password"`} {
		if w := fresh.get(want[m]); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), mark) {
			t.Errorf("%s flow: %d, want %q\n%s", m, w.Code, mark, w.Body)
		}
	}
	// Nothing was stored by any GET.
	ctx := context.Background()
	for _, g := range []*fixture{f, fresh} {
		auths, _ := g.st.TOTPAuthenticators(ctx, g.user.ID)
		aps, _ := g.st.AppPasswords(ctx, g.user.ID)
		if len(auths) != 1 || len(aps) != 0 {
			t.Errorf("GETs stored methods: %d authenticators, %d app passwords", len(auths), len(aps))
		}
	}
}

// TestAddMethodChooserSaysWhyAMethodIsMissing: without a portal no phone,
// and for a user the policy keeps from app passwords none; a line says
// why for each.
func TestAddMethodChooserSaysWhyAMethodIsMissing(t *testing.T) {
	f := newSiteFixture(t, siteCase{site: policy.Site{}, state: model.MFADisabled, authenticator: true})
	body := f.get("/.mfa/security/add").Body.String()
	if links := addLinks(body); len(links) != 1 || links["authenticator"] == "" {
		t.Errorf("links %v, want the authenticator app only", links)
	}
	var missing []string
	for _, m := range regexp.MustCompile(`<p class="hint add-missing">([^<]*)</p>`).FindAllStringSubmatch(body, -1) {
		missing = append(missing, html.UnescapeString(m[1]))
	}
	if want := []string{msgPasskeyNotOffered, msgNoPortal, policy.Site{}.WhyNoAppPasswords()}; !slices.Equal(missing, want) {
		t.Errorf("missing lines %q, want %q", missing, want)
	}
}

// TestAddMethodChooserNeedsASession: signed out, the chooser sends the
// browser to sign in and back; only GET is served; an unknown method is a
// clear 400.
func TestAddMethodChooserNeedsASession(t *testing.T) {
	f := newFixture(t, time.Minute)
	w := httptest.NewRecorder()
	f.mux.ServeHTTP(w, httptest.NewRequest("GET", "/.mfa/security/add", nil))
	if want := "/.mfa/login?rd=" + url.QueryEscape("/.mfa/security/add"); w.Code != http.StatusFound || w.Header().Get("Location") != want {
		t.Errorf("signed out: %d %q, want 302 to %q", w.Code, w.Header().Get("Location"), want)
	}
	if w := f.post("/.mfa/security/add", url.Values{"method": {"authenticator"}}); w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST to the chooser: %d, want 405", w.Code)
	}
	if w := f.get("/.mfa/security/add?method=sms"); w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "Choose a sign-in method from the list.") {
		t.Errorf("unknown method: %d\n%s", w.Code, w.Body)
	}
}
