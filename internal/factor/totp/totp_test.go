package totp

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

func TestEnrolmentURIAndSecret(t *testing.T) {
	e, err := NewEnrolment("Example Corp", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(e.Secret) != SecretSize {
		t.Fatalf("secret is %d bytes, want %d", len(e.Secret), SecretSize)
	}
	u, err := url.Parse(e.URI)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" {
		t.Fatalf("bad URI %q (%v)", e.URI, err)
	}
	q := u.Query()
	if q.Get("issuer") != "Example Corp" || q.Get("secret") != EncodeSecret(e.Secret) {
		t.Fatalf("URI lacks issuer/secret: %s", e.URI)
	}
	again, err := URI("Example Corp", "alice", e.Secret)
	if err != nil || !strings.Contains(again, q.Get("secret")) {
		t.Fatalf("URI rebuild: %q %v", again, err)
	}
}

func TestMatchWindow(t *testing.T) {
	e, _ := NewEnrolment("X", "a")
	now := time.Unix(1_700_000_015, 0)
	step := now.Unix() / Period
	for _, d := range []int64{-1, 0, 1} {
		code, err := CodeAt(EncodeSecret(e.Secret), step+d)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := Match(e.Secret, code[:3]+" "+code[3:], now)
		if !ok || got != step+d {
			t.Fatalf("offset %d: got (%d,%v), want (%d,true)", d, got, ok, step+d)
		}
	}
	for _, d := range []int64{-2, 2} {
		code, _ := CodeAt(EncodeSecret(e.Secret), step+d)
		if _, ok := Match(e.Secret, code, now); ok {
			// A collision with a neighbouring code is possible but rare (3 in 10^6).
			c0, _ := CodeAt(EncodeSecret(e.Secret), step)
			if c0 != code {
				t.Fatalf("offset %d accepted", d)
			}
		}
	}
	if _, ok := Match(e.Secret, "12345", now); ok {
		t.Fatal("short code accepted")
	}
}

func TestCodeAtAgreesWithLibrary(t *testing.T) {
	e, _ := NewEnrolment("X", "a")
	now := time.Now()
	want, _ := totp.GenerateCode(EncodeSecret(e.Secret), now)
	got, _ := CodeAt(EncodeSecret(e.Secret), now.Unix()/Period)
	if got != want {
		t.Fatalf("got %s want %s", got, want)
	}
}

func TestDisplaySecret(t *testing.T) {
	s := DisplaySecret(make([]byte, 20))
	if s != "AAAA AAAA AAAA AAAA AAAA AAAA AAAA AAAA" {
		t.Fatalf("got %q", s)
	}
}

func TestQR(t *testing.T) {
	u, err := QRDataURI("otpauth://totp/X:a?secret=AAAA")
	if err != nil || !strings.HasPrefix(string(u), "data:image/png;base64,") {
		t.Fatalf("%v %.40s", err, u)
	}
}
