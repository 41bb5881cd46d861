package securityinfo

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/audit"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/store"
)

var shownCode = regexp.MustCompile(`<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>`)

// TestRecoveryCodesOnSecurityInfo: Security info has a "Recovery codes"
// row; generating a set needs a recent second factor like every change
// here, shows ten grouped codes once with Copy and a download as text,
// and is audited; the row then says how many are left; a new set voids
// the old one.
func TestRecoveryCodesOnSecurityInfo(t *testing.T) {
	ctx := context.Background()
	stale := newFixture(t, 11*time.Minute)
	if w := stale.post("/.mfa/security/recovery-codes", url.Values{}); w.Code != 200 || !strings.Contains(w.Body.String(), "Verify your identity") {
		t.Fatalf("stale MFA: %d\n%s", w.Code, w.Body)
	}
	if n, err := stale.pages.Core.RecoveryCodes.Left(ctx, stale.user.ID); err != nil || n != 0 {
		t.Fatalf("codes made without recent MFA: %d, %v", n, err)
	}

	f := newFixture(t, time.Minute)
	page := f.get("/.mfa/security").Body.String()
	if !strings.Contains(page, "Recovery codes") || !strings.Contains(page, `href="/.mfa/security/recovery-codes"`) {
		t.Fatalf("no recovery codes row:\n%s", page)
	}
	if w := f.get("/.mfa/security/recovery-codes"); w.Code != 200 || !strings.Contains(w.Body.String(), "Generate codes") {
		t.Fatalf("recovery codes page: %d\n%s", w.Code, w.Body)
	}
	w := f.post("/.mfa/security/recovery-codes", url.Values{})
	body := w.Body.String()
	first := shownCode.FindAllStringSubmatch(body, -1)
	if w.Code != 200 || len(first) != 10 {
		t.Fatalf("generated: %d, %d codes shown\n%s", w.Code, len(first), body)
	}
	if !strings.Contains(body, `href="data:text/plain;charset=utf-8,`) || !strings.Contains(body, `download="recovery-codes.txt"`) ||
		!strings.Contains(body, "data-copy=\""+first[0][1]+"\n") || !strings.Contains(body, url.PathEscape(first[9][1])) {
		t.Errorf("the codes page lacks Copy or the download:\n%s", body)
	}
	events, _ := f.st.AuditEvents(ctx, f.user.ID, 1)
	if len(events) != 1 || events[0].Event != audit.RecoveryCodesGenerated {
		t.Errorf("audit: %+v", events)
	}
	page = f.get("/.mfa/security").Body.String()
	if !strings.Contains(page, "10 of 10 recovery codes left.") || strings.Contains(page, "recovery-reminder") {
		t.Errorf("Security info after generating:\n%s", page)
	}
	second := shownCode.FindAllStringSubmatch(f.post("/.mfa/security/recovery-codes", url.Values{}).Body.String(), -1)
	if len(second) != 10 || second[0][1] == first[0][1] {
		t.Fatalf("regenerated: %v", second)
	}
	if n, _ := f.pages.Core.RecoveryCodes.Left(ctx, f.user.ID); n != 10 {
		t.Errorf("%d codes left after regenerating, want the new 10", n)
	}
}

// TestRecoveryCodesReminder: with 2 or fewer codes left, Security info
// reminds the user to generate new ones.
func TestRecoveryCodesReminder(t *testing.T) {
	f := newFixture(t, time.Minute)
	err := f.st.Update(context.Background(), func(ctx context.Context, tx store.Tx) error {
		_, err := tx.ReplaceRecoveryCodes(ctx, f.user.ID, []model.RecoveryCode{
			{LookupTag: []byte("a"), Hash: "x"}, {LookupTag: []byte("b"), Hash: "x"}})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	page := f.get("/.mfa/security").Body.String()
	if !strings.Contains(page, "only 2 recovery codes left") || !strings.Contains(page, "Generate new recovery codes") {
		t.Errorf("no reminder with 2 codes left:\n%s", page)
	}
}

// TestRecoveryNoticeOnSecurityInfo: a recovery's notice shows on
// Security info until the user dismisses it (POST), audited.
func TestRecoveryNoticeOnSecurityInfo(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, time.Minute)
	err := f.st.Update(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.AddRecoveryNotice(ctx, &model.RecoveryNotice{UserID: f.user.ID, Kind: model.RecoveryByPass,
			RemoteIP: "203.0.113.9", CreatedAt: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)})
	})
	if err != nil {
		t.Fatal(err)
	}
	page := f.get("/.mfa/security").Body.String()
	if !strings.Contains(page, "On 2026-03-01 12:00 UTC from 203.0.113.9 you signed in with a Temporary Access Pass.") ||
		!strings.Contains(page, `action="/.mfa/security/recovery-codes/notice/dismiss"`) {
		t.Fatalf("no notice on Security info:\n%s", page)
	}
	w := f.post("/.mfa/security/recovery-codes/notice/dismiss", url.Values{})
	if w.Code != 303 || w.Header().Get("Location") != "/.mfa/security?done=recovery-notice-dismissed" {
		t.Fatalf("dismiss: %d %q", w.Code, w.Header().Get("Location"))
	}
	if page := f.get("/.mfa/security").Body.String(); strings.Contains(page, "Temporary Access Pass") {
		t.Errorf("the notice is still shown after dismissing:\n%s", page)
	}
	events, _ := f.st.AuditEvents(ctx, f.user.ID, 1)
	if len(events) != 1 || events[0].Event != audit.RecoveryNoticeDismissed {
		t.Errorf("audit: %+v", events)
	}
}
