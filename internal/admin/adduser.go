package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/loginui"
)

// newUserForm is the Add user form as posted.
type newUserForm struct{ username, name, email, groups string }

func readAddUser(r *http.Request) newUserForm {
	return newUserForm{username: r.PostForm.Get("username"), name: r.PostForm.Get("name"),
		email: r.PostForm.Get("email"), groups: r.PostForm.Get("groups")}
}

// fields are the form's values, posted again by the verify step.
func (nf newUserForm) fields() []loginui.AdminField {
	return []loginui.AdminField{{Name: "username", Value: nf.username}, {Name: "name", Value: nf.name},
		{Name: "email", Value: nf.email}, {Name: "groups", Value: nf.groups}}
}

func (p *Pages) addUserPage(req *request, nf newUserForm) loginui.AdminAddUserPage {
	return loginui.AdminAddUserPage{Common: p.page.Common("Add user", req.admin), AdminNav: p.nav("users"),
		Username: nf.username, Name: nf.name, Email: nf.email, Groups: nf.groups, ValidFor: core.TemporaryPasswordTTL}
}

// showAddUser shows the form to add a user.
func (p *Pages) showAddUser(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	p.UI.Render(w, http.StatusOK, p.addUserPage(req, newUserForm{}))
}

// addUserStep shows the filled-in form again: to submit, or (without a
// fresh second factor) to verify one first.
func (p *Pages) addUserStep(w http.ResponseWriter, r *http.Request, req *request, nf newUserForm, fresh bool, codeProblem string) {
	pg := p.addUserPage(req, nf)
	if !fresh {
		var err error
		if pg.Verify, err = p.verifyStep(r, req.admin, thenAddUser, nf.fields(), p.cfg.Base, codeProblem); err != nil {
			p.page.InternalError(w, r, "listing sign-in methods", err)
			return
		}
	}
	p.UI.Render(w, http.StatusOK, pg)
}

// addUser creates the user with a temporary password and shows it once;
// without a fresh second factor it asks for one first and adds nothing.
func (p *Pages) addUser(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	nf := readAddUser(r)
	if !p.recent(&req.cur.Session) {
		p.addUserStep(w, r, req, nf, false, "")
		return
	}
	var groups []string
	for _, g := range strings.Split(nf.groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	u, pw, err := p.Core.Admin.AddUser(r.Context(), core.AdminActor(req.admin, p.ClientIP(r)), core.NewUser{
		Username: nf.username, DisplayName: nf.name, Email: nf.email, Groups: groups})
	switch {
	case errors.Is(err, core.ErrUserExists), errors.Is(err, core.ErrInvalidUsername), errors.Is(err, core.ErrInvalidProfile),
		errors.Is(err, core.ErrInvalidGroup):
		pg := p.addUserPage(req, nf)
		pg.Error = "The user was not added: " + refusal(err) + "."
		p.UI.Render(w, http.StatusBadRequest, pg)
		return
	case err != nil:
		p.page.InternalError(w, r, "adding a user", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.AdminResultPage{Common: p.page.Common("User added", req.admin), AdminNav: p.nav("users"),
		Heading: "User added", Summary: "1 added", Back: p.cfg.Base, BackText: "Back to the users",
		Rows: []loginui.AdminResultRow{{Username: u.Username, Href: p.userHref(u.ID), Outcome: "Added", Class: "ok",
			Detail: "added with multi-factor sign-in Enabled; give them the temporary password shown below (valid " +
				humanize.Duration(core.TemporaryPasswordTTL) + ")", Secret: pw}}})
}
