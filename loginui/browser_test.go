package loginui

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/testfixture/chromium"
)

// The browser tests render pages with the Renderer and the embedded
// assets in a real headless Chromium: the pairing page's layout at a
// phone's and a laptop's width, light and dark, and the waiting page's
// script when a report blocks the sign-in.

const msgReportedForTest = "The sign-in request was reported as suspicious. Your account is blocked until an administrator unblocks it."

// pairingLink is as long as a real one: the portal and a 43-character
// token.
const pairingLink = "https://portal.example.com:8443/phone/pair#t=AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEf"

// pageServer serves the portal's static files under /.mfa/static/ and the
// pages.
func pageServer(t *testing.T, pages map[string]Page, extra map[string]http.HandlerFunc) string {
	t.Helper()
	r := newRenderer(t)
	mux := http.NewServeMux()
	mux.Handle("/.mfa/static/", http.StripPrefix("/.mfa/static/", Static()))
	for path, page := range pages {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) { r.Render(w, http.StatusOK, page) })
	}
	for path, h := range extra {
		mux.HandleFunc(path, h)
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv.URL
}

func browserValue[T any](t *testing.T, ctx context.Context, what string, action chromedp.Action[T]) T {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(sctx, action)
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func browserStep(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// emulate sets the device width (a phone's with mobile emulation) and the
// colour scheme.
func emulate(width, height int64, mobile bool, scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		opts := []chromedp.EmulateViewportOption{}
		if mobile {
			opts = append(opts, chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulateScale(3))
		}
		if _, err := chromedp.EmulateViewport(width, height, opts...)(ctx, tg); err != nil {
			return err
		}
		_, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

// saveScreenshot keeps the tab as NAME.png in $MFAGATE_SCREENSHOTS, if set.
func saveScreenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MFAGATE_SCREENSHOTS")
	if dir == "" {
		return
	}
	buf := browserValue(t, ctx, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644); err != nil {
		t.Fatal(err)
	}
}

type box struct{ Left, Top, Right, Bottom float64 }

func (b box) String() string {
	return fmt.Sprintf("[%.0f,%.0f–%.0f,%.0f]", b.Left, b.Top, b.Right, b.Bottom)
}

// intersection is the area two boxes share.
func intersection(a, b box) float64 {
	w := min(a.Right, b.Right) - max(a.Left, b.Left)
	h := min(a.Bottom, b.Bottom) - max(a.Top, b.Top)
	if w <= 0 || h <= 0 {
		return 0
	}
	return w * h
}

// The pairing page: the QR code sits above the link without covering it,
// and the long link wraps inside the card, on a 390 px phone and a 1280 px
// laptop, light and dark. Widths are judged against the device's, not
// innerWidth (which grows to fit overflowing content under mobile
// emulation).
func TestBrowserPairingPageLayout(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	qr, err := totp.QRDataURI(pairingLink)
	if err != nil {
		t.Fatal(err)
	}
	origin := pageServer(t, map[string]Page{
		"/pair": PairPhonePage{Common: common("Add a phone"), QRDataURI: qr, Link: pairingLink, Minutes: 10},
	}, nil)
	ctx := chromium.Start(t, chromium.Options{Timeout: 90 * time.Second, Width: 1280, Height: 800})
	for _, c := range []struct {
		width, height int64
		mobile        bool
	}{{390, 844, true}, {1280, 800, false}} {
		for _, scheme := range []string{"light", "dark"} {
			name := fmt.Sprintf("pair-phone-%d-%s", c.width, scheme)
			t.Run(name, func(t *testing.T) {
				browserStep(t, ctx, "emulate", emulate(c.width, c.height, c.mobile, scheme), chromedp.Navigate(origin+"/pair"),
					chromedp.WaitVisible(chromedp.CSS("code.pair-link")))
				saveScreenshot(t, ctx, name)
				got := browserValue(t, ctx, "measure", chromedp.Evaluate[map[string]box](`(() => {
					const r = el => { const b = el.getBoundingClientRect(); return {Left: b.left, Top: b.top, Right: b.right, Bottom: b.bottom}; };
					const img = document.querySelector('main img');
					return {
						qr: r(img),
						link: r(document.querySelector('code.pair-link')),
						card: r(document.querySelector('.card')),
						page: {Left: 0, Top: 0, Right: document.documentElement.scrollWidth, Bottom: 0},
					};
				})()`))
				qrBox, link, card := got["qr"], got["link"], got["card"]
				if qrBox.Right-qrBox.Left < 100 || qrBox.Right-qrBox.Left > 260 {
					t.Errorf("QR code %s: not sized as a QR code", qrBox)
				}
				if a := intersection(qrBox, link); a > 1 {
					t.Errorf("the QR code %s covers %.0f px² of the link %s", qrBox, a, link)
				}
				if link.Right > card.Right || link.Left < card.Left {
					t.Errorf("the link %s runs past the card %s", link, card)
				}
				if qrBox.Right > card.Right {
					t.Errorf("the QR code %s runs past the card %s", qrBox, card)
				}
				if w := got["page"].Right; w > float64(c.width) || card.Right > float64(c.width) {
					t.Errorf("page %.0f px wide, card to %.0f px, on a %d px device", w, card.Right, c.width)
				}
				if bg := browserValue(t, ctx, "QR background", chromedp.Evaluate[string](`getComputedStyle(document.querySelector('main img')).backgroundColor`)); bg != "rgb(255, 255, 255)" {
					t.Errorf("QR code background %s: a QR code needs its light quiet zone, also in dark mode", bg)
				}
			})
		}
	}
}

// When the phone reports the request, the waiting page says the sign-in
// is blocked and offers no way on: no "Use a verification code instead",
// no check again.
func TestBrowserReportedSignInOffersNoCode(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	answered := make(chan struct{})
	origin := pageServer(t, map[string]Page{
		"/.mfa/push": ApprovalWaitPage{Common: common("Approve sign-in request"), Pending: true, Number: 42, RequestID: "req1", CanUseCode: true},
	}, map[string]http.HandlerFunc{
		"/.mfa/push/wait": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-answered:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"reported","message":%q}`, msgReportedForTest)
		},
	})
	ctx := chromium.Start(t, chromium.Options{Timeout: 60 * time.Second, Width: 1280, Height: 800})
	browserStep(t, ctx, "open the waiting page", chromedp.Navigate(origin+"/.mfa/push"), chromedp.WaitVisible(chromedp.CSS(".approval-number")))
	visible := `Array.from(document.querySelectorAll('main a, main button')).filter(e => e.checkVisibility()).map(e => e.textContent.trim())`
	before := browserValue(t, ctx, "links while waiting", chromedp.Evaluate[[]string](visible))
	if !containsString(before, "I approved it on my phone") || !containsString(before, "Use a verification code instead") || containsString(before, "Continue") {
		t.Fatalf("while waiting the page offers %q, want \"I approved it on my phone\" and the code", before)
	}
	close(answered)
	browserStep(t, ctx, "the report arrives", chromedp.WaitVisible(chromedp.CSS(`.alert[role="alert"]`)))
	saveScreenshot(t, ctx, "approval-reported")
	if alert := strings.TrimSpace(browserValue(t, ctx, "alert", chromedp.Text(chromedp.CSS(`.alert[role="alert"]`)))); alert != msgReportedForTest {
		t.Errorf("alert %q", alert)
	}
	if h := browserValue(t, ctx, "heading", chromedp.Evaluate[string](`document.querySelector('main h1').textContent`)); h != "Sign-in blocked" {
		t.Errorf("heading after the report %q, want the blocked page's \"Sign-in blocked\"", h)
	}
	after := browserValue(t, ctx, "links after the report", chromedp.Evaluate[[]string](visible))
	for _, s := range []string{"Use a verification code instead", "I approved it on my phone"} {
		if containsString(after, s) {
			t.Errorf("the blocked sign-in's page still offers %q (all: %q)", s, after)
		}
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// After "No, it's not me" the laptop shows the denial and keeps listening:
// when the phone then reports the request, the page says the sign-in is
// blocked and takes "Send another request" and the code away.
func TestBrowserReportAfterDenyOffersNoWayOn(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	answered := make(chan struct{})
	waits := make(chan string, 4)
	origin := pageServer(t, map[string]Page{
		"/.mfa/push": ApprovalWaitPage{Common: common("Approve sign-in request"), Problem: "The sign-in request was denied on your phone.",
			Denied: true, RequestID: "req2", CanUseCode: true},
	}, map[string]http.HandlerFunc{
		"/.mfa/push/wait": func(w http.ResponseWriter, r *http.Request) {
			waits <- r.URL.RawQuery
			select {
			case <-answered:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"reported","message":%q}`, msgReportedForTest)
		},
	})
	ctx := chromium.Start(t, chromium.Options{Timeout: 60 * time.Second, Width: 1280, Height: 800})
	browserStep(t, ctx, "open the denied page", chromedp.Navigate(origin+"/.mfa/push"), chromedp.WaitVisible(chromedp.CSS(`.alert[role="alert"]`)))
	select {
	case q := <-waits:
		if q != "id=req2&while=denied" {
			t.Errorf("the denied page waits with %q", q)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the denied page does not listen for a report")
	}
	visible := `Array.from(document.querySelectorAll('main a, main button')).filter(e => e.checkVisibility()).map(e => e.textContent.trim())`
	if before := browserValue(t, ctx, "ways on", chromedp.Evaluate[[]string](visible)); !containsString(before, "Send another request") || !containsString(before, "Use a verification code instead") {
		t.Fatalf("the denied page offers %q", before)
	}
	close(answered)
	browserValue(t, ctx, "the report arrives", chromedp.Poll[bool](
		`document.querySelector('.alert[role="alert"]').textContent.includes('reported as suspicious')`))
	after := browserValue(t, ctx, "ways on after the report", chromedp.Evaluate[[]string](visible))
	for _, s := range []string{"Send another request", "Use a verification code instead"} {
		if containsString(after, s) {
			t.Errorf("after the report the page still offers %q (all: %q)", s, after)
		}
	}
	saveScreenshot(t, ctx, "approval-denied-then-reported")
}

