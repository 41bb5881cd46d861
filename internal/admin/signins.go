package admin

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/loginui"
)

// maxAgent bounds the user agent a row shows, in bytes.
const maxAgent = 160

// timeInputs are the accepted spellings of the log's time range (UTC).
var timeInputs = []string{"2006-01-02 15:04", "2006-01-02T15:04", "2006-01-02 15:04:05", "2006-01-02T15:04:05", time.RFC3339}

// parseTime reads a time of the range; a date alone is its first minute,
// or with endOfDay the first minute after it (so "to 2026-11-25" takes in
// the whole day).
func parseTime(s string, endOfDay bool) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	if t, err := time.ParseInLocation(dateLayout, s, time.UTC); err == nil {
		if endOfDay {
			t = t.Add(24 * time.Hour)
		}
		return t, true
	}
	for _, layout := range timeInputs {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// signIns shows the sign-in log, newest first, filtered, one page at a
// time backwards by ID.
func (p *Pages) signIns(w http.ResponseWriter, r *http.Request) {
	req := p.admitted(w, r)
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
	if f.Since, ok = parseTime(pg.Since, false); !ok {
		problems = append(problems, "The start of the range is not a date like 2026-11-25 or 2026-11-25 14:00.")
	}
	if f.Until, ok = parseTime(pg.Until, true); !ok {
		problems = append(problems, "The end of the range is not a date like 2026-11-25 or 2026-11-25 14:00.")
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
		Client: e.Client, Method: method, Success: e.Result == model.SignInSuccess, Reason: e.Reason, Agent: agent}
	if e.UserID != 0 {
		row.UserHref = p.userHref(e.UserID)
	}
	return row
}
