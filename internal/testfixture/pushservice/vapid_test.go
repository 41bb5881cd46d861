package pushservice

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

const aud = "https://push.example"

// token signs claims (raw JSON) with key, as ES256, and returns the header
// value "vapid t=..., k=...".
func token(t *testing.T, key *ecdsa.PrivateKey, header, claims string) string {
	t.Helper()
	enc := base64.RawURLEncoding.EncodeToString
	signing := enc([]byte(header)) + "." + enc([]byte(claims))
	digest := sha256.Sum256([]byte(signing))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	pub, err := key.PublicKey.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return "vapid t=" + signing + "." + enc(sig) + ", k=" + enc(pub)
}

func TestCheckVAPID(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := time.Unix(1_800_000_000, 0)
	const es256 = `{"typ":"JWT","alg":"ES256"}`
	claims := func(aud, exp, sub string) string {
		return `{"aud":"` + aud + `","exp":` + exp + `,"sub":"` + sub + `"}`
	}
	in1h := "1800003600"
	good := token(t, key, es256, claims(aud, in1h, "mailto:a@example.com"))
	got, err := checkVAPID(good, aud, now)
	if err != nil || got.subscriber != "mailto:a@example.com" {
		t.Fatalf("valid token: %+v %v", got, err)
	}

	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	otherPub, _ := other.PublicKey.Bytes()
	swappedK := good[:strings.Index(good, "k=")+2] + base64.RawURLEncoding.EncodeToString(otherPub)
	cases := map[string]struct{ header, want string }{
		"key swapped":      {swappedK, "does not verify"},
		"wrong audience":   {token(t, key, es256, claims("https://other.example", in1h, "mailto:a@example.com")), "aud"},
		"expired":          {token(t, key, es256, claims(aud, "1799999999", "mailto:a@example.com")), "expired"},
		"expires too late": {token(t, key, es256, claims(aud, "1800090000", "mailto:a@example.com")), "24 hours"},
		"no sub":           {token(t, key, es256, claims(aud, in1h, "")), "sub"},
		"not ES256":        {token(t, key, `{"alg":"none"}`, claims(aud, in1h, "mailto:a@example.com")), "ES256"},
		"other scheme":     {strings.Replace(good, "vapid", "WebPush", 1), "scheme"},
		"no k":             {good[:strings.Index(good, ", k=")], "missing"},
		"not a JWT":        {"vapid t=abc, k=def", "not a JWT"},
		"no header":        {"", "scheme"},
		"signature cut":    {strings.Replace(good, ", k=", "AA, k=", 1), "signature"},
		"payload tampered": {strings.Replace(good, base64.RawURLEncoding.EncodeToString([]byte(claims(aud, in1h, "mailto:a@example.com"))), base64.RawURLEncoding.EncodeToString([]byte(claims(aud, in1h, "mailto:b@example.com"))), 1), "does not verify"},
		"exp not a number": {token(t, key, es256, `{"aud":"`+aud+`","exp":"soon","sub":"mailto:a@example.com"}`), "JWT claims"},
	}
	for name, c := range cases {
		_, err := checkVAPID(c.header, aud, now)
		if !errors.Is(err, errVAPID) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", name, err, c.want)
		}
	}
}
