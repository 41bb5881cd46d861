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
	allowed := append(DefaultHosts(), "127.0.0.1:8443", "[::1]:8443", "push.example.org")
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
		{"https://[::1]:8443/push/x", ""},
		{"https://xn--bcher-kva.notify.windows.com/w/", ""},

		// An IPv6 zone's text must not pass a name entry: the sender
		// would dial the address and ignore the zone.
		{"https://[::1%25x.notify.windows.com]/w/", "IPv6 zone"},
		{"https://[::ffff:127.0.0.2%25x.notify.windows.com]/w/", "IPv6 zone"},
		{"https://[fe80::1%25x.notify.windows.com]/w/", "IPv6 zone"},
		{"https://[::1%25x.notify.windows.com]:8443/w/", "IPv6 zone"},
		{"https://[::1%25eth0]:8443/push/x", "IPv6 zone"},
		// An address is allowed only as an exact entry writes it.
		{"https://[::ffff:127.0.0.1]:8443/push/x", "no exact push_hosts entry"},
		{"https://[::ffff:7f00:1]:8443/push/x", "no exact push_hosts entry"},
		{"https://[0:0:0:0:0:ffff:127.0.0.1]:8443/push/x", "no exact push_hosts entry"},
		{"https://[::7f00:1]:8443/push/x", "no exact push_hosts entry"},
		{"https://[64:ff9b::7f00:1]:8443/push/x", "no exact push_hosts entry"},
		{"https://127.0.0.2:8443/push/x", "no exact push_hosts entry"},
		// Names some resolvers read as addresses, and names that are not
		// DNS names at all.
		{"https://127.1:8443/push/x", "not a DNS name"},
		{"https://0x7f.0.0.1:8443/push/x", "not a DNS name"},
		{"https://2130706433:8443/push/x", "not a DNS name"},
		{"https://a_b.notify.windows.com/w/", "not a DNS name"},
		{"https://a..notify.windows.com/w/", "not a DNS name"},
		{"https://-a.notify.windows.com/w/", "not a DNS name"},
		{"https://a.notify.windows.com./w/", "not a DNS name"},
		{"https://fcm.googleapis.com:/x", "port"},
		{"https://127.0.0.1:08443/push/x", "port"},
		{"https://127.0.0.1:0/push/x", "port"},

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

func TestAllowListEntries(t *testing.T) {
	cases := []struct {
		entry      string
		want       string // "" means accepted; else part of the error
		privileged bool
	}{
		{"fcm.googleapis.com", "", false},
		{"*.notify.windows.com", "", false},
		{"push.example.org:8443", "", false},
		{"127.0.0.1:8443", "", true},
		{"[::1]:8443", "", true},
		{"[2001:4860::1]", "", true},
		{"push.internal:8443", "", true},
		{"pushsvc", "", true},
		{"push.corp.lan", "", true},
		{"*.push.internal", "", false},

		{"*.127.0.0.1", "wildcard must be followed by a host name", false},
		{"*.com", "at least two labels", false},
		{"::1", "in brackets", false},
		{"[::ffff:127.0.0.1]", "IPv4-mapped", false},
		{"0.0.0.0:443", "unspecified", false},
		{"[::]", "unspecified", false},
		{"224.0.0.1", "multicast", false},
		{"255.255.255.255", "broadcast", false},
		{"[fe80::1%eth0]", "zoned", false},
		{"[127.0.0.1]", "brackets hold an IPv6 address", false},
		{"fcm.googleapis.com:0", "port", false},
		{"fcm.googleapis.com:99999", "port", false},
		{"fcm.googleapis.com:", "port", false},
		{"a_b.example.com", "host name", false},
		{"127.1", "host name", false},
		{"", "host name", false},
	}
	for _, c := range cases {
		err := CheckHosts([]string{c.entry})
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%q refused: %v", c.entry, err)
		case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
			t.Errorf("%q: got %v, want an error saying %q", c.entry, err, c.want)
		}
		if err == nil {
			got := len(PrivilegedHosts([]string{c.entry})) == 1
			if got != c.privileged {
				t.Errorf("%q: privileged %v, want %v", c.entry, got, c.privileged)
			}
		}
	}
	if got := PrivilegedHosts(DefaultHosts()); len(got) != 0 {
		t.Errorf("default entries may reach private addresses: %q", got)
	}
}
