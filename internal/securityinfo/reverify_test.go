package securityinfo

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/factor/totp"
	"github.com/mfagate/mfagate/internal/testfixture/phoneclient"
)

// A re-verification gives the session a new identifier; a phone pairing
// the session started before it is carried over, so the code the phone
// shows can still be entered.
func TestPairingSurvivesReverification(t *testing.T) {
	f := newFixture(t, time.Minute)
	ctx := context.Background()
	pages := New(Deps{Deps: f.pages.Deps.Deps}, Config{Prefix: "/.mfa/", Issuer: "T", Portal: "https://portal.example"})
	mux := http.NewServeMux()
	for pattern, h := range pages.Routes() {
		mux.Handle(pattern, h)
	}
	cookie := f.cookie
	send := func(r *http.Request) *httptest.ResponseRecorder {
		r.AddCookie(cookie)
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, r)
		return w
	}
	post := func(path string, form url.Values) *httptest.ResponseRecorder {
		r := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return send(r)
	}

	// Security info shows the pairing link.
	w := send(httptest.NewRequest("GET", "/.mfa/security/add?method=phone", nil))
	m := regexp.MustCompile(`https://portal\.example/phone/pair#t=([A-Za-z0-9_-]+)`).FindStringSubmatch(w.Body.String())
	if w.Code != http.StatusOK || m == nil {
		t.Fatalf("pairing page: %d\n%s", w.Code, w.Body)
	}
	code := registerPhone(t, pages.Core, core.PairingToken(m[1]))

	// The user re-verifies meanwhile: the session gets a new identifier.
	step := time.Now().Unix() / 30
	otp, err := totp.CodeAt(totp.EncodeSecret(make([]byte, 20)), step)
	if err != nil {
		t.Fatal(err)
	}
	w = post("/.mfa/security/reverify", url.Values{"code": {otp}, "next": {"/.mfa/security"}})
	if w.Code != http.StatusSeeOther || len(w.Result().Cookies()) != 1 {
		t.Fatalf("reverify: %d\n%s", w.Code, w.Body)
	}
	cookie = w.Result().Cookies()[0]

	// The code the phone shows is still accepted.
	w = post("/.mfa/security/phone", url.Values{"code": {code}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/.mfa/security?done=phone-added" {
		t.Fatalf("confirm after reverification: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	ds, _ := f.st.Devices(ctx, f.user.ID)
	if len(ds) != 1 || !ds[0].Active {
		t.Fatalf("devices: %+v", ds)
	}
}

// registerPhone registers a new phone through token as the pairing page
// does and returns the code it shows.
func registerPhone(t *testing.T, c *core.Core, token core.PairingToken) string {
	t.Helper()
	p, err := phoneclient.New()
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := base64.RawURLEncoding.DecodeString(p.PublicKeySPKI())
	call := devicekey.Request{Method: "POST", Host: "portal.example", Path: "/phone/api/register",
		DeviceID: core.ProofDeviceID, Nonce: token.ProofNonce(), Body: []byte("{}")}
	input, err := call.SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := p.SignInput(input)
	if err != nil {
		t.Fatal(err)
	}
	_, code, err := c.Phones.Register(context.Background(), core.Registration{Token: token, PublicKey: pub, Name: "Phone", Call: call, Sig: sig})
	if err != nil {
		t.Fatal(err)
	}
	return code
}
