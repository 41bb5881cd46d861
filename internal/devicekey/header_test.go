package devicekey

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// sampleSig is a 64-byte value shaped like a signature.
func sampleSig() []byte {
	sig := make([]byte, SignatureSize)
	for i := range sig {
		sig[i] = byte(i * 7)
	}
	return sig
}

func TestAuthorizationRoundTrip(t *testing.T) {
	h, err := FormatAuthorization("dev_123", "n-0123456789", sampleSig())
	if err != nil {
		t.Fatal(err)
	}
	want := `MFA-Device id="dev_123", nonce="n-0123456789", sig="` + base64.RawURLEncoding.EncodeToString(sampleSig()) + `"`
	if h != want {
		t.Fatalf("got %s\nwant %s", h, want)
	}
	id, nonce, sig, err := ParseAuthorization(h)
	if err != nil {
		t.Fatal(err)
	}
	if id != "dev_123" || nonce != "n-0123456789" || !bytes.Equal(sig, sampleSig()) {
		t.Fatalf("parsed %q %q %x", id, nonce, sig)
	}
}

func TestFormatAuthorizationRefusesBadInput(t *testing.T) {
	if _, err := FormatAuthorization("a\"b", "n", sampleSig()); !errors.Is(err, ErrBadField) {
		t.Fatalf("quote in id: %v", err)
	}
	if _, err := FormatAuthorization("d", "", sampleSig()); !errors.Is(err, ErrBadField) {
		t.Fatalf("empty nonce: %v", err)
	}
	if _, err := FormatAuthorization("d", "n", sampleSig()[:63]); !errors.Is(err, ErrBadAuthorization) {
		t.Fatalf("short sig: %v", err)
	}
}

func TestParseAuthorizationIsLenientAboutSpellingOnly(t *testing.T) {
	s := base64.RawURLEncoding.EncodeToString(sampleSig())
	for _, h := range []string{
		`mfa-device id="d", nonce="n", sig="` + s + `"`,
		`MFA-DEVICE   ID="d",NONCE="n",SIG="` + s + `"`,
		`MFA-Device sig="` + s + `", nonce="n", id="d"`,
		"MFA-Device id = \"d\"\t,\tnonce= \"n\" , sig =\"" + s + "\"  ",
		`  MFA-Device id="d", nonce="n", sig="` + s + `"`,
	} {
		id, nonce, sig, err := ParseAuthorization(h)
		if err != nil {
			t.Errorf("%s: %v", h, err)
			continue
		}
		if id != "d" || nonce != "n" || !bytes.Equal(sig, sampleSig()) {
			t.Errorf("%s: parsed %q %q %x", h, id, nonce, sig)
		}
	}
}

func TestParseAuthorizationRefusesMalformed(t *testing.T) {
	s := base64.RawURLEncoding.EncodeToString(sampleSig())
	sig := `sig="` + s + `"`
	// A last character whose unused low bits are set decodes to the same
	// bytes under lenient decoding; strict decoding refuses it.
	nonCanonical := s[:len(s)-1] + string(s[len(s)-1]+1)
	cases := map[string]string{
		"empty":               ``,
		"other scheme":        `Bearer abc`,
		"scheme only":         `MFA-Device`,
		"no space":            `MFA-Deviceid="d", nonce="n", ` + sig,
		"longer scheme":       `MFA-Devices id="d", nonce="n", ` + sig,
		"missing id":          `MFA-Device nonce="n", ` + sig,
		"missing nonce":       `MFA-Device id="d", ` + sig,
		"missing sig":         `MFA-Device id="d", nonce="n"`,
		"duplicate id":        `MFA-Device id="d", id="e", nonce="n", ` + sig,
		"duplicate by case":   `MFA-Device id="d", ID="d", nonce="n", ` + sig,
		"unknown param":       `MFA-Device id="d", nonce="n", ` + sig + `, alg="x"`,
		"unquoted":            `MFA-Device id=d, nonce="n", ` + sig,
		"unterminated":        `MFA-Device id="d, nonce="n", ` + sig,
		"escape":              `MFA-Device id="d\"", nonce="n", ` + sig,
		"no comma":            `MFA-Device id="d" nonce="n", ` + sig,
		"trailing comma":      `MFA-Device id="d", nonce="n", ` + sig + `,`,
		"double comma":        `MFA-Device id="d",, nonce="n", ` + sig,
		"leading comma":       `MFA-Device , id="d", nonce="n", ` + sig,
		"no equals":           `MFA-Device id "d", nonce="n", ` + sig,
		"empty id":            `MFA-Device id="", nonce="n", ` + sig,
		"bad id char":         `MFA-Device id="a/b", nonce="n", ` + sig,
		"long id":             `MFA-Device id="` + strings.Repeat("a", 129) + `", nonce="n", ` + sig,
		"space in value":      `MFA-Device id="a b", nonce="n", ` + sig,
		"newline in value":    "MFA-Device id=\"a\nb\", nonce=\"n\", " + sig,
		"short sig":           `MFA-Device id="d", nonce="n", sig="` + s[:80] + `"`,
		"long sig":            `MFA-Device id="d", nonce="n", sig="` + s + `AAAA"`,
		"padded sig":          `MFA-Device id="d", nonce="n", sig="` + base64.URLEncoding.EncodeToString(sampleSig()) + `"`,
		"std base64 sig":      `MFA-Device id="d", nonce="n", sig="` + strings.Repeat("+/", 43) + `"`,
		"non-canonical sig":   `MFA-Device id="d", nonce="n", sig="` + nonCanonical + `"`,
		"too long":            `MFA-Device id="d", nonce="n", ` + sig + strings.Repeat(" ", 1024),
		"garbage after value": `MFA-Device id="d"x, nonce="n", ` + sig,
	}
	for name, h := range cases {
		if _, _, _, err := ParseAuthorization(h); !errors.Is(err, ErrBadAuthorization) {
			t.Errorf("%s: got %v, want ErrBadAuthorization", name, err)
		}
	}
}

func FuzzParseAuthorization(f *testing.F) {
	good, _ := FormatAuthorization("dev_123", "n-0123456789", sampleSig())
	for _, seed := range []string{
		good,
		"",
		"MFA-Device",
		`MFA-Device id="d", nonce="n", sig=""`,
		`mfa-device ID = "d" ,NONCE="n",sig="` + strings.Repeat("A", 86) + `"`,
		`MFA-Device id="d", id="d"`,
		`MFA-Device id="\"", nonce="n"`,
		"MFA-Device id=\"d\",\t,",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, h string) {
		id, nonce, sig, err := ParseAuthorization(h)
		if err != nil {
			if !errors.Is(err, ErrBadAuthorization) {
				t.Fatalf("error not ErrBadAuthorization: %v", err)
			}
			return
		}
		if len(sig) != SignatureSize {
			t.Fatalf("accepted a %d-byte signature", len(sig))
		}
		// Whatever is accepted formats again and parses to the same values.
		again, err := FormatAuthorization(id, nonce, sig)
		if err != nil {
			t.Fatalf("accepted values do not format: %v", err)
		}
		id2, nonce2, sig2, err := ParseAuthorization(again)
		if err != nil || id2 != id || nonce2 != nonce || !bytes.Equal(sig2, sig) {
			t.Fatalf("re-parse of %q: %q %q %x %v", again, id2, nonce2, sig2, err)
		}
	})
}
