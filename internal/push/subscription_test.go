package push

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// testKeys returns valid subscription keys.
func testKeys(t *testing.T) (p256dh, auth string) {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	rand.Read(secret)
	return base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), base64.RawURLEncoding.EncodeToString(secret)
}

func TestEndpointAllowList(t *testing.T) {
	p256dh, auth := testKeys(t)
	allowed := append(DefaultHosts(), "127.0.0.1:8443", "push.example.org")
	cases := []struct {
		endpoint string
		want     string // "" means accepted; else part of the error
	}{
		{"https://fcm.googleapis.com/fcm/send/abc", ""},
		{"https://FCM.GoogleAPIs.com/fcm/send/abc", ""},
		{"https://updates.push.services.mozilla.com/wpush/v2/abc", ""},
		{"https://web.push.apple.com/QGuQ", ""},
		{"https://wns2-par02p.notify.windows.com/w/?token=x", ""},
		{"https://a.b.notify.windows.com/w/", ""},
		{"https://127.0.0.1:8443/push/x", ""},
		{"https://push.example.org/x", ""},

		{"http://fcm.googleapis.com/fcm/send/abc", "https"},
		{"ftp://fcm.googleapis.com/x", "https"},
		{"https://notify.windows.com/w/", "not a known push service"},
		{"https://evil.example/fcm.googleapis.com", "not a known push service"},
		{"https://fcm.googleapis.com.evil.example/x", "not a known push service"},
		{"https://evilfcm.googleapis.com/x", "not a known push service"},
		{"https://evil-notify.windows.com/x", "not a known push service"},
		{"https://sub.push.example.org/x", "not a known push service"},
		{"https://fcm.googleapis.com:8443/x", "not a known push service"},
		{"https://fcm.googleapis.com:443/x", "not a known push service"},
		{"https://127.0.0.1/push/x", "not a known push service"},
		{"https://127.0.0.1:9999/push/x", "not a known push service"},
		{"https://10.0.0.1/x", "not a known push service"},
		{"https://user:pw@fcm.googleapis.com/x", "user name or password"},
		{"https://user@fcm.googleapis.com/x", "user name or password"},
		{"/fcm/send/abc", "https"},
		{"https:fcm.googleapis.com/x", "absolute"},
		{"https:///x", "absolute"},
		{"", "missing"},
		{"https://fcm.googleapis.com/" + strings.Repeat("a", MaxEndpointLength), "longer than"},
		{"https://fcm.googleapis.com/%zz", "not a URL"},
	}
	for _, c := range cases {
		err := Subscription{Endpoint: c.endpoint, P256dh: p256dh, Auth: auth}.Validate(allowed)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%s refused: %v", c.endpoint, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%s: got %v, want an error saying %q", c.endpoint, err, c.want)
		case err != nil && !errors.Is(err, ErrInvalidSubscription):
			t.Errorf("%s: error %v is not ErrInvalidSubscription", c.endpoint, err)
		}
	}
}

func TestEmptyAllowListRefusesAll(t *testing.T) {
	p256dh, auth := testKeys(t)
	err := Subscription{Endpoint: "https://fcm.googleapis.com/x", P256dh: p256dh, Auth: auth}.Validate(nil)
	if err == nil {
		t.Fatal("an empty allow-list accepted an endpoint")
	}
}

func TestSubscriptionKeysRefused(t *testing.T) {
	p256dh, auth := testKeys(t)
	raw, _ := base64.RawURLEncoding.DecodeString(p256dh)
	compressed := append([]byte{2 | raw[64]&1}, raw[1:33]...)
	offCurve := append([]byte(nil), raw...)
	offCurve[64] ^= 1
	enc := base64.RawURLEncoding.EncodeToString
	cases := []struct {
		name, p256dh, auth, want string
	}{
		{"p256dh not base64", "!!", auth, "p256dh key is not base64url"},
		{"p256dh compressed", enc(compressed), auth, "p256dh key is not an uncompressed P-256 point"},
		{"p256dh off the curve", enc(offCurve), auth, "p256dh key is not an uncompressed P-256 point"},
		{"p256dh empty", "", auth, "p256dh"},
		{"auth not base64", p256dh, "a+b/", "auth secret is not base64url"},
		{"auth short", p256dh, enc(make([]byte, 15)), "auth secret must be 16 bytes, 15 given"},
		{"auth long", p256dh, enc(make([]byte, 32)), "auth secret must be 16 bytes, 32 given"},
	}
	for _, c := range cases {
		err := Subscription{Endpoint: "https://fcm.googleapis.com/x", P256dh: c.p256dh, Auth: c.auth}.Validate(DefaultHosts())
		if !errors.Is(err, ErrInvalidSubscription) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
	}
	padded := Subscription{Endpoint: "https://fcm.googleapis.com/x", P256dh: p256dh + "=", Auth: auth + "=="}
	if err := padded.Validate(DefaultHosts()); err != nil {
		t.Errorf("padded keys refused: %v", err)
	}
}

func TestDefaultHostsIsACopy(t *testing.T) {
	h := DefaultHosts()
	h[0] = "evil.example"
	if DefaultHosts()[0] == "evil.example" {
		t.Fatal("DefaultHosts shares its slice")
	}
}
