package admin

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/humanize"
	"github.com/mfagate/mfagate/loginui"
)

// opSettings is the user page's "Manage user settings" form: several of
// settingsOps at once (field do).
const opSettings = "settings"

// settingsOps may be combined in one Save, applied in this order.
var settingsOps = []core.ActionKind{core.ActionDeleteAppPasswords, core.ActionResetMethods, core.ActionSignOut}

// opText is what the pages say about each action.
type opText struct {
	heading string // the confirmation page's question
	what    string // what will happen, one sentence
	confirm string // the button
	done    string // the result page's heading
	label   string // names the action in a combined result
	danger  bool
}

var opTexts = map[core.ActionKind]opText{
	core.ActionEnable: {heading: "Enable multi-factor sign-in?", confirm: "Enable", done: "Multi-factor sign-in enabled", label: "Enable",
		what: "Multi-factor sign-in becomes Enabled: the user registers an authenticator app at their next sign-in, which makes it Enforced. Until then the account password still works in basic auth where the site allows it."},
	core.ActionEnforce: {heading: "Enforce multi-factor sign-in?", confirm: "Enforce", done: "Multi-factor sign-in enforced", label: "Enforce",
		what: "Multi-factor sign-in becomes Enforced: every browser sign-in needs a second factor, and basic auth (WebDAV, mail, git) takes app passwords only, no longer the account password."},
	core.ActionDisable: {heading: "Disable multi-factor sign-in?", confirm: "Disable", done: "Multi-factor sign-in disabled", label: "Disable",
		what: "Multi-factor sign-in becomes Disabled: the password alone signs in, except on sites that require multi-factor sign-in for everyone. Registered methods are kept."},
	core.ActionDeleteAppPasswords: {heading: "Delete all app passwords?", confirm: "Delete all app passwords", done: "App passwords deleted", label: "App passwords", danger: true,
		what: "Every app password of the user is deleted: apps that sign in with one (mail, calendars, WebDAV, git) are refused until given a new one."},
	core.ActionResetMethods: {heading: "Reset sign-in methods?", confirm: "Reset methods", done: "Sign-in methods reset", label: "Methods", danger: true,
		what: "Every authenticator app, paired phone, passkey and security key of the user is removed, with their recovery codes, and their sessions end: they register a method again at their next sign-in."},
	core.ActionSignOut: {heading: "Sign out everywhere?", confirm: "Sign out everywhere", done: "Signed out everywhere", label: "Sessions",
		what: "Every session of the user ends, in every browser: they sign in again."},
	core.ActionBlock: {heading: "Block sign-in?", confirm: "Block sign-in", done: "Sign-in blocked", label: "Block", danger: true,
		what: "Sign-in is blocked: password, code, phone and basic auth (app passwords too) are refused, and every session ends, until the user is unblocked."},
	core.ActionUnblock: {heading: "Unblock sign-in?", confirm: "Unblock sign-in", done: "Sign-in unblocked", label: "Unblock",
		what: "Sign-in is unblocked and the failed sign-in counter is cleared, so a locked account can sign in at once."},
	core.ActionEdit: {heading: "Save the profile?", confirm: "Save profile", done: "Profile saved", label: "Profile"},
	core.ActionResetPassword: {heading: "Reset the password?", confirm: "Reset password", done: "Passwords reset", label: "Password", danger: true,
		what: "The user gets a random temporary password, shown once on the next page: it works for " + humanize.Duration(core.TemporaryPasswordTTL) + ", never in basic auth, and after signing in with it (and their second factor) the user must choose their own. Their sessions end and their app passwords are deleted."},
	core.ActionAccessPass: {heading: "Issue a Temporary Access Pass?", confirm: "Issue the pass", done: "Temporary Access Pass issued", label: "Access pass"},
	core.ActionRemove: {heading: "Remove the user?", confirm: "Remove", done: "Users removed", label: "Remove", danger: true,
		what: "The user is removed with their methods, app passwords and sessions. This cannot be undone; the sign-in log keeps their rows."},
}

// form is an action as posted.
type form struct {
	op      string
	actions []core.Action
	ids     []int64
	back    string
	fields  []loginui.AdminField // to post again on confirmation
}