// A re-verification's waiting page (the admin center's step, Security
// info) has no page to open once the phone has answered: app.js submits
// its check form, which posts the step's fields back.
func TestBrowserReverifyWaitPostsTheStepBack(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	answered := make(chan struct{})
	posted := make(chan url.Values, 1)
	origin := pageServer(t, map[string]Page{
		"/admin/step": ApprovalWaitPage{Common: common("Approve the request on your phone"), Pending: true, Number: 42, RequestID: "req3",
			Reverify: &ApprovalReverify{Check: "/admin/reverify", CheckMethod: "post", Cancel: "/admin/",
				Fields: []HiddenField{{Name: "then", Value: "action"}, {Name: "method", Value: "phone"}, {Name: "op", Value: "block"}, {Name: "id", Value: "7"}}}},
	}, map[string]http.HandlerFunc{
		"/.mfa/push/wait": func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-answered:
			case <-r.Context().Done():
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"approved"}`)
		},
		"/admin/reverify": func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost && r.ParseForm() == nil {
				posted <- r.PostForm
			}
			fmt.Fprint(w, "<!doctype html><title>step</title><h1>Block sign-in?</h1>")
		},
	})
	ctx := chromium.Start(t, chromium.Options{Timeout: 60 * time.Second, Width: 1280, Height: 800})
	browserStep(t, ctx, "open the waiting page", chromedp.Navigate(origin+"/admin/step"), chromedp.WaitVisible(chromedp.CSS(".approval-number")))
	close(answered)
	select {
	case form := <-posted:
		if form.Get("then") != "action" || form.Get("method") != "phone" || form.Get("op") != "block" || form.Get("id") != "7" || form.Has("again") {
			t.Fatalf("the page posted %v, want the step's fields", form)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the page did not post the step back after the answer")
	}
}
