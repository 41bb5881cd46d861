package securityinfo

import (
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/recoverycode"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// Recovery codes on Security info: how many are left, a new set shown
// once (generating one needs the same recent re-verification as every
// change here, and voids the old set), and the notices of recoveries
// until dismissed.

func (p *Pages) recoveryCodesPath() string { return p.securityPath() + "/recovery-codes" }

// recoveryRoutes are the recovery codes' handlers under pre (Routes).
func (p *Pages) recoveryRoutes(pre string) map[string]http.Handler {
	return map[string]http.Handler{
		"GET " + pre + "/recovery-codes":                 http.HandlerFunc(p.showRecoveryCodes),
		"POST " + pre + "/recovery-codes":                http.HandlerFunc(p.generateRecoveryCodes),
		"POST " + pre + "/recovery-codes/notice/dismiss": http.HandlerFunc(p.dismissRecoveryNotices),
	}
}

// recoveryInfo is Security info's recovery row and notices for u.
func (p *Pages) recoveryInfo(r *http.Request, u *model.User) (loginui.RecoveryInfo, error) {
	ctx := r.Context()
	left, err := p.Core.RecoveryCodes.Left(ctx, u.ID)
	if err != nil {
		return loginui.RecoveryInfo{}, err
	}
	have, err := p.Core.RecoveryCodes.Have(ctx, u.ID)
	if err != nil {
		return loginui.RecoveryInfo{}, err
	}
	notices, err := p.Core.RecoveryNotices.Pending(ctx, u.ID)
	if err != nil {
		return loginui.RecoveryInfo{}, err
	}
	info := loginui.RecoveryInfo{Have: have, Left: left, Total: recoverycode.Count, Remind: have && left <= core.RecoveryReminderAt}
	for _, n := range notices {
		info.Notices = append(info.Notices, core.NoticeText(n))
	}
	return info, nil
}

// showRecoveryCodes shows how many codes are left and offers a new set.
func (p *Pages) showRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return
	}
	info, err := p.recoveryInfo(r, u)
	if err != nil {
		p.page.InternalError(w, r, "counting recovery codes", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.RecoveryCodesPage{Common: p.page.Common("Recovery codes", u),
		Left: info.Left, Total: info.Total, Have: info.Have})
}

// generateRecoveryCodes makes a new set (voiding the old one) and shows
// it exactly once.
func (p *Pages) generateRecoveryCodes(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.recoveryCodesPath())
	if cur == nil {
		return
	}
	codes, err := p.Core.RecoveryCodes.Generate(r.Context(), u, p.ClientIP(r))
	if err != nil {
		p.page.InternalError(w, r, "generating recovery codes", err)
		return
	}
	page := loginui.RecoveryCodesCreatedPage{Common: p.page.Common("Recovery codes", u)}
	for _, c := range codes {
		page.Codes = append(page.Codes, recoverycode.Group(c))
	}
	page.AllText = strings.Join(page.Codes, "\n")
	page.Download = recoveryDownload(p.cfg.Issuer, u.Username, page.Codes)
	p.UI.Render(w, http.StatusOK, page)
}

// recoveryDownload is the codes as a text file in a data: URL (a link
// with download: no script, nothing stored).
func recoveryDownload(issuer, username string, grouped []string) template.URL {
	var b strings.Builder
	b.WriteString("Recovery codes")
	if issuer != "" {
		b.WriteString(" for " + issuer)
	}
	b.WriteString(" (" + username + ")\r\nEach code works once. Keep them somewhere safe.\r\n\r\n")
	for _, c := range grouped {
		b.WriteString(c + "\r\n")
	}
	// Built here from the server's own text, percent-encoded: safe as a URL.
	return template.URL("data:text/plain;charset=utf-8," + url.PathEscape(b.String()))
}

// dismissRecoveryNotices dismisses the user's notices of recoveries.
func (p *Pages) dismissRecoveryNotices(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil || !p.page.ReadForm(w, r) {
		return
	}
	if err := p.Core.RecoveryNotices.Dismiss(r.Context(), u, p.ClientIP(r)); err != nil {
		p.page.InternalError(w, r, "dismissing recovery notices", err)
		return
	}
	p.done(w, r, "recovery-notice-dismissed")
}
