package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/web"
	"github.com/mfagate/mfagate/loginui"
)

// maxAgent bounds the user agent a row shows, in bytes.
const maxAgent = 512

// parseDate reads a date of the range as a date input sends it
// (YYYY-MM-DD, UTC): its first minute, or with endOfDay the first minute
// after it (so "to 2026-11-25" takes in the whole day). Empty is no bound.
func parseDate(s string, endOfDay bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.ParseInLocation(dateLayout, s, time.UTC)
	if err != nil {
		return time.Time{}, false
	}
	if endOfDay {
		t = t.Add(24 * time.Hour)
	}
	return t, true
}

// signIns shows the sign-in log, newest first, filtered, one page at a
// time backwards by ID.
func (p *Pages) signIns(w http.ResponseWriter, r *http.Request) {
	req := p.signedInAdmin(w, r)
	if req == nil {
		return
	}
	v := r.URL.Query()
	pg := loginui.AdminSignInsPage{Common: p.page.Common("Sign-in log", req.admin), AdminNav: p.nav("sign-ins"),
		User: strings.TrimSpace(v.Get("user")), Site: strings.TrimSpace(v.Get("site")),
		Since: strings.TrimSpace(v.Get("since")), Until: strings.TrimSpace(v.Get("until"))}
	f := model.SignInFilter{Limit: p.cfg.PageSize, Site: pg.Site}
	switch res := v.Get("result"); res {
	case model.SignInSuccess, model.SignInFailure:
		f.Result, pg.Result = res, res
	}
	var problems []string
	if pg.User != "" {
		u, err := p.Core.Admin.UserByName(r.Context(), pg.User)
		switch {
		case errors.Is(err, model.ErrNotFound):
			problems = append(problems, "There is no user named "+strconv.Quote(pg.User)+".")
		case err != nil:
			p.page.InternalError(w, r, "finding user", err)
			return
		default:
			f.UserID = u.ID
		}
	}
	var ok bool
	if f.Since, ok = parseDate(pg.Since, false); !ok {
		pg.BadSince = true
		problems = append(problems, "The From date is not a date like 2026-11-25.")
	}
	if f.Until, ok = parseDate(pg.Until, true); !ok {
		pg.BadUntil = true
		problems = append(problems, "The To date is not a date like 2026-11-25.")
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Since.Before(f.Until) {
		pg.BadSince, pg.BadUntil = true, true
		problems = append(problems, "The From date is after the To date.")
	}
	if before, err := strconv.ParseInt(v.Get("before"), 10, 64); err == nil && before > 0 {
		f.BeforeID = before
	}
	if len(problems) > 0 {
		pg.Error = strings.Join(problems, " ")
		p.UI.Render(w, http.StatusBadRequest, pg)
		return
	}
	rows, err := p.Core.SignInLog.Search(r.Context(), f)
	if err != nil {
		p.page.InternalError(w, r, "reading the sign-in log", err)
		return
	}
	for _, e := range rows {
		pg.Rows = append(pg.Rows, p.signInRow(&e))
	}
	q := url.Values{}
	for _, k := range []string{"user", "result", "site", "since", "until"} {
		if s := strings.TrimSpace(v.Get(k)); s != "" {
			q.Set(k, s)
		}
	}
	base := p.cfg.Base + "sign-ins"
	if f.BeforeID > 0 {
		pg.NewestHref = base
		if len(q) > 0 {
			pg.NewestHref += "?" + q.Encode()
		}
	}
	if len(rows) == f.Limit {
		q.Set("before", strconv.FormatInt(rows[len(rows)-1].ID, 10))
		pg.OlderHref = base + "?" + q.Encode()
	}
	p.UI.Render(w, http.StatusOK, pg)
}

// maxClientName bounds an unrecognised agent as a row names it, in bytes.
const maxClientName = 60

// clientName names a sign-in's client as the phone does ("Chrome on
// Linux"); an agent naming no known browser (an app's "git/2.47.0") is
// shown as sent, shortened: the admin reads the log to tell clients apart.
func clientName(ua string) string {
	if name, known := web.DescribeAgent(ua); known {
		return name
	}
	if len(ua) > maxClientName {
		return strings.ToValidUTF8(ua[:maxClientName], "") + "…"
	}
	return ua
}

// signInRow is how the pages show a sign-in.
func (p *Pages) signInRow(e *model.SignIn) loginui.AdminSignInRow {
	method := e.FirstFactor
	if e.SecondFactor != "" && !strings.HasPrefix(e.SecondFactor, "not required") {
		method += " + " + e.SecondFactor
	}
	agent := e.UserAgent
	if len(agent) > maxAgent {
		agent = strings.ToValidUTF8(agent[:maxAgent], "") + "…"
	}
	row := loginui.AdminSignInRow{When: when(e.At), Username: e.Username, Site: e.Site, From: e.RemoteIP,
		Client: e.Client, Method: method, Success: e.Result == model.SignInSuccess, Reason: e.Reason,
		Browser: clientName(e.UserAgent), Agent: agent}
	if e.UserID != 0 {
		row.UserHref = p.userHref(e.UserID)
	}
	return row
}