// readAction reads the posted action; a non-empty message says what is
// wrong with it.
func (p *Pages) readAction(r *http.Request) (form, string) {
	f := form{op: r.PostForm.Get("op"), back: p.safeBack(r.PostForm.Get("back"))}
	f.fields = append(f.fields, loginui.AdminField{Name: "op", Value: f.op})
	for _, s := range r.PostForm["id"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return f, "The selection could not be read. Go back and select the users again."
		}
		f.ids = append(f.ids, id)
		f.fields = append(f.fields, loginui.AdminField{Name: "id", Value: s})
	}
	if len(f.ids) == 0 {
		return f, "Select at least one user first."
	}
	if len(f.ids) > core.MaxBatch {
		return f, fmt.Sprintf("Select at most %d users at once.", core.MaxBatch)
	}
	switch kind := core.ActionKind(f.op); {
	case f.op == opSettings:
		for _, k := range settingsOps {
			for _, d := range r.PostForm["do"] {
				if d == string(k) {
					f.actions = append(f.actions, core.Action{Kind: k})
					f.fields = append(f.fields, loginui.AdminField{Name: "do", Value: d})
					break
				}
			}
		}
		if len(f.actions) == 0 {
			return f, "Tick at least one of the settings to change, then Save."
		}
	case kind == core.ActionAccessPass:
		act, problem := readAccessPass(r, len(f.ids))
		if problem != "" {
			return f, problem
		}
		f.actions = []core.Action{act}
		f.fields = append(f.fields, loginui.AdminField{Name: "lifetime", Value: r.PostForm.Get("lifetime")})
		if act.Once {
			f.fields = append(f.fields, loginui.AdminField{Name: "once", Value: "yes"})
		}
	case kind == core.ActionEdit:
		if len(f.ids) != 1 {
			return f, "Edit one user at a time."
		}
		act := core.Action{Kind: kind, DisplayName: r.PostForm.Get("display_name"), Email: r.PostForm.Get("email"),
			Groups: strings.Split(r.PostForm.Get("groups"), ",")}
		act, err := act.CheckEdit()
		if err != nil {
			return f, "The profile was not saved: " + refusal(err) + "."
		}
		f.actions = []core.Action{act}
		f.fields = append(f.fields, loginui.AdminField{Name: "display_name", Value: act.DisplayName},
			loginui.AdminField{Name: "email", Value: act.Email}, loginui.AdminField{Name: "groups", Value: strings.Join(act.Groups, ", ")})
	case kind.Valid():
		f.actions = []core.Action{{Kind: kind}}
	default:
		return f, "That action is unknown."
	}
	f.fields = append(f.fields, loginui.AdminField{Name: "back", Value: f.back})
	return f, ""
}

// action shows the confirmation of an action, or applies a confirmed one
// when the admin's second factor is recent (else the confirmation again,
// asking for a fresh one first).
func (p *Pages) action(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	f, problem := p.readAction(r)
	if problem != "" {
		p.backMessage(w, http.StatusBadRequest, "Nothing was changed", problem, f.back)
		return
	}
	fresh := p.recent(&req.cur.Session)
	if r.PostForm.Get("confirmed") != "yes" || !fresh {
		p.confirm(w, r, req, f, fresh, "")
		return
	}
	p.apply(w, r, req, f)
}

// confirm shows what the action will do, to whom; without a fresh second
// factor it asks for one in place of the Confirm button (codeProblem is
// the last code's error).
func (p *Pages) confirm(w http.ResponseWriter, r *http.Request, req *request, f form, fresh bool, codeProblem string) {
	users, err := p.Core.Admin.Selected(r.Context(), f.ids)
	if err != nil {
		p.page.InternalError(w, r, "loading the selected users", err)
		return
	}
	if len(users) == 0 {
		p.backMessage(w, http.StatusNotFound, "Nothing was changed", "The selected users no longer exist.", f.back)
		return
	}
	first := opTexts[f.actions[0].Kind]
	pg := loginui.AdminConfirmPage{Common: p.page.Common(first.heading, req.admin), AdminNav: p.nav("users"),
		Heading: first.heading, Confirm: first.confirm, Danger: first.danger, Fields: f.fields, Cancel: f.back}
	if f.op == opSettings {
		pg.Heading, pg.Confirm, pg.Danger = "Save these user settings?", "Save", false
	}
	for _, act := range f.actions {
		t := opTexts[act.Kind]
		pg.Danger = pg.Danger || t.danger
		what := t.what
		switch act.Kind {
		case core.ActionEdit:
			what = profileWhat(act)
		case core.ActionAccessPass:
			what = accessPassWhat(act)
		}
		pg.What = append(pg.What, what)
	}
	for _, u := range users {
		cu := loginui.AdminConfirmUser{Username: u.Username, DisplayName: u.DisplayName}
		if u.ID == req.admin.ID {
			for _, act := range f.actions {
				if act.RefusedForSelf(req.admin) {
					cu.Note = "skipped: your own account"
				}
			}
		}
		pg.Users = append(pg.Users, cu)
	}
	if !fresh {
		if pg.Verify, err = p.verifyStep(r, req.admin, thenAction, f.fields, f.back, codeProblem); err != nil {
			p.page.InternalError(w, r, "listing sign-in methods", err)
			return
		}
	}
	p.UI.Render(w, http.StatusOK, pg)
}

