package loginui

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mfagate/mfagate/internal/testfixture/chromium"
)

// The waiting page with push_number_digits 6 (and 8, the longest) shows
// the number in two groups ("123 456") on one line, large, inside the
// card and the screen, on a 390 px phone and a 1280 px laptop; the sign-in
// and a re-verification (Security info, admin center) share it.
func TestBrowserLongApprovalNumberFits(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	reverify := &ApprovalReverify{Check: "/security/reverify", CheckMethod: "post", Cancel: "/security/", CodeHref: "/security/reverify?method=code"}
	pages := map[string]struct {
		page Page
		want string
	}{
		"signin-6": {ApprovalWaitPage{Common: common("Approve sign-in request"), Pending: true, Number: 123456, RequestID: "req6",
			Site: "files.example.com", CanUseCode: true}, "123 456"},
		"reverify-8": {ApprovalWaitPage{Common: common("Verify it's you"), Pending: true, Number: 12345678, RequestID: "req8",
			CanUseCode: true, Reverify: reverify}, "1234 5678"},
	}
	served := map[string]Page{}
	for name, p := range pages {
		served["/"+name] = p.page
	}
	origin := pageServer(t, served, map[string]http.HandlerFunc{
		// The phone never answers: the page keeps waiting.
		"/.mfa/push/wait": func(_ http.ResponseWriter, r *http.Request) { <-r.Context().Done() },
	})
	ctx := chromium.Start(t, chromium.Options{Timeout: 90 * time.Second, Width: 1280, Height: 800})
	for _, c := range []struct {
		width, height int64
		mobile        bool
	}{{390, 844, true}, {1280, 800, false}} {
		for name, p := range pages {
			shot := fmt.Sprintf("approval-wait-%s-%d", name, c.width)
			t.Run(shot, func(t *testing.T) {
				browserStep(t, ctx, "emulate", emulate(c.width, c.height, c.mobile, "light"), chromedp.Navigate(origin+"/"+name),
					chromedp.WaitVisible(chromedp.CSS(".approval-number")))
				saveScreenshot(t, ctx, shot)
				type measure struct {
					Text                string
					Lines, FontSize     float64
					Number, Card        box
					PageWidth, Viewport float64
				}
				got := browserValue(t, ctx, "measure", chromedp.Evaluate[measure](`(() => {
					const r = el => { const b = el.getBoundingClientRect(); return {Left: b.left, Top: b.top, Right: b.right, Bottom: b.bottom}; };
					const n = document.querySelector('.approval-number');
					const range = document.createRange();
					range.selectNodeContents(n);
					const text = range.getBoundingClientRect();
					return {
						Text: n.textContent,
						Lines: new Set(Array.from(range.getClientRects()).map(q => Math.round(q.top))).size,
						FontSize: parseFloat(getComputedStyle(n).fontSize),
						Number: {Left: text.left, Top: text.top, Right: text.right, Bottom: text.bottom},
						Card: r(document.querySelector('.card')),
						PageWidth: document.documentElement.scrollWidth,
						Viewport: document.documentElement.clientWidth,
					};
				})()`))
				if got.Text != p.want {
					t.Errorf("number shown as %q, want %q", got.Text, p.want)
				}
				if got.Lines != 1 {
					t.Errorf("the number %q wraps over %.0f lines", got.Text, got.Lines)
				}
				if got.FontSize < 32 {
					t.Errorf("the number is %.0f px: too small to read across a desk", got.FontSize)
				}
				if got.Number.Left < got.Card.Left || got.Number.Right > got.Card.Right {
					t.Errorf("the number %s runs past the card %s", got.Number, got.Card)
				}
				if got.PageWidth > float64(c.width) || got.Card.Right > float64(c.width) || got.Number.Right > float64(c.width) {
					t.Errorf("page %.0f px wide, card to %.0f px, number to %.0f px, on a %d px device", got.PageWidth, got.Card.Right, got.Number.Right, c.width)
				}
			})
		}
	}
}
