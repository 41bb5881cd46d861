package pushservice

import (
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"testing"
)

// The example of RFC 8291, section 5 (keys and body in Appendix A).
const (
	rfcPlaintext = "When I grow up, I want to be a watermelon"
	rfcUAPrivate = "q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"
	rfcUAPublic  = "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4"
	rfcAuth      = "BTBZMqHH6r4Tts7J_aSIgg"
	rfcBody      = "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27ml" +
		"mlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPT" +
		"pK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
)

func b64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func rfcKey(t *testing.T) *ecdh.PrivateKey {
	t.Helper()
	key, err := ecdh.P256().NewPrivateKey(b64(t, rfcUAPrivate))
	if err != nil {
		t.Fatal(err)
	}
	if got := base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()); got != rfcUAPublic {
		t.Fatalf("RFC key pair inconsistent: %s", got)
	}
	return key
}

// The decryption is checked against the RFC's own example, so that the
// round trips with webpush-go test the sender, not a shared mistake.
func TestDecryptRFC8291Example(t *testing.T) {
	got, err := decrypt(b64(t, rfcBody), rfcKey(t), b64(t, rfcAuth))
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != rfcPlaintext {
		t.Fatalf("got %q", got)
	}
}

func TestDecryptRefusesDamage(t *testing.T) {
	body := b64(t, rfcBody)
	key := rfcKey(t)
	auth := b64(t, rfcAuth)
	other, _ := ecdh.P256().GenerateKey(nil)
	flip := func(i int) []byte {
		b := append([]byte(nil), body...)
		b[i] ^= 1
		return b
	}
	cases := map[string]struct {
		body []byte
		key  *ecdh.PrivateKey
		auth []byte
	}{
		"ciphertext byte flipped": {flip(len(body) - 20), key, auth},
		"tag byte flipped":        {flip(len(body) - 1), key, auth},
		"salt byte flipped":       {flip(0), key, auth},
		"sender key changed":      {flip(21 + 40), key, auth},
		"idlen changed":           {flip(20), key, auth},
		"record size too small":   {append(append(append([]byte(nil), body[:16]...), 0, 0, 0, 17), body[20:]...), key, auth},
		"truncated":               {body[:len(body)-1], key, auth},
		"header only":             {body[:86], key, auth},
		"empty":                   {nil, key, auth},
		"wrong auth secret":       {body, key, make([]byte, 16)},
		"wrong recipient":         {body, other, auth},
	}
	for name, c := range cases {
		if got, err := decrypt(c.body, c.key, c.auth); !errors.Is(err, errDecrypt) {
			t.Errorf("%s: decrypted to %q, err %v", name, got, err)
		}
	}
}

func TestUnpad(t *testing.T) {
	cases := map[string]string{
		"abc\x02":              "abc",
		"abc\x02\x00\x00":      "abc",
		"ab\x00\x02\x00":       "ab\x00",
		"a\x02\x02":            "a\x02",
		"\x02":                 "",
		"\x02\x00\x00\x00\x00": "",
	}
	for in, want := range cases {
		if got, err := unpad([]byte(in)); err != nil || string(got) != want {
			t.Errorf("unpad(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "\x00\x00", "abc", "abc\x01\x00"} {
		if _, err := unpad([]byte(in)); err == nil {
			t.Errorf("unpad(%q) accepted", in)
		}
	}
}
