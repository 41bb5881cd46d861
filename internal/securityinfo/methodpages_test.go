package securityinfo

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// addAppPassword gives the fixture's user an app password, straight in
// the store.
func (f *fixture) addAppPassword(t *testing.T, name string) *model.AppPassword {
	t.Helper()
	ap := &model.AppPassword{UserID: f.user.ID, Name: name, Hash: "x", LookupTag: []byte("tag-" + name + "-0123456789abcdef0123")}
	if err := teststore.AddAppPassword(context.Background(), f.st, ap); err != nil {
		t.Fatal(err)
	}
	return ap
}

func (f *fixture) authenticator(t *testing.T) model.TOTPAuthenticator {
	t.Helper()
	auths, err := f.st.TOTPAuthenticators(context.Background(), f.user.ID)
	if err != nil || len(auths) != 1 {
		t.Fatalf("authenticators: %v, %v", auths, err)
	}
	return auths[0]
}

// TestSecurityInfoIsTheSeedsPage: one list holds authenticators and app
// passwords; with one method there is no default selector; no password
// reset is promised; no "App passwords: n of 40" line.
func TestSecurityInfoIsTheSeedsPage(t *testing.T) {
	f := newFixture(t, time.Minute)
	ap := f.addAppPassword(t, "Laptop mail")
	body := f.get("/.mfa/security").Body.String()
	list := body[strings.Index(body, `<ul class="methods"`):]
	list = list[:strings.Index(list, "</ul>")]
	for _, s := range []string{`<span class="method-type">Authenticator app</span>`, `<span class="method-type">App password</span>`,
		`<span class="method-name">Laptop mail</span>`, "Last used: Never",
		`href="/.mfa/security/delete?kind=app-password&amp;id=` + itoa(ap.ID) + `">Delete`} {
		if !strings.Contains(list, s) {
			t.Errorf("methods list lacks %q:\n%s", s, list)
		}
	}
	for _, s := range []string{"reset your password", "App passwords:", `id="default-method"`} {
		if strings.Contains(body, s) {
			t.Errorf("Security info contains %q", s)
		}
	}
	// The only method of an enforced user: Delete disabled, and why.
	a := f.authenticator(t)
	if !strings.Contains(list, `disabled aria-describedby="authenticator-`+itoa(a.ID)+`-why"`) ||
		!strings.Contains(list, msgLastAuthenticator) {
		t.Errorf("only authenticator's Delete not disabled with its reason:\n%s", list)
	}
}

