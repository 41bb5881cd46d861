package phoneportal

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
)

// The browser test runs phone.js in a real headless Chromium against the
// handler: WebCrypto keys in IndexedDB, signed calls, pairing with the code
// confirmed through the core, and answering requests. It passes for an
// iPhone, so it also walks the Home Screen advice and the per-link
// manifest. Notifications are denied, as the fallback must work.

const browserTimeout = 90 * time.Second

func newBrowser(t *testing.T) context.Context {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	return chromium.Start(t, chromium.Options{Timeout: browserTimeout, Width: 420, Height: 860, Console: true})
}

func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func value[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func text(t *testing.T, ctx context.Context, id string) string {
	t.Helper()
	return strings.TrimSpace(value(t, ctx, "read #"+id, chromedp.Text(chromedp.ID(id))))
}

// screenshot saves the tab as phone-NAME.png in $MFAGATE_SCREENSHOTS, if
// set.
func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MFAGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf := value(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "phone-"+name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitLocation waits until the tab shows url (across navigations).
func waitLocation(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	loc := ""
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		loc, _ = chromedp.Run(sctx, chromedp.Location())
		cancel()
		if loc == url {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("tab at %q, want %q", loc, url)
}

func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	e := newEnv(t)
	origin := e.srv.URL

	// An iPhone in a Safari tab, with notifications denied.
	step(t, ctx, "emulate an iPhone", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		if _, err := chromedp.Call(ctx, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{
			UserAgent: "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
			Platform:  "iPhone",
		}); err != nil {
			return err
		}
		_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetPermission, cdpbrowser.SetPermissionParams{
			Permission: &cdpbrowser.PermissionDescriptor{Name: "notifications"},
			Setting:    cdpbrowser.PermissionSettingDenied,
			Origin:     origin,
		})
		return err
	}))

	token, err := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sessionHash("browser"))
	if err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "open the pairing link",
		chromedp.Navigate(origin+"/phone/pair#t="+string(token)),
		chromedp.WaitVisible(chromedp.ID("ios-install")))
	screenshot(t, ctx, "ios-install")
	if loc := value(t, ctx, "location", chromedp.Location()); loc != origin+"/phone/pair" {
		t.Errorf("the token is still in the address bar: %s", loc)
	}
	if kept := value(t, ctx, "session storage", chromedp.Evaluate[string](`sessionStorage.getItem('mfagate-pairing-token')`)); kept != string(token) {
		t.Errorf("token kept as %q", kept)
	}
	if hidden := value(t, ctx, "needs-js", chromedp.Evaluate[bool](`document.getElementById('needs-js').hidden`)); !hidden {
		t.Error("the no-JavaScript message is still shown")
	}
	// The manifest link now points at the per-link manifest, whose
	// start_url is the pairing link.
	link := value(t, ctx, "manifest link", chromedp.Evaluate[string](`document.querySelector('link[rel="manifest"]').getAttribute('href')`))
	if !strings.HasPrefix(link, "/phone/manifest/") || strings.Contains(link, string(token)) {
		t.Fatalf("manifest link %q", link)
	}
	var m webManifest
	if r := e.get(link); r.status != 200 || json.Unmarshal([]byte(r.raw), &m) != nil || m.StartURL != "/phone/pair#t="+string(token) {
		t.Fatalf("per-link manifest: %d %s", r.status, r.raw)
	}

	// Pair in the tab instead.
	step(t, ctx, "pair in the tab", chromedp.Click(chromedp.ID("pair-in-tab")), chromedp.WaitVisible(chromedp.ID("name-step")))
	if name := value(t, ctx, "default name", chromedp.Value(chromedp.ID("device-name"))); name != "iPhone" {
		t.Errorf("default name %q", name)
	}
	step(t, ctx, "name and pair",
		chromedp.SetValue(chromedp.ID("device-name"), "Browser phone"),
		chromedp.Click(chromedp.ID("pair-button")),
		chromedp.WaitVisible(chromedp.ID("code-step")))
	code := text(t, ctx, "pair-code")
	screenshot(t, ctx, "code")
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
		t.Fatalf("code %q", code)
	}
	if !value(t, ctx, "push-off", chromedp.Evaluate[bool](`!document.getElementById('push-off').hidden`)) {
		t.Error("no word that notifications are off")
	}
	ds, _ := e.svc.Core.Phones.Devices(e.ctx, e.user.ID)
	if len(ds) != 1 || ds[0].Name != "Browser phone" || ds[0].Active {
		t.Fatalf("devices: %+v", ds)
	}

	// Entering the code in Security info pairs the phone; the page notices
	// and opens the app.
	if _, err := e.svc.Core.Phones.Confirm(e.ctx, e.user, sessionHash("browser"), code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	waitLocation(t, ctx, origin+"/phone/")
	step(t, ctx, "no request yet", chromedp.WaitVisible(chromedp.ID("idle")))
	screenshot(t, ctx, "idle")

	// A request appears, and is approved with its number.
	ap := e.request("app.example.com")
	step(t, ctx, "request shown", chromedp.WaitVisible(chromedp.ID("request")))
	screenshot(t, ctx, "request")
	// The seed's question and answers, and which account, site, address
	// and browser it is about, each labelled.
	if q := text(t, ctx, "request-question"); q != "Are you trying to sign in?" {
		t.Errorf("question %q", q)
	}
	if no, yes := text(t, ctx, "deny"), text(t, ctx, "approve"); no != "No, it's not me" || yes != "Yes" {
		t.Errorf("answers %q and %q, want \"No, it's not me\" and \"Yes\"", no, yes)
	}
	shown := value(t, ctx, "request details", chromedp.Evaluate[map[string]string](`Object.fromEntries(
		Array.from(document.querySelectorAll('#request-details dt')).map(dt => [dt.textContent, dt.nextElementSibling.textContent]))`))
	for label, want := range map[string]string{"Account": "Alice Example (alice) at Example Corp", "Site": "app.example.com",
		"IP address": "198.51.100.23", "Browser": "Firefox on Linux"} {
		if shown[label] != want {
			t.Errorf("request details %v: %s is %q, want %q", shown, label, shown[label], want)
		}
	}
	if paired := text(t, ctx, "paired-account"); paired != "Paired with Alice Example (alice) at Example Corp" {
		t.Errorf("paired account line %q", paired)
	}
	step(t, ctx, "approve with a one-digit number",
		chromedp.SetValue(chromedp.ID("number"), "1"),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("error")))
	screenshot(t, ctx, "number-error")
	if msg := text(t, ctx, "error"); msg != "Enter the two-digit number shown on the sign-in screen" {
		t.Errorf("error %q", msg)
	}
	step(t, ctx, "approve",
		chromedp.SetValue(chromedp.ID("number"), strconv.Itoa(ap.Number)),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("result")))
	screenshot(t, ctx, "approved")
	if r := text(t, ctx, "result-text"); !strings.HasPrefix(r, "Approved") {
		t.Errorf("result %q", r)
	}
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-app.example.com")); got == nil || got.Status != model.ApprovalApproved {
		t.Fatalf("request after approval: %+v", got)
	}
	step(t, ctx, "back to idle", chromedp.Click(chromedp.ID("result-done")), chromedp.WaitVisible(chromedp.ID("idle")))

	// "No, it's not me" denies at once, then offers to report; "Don't
	// report" leaves it denied.
	denied := e.request("deny.example.com")
	step(t, ctx, "no, it's not me",
		chromedp.WaitVisible(chromedp.ID("request")),
		chromedp.Click(chromedp.ID("deny")),
		chromedp.WaitVisible(chromedp.ID("report-offer")))
	screenshot(t, ctx, "report-offer")
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-deny.example.com")); got == nil || got.Status != model.ApprovalDenied || got.ID != denied.ID {
		t.Fatalf("request after \"No, it's not me\": %+v", got)
	}
	if offer := text(t, ctx, "report-offer"); !strings.Contains(offer, "Denied: nobody was signed in.") || !strings.Contains(offer, "Report suspicious activity?") {
		t.Errorf("report offer %q", offer)
	}
	step(t, ctx, "don't report", chromedp.Click(chromedp.ID("report-skip")), chromedp.WaitVisible(chromedp.ID("idle")))
	if got, _ := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-deny.example.com")); got == nil || got.Status != model.ApprovalDenied {
		t.Fatalf("request after \"Don't report\": %+v", got)
	}

	// A wrong number cancels the request.
	ap = e.request("wrong.example.com")
	step(t, ctx, "wrong number",
		chromedp.WaitVisible(chromedp.ID("request")),
		chromedp.SetValue(chromedp.ID("number"), strconv.Itoa((ap.Number-10+1)%90+10)),
		chromedp.Click(chromedp.ID("approve")),
		chromedp.WaitVisible(chromedp.ID("result")))
	if r := text(t, ctx, "result-text"); r != "Wrong number: the request was cancelled" {
		t.Errorf("result %q", r)
	}

	// Removed in Security info: the app says so, and forgets its key.
	if err := e.svc.Core.Phones.Remove(e.ctx, e.user, ds[0].ID, false, nil, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	step(t, ctx, "unpaired", chromedp.Click(chromedp.ID("result-done")), chromedp.WaitVisible(chromedp.ID("unpaired")))
	screenshot(t, ctx, "unpaired")
	if msg := text(t, ctx, "unpaired"); msg != "This phone is no longer paired: remove it in Security info and pair again" {
		t.Errorf("unpaired message %q", msg)
	}
	step(t, ctx, "reload", chromedp.Navigate(origin+"/phone/"), chromedp.WaitVisible(chromedp.ID("unpaired")))
}
