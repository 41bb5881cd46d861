package securityinfo

import (
	"errors"
	"net/http"
	"strconv"

	"go.uber.org/zap"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/passkey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// methodPasskey is "Passkey or security key" on "Add sign-in method".
const methodPasskey = "passkey"

// aboutPasskey says what a passkey is for, one line on the chooser.
const aboutPasskey = "Sign in with your fingerprint, face, screen lock or a security key. Look-alike sites cannot use it."

// What the passkey pages say.
const (
	msgPasskeyNotOffered = loginui.PasskeyMethod + " cannot be used on this site's address (it is not under the passkeys' domain): " +
		"add one on Security info of the portal or of another site."
	msgPasskeyRegistered = "This passkey or security key is registered already."
	msgPasskeyFailed     = "The passkey could not be created. Try again."
	msgPasskeyReverify   = "For your security, verify your identity again: reload this page."
	msgLastPasskey       = msgLastMethod
)

// passkeyRows lists the user's passkeys on Security info: name, when it
// was added and last used, its AAGUID and the make the AAGUID table
// names ("Unknown" for the zero AAGUID).
func passkeyRows(creds []model.WebAuthnCredential, lastOfEnforced bool) []loginui.PasskeyRow {
	rows := make([]loginui.PasskeyRow, 0, len(creds))
	for _, c := range creds {
		row := loginui.PasskeyRow{ID: c.ID, Name: c.Name, Added: c.CreatedAt.UTC().Format(dateFormat),
			AAGUID: passkey.FormatAAGUID(c.AAGUID), Make: passkey.Make(c.AAGUID), CanDelete: !lastOfEnforced}
		if !c.LastUsedAt.IsZero() {
			row.LastUsed = c.LastUsedAt.UTC().Format("2006-01-02 15:04 UTC")
		}
		if lastOfEnforced {
			row.WhyNotDelete = msgLastPasskey
		}
		rows = append(rows, row)
	}
	return rows
}

// startPasskey is "Passkey or security key": the name (optional) and the
// button that creates it, after a recent second factor.
func (p *Pages) startPasskey(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.addPath(methodPasskey))
	if cur == nil {
		return
	}
	if !p.Core.Passkeys.Offered(web.PasskeySite(r)) {
		p.page.Message(w, http.StatusConflict, "Passkeys not available here", msgPasskeyNotOffered)
		return
	}
	p.renderAddPasskey(w, u, "", "")
}

func (p *Pages) renderAddPasskey(w http.ResponseWriter, u *model.User, name, msg string) {
	p.UI.Render(w, http.StatusOK, loginui.AddPasskeyPage{Common: p.page.Common("Add a passkey", u), Name: name,
		MaxName: core.MaxMethodName, Error: msg})
}

// passkeyOptions begins a registration bound to this browser's session
// (answered in JSON for passkey.js): excludeCredentials lists the
// user's passkeys, so the same authenticator is not registered twice.
func (p *Pages) passkeyOptions(w http.ResponseWriter, r *http.Request) {
	cur, u := p.signedIn(w, r)
	if cur == nil {
		return
	}
	m, err := p.reverifyMethods(r, u)
	if err != nil {
		p.page.InternalError(w, r, "listing sign-in methods", err)
		return
	}
	if !p.recentlyVerified(cur, m.any()) {
		web.WriteJSONError(w, http.StatusForbidden, msgPasskeyReverify)
		return
	}
	options, err := p.Core.Passkeys.BeginRegistration(r.Context(), u, cur.IDHash(), web.PasskeySite(r))
	switch {
	case errors.Is(err, core.ErrPasskeyNotOffered):
		web.WriteJSONError(w, http.StatusConflict, msgPasskeyNotOffered)
		return
	case err != nil:
		p.Logger.Warn("beginning a passkey registration", zap.Error(err))
		web.WriteJSONError(w, http.StatusServiceUnavailable, "Your change could not be made. Please try again in a moment.")
		return
	}
	web.WriteJSON(w, options)
}

// addPasskey stores the passkey the browser created (field response),
// named as the user typed (field name; empty: its make, or "Passkey").
func (p *Pages) addPasskey(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	name, typed := "", r.PostForm.Get("name")
	if typed != "" {
		var msg string
		if name, msg = formName(r, core.MaxMethodName); msg != "" {
			p.renderAddPasskey(w, u, typed, msg)
			return
		}
	}
	_, err := p.Core.Passkeys.FinishRegistration(r.Context(), u, cur.IDHash(), web.PasskeySite(r), name,
		[]byte(r.PostForm.Get("response")), p.ClientIP(r))
	switch {
	case errors.Is(err, core.ErrPasskeyRegistered):
		p.renderAddPasskey(w, u, typed, msgPasskeyRegistered)
	case errors.Is(err, core.ErrPasskeyNotOffered):
		p.page.Message(w, http.StatusConflict, "Passkeys not available here", msgPasskeyNotOffered)
	case errors.Is(err, core.ErrPasskeyRefused), errors.Is(err, core.ErrPasskeyChallenge):
		p.renderAddPasskey(w, u, typed, msgPasskeyFailed)
	case isNameRefusal(err):
		p.renderAddPasskey(w, u, typed, nameRefusal(err, core.MaxMethodName))
	case err != nil:
		p.page.InternalError(w, r, "adding passkey", err)
	case p.passAdded(w, r, cur, "Passkey"):
	default:
		p.done(w, r, "passkey-added")
	}
}

// deletePasskey removes one passkey, never the last method of a user who
// must keep one, and signs out the user's other sessions (as every
// removed method does; this one stays).
func (p *Pages) deletePasskey(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	id, err := strconv.ParseInt(r.PostForm.Get("id"), 10, 64)
	if err != nil {
		p.notFound(w)
		return
	}
	err = p.Core.Passkeys.Delete(r.Context(), u, id, p.cfg.Policy.MustKeepOneMethod(u), cur.IDHash(), p.ClientIP(r))
	switch {
	case errors.Is(err, model.ErrLimit):
		p.page.Message(w, http.StatusConflict, "Cannot delete", msgLastPasskey)
	case errors.Is(err, model.ErrNotFound):
		p.notFound(w)
	case err != nil:
		p.page.InternalError(w, r, "deleting passkey", err)
	default:
		p.done(w, r, "passkey-deleted")
	}
}