func profileWhat(act core.Action) string {
	groups := strings.Join(act.Groups, ", ")
	if groups == "" {
		groups = "none"
	}
	return fmt.Sprintf("Display name: %s. Email: %s. Groups: %s.", orDash(act.DisplayName), orDash(act.Email), groups)
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// apply applies a confirmed action and shows what changed.
func (p *Pages) apply(w http.ResponseWriter, r *http.Request, req *request, f form) {
	ip := p.ClientIP(r)
	pg := loginui.AdminResultPage{Common: p.page.Common("Result", req.admin), AdminNav: p.nav("users"),
		Back: f.back, BackText: "Back"}
	counts := map[core.ResultKind]int{}
	for _, act := range f.actions {
		res, err := p.Core.Admin.Apply(r.Context(), core.AdminActor(req.admin, ip), act, f.ids)
		if errors.Is(err, core.ErrInvalidProfile) || errors.Is(err, core.ErrInvalidGroup) {
			p.backMessage(w, http.StatusBadRequest, "Nothing was changed", "The profile was not saved: "+refusal(err)+".", f.back)
			return
		}
		if err != nil {
			p.page.InternalError(w, r, "applying "+string(act.Kind), err)
			return
		}
		for _, x := range res {
			counts[x.Kind]++
			row := loginui.AdminResultRow{Username: x.Username, Outcome: outcomeLabel(x.Kind), Class: outcomeClass(x.Kind), Detail: x.Detail,
				Secret: x.Secret}
			if act.Kind == core.ActionAccessPass {
				accessPassRow(&row, x)
			}
			if x.Kind != core.ResultGone && act.Kind != core.ActionRemove {
				row.Href = p.userHref(x.UserID)
			}
			if row.Username == "" {
				row.Username = "user " + strconv.FormatInt(x.UserID, 10)
			}
			if len(f.actions) > 1 {
				row.Detail = opTexts[act.Kind].label + ": " + row.Detail
			}
			pg.Rows = append(pg.Rows, row)
		}
	}
	pg.Heading = opTexts[f.actions[0].Kind].done
	if f.op == opSettings {
		pg.Heading = "User settings saved"
	}
	if counts[core.ResultChanged] == 0 {
		pg.Heading, pg.Unchanged = "Nothing was changed", true
	}
	pg.Title = pg.Heading
	pg.Summary = summary(counts)
	if f.actions[0].Kind == core.ActionRemove || strings.HasPrefix(pg.Back, p.cfg.Base+"users/") && counts[core.ResultGone] > 0 {
		pg.Back = p.cfg.Base
	}
	if pg.Back == p.cfg.Base || strings.HasPrefix(pg.Back, p.cfg.Base+"?") {
		pg.BackText = "Back to the users"
	} else {
		pg.BackText = "Back to the user"
	}
	p.UI.Render(w, http.StatusOK, pg)
}

// summary counts the outcomes: "2 changed, 1 skipped".
func summary(counts map[core.ResultKind]int) string {
	var parts []string
	for _, k := range []core.ResultKind{core.ResultChanged, core.ResultUnchanged, core.ResultSkipped, core.ResultRefused, core.ResultGone} {
		if n := counts[k]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, strings.ToLower(outcomeLabel(k))))
		}
	}
	return strings.Join(parts, ", ")
}

func outcomeLabel(k core.ResultKind) string {
	switch k {
	case core.ResultChanged:
		return "Changed"
	case core.ResultUnchanged:
		return "No change"
	case core.ResultSkipped:
		return "Skipped"
	case core.ResultRefused:
		return "Refused"
	}
	return "Not found"
}

func outcomeClass(k core.ResultKind) string {
	switch k {
	case core.ResultChanged:
		return "ok"
	case core.ResultUnchanged:
		return "same"
	case core.ResultSkipped:
		return "skipped"
	}
	return "refused"
}

// backMessage shows a message whose link leads back.
func (p *Pages) backMessage(w http.ResponseWriter, status int, heading, msg, back string) {
	page := p.page
	page.BackText, page.BackHref = "Back", back
	page.Message(w, status, heading, msg)
}
