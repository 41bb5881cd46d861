package integration

import (
	"crypto/sha256"
	"database/sql"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/push"
)

// phoneExpirePairing moves the expiry of the pairing link token into the
// past in the SQLite database (nobody waits 10 minutes in a test).
func phoneExpirePairing(t *testing.T, e *phoneEnv, token string) {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(e.g.dir, "mfagate.db")+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := sha256.Sum256([]byte(token))
	res, err := db.Exec("UPDATE pairings SET expires_at = ? WHERE token_hash = ?", time.Now().Add(-time.Second).UnixMilli(), h[:])
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("expiring pairing: %d rows", n)
	}
}

// TestPhonePairing pairs a phone end to end: the link carries its token
// only in the fragment; the phone stays inactive until the Security info
// session that made the link enters the code; wrong codes, other
// sessions, used, voided and expired links pair nothing; push
// subscriptions outside push_hosts are refused before anything is stored.
func TestPhonePairing(t *testing.T) {
	up := newUpstream(t)
	e := startPhoneEnv(t, up, phoneOptions{})
	u := e.newPhoneUser("pia")

	link, token := u.sec.phonePairingLink()
	lu, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if lu.Scheme+"://"+lu.Host != e.portalURL() || lu.Path != "/phone/pair" || lu.RawQuery != "" || lu.Fragment != "t="+token {
		t.Fatalf("pairing link %q: want %s/phone/pair#t=TOKEN, the token in the fragment only", link, e.portalURL())
	}
	if len(token) < 40 {
		t.Fatalf("pairing token %q is short", token)
	}
	// What the phone's browser requests (no fragment) is the page alone.
	res, err := http.Get(e.portalURL() + "/phone/pair")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("portal pairing page: %d", res.StatusCode)
	}
	// The protected site's origin serves none of the portal: its paths
	// lead to the sign-in wall like any other.
	anon := newBrowser(t, e.g)
	for _, path := range []string{"/phone/pair", "/phone/app", "/phone/sw.js"} {
		if p := anon.get(path); p.status != http.StatusFound || !strings.HasPrefix(p.location, "/.mfa/login") {
			t.Errorf("%s on the protected site: %d %q, want the sign-in wall", path, p.status, p.location)
		}
	}
	if p := anon.post("/phone/api/config", nil); p.status == http.StatusOK || strings.Contains(p.body, "vapid_public_key") {
		t.Errorf("phone API on the protected site: %d\n%s", p.status, p.body)
	}

	// Before a phone registered, no code pairs anything.
	if p := u.sec.confirmPhone("123456"); p.status != http.StatusConflict || !strings.Contains(p.body, "No phone has opened the pairing link yet") {
		t.Fatalf("code before registration: %d\n%s", p.status, p.body)
	}

	ph := e.newPhone()
	// A registration must prove the key with the token's nonce and the
	// id "new"; a refused one leaves the link usable.
	in := map[string]any{"token": token, "public_key": ph.PublicKeySPKI(), "name": "Pia's phone"}
	wantPhoneStatus(t, "register with another nonce", ph.registerSigned(in, core.ProofDeviceID, "some-other-nonce"), http.StatusUnauthorized)
	wantPhoneStatus(t, "register as another device", ph.registerSigned(in, "1", core.PairingToken(token).ProofNonce()), http.StatusUnauthorized)

	t.Run("push endpoint outside push_hosts", func(t *testing.T) {
		good := e.push.NewSubscription()
		for name, endpoint := range map[string]string{
			"other host":  "https://push.evil.example/push/x",
			"other port":  "https://127.0.0.1:1/push/x",
			"plain http":  "http://" + e.push.Host() + "/push/x",
			"portal site": e.portalURL() + "/phone/api/config",
		} {
			sub := good
			sub.Endpoint = endpoint
			r := ph.register(token, "Pia's phone", &sub)
			wantPhoneStatus(t, name, r, http.StatusBadRequest)
			if r.body["push_refused"] != true {
				t.Fatalf("%s: %s", name, r.raw)
			}
		}
	})

	r := ph.register(token, "Pia's phone", nil)
	wantPhoneStatus(t, "register", r, http.StatusOK)
	code := r.str("code")
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) || r.str("device_id") == "" || r.body["push"] != false {
		t.Fatalf("register: %s", r.raw)
	}
	ph.SetDeviceID(r.str("device_id"))

	inactive := func(what string) {
		t.Helper()
		s := ph.status()
		wantPhoneStatus(t, what+": status", s, http.StatusOK)
		if s.body["active"] != false || s.str("name") != "" {
			t.Fatalf("%s: status %s, want inactive without the account's name", what, s.raw)
		}
		wantPhoneUnpaired(t, what+": pending", ph.call("pending", struct{}{}))
	}
	inactive("registered")

	// Whoever else knows the link (it reaches a log on iPhones) may
	// register through it too, up to three phones: none locks Pia's phone
	// out, and only the phone whose code she types is paired.
	thief := e.newPhone()
	tr := thief.register(token, "Thief", nil)
	wantPhoneStatus(t, "second phone on the link", tr, http.StatusOK)
	thief.SetDeviceID(tr.str("device_id"))
	wantPhoneStatus(t, "third phone on the link", e.newPhone().register(token, "Third", nil), http.StatusOK)
	wantPhoneStatus(t, "link used up", e.newPhone().register(token, "Fourth", nil), http.StatusNotFound)

	// Another session of the same user (on the portal, where Security
	// info is) cannot confirm.
	other := newPortalBrowser(t, e.g, e.portalURL())
	u.codeSignIn(other)
	if p := other.confirmPhone(code); p.status != http.StatusConflict {
		t.Fatalf("code from another session: %d\n%s", p.status, p.body)
	}
	inactive("code entered in another session")

	// A wrong code is refused.
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	if p := u.sec.confirmPhone(wrong); p.status != http.StatusConflict || !strings.Contains(p.body, "not the code shown on your phone") {
		t.Fatalf("wrong code: %d\n%s", p.status, p.body)
	}
	inactive("wrong code")

	// The right code in the session that made the link pairs the phone.
	if p := u.sec.confirmPhone(code); p.status != http.StatusSeeOther || p.location != "/.mfa/security?done=phone-added" {
		t.Fatalf("right code: %d %q\n%s", p.status, p.location, p.body)
	}
	s := ph.status()
	if s.status != http.StatusOK || s.body["active"] != true || s.str("name") != "Pia Tester" || s.str("device") != "Pia's phone" {
		t.Fatalf("status after confirmation: %s", s.raw)
	}
	if req := ph.pending(); req != nil {
		t.Fatalf("pending without a sign-in: %v", req)
	}
	wantPhoneUnpaired(t, "the other phone of the link", thief.call("status", struct{}{}))
	if p := u.sec.get("/.mfa/security"); !strings.Contains(p.body, "Pia&#39;s phone") || !strings.Contains(p.body, "Phone (sign-in approval)") {
		t.Fatalf("Security info does not list the phone:\n%s", p.body)
	}
	// Entering the code again pairs nothing more.
	if p := u.sec.confirmPhone(code); p.status != http.StatusConflict {
		t.Fatalf("code again: %d", p.status)
	}

	t.Run("new link voids the old", func(t *testing.T) {
		_, first := u.sec.phonePairingLink()
		_, second := other.phonePairingLink() // another session of the user
		wantPhoneStatus(t, "voided link", e.newPhone().register(first, "Old link", nil), http.StatusNotFound)
		p2 := e.newPhone()
		r := p2.register(second, "New link", nil)
		wantPhoneStatus(t, "new link", r, http.StatusOK)
		// The new link belongs to the other session: the first cannot
		// confirm it.
		if p := u.sec.confirmPhone(r.str("code")); p.status != http.StatusConflict {
			t.Fatalf("confirm from the session that did not make the link: %d", p.status)
		}
		if p := other.confirmPhone(r.str("code")); p.status != http.StatusSeeOther {
			t.Fatalf("confirm new link: %d\n%s", p.status, p.body)
		}
	})

	t.Run("expired link", func(t *testing.T) {
		// Expired before the phone registers.
		_, tok := u.sec.phonePairingLink()
		phoneExpirePairing(t, e, tok)
		r := e.newPhone().register(tok, "Late phone", nil)
		wantPhoneStatus(t, "expired link", r, http.StatusNotFound)
		if !strings.Contains(r.str("error"), "not valid any more") {
			t.Fatalf("expired link: %s", r.raw)
		}
		// Expired between registration and confirmation.
		_, tok = u.sec.phonePairingLink()
		late := e.newPhone()
		r = late.register(tok, "Slow phone", nil)
		wantPhoneStatus(t, "register", r, http.StatusOK)
		late.SetDeviceID(r.str("device_id"))
		phoneExpirePairing(t, e, tok)
		if p := u.sec.confirmPhone(r.str("code")); p.status != http.StatusConflict {
			t.Fatalf("code after expiry: %d\n%s", p.status, p.body)
		}
		wantPhoneUnpaired(t, "phone of an expired link", late.call("pending", struct{}{}))
	})

	t.Run("five wrong codes void the link", func(t *testing.T) {
		_, tok := u.sec.phonePairingLink()
		guessed := e.newPhone()
		r := guessed.register(tok, "Guessed phone", nil)
		wantPhoneStatus(t, "register", r, http.StatusOK)
		guessed.SetDeviceID(r.str("device_id"))
		code := r.str("code")
		for i := range 5 {
			wrong := strings.Repeat(string(rune('0'+i)), 6)
			if wrong == code {
				wrong = "98765" + string(rune('0'+i))
			}
			if p := u.sec.confirmPhone(wrong); p.status != http.StatusConflict {
				t.Fatalf("wrong code %d: %d\n%s", i+1, p.status, p.body)
			}
		}
		if p := u.sec.confirmPhone(code); p.status != http.StatusConflict {
			t.Fatalf("right code after five wrong ones: %d\n%s", p.status, p.body)
		}
		wantPhoneUnpaired(t, "phone of a voided link", guessed.call("status", struct{}{}))
	})

	t.Run("registration with a push subscription", func(t *testing.T) {
		_, tok := u.sec.phonePairingLink()
		sub := e.push.NewSubscription()
		r := e.newPhone().register(tok, "Push phone", &sub)
		wantPhoneStatus(t, "register", r, http.StatusOK)
		if r.body["push"] != true {
			t.Fatalf("register with an allowed subscription: %s", r.raw)
		}
		// A subscription update to a host outside push_hosts is refused.
		bad := push.Subscription{Endpoint: "https://push.evil.example/x", P256dh: sub.P256dh, Auth: sub.Auth}
		wantPhoneStatus(t, "subscription outside push_hosts", ph.call("subscription", map[string]any{"subscription": bad}), http.StatusBadRequest)
	})
}
