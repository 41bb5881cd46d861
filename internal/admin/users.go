package admin

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/factor/passkey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// maxSearch bounds the search text, in bytes.
const maxSearch = 100

// maxPage bounds the page number (OFFSET) a request may ask for.
const maxPage = 100000

// listQuery is the list's state as its address carries it.
type listQuery struct {
	search string
	mfa    model.MFAState
	status model.UserStatus
	sort   model.UserSort
	desc   bool
	page   int
}

// parseList reads the list's query; unknown values fall back to the
// defaults.
func parseList(v url.Values) listQuery {
	q := listQuery{search: strings.TrimSpace(v.Get("q")), sort: model.SortUsername, page: 1}
	if len(q.search) > maxSearch {
		q.search = q.search[:maxSearch]
	}
	if s := model.MFAState(v.Get("mfa")); s.Valid() {
		q.mfa = s
	}
	switch s := model.UserStatus(v.Get("status")); s {
	case model.StatusActive, model.StatusBlocked, model.StatusLocked:
		q.status = s
	}
	if s := model.UserSort(v.Get("sort")); s.Valid() {
		q.sort = s
	}
	q.desc = v.Get("dir") == "desc"
	if n, err := strconv.Atoi(v.Get("page")); err == nil && n > 1 {
		q.page = min(n, maxPage)
	}
	return q
}

// href is the list's address for q.
func (q listQuery) href(base string) string {
	v := url.Values{}
	if q.search != "" {
		v.Set("q", q.search)
	}
	if q.mfa != "" {
		v.Set("mfa", string(q.mfa))
	}
	if q.status != "" {
		v.Set("status", string(q.status))
	}
	if q.sort != model.SortUsername {
		v.Set("sort", string(q.sort))
	}
	if q.desc {
		v.Set("dir", "desc")
	}
	if q.page > 1 {
		v.Set("page", strconv.Itoa(q.page))
	}
	if len(v) == 0 {
		return base
	}
	return base + "?" + v.Encode()
}

// columns of the list; the sortable ones link to their order.
var columns = []struct {
	label string
	sort  model.UserSort
}{
	{"User", model.SortUsername},
	{"Display name", model.SortDisplayName},
	{"Groups", ""},
	{"Multi-factor status", model.SortMFAState},
	{"Methods", ""},
	{"Last sign-in", model.SortLastSignIn},
	{"Sign-in state", ""},
}

// listOps are the buttons under the list.
var listOps = []loginui.AdminOp{
	{Value: string(core.ActionEnable), Label: "Enable MFA"},
	{Value: string(core.ActionEnforce), Label: "Enforce MFA"},
	{Value: string(core.ActionDisable), Label: "Disable MFA"},
	{Value: string(core.ActionDeleteAppPasswords), Label: "Delete all app passwords", Danger: true},
	{Value: string(core.ActionResetMethods), Label: "Reset methods", Danger: true},
	{Value: string(core.ActionSignOut), Label: "Sign out everywhere"},
	{Value: string(core.ActionBlock), Label: "Block sign-in", Danger: true},
	{Value: string(core.ActionUnblock), Label: "Unblock sign-in"},
	{Value: string(core.ActionResetPassword), Label: "Reset password", Danger: true},
	{Value: string(core.ActionRemove), Label: "Remove", Danger: true},
}

// users shows one page of the list.
func (p *Pages) users(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	q := parseList(r.URL.Query())
	size := p.cfg.PageSize
	res, err := p.Core.Admin.Users(r.Context(), model.UserQuery{Search: q.search, MFAState: q.mfa, Status: q.status,
		Sort: q.sort, Desc: q.desc, Offset: (q.page - 1) * size, Limit: size})
	if err != nil {
		p.page.InternalError(w, r, "listing users", err)
		return
	}
	pg := loginui.AdminUsersPage{Common: p.page.Common("Users", req.admin), AdminNav: p.nav("users"),
		Search: q.search, MFA: string(q.mfa), Status: string(q.status), Desc: q.desc, Total: res.Total,
		Back: q.href(p.cfg.Base), Ops: listOps}
	if q.sort != model.SortUsername {
		pg.Sort = string(q.sort)
	}
	for _, c := range columns {
		col := loginui.AdminColumn{Label: c.label}
		if c.sort != "" {
			s := q
			s.sort, s.page, s.desc = c.sort, 1, c.sort == model.SortLastSignIn
			if c.sort == q.sort {
				col.Current, col.Desc, s.desc = true, q.desc, !q.desc
			}
			col.Href = s.href(p.cfg.Base)
		}
		pg.Columns = append(pg.Columns, col)
	}
	now := p.now()
	for _, u := range res.Users {
		pg.Rows = append(pg.Rows, p.row(&u, req.admin, now))
	}
	if len(res.Users) > 0 {
		pg.From = (q.page-1)*size + 1
		pg.To = pg.From + len(res.Users) - 1
	}
	if q.page > 1 {
		prev := q
		prev.page = min(q.page-1, max(1, (res.Total+size-1)/size))
		pg.PrevHref = prev.href(p.cfg.Base)
	}
	if q.page*size < res.Total {
		next := q
		next.page++
		pg.NextHref = next.href(p.cfg.Base)
	}
	p.UI.Render(w, http.StatusOK, pg)
}