// TestRenameMethods: authenticators and phones are renamed through the
// core's name rule; a refused name is shown again with its reason and
// changes nothing; an unknown method or an app password is not found.
func TestRenameMethods(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Minute)
	a := f.authenticator(t)
	phone := pairStoreDevice(t, f.st, f.user.ID)

	w := f.get("/.mfa/security/rename?kind=authenticator&id=" + itoa(a.ID))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `value="Authenticator app"`) ||
		!strings.Contains(w.Body.String(), `<form method="post" action="/.mfa/security/rename">`) {
		t.Fatalf("rename page: %d\n%s", w.Code, w.Body)
	}
	w = f.post("/.mfa/security/rename", url.Values{"kind": {"authenticator"}, "id": {itoa(a.ID)}, "name": {"Work iPhone"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/security?done=renamed" {
		t.Fatalf("rename: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	if got := f.authenticator(t).Name; got != "Work iPhone" {
		t.Fatalf("authenticator name %q", got)
	}
	w = f.post("/.mfa/security/rename", url.Values{"kind": {"phone"}, "id": {itoa(phone.ID)}, "name": {"Pixel"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("rename phone: %d\n%s", w.Code, w.Body)
	}
	if d, _ := f.st.DeviceByID(ctx, phone.ID); d.Name != "Pixel" {
		t.Fatalf("phone name %q", d.Name)
	}
	body := f.get("/.mfa/security?done=renamed").Body.String()
	for _, s := range []string{"Sign-in method renamed.", `<span class="method-name">Work iPhone</span>`, `<span class="method-name">Pixel</span>`} {
		if !strings.Contains(body, s) {
			t.Errorf("Security info after renaming lacks %q", s)
		}
	}

	// Refused: an invisible character, empty, too long.
	for _, name := range []string{"Work\u202eiPhone", " ", strings.Repeat("n", 65)} {
		w = f.post("/.mfa/security/rename", url.Values{"kind": {"authenticator"}, "id": {itoa(a.ID)}, "name": {name}})
		if w.Code != 200 || !strings.Contains(w.Body.String(), `aria-invalid="true" aria-describedby="error"`) ||
			!strings.Contains(w.Body.String(), `role="alert"`) {
			t.Errorf("name %q: %d\n%s", name, w.Code, w.Body)
		}
	}
	if got := f.authenticator(t).Name; got != "Work iPhone" {
		t.Errorf("a refused name changed it to %q", got)
	}

	// Not found: unknown ids, another kind, app passwords (not renamed).
	ap := f.addAppPassword(t, "git")
	for _, form := range []url.Values{
		{"kind": {"authenticator"}, "id": {"99999"}, "name": {"x"}},
		{"kind": {"phone"}, "id": {itoa(a.ID + 99999)}, "name": {"x"}},
		{"kind": {"app-password"}, "id": {itoa(ap.ID)}, "name": {"x"}},
		{"kind": {"sms"}, "id": {"1"}, "name": {"x"}},
		{"kind": {"phone"}, "id": {"abc"}, "name": {"x"}},
	} {
		if w := f.post("/.mfa/security/rename", form); w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "<html") {
			t.Errorf("rename %v: %d", form, w.Code)
		}
	}
	if w := f.get("/.mfa/security/rename?kind=app-password&id=" + itoa(ap.ID)); w.Code != http.StatusNotFound {
		t.Errorf("rename page for an app password: %d", w.Code)
	}

	// A stale second factor asks for a code first, then comes back here.
	stale := newFixture(t, 11*time.Minute)
	sa := stale.authenticator(t)
	w = stale.get("/.mfa/security/rename?kind=authenticator&id=" + itoa(sa.ID))
	if !strings.Contains(w.Body.String(), "Verify your identity") ||
		!strings.Contains(w.Body.String(), `name="next" value="/.mfa/security/rename?kind=authenticator&amp;id=`+itoa(sa.ID)+`"`) {
		t.Errorf("stale rename page: %d\n%s", w.Code, w.Body)
	}
	w = stale.post("/.mfa/security/rename", url.Values{"kind": {"authenticator"}, "id": {itoa(sa.ID)}, "name": {"x"}})
	if !strings.Contains(w.Body.String(), "Verify your identity") || stale.authenticator(t).Name != "Authenticator app" {
		t.Errorf("stale rename changed the name or did not ask for a code: %d", w.Code)
	}
}

// TestDeleteNeedsConfirmation: the list has no form that deletes; Delete
// leads to a page that names the method and posts only when confirmed;
// the one method the account must keep is refused on that step too.
func TestDeleteNeedsConfirmation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Minute)
	ap := f.addAppPassword(t, "Laptop mail")
	body := f.get("/.mfa/security").Body.String()
	if strings.Contains(body, `/delete">`) || strings.Contains(body, `name="id"`) {
		t.Fatalf("Security info deletes in one click:\n%s", body)
	}
	w := f.get("/.mfa/security/delete?kind=app-password&id=" + itoa(ap.ID))
	for _, s := range []string{"Delete the app password <strong>Laptop mail</strong> from your account?", msgDeleteAppPassword,
		`<form method="post" action="/.mfa/security/app-password/delete">` + "\n" + `<input type="hidden" name="id" value="` + itoa(ap.ID) + `">`} {
		if w.Code != 200 || !strings.Contains(w.Body.String(), s) {
			t.Errorf("confirmation page (%d) lacks %q", w.Code, s)
		}
	}
	if aps, _ := f.st.AppPasswords(ctx, f.user.ID); len(aps) != 1 {
		t.Fatal("showing the confirmation deleted the app password")
	}
	if w := f.post("/.mfa/security/app-password/delete", url.Values{"id": {itoa(ap.ID)}}); w.Code != http.StatusSeeOther {
		t.Fatalf("confirmed delete: %d", w.Code)
	}
	if aps, _ := f.st.AppPasswords(ctx, f.user.ID); len(aps) != 0 {
		t.Fatal("confirmed delete kept the app password")
	}

	// A second method: the authenticator may go, after confirming.
	phone := pairStoreDevice(t, f.st, f.user.ID)
	a := f.authenticator(t)
	w = f.get("/.mfa/security/delete?kind=phone&id=" + itoa(phone.ID))
	if w.Code != 200 || !strings.Contains(w.Body.String(), `action="/.mfa/security/phone/delete"`) || !strings.Contains(w.Body.String(), msgDeleteMethod) {
		t.Errorf("phone confirmation: %d\n%s", w.Code, w.Body)
	}
	if w := f.post("/.mfa/security/authenticator/delete", url.Values{"id": {itoa(a.ID)}}); w.Code != http.StatusSeeOther {
		t.Fatalf("delete authenticator: %d", w.Code)
	}
	// Now the phone is the last method: refused at the confirmation step.
	w = f.get("/.mfa/security/delete?kind=phone&id=" + itoa(phone.ID))
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "only sign-in method") {
		t.Errorf("confirmation for the last method: %d\n%s", w.Code, w.Body)
	}
	for _, q := range []string{"kind=phone&id=99999", "kind=authenticator&id=" + itoa(a.ID), "kind=sms&id=1", "kind=phone"} {
		if w := f.get("/.mfa/security/delete?" + q); w.Code != http.StatusNotFound {
			t.Errorf("confirmation for %s: %d", q, w.Code)
		}
	}
}

// TestSafeNextMethodPages: after re-verification the user returns to the
// rename or delete page, rebuilt from its parts; nothing else.
func TestSafeNextMethodPages(t *testing.T) {
	p := New(Deps{}, Config{Prefix: "/.mfa/"})
	for next, want := range map[string]string{
		"/.mfa/security/rename?kind=phone&id=7":                     "/.mfa/security/rename?kind=phone&id=7",
		"/.mfa/security/delete?id=3&kind=app-password&x=1":          "/.mfa/security/delete?kind=app-password&id=3",
		"/.mfa/security/rename?kind=app-password&id=3":              "/.mfa/security",
		"/.mfa/security/delete?kind=sms&id=3":                       "/.mfa/security",
		"//evil.example/.mfa/security/delete?kind=phone&id=1":       "/.mfa/security",
		"https://evil.example/.mfa/security/rename?kind=phone&id=1": "/.mfa/security",
		"/.mfa/security/delete?kind=phone&id=-1":                    "/.mfa/security",
	} {
		if got := p.safeNext(next); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", next, got, want)
		}
	}
}
