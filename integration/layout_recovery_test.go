package integration

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// layoutRecoveryPages checks the recovery codes' pages as dana sees
// them: Security info's Recovery codes page and a new set; the code page
// with "Sign in another way", the recovery code's page and "N left" on
// the protected site; then, signing in on the portal, the next sign-in's
// notice and Security info with it.
func layoutRecoveryPages(t *testing.T, ctx context.Context, l *layoutRun, gateway, security string, dana *phoneUser) {
	t.Helper()
	layoutOpen(t, ctx, dana, security+"/recovery-codes")
	l.check(ctx, "recovery-codes")
	chromeSubmit(t, ctx, "generate recovery codes", `button#generate-recovery-codes`)
	layoutWantHeading(t, ctx, "Your recovery codes")
	l.check(ctx, "recovery-codes-created")
	code := strings.TrimSpace(chromeValue(t, ctx, "read a code", chromedp.Text(chromedp.CSS(`#recovery-codes li:first-child code`))))

	chromeStep(t, ctx, "forget dana", chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.ClearBrowserCookies, struct{}{})
		return err
	}))
	chromeStep(t, ctx, "open the protected site", chromedp.Navigate(gateway+"/hello"))
	layoutPassword(t, ctx, dana.name, dana.pw)
	chromeStep(t, ctx, "open the code page", chromedp.Navigate(gateway+"/.mfa/verify"))
	l.check(ctx, "code-other-ways")
	securityClick(t, ctx, "use a recovery code", chromedp.CSS(`a#use-recovery-code`))
	l.check(ctx, "recovery-code")
	chromeStep(t, ctx, "type the recovery code", chromedp.SendKeys(chromedp.ID("code"), code))
	chromeSubmit(t, ctx, "submit the recovery code", `form[action$="/recovery"] button[type="submit"]`)
	layoutWantHeading(t, ctx, "You used a recovery code")
	l.check(ctx, "recovery-used")

	// The portal's sign-in is the next one: it shows the notice once.
	chromeStep(t, ctx, "open Security info", chromedp.Navigate(security))
	layoutPassword(t, ctx, dana.name, dana.pw)
	origin := mustURL(security)
	chromeStep(t, ctx, "open the code page", chromedp.Navigate(origin.Scheme+"://"+origin.Host+"/.mfa/verify"))
	chromeStep(t, ctx, "type code", chromedp.SendKeys(chromedp.ID("code"), layoutNextCode(t, dana)))
	chromeSubmit(t, ctx, "submit code", `form[action$="/verify"] button[type="submit"]`)
	layoutWantHeading(t, ctx, "Your account was recovered")
	l.check(ctx, "recovery-notice")
	chromeSubmit(t, ctx, "continue", `form[action$="/recovery/notice"] button[type="submit"]`)
	layoutWantHeading(t, ctx, "Security info")
	l.check(ctx, "security-info-recovery")
}
