package securityinfo

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// methodPhone is [loginui.PhoneMethod] in "Add sign-in method".
const methodPhone = "phone"

// msgNoPortal says why phones cannot be paired on this server.
const msgNoPortal = loginui.PhoneMethod + " needs the portal site, which is not set up on this server: ask your administrator (option portal of the mfa block)."

// startPairing shows a new one-time pairing link for a phone (voiding any
// earlier one). The link points at the portal origin, never at this
// site, and carries its token in the fragment, which browsers do not send.
func (p *Pages) startPairing(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodPhone))
	if cur == nil {
		return
	}
	if p.cfg.Portal == "" {
		p.page.Message(w, http.StatusConflict, "Not available", msgNoPortal)
		return
	}
	token, err := p.Core.Phones.StartPairing(r.Context(), u, cur.IDHash())
	if err != nil {
		p.page.InternalError(w, r, "starting pairing", err)
		return
	}
	link := p.cfg.Portal + "/phone/pair#t=" + string(token)
	qr, err := totp.QRDataURI(link)
	if err != nil {
		p.page.InternalError(w, r, "drawing QR code", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.PairPhonePage{Common: p.page.Common("Add a phone", u),
		QRDataURI: qr, Link: link, Minutes: int(core.PairingTTL.Minutes())})
}

// confirmPairing activates the phone that registered through this
// session's link, when the code typed is the one it shows.
func (p *Pages) confirmPairing(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodPhone))
	if cur == nil {
		return
	}
	_, err := p.Core.Phones.Confirm(r.Context(), u, cur.IDHash(), r.PostForm.Get("code"), p.ClientIP(r))
	switch {
	case errors.Is(err, core.ErrWrongPairCode):
		p.page.Message(w, http.StatusConflict, "Phone not paired", msgWrongPairCode+msgPairAgain)
		return
	case errors.Is(err, core.ErrNoPairing):
		p.page.Message(w, http.StatusConflict, "Phone not paired", msgNoPairing+msgPairAgain)
		return
	case err != nil:
		p.page.InternalError(w, r, "confirming pairing", err)
		return
	}
	if p.passAdded(w, r, cur, "Phone") {
		return
	}
	p.done(w, r, "phone-added")
}

// Why a phone was not paired, as the page says it.
const (
	msgWrongPairCode = "That is not the code shown on your phone."
	msgNoPairing     = "No phone has opened the pairing link yet, or it has expired."
	msgPairAgain     = " Start again from Security info if the link has expired."
)

// deletePhone removes a paired phone, never the last method of a user who
// must keep one, and signs out the user's other sessions (as every
// removed method does; this one stays).
func (p *Pages) deletePhone(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		p.page.Message(w, http.StatusBadRequest, "Bad request", "That sign-in method does not exist.")
		return
	}
	err = p.Core.Phones.Remove(r.Context(), u, id, p.cfg.Policy.MustKeepOneMethod(u), cur.IDHash(), p.ClientIP(r))
	switch {
	case errors.Is(err, model.ErrLimit):
		p.page.Message(w, http.StatusConflict, "Cannot remove", msgLastMethod)
		return
	case errors.Is(err, model.ErrNotFound):
		p.page.Message(w, http.StatusNotFound, "Not found", "That sign-in method does not exist.")
		return
	case err != nil:
		p.page.InternalError(w, r, "removing phone", err)
		return
	}
	p.done(w, r, "phone-removed")
}

// Why the last method stays, said of the kind of method it is.
const (
	msgLastMethod        = "This is the only sign-in method on your account, and your account requires multi-factor sign-in. Add another method first."
	msgLastAuthenticator = "This is the only authenticator app on your account, and your account requires multi-factor sign-in. Add another authenticator app first."
)

// deviceRows lists the active phones for the Security info page.
func deviceRows(devices []model.Device, lastOne bool) []loginui.DeviceRow {
	var rows []loginui.DeviceRow
	for _, d := range devices {
		if !d.Active {
			continue
		}
		row := loginui.DeviceRow{ID: d.ID, Name: d.Name, Paired: d.ActivatedAt.UTC().Format(dateFormat),
			LastUsed: web.DescribeUse(d.LastUsedAt, ""), NoPush: d.Push == nil || d.PushDead, CanDelete: !lastOne}
		if lastOne {
			row.WhyNotDelete = msgLastMethod
		}
		rows = append(rows, row)
	}
	return rows
}

func activeCount(devices []model.Device) int {
	n := 0
	for _, d := range devices {
		if d.Active {
			n++
		}
	}
	return n
}
