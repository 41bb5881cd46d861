package securityinfo

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// methodTypes names each kind of method in a sentence ("Delete the phone …").
var methodTypes = map[string]string{
	loginui.KindAuthenticator: "authenticator app",
	loginui.KindPhone:         "phone",
	loginui.KindAppPassword:   "app password",
	loginui.KindPasskey:       "passkey",
}

// Pages about one method: rename it, or confirm its deletion.
const (
	pageRename = "rename"
	pageDelete = "delete"
)

// What deleting a method does, said on the confirmation step.
const (
	msgDeleteMethod      = "You can no longer sign in with it, and your sessions on other browsers and devices are signed out; this one stays signed in."
	msgDeleteAppPassword = "Apps that use it can no longer sign in."
)

// methodURL is the rename or delete page of one method.
func (p *Pages) methodURL(page, kind string, id int64) string {
	return p.securityPath() + "/" + page + "?kind=" + kind + "&id=" + strconv.FormatInt(id, 10)
}

// methodPagePath accepts a rename or delete page as the place to return to
// after re-verification, rebuilt from its parsed parts (never the text
// as sent).
func (p *Pages) methodPagePath(next string) (string, bool) {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" {
		return "", false
	}
	for _, page := range []string{pageRename, pageDelete} {
		if u.Path != p.securityPath()+"/"+page {
			continue
		}
		kind, id, ok := methodRefOf(u.Query())
		if !ok || (page == pageRename && kind == loginui.KindAppPassword) {
			return "", false
		}
		return p.methodURL(page, kind, id), true
	}
	return "", false
}

// methodRefOf reads fields kind and id.
func methodRefOf(v url.Values) (kind string, id int64, ok bool) {
	kind = v.Get("kind")
	if _, known := methodTypes[kind]; !known {
		return "", 0, false
	}
	id, err := strconv.ParseInt(v.Get("id"), 10, 64)
	if err != nil || id <= 0 {
		return "", 0, false
	}
	return kind, id, true
}

// lastMethod: u must keep a method here and has only one left (n:
// authenticators, active phones and passkeys), which therefore cannot be
// deleted.
func (p *Pages) lastMethod(u *model.User, n int) bool {
	return p.cfg.Policy.MustKeepOneMethod(u) && n == 1
}

// findMethod looks up method kind/id of u; found is false when u has no
// such method; last says it is the one method u must keep.
func (p *Pages) findMethod(ctx context.Context, u *model.User, kind string, id int64) (ref loginui.MethodRef, last, found bool, err error) {
	auths, err := p.Core.Methods.Authenticators(ctx, u.ID)
	if err != nil {
		return ref, false, false, err
	}
	devices, err := p.Core.Phones.Devices(ctx, u.ID)
	if err != nil {
		return ref, false, false, err
	}
	passkeys, err := p.Core.Passkeys.Credentials(ctx, u.ID)
	if err != nil {
		return ref, false, false, err
	}
	ref = loginui.MethodRef{Kind: kind, ID: id, Type: methodTypes[kind]}
	last = p.lastMethod(u, len(auths)+activeCount(devices)+len(passkeys))
	switch kind {
	case loginui.KindAuthenticator:
		for _, a := range auths {
			if a.ID == id {
				ref.Name = a.Name
				return ref, last, true, nil
			}
		}
	case loginui.KindPhone:
		for _, d := range devices {
			if d.ID == id && d.Active {
				ref.Name = d.Name
				return ref, last, true, nil
			}
		}
	case loginui.KindPasskey:
		for _, c := range passkeys {
			if c.ID == id {
				ref.Name = c.Name
				return ref, last, true, nil
			}
		}
	case loginui.KindAppPassword:
		aps, err := p.Core.AppPasswords.List(ctx, u.ID)
		if err != nil {
			return ref, false, false, err
		}
		for _, a := range aps {
			if a.ID == id {
				ref.Name = a.Name
				return ref, false, true, nil
			}
		}
	}
	return ref, false, false, nil
}

