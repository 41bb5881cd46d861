package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/loginui"
)

// showAddUser shows the form to add a user.
func (p *Pages) showAddUser(w http.ResponseWriter, r *http.Request) {
	req := p.admitted(w, r)
	if req == nil {
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.AdminAddUserPage{Common: p.page.Common("Add user", req.admin), AdminNav: p.nav("users")})
}

// addUser creates the user with a temporary password and shows it once.
func (p *Pages) addUser(w http.ResponseWriter, r *http.Request) {
	req := p.admitted(w, r)
	if req == nil {
		return
	}
	form := loginui.AdminAddUserPage{Common: p.page.Common("Add user", req.admin), AdminNav: p.nav("users"),
		Username: r.PostForm.Get("username"), Name: r.PostForm.Get("name"), Email: r.PostForm.Get("email"), Groups: r.PostForm.Get("groups")}
	var groups []string
	for _, g := range strings.Split(form.Groups, ",") {
		if g = strings.TrimSpace(g); g != "" {
			groups = append(groups, g)
		}
	}
	u, pw, err := p.Core.Admin.AddUser(r.Context(), req.admin, p.ClientIP(r), core.NewUser{
		Username: form.Username, DisplayName: form.Name, Email: form.Email, Groups: groups})
	switch {
	case errors.Is(err, core.ErrUserExists), errors.Is(err, core.ErrInvalidUsername), errors.Is(err, core.ErrInvalidProfile),
		errors.Is(err, core.ErrInvalidGroup):
		form.Error = "The user was not added: " + err.Error() + "."
		p.UI.Render(w, http.StatusBadRequest, form)
		return
	case err != nil:
		p.page.InternalError(w, r, "adding a user", err)
		return
	}
	p.UI.Render(w, http.StatusOK, loginui.AdminResultPage{Common: p.page.Common("User added", req.admin), AdminNav: p.nav("users"),
		Heading: "User added", Summary: "1 added", Back: p.cfg.Base, BackText: "Back to the users",
		Rows: []loginui.AdminResultRow{{Username: u.Username, Href: p.userHref(u.ID), Outcome: "Added", Class: "ok",
			Detail: "added with multi-factor sign-in Enabled; give them this temporary password (valid 24 hours)", Secret: pw}}})
}