// row is how the list shows u.
func (p *Pages) row(u *model.UserSummary, self *model.User, now time.Time) loginui.AdminUserRow {
	row := loginui.AdminUserRow{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
		Href: p.userHref(u.ID), Groups: strings.Join(u.Groups, ", "), MFAState: stateLabel(u.MFAState),
		Authenticators: u.Authenticators, Phones: u.Phones, Passkeys: u.Passkeys, AppPasswords: u.AppPasswords,
		LastSignIn: "Never", State: "Active", StateClass: "ok",
		Self: u.ID == self.ID, Admin: slices.Contains(u.Groups, p.Core.Admin.Group())}
	if !u.LastSignIn.IsZero() {
		row.LastSignIn = when(u.LastSignIn)
	}
	switch {
	case !u.BlockedAt.IsZero():
		row.State, row.StateClass = "Blocked", "blocked"
		if u.BlockedReason != "" {
			row.State += ": " + u.BlockedReason
		}
	case u.LockedUntil.After(now):
		row.State, row.StateClass = "Locked until "+lockedUntil(u.LockedUntil, now), "locked"
	case u.BasicAuthLockedUntil.After(now):
		// Too many wrong app passwords: basic auth refuses the account
		// (the browser sign-in does not); Unblock clears it too.
		row.State, row.StateClass = "Basic auth locked until "+lockedUntil(u.BasicAuthLockedUntil, now), "locked"
	}
	return row
}

// lockedUntil names the end of a lock: the time, with the date when it
// is not today.
func lockedUntil(t, now time.Time) string {
	t, now = t.UTC(), now.UTC()
	if t.Format(dateLayout) == now.Format(dateLayout) {
		return t.Format("15:04 UTC")
	}
	return t.Format(timeLayout)
}

func stateLabel(s model.MFAState) string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

func (p *Pages) userHref(id int64) string {
	return p.cfg.Base + "users/" + strconv.FormatInt(id, 10)
}

// recentSignIns is how many sign-ins a user's page shows.
const recentSignIns = 10

// user shows one user.
func (p *Pages) user(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		p.page.Message(w, http.StatusNotFound, "No such user", "There is no user at this address.")
		return
	}
	d, err := p.Core.Admin.User(r.Context(), id, recentSignIns)
	if errors.Is(err, model.ErrNotFound) {
		p.page.Message(w, http.StatusNotFound, "No such user", "There is no such user: maybe it was removed.")
		return
	}
	if err != nil {
		p.page.InternalError(w, r, "loading user", err)
		return
	}
	now := p.now()
	row := p.row(&d.Summary, req.admin, now)
	pg := loginui.AdminUserPage{Common: p.page.Common(d.Summary.Username, req.admin), AdminNav: p.nav("users"),
		Row: row, Created: d.Summary.CreatedAt.UTC().Format(dateLayout), Back: p.cfg.Base, Here: p.userHref(id),
		SignInsHref: p.cfg.Base + "sign-ins?user=" + url.QueryEscape(d.Summary.Username),
		Blocked:     !d.Summary.BlockedAt.IsZero(), GroupsInput: strings.Join(d.Summary.Groups, ", ")}
	for _, a := range d.Authenticators {
		pg.Authenticators = append(pg.Authenticators, loginui.AdminMethodRow{Name: a.Name, Added: a.CreatedAt.UTC().Format(dateLayout)})
	}
	for _, ph := range d.Phones {
		pg.Phones = append(pg.Phones, loginui.AdminMethodRow{Name: ph.Name, Added: ph.CreatedAt.UTC().Format(dateLayout), LastUsed: orNever(ph.LastUsedAt)})
	}
	for _, c := range d.Passkeys {
		pg.Passkeys = append(pg.Passkeys, loginui.AdminMethodRow{Name: c.Name, Make: passkey.Make(c.AAGUID),
			Added: c.CreatedAt.UTC().Format(dateLayout), LastUsed: orNever(c.LastUsedAt)})
	}
	pg.RecoveryCodes = recoveryCodesLeft(d.RecoveryCodesLeft, d.RecoveryCodes)
	for _, ap := range d.AppPasswords {
		last := orNever(ap.LastUsedAt)
		if !ap.LastUsedAt.IsZero() && ap.LastUsedIP != "" {
			last += " from " + ap.LastUsedIP
		}
		pg.AppPasswords = append(pg.AppPasswords, loginui.AdminMethodRow{Name: ap.Name, Added: ap.CreatedAt.UTC().Format(dateLayout), LastUsed: last})
	}
	for _, e := range d.SignIns {
		pg.SignIns = append(pg.SignIns, p.signInRow(&e))
	}
	pg.AccessPass = describePass(d.AccessPass, now)
	p.UI.Render(w, http.StatusOK, pg)
}

// recoveryCodesLeft says how many of the user's recovery codes are left
// ("" when they have none).
func recoveryCodesLeft(left, total int) string {
	if total == 0 {
		return ""
	}
	return strconv.Itoa(left) + " of " + strconv.Itoa(total) + " left"
}

func orNever(t time.Time) string {
	if t.IsZero() {
		return "Never"
	}
	return when(t)
}
