package admin

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
)

const chromeLinux = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

// The sign-in log names the client as the phone does ("Chrome on Linux"),
// with the full user agent in the row's detail; an app's short agent is
// shown as sent.
func TestSignInLogNamesBrowsers(t *testing.T) {
	f, _, cookie, amy := admins(t)
	at := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	long := "SomeSyncClient/1.0 " + strings.Repeat("x", 80)
	for i, ua := range []string{chromeLinux, "git/2.47.0", long} {
		e := model.SignIn{At: at.Add(time.Duration(i) * time.Minute), UserID: amy.ID, Username: "amy", Site: "files.example",
			RemoteIP: "192.0.2.1", UserAgent: ua, Client: model.ClientBrowser, FirstFactor: "password", Result: model.SignInSuccess}
		if err := f.st.AppendSignIn(f.ctx, &e); err != nil {
			t.Fatal(err)
		}
	}
	for _, path := range []string{"/admin/sign-ins", "/admin/users/2"} {
		w := f.get(path, cookie)
		wantPage(t, path, w, http.StatusOK, `<details><summary>Chrome on Linux</summary><span class="admin-agent-full">`+chromeLinux+`</span></details>`,
			`<td class="admin-agent">git/2.47.0</td>`,
			`<details><summary>`+long[:60]+`…</summary><span class="admin-agent-full">`+long+`</span></details>`)
	}
}

// The log's range is two dates as a date input sends them (YYYY-MM-DD);
// anything else, or a range that ends before it starts, is a clear 400
// with the filter kept, never a 500.
func TestSignInLogDates(t *testing.T) {
	f, _, cookie, _ := admins(t)
	wantPage(t, "form", f.get("/admin/sign-ins", cookie), http.StatusOK, `name="since" type="date"`, `name="until" type="date"`)
	wantPage(t, "dates", f.get("/admin/sign-ins?since=2026-11-25&until=2026-11-25", cookie), http.StatusOK, `value="2026-11-25"`)
	for q, want := range map[string]string{
		"since=yesterday":                                "The From date is not a date like 2026-11-25.",
		"until=2026-13-01":                               "The To date is not a date like 2026-11-25.",
		"since=2026-11-25+14:00":                         "The From date is not a date like 2026-11-25.",
		"since=2026-11-26&until=2026-11-25":              "The From date is after the To date.",
		"since=%00%ff&until=" + strings.Repeat("9", 300): "The From date is not a date",
	} {
		wantPage(t, q, f.get("/admin/sign-ins?"+q, cookie), http.StatusBadRequest, want, `aria-invalid="true"`)
	}
}

// An action that changed nothing says so on a neutral notice, not on the
// green one of a success.
func TestNothingChangedIsNeutral(t *testing.T) {
	f, _, cookie, amy := admins(t)
	w := f.act(cookie, "sign-out", true, []*model.User{amy})
	wantPage(t, "nothing", w, http.StatusOK, "<h1>Nothing was changed</h1>", `<div class="notice notice-neutral" role="status" id="result-summary">`)
	w = f.act(cookie, "block", true, []*model.User{amy})
	wantPage(t, "changed", w, http.StatusOK, `<div class="notice" role="status" id="result-summary">1 changed</div>`)
}
