package admin

import (
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
)

// Reset password shows each temporary password once, on the result page;
// the user's password becomes a temporary one; the admin's own row is
// skipped.
func TestResetPasswordShowsTheTemporaryPasswordOnce(t *testing.T) {
	f := newFixture(t)
	root := f.user("root", true, core.AdminGroup)
	amy := f.user("amy", true)
	cookie := f.session(root, time.Minute)
	before := f.fresh(amy.ID).PasswordHash

	wantPage(t, "confirmation", f.act(cookie, "reset-password", false, []*model.User{amy, root}), http.StatusOK,
		"Reset the password?", "shown once on the next page")
	if f.fresh(amy.ID).PasswordHash != before {
		t.Fatal("the confirmation page changed the password")
	}
	w := f.act(cookie, "reset-password", true, []*model.User{amy, root})
	wantPage(t, "result", w, http.StatusOK, "Temporary password:", "your own account")
	m := regexp.MustCompile(`<code class="temp-password">([A-Z0-9]{16,})</code>`).FindAllStringSubmatch(w.Body.String(), -1)
	if len(m) != 1 {
		t.Fatalf("%d temporary passwords on the result page, want 1 (amy's; root is skipped)", len(m))
	}
	got := f.fresh(amy.ID)
	if got.PasswordHash == before || !got.TemporaryPassword() || time.Until(got.PasswordExpiresAt) > core.TemporaryPasswordTTL {
		t.Fatalf("amy after the reset: temporary %v until %v", got.TemporaryPassword(), got.PasswordExpiresAt)
	}
	if f.fresh(root.ID).TemporaryPassword() {
		t.Error("the admin's own password was reset")
	}
}
