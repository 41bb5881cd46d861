package integration

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var recoveryCodeRE = regexp.MustCompile(`<code>([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})</code>`)

// TestRecoveryAnnouncedToThePhone: through the real Caddy, a user whose
// default is the phone has "Use a recovery code" on the waiting page;
// signing in with one pushes the recovery's notice to the paired phone
// (the local push service checks VAPID and decrypts it as the phone
// would), a notification-only message beside the sign-in request's.
func TestRecoveryAnnouncedToThePhone(t *testing.T) {
	e := startPhoneEnv(t, newUpstream(t), phoneOptions{})
	cfg := e.newPhone().post("config", struct{}{})
	if cfg.status != http.StatusOK || cfg.str("vapid_public_key") == "" {
		t.Fatalf("config: %d %s", cfg.status, cfg.raw)
	}
	e.push.ExpectVAPIDKey(cfg.str("vapid_public_key"))
	rita := e.newPhoneUser("rita")
	sub := e.push.NewSubscription()
	rita.pairPhone(&sub)
	p := rita.sec.post("/.mfa/security/recovery-codes", url.Values{})
	codes := recoveryCodeRE.FindAllStringSubmatch(p.body, -1)
	if p.status != http.StatusOK || len(codes) != 10 {
		t.Fatalf("generating recovery codes: %d, %d codes\n%s", p.status, len(codes), p.body)
	}

	b := newBrowser(t, e.g)
	if p := b.login("rita", rita.pw, "/"); p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
		t.Fatalf("login: %d %q", p.status, p.location)
	}
	if p := b.get("/.mfa/push"); p.status != http.StatusOK || !strings.Contains(p.body, `href="/.mfa/recovery"`) {
		t.Fatalf("the waiting page offers no recovery code: %d\n%s", p.status, p.body)
	}
	p = b.post("/.mfa/recovery", url.Values{"code": {codes[4][1]}})
	if p.status != http.StatusSeeOther || p.location != "/.mfa/recovery/used" {
		t.Fatalf("recovery code: %d %q\n%s", p.status, p.location, p.body)
	}
	if p := b.get("/.mfa/recovery/used"); !strings.Contains(p.body, "You used a recovery code; 9 left.") {
		t.Fatalf("after the recovery: %d\n%s", p.status, p.body)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	msgs, err := e.push.Wait(ctx, sub, 2)
	if err != nil {
		t.Fatalf("pushes to the phone: %v (rejections: %v)", err, e.push.Rejections(sub))
	}
	// The two are sent independently: the notice is either.
	found := false
	for _, m := range msgs {
		var notice struct {
			Notice  bool   `json:"notice"`
			Text    string `json:"text"`
			Request string `json:"request"`
		}
		if err := json.Unmarshal(m.Payload, &notice); err != nil {
			t.Fatalf("payload %q: %v", m.Payload, err)
		}
		if notice.Notice && notice.Request == "" && strings.Contains(notice.Text, "you signed in with a recovery code") {
			found = true
		}
	}
	if !found {
		t.Errorf("the phone received %q and %q, neither the recovery notice", msgs[0].Payload, msgs[1].Payload)
	}
}
