package push

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestGeneratedKeysRoundTrip(t *testing.T) {
	k, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	if err := k.Validate(); err != nil {
		t.Fatalf("generated keys invalid: %v", err)
	}
	if strings.Contains(k.Private+k.Public, "=") {
		t.Fatal("keys are padded; browsers expect unpadded base64url")
	}
	data, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	got, err := UnmarshalVAPIDKeys(data)
	if err != nil || got != k {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	if other, _ := GenerateVAPIDKeys(); other == k {
		t.Fatal("two generations gave the same keys")
	}
}

func TestVAPIDKeysRefused(t *testing.T) {
	a, _ := GenerateVAPIDKeys()
	b, _ := GenerateVAPIDKeys()
	offCurve := make([]byte, 65)
	offCurve[0] = 4
	offCurve[64] = 1
	cases := []struct {
		name string
		keys VAPIDKeys
		want string
	}{
		{"mismatched halves", VAPIDKeys{Private: a.Private, Public: b.Public}, "does not belong"},
		{"private not base64", VAPIDKeys{Private: "***", Public: a.Public}, "private key is not base64url"},
		{"private too short", VAPIDKeys{Private: a.Private[:20], Public: a.Public}, "not a P-256 private key"},
		{"public too short", VAPIDKeys{Private: a.Private, Public: a.Public[:40]}, "not an uncompressed P-256 point"},
		{"public off the curve", VAPIDKeys{Private: a.Private, Public: base64.RawURLEncoding.EncodeToString(offCurve)}, "not an uncompressed P-256 point"},
		{"empty", VAPIDKeys{}, "private key"},
	}
	for _, c := range cases {
		err := c.keys.Validate()
		if !errors.Is(err, ErrInvalidVAPIDKeys) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error saying %q", c.name, err, c.want)
		}
		if _, err := c.keys.Marshal(); err == nil {
			t.Errorf("%s: marshalled", c.name)
		}
	}
	if _, err := UnmarshalVAPIDKeys([]byte("not json")); !errors.Is(err, ErrInvalidVAPIDKeys) {
		t.Errorf("garbage unmarshalled: %v", err)
	}
	if _, err := UnmarshalVAPIDKeys([]byte(`{"private":"` + a.Private + `","public":"` + b.Public + `"}`)); err == nil {
		t.Error("stored mismatched pair accepted")
	}
}

func TestPaddedKeysAccepted(t *testing.T) {
	k, _ := GenerateVAPIDKeys()
	padded := VAPIDKeys{Private: k.Private + "=", Public: k.Public + "="}
	if err := padded.Validate(); err != nil {
		t.Fatalf("padded keys refused: %v", err)
	}
}
