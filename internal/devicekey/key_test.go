package devicekey

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// newKey returns a fresh P-256 key, as the phone page would make.
func newKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// encodings returns the SPKI and raw exports of a public key.
func encodings(t testing.TB, pub *ecdsa.PublicKey) (spki, raw []byte) {
	t.Helper()
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	raw, err = pub.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return spki, raw
}

func TestParsePublicKeyAcceptsSPKIAndRaw(t *testing.T) {
	k := newKey(t)
	spki, raw := encodings(t, &k.PublicKey)
	if len(spki) != 91 || len(raw) != 65 {
		t.Fatalf("unexpected export sizes %d, %d", len(spki), len(raw))
	}
	want, _ := Fingerprint(&k.PublicKey)
	for name, b := range map[string][]byte{"spki": spki, "raw": raw} {
		pub, err := ParsePublicKey(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !pub.Equal(&k.PublicKey) {
			t.Fatalf("%s: parsed a different key", name)
		}
		if got, _ := Fingerprint(pub); got != want {
			t.Fatalf("%s: fingerprint %s, want %s", name, got, want)
		}
	}
	if len(want) != 43 {
		t.Fatalf("fingerprint %q is not 43 base64url characters", want)
	}
}

func TestPublicKeyFromBase64(t *testing.T) {
	k := newKey(t)
	spki, raw := encodings(t, &k.PublicKey)
	for _, b := range [][]byte{spki, raw} {
		for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.StdEncoding, base64.RawStdEncoding} {
			pub, err := PublicKeyFromBase64(enc.EncodeToString(b))
			if err != nil {
				t.Fatal(err)
			}
			if !pub.Equal(&k.PublicKey) {
				t.Fatal("parsed a different key")
			}
		}
	}
	if _, err := PublicKeyFromBase64("not base64!"); !errors.Is(err, ErrBadKey) {
		t.Fatalf("bad base64: %v", err)
	}
	if _, err := PublicKeyFromBase64(strings.Repeat("A", 10000)); !errors.Is(err, ErrBadKey) {
		t.Fatalf("huge input: %v", err)
	}
}

func TestParsePublicKeyRefusesOtherKeys(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384SPKI, p384Raw := encodings(t, &p384.PublicKey)
	_, edPub, _ := ed25519.GenerateKey(rand.Reader)
	edSPKI, _ := x509.MarshalPKIXPublicKey(edPub)
	k := newKey(t)
	spki, raw := encodings(t, &k.PublicKey)
	// SEC 1 compressed form: 0x02 or 0x03 by the parity of Y, then X.
	compressed := append([]byte{0x02 | raw[64]&1}, raw[1:33]...)
	offCurve := append([]byte(nil), raw...)
	offCurve[64] ^= 1
	// A valid X25519 key in SPKI: right size class, wrong algorithm.
	xk, _ := ecdh.X25519().GenerateKey(rand.Reader)
	xSPKI, _ := x509.MarshalPKIXPublicKey(xk.PublicKey())

	cases := map[string][]byte{
		"empty":              nil,
		"P-384 SPKI":         p384SPKI,
		"P-384 raw":          p384Raw,
		"Ed25519 SPKI":       edSPKI,
		"X25519 SPKI":        xSPKI,
		"compressed point":   compressed,
		"point off curve":    offCurve,
		"raw missing a byte": raw[:64],
		"SPKI trailing data": append(append([]byte(nil), spki...), 0),
		"SPKI truncated":     spki[:len(spki)-1],
		"garbage":            []byte("hello"),
		"too long":           make([]byte, 1000),
	}
	for name, b := range cases {
		if _, err := ParsePublicKey(b); !errors.Is(err, ErrBadKey) {
			t.Errorf("%s: got %v, want ErrBadKey", name, err)
		}
	}
	_, err = ParsePublicKey(p384SPKI)
	if !strings.Contains(err.Error(), "P-384") {
		t.Errorf("P-384 refusal does not say why: %v", err)
	}
}

func TestFingerprintRefusesNilAndOtherCurves(t *testing.T) {
	if _, err := Fingerprint(nil); !errors.Is(err, ErrBadKey) {
		t.Fatalf("nil key: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if _, err := Fingerprint(&p384.PublicKey); !errors.Is(err, ErrBadKey) {
		t.Fatalf("P-384 key: %v", err)
	}
}