// notFound answers a method the user does not have (or never had).
func (p *Pages) notFound(w http.ResponseWriter) {
	p.page.Message(w, http.StatusNotFound, "Not found", "That sign-in method does not exist.")
}

// showRename asks for a new name of an authenticator app or a phone.
func (p *Pages) showRename(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.safeNext(r.URL.RequestURI()))
	if cur == nil {
		return
	}
	kind, id, ok := methodRefOf(r.URL.Query())
	if !ok || kind == loginui.KindAppPassword {
		p.notFound(w)
		return
	}
	ref, _, found, err := p.findMethod(r.Context(), u, kind, id)
	if err != nil {
		p.page.InternalError(w, r, "finding sign-in method", err)
		return
	}
	if !found {
		p.notFound(w)
		return
	}
	p.renderRename(w, u, ref, ref.Name, "")
}

func (p *Pages) renderRename(w http.ResponseWriter, u *model.User, ref loginui.MethodRef, name, msg string) {
	p.UI.Render(w, http.StatusOK, loginui.RenameMethodPage{Common: p.page.Common("Rename sign-in method", u),
		Method: ref, Name: name, MaxName: core.MaxMethodName, Error: msg})
}

// rename stores the new name through the core, which checks it; a refused
// name is shown again with the reason.
func (p *Pages) rename(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.securityPath())
	if cur == nil {
		return
	}
	kind, id, ok := methodRefOf(r.PostForm)
	if !ok || kind == loginui.KindAppPassword {
		p.notFound(w)
		return
	}
	name, ip := r.PostForm.Get("name"), p.ClientIP(r)
	var err error
	switch kind {
	case loginui.KindPhone:
		err = p.Core.Phones.Rename(r.Context(), u, id, name, ip)
	case loginui.KindPasskey:
		err = p.Core.Passkeys.Rename(r.Context(), u, id, name, ip)
	default:
		err = p.Core.Methods.RenameAuthenticator(r.Context(), u, id, name, ip)
	}
	switch {
	case isNameRefusal(err):
		ref := loginui.MethodRef{Kind: kind, ID: id, Type: methodTypes[kind]}
		p.renderRename(w, u, ref, name, nameRefusal(err, core.MaxMethodName))
	case errors.Is(err, model.ErrNotFound):
		p.notFound(w)
	case err != nil:
		p.page.InternalError(w, r, "renaming sign-in method", err)
	default:
		p.done(w, r, "renamed")
	}
}

// confirmDelete is the confirmation step before a method is deleted: it
// names the method, says what deleting it does, and posts to the delete
// handler only when the user confirms (no JavaScript needed). The one
// method an account must keep is refused here already.
func (p *Pages) confirmDelete(w http.ResponseWriter, r *http.Request) {
	cur, u := p.forChange(w, r, p.safeNext(r.URL.RequestURI()))
	if cur == nil {
		return
	}
	kind, id, ok := methodRefOf(r.URL.Query())
	if !ok {
		p.notFound(w)
		return
	}
	ref, last, found, err := p.findMethod(r.Context(), u, kind, id)
	if err != nil {
		p.page.InternalError(w, r, "finding sign-in method", err)
		return
	}
	if !found {
		p.notFound(w)
		return
	}
	if last {
		why := msgLastMethod
		if kind == loginui.KindAuthenticator {
			why = msgLastAuthenticator
		}
		p.page.Message(w, http.StatusConflict, "Cannot delete", why)
		return
	}
	page := loginui.DeleteMethodPage{Common: p.page.Common("Delete sign-in method", u), Method: ref,
		Action: p.securityPath() + "/" + kind + "/delete", Consequence: msgDeleteMethod}
	if kind == loginui.KindAppPassword {
		page.Consequence = msgDeleteAppPassword
	}
	p.UI.Render(w, http.StatusOK, page)
}
