package push

import (
	"bytes"
	"crypto/ecdh"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	webpush "github.com/SherClockHolmes/webpush-go"
)

// ErrInvalidVAPIDKeys means a VAPID key pair is malformed or its two halves
// do not belong together.
var ErrInvalidVAPIDKeys = errors.New("push: invalid VAPID keys")

// VAPIDKeys is the gateway's application server key pair (RFC 8292). The
// public half is what the phone passes to pushManager.subscribe as
// applicationServerKey; the private half signs every push request, so the
// push service delivers only messages from the gateway that subscribed.
//
// Both are unpadded base64url, the encoding webpush-go produces and reads:
// Private is the 32-byte P-256 scalar, Public the 65-byte uncompressed point.
type VAPIDKeys struct {
	Private string `json:"private"`
	Public  string `json:"public"`
}

// GenerateVAPIDKeys creates a fresh key pair. The gateway generates one
// once and keeps it: every paired phone's subscription is bound to the
// public key, so replacing it orphans all of them.
func GenerateVAPIDKeys() (VAPIDKeys, error) {
	private, public, err := webpush.GenerateVAPIDKeys()
	if err != nil {
		return VAPIDKeys{}, fmt.Errorf("push: generating VAPID keys: %w", err)
	}
	k := VAPIDKeys{Private: private, Public: public}
	// webpush-go builds the keys with deprecated big-integer arithmetic;
	// checking them here catches a malformed pair before it is stored.
	if err := k.Validate(); err != nil {
		return VAPIDKeys{}, err
	}
	return k, nil
}

// Validate checks that both keys decode, lie on P-256, and that Public is
// the public key of Private.
func (k VAPIDKeys) Validate() error {
	privBytes, err := decodeBase64URL(k.Private)
	if err != nil {
		return fmt.Errorf("%w: the private key is not base64url", ErrInvalidVAPIDKeys)
	}
	priv, err := ecdh.P256().NewPrivateKey(privBytes)
	if err != nil {
		return fmt.Errorf("%w: the private key is not a P-256 private key (32 bytes, %d given)", ErrInvalidVAPIDKeys, len(privBytes))
	}
	pubBytes, err := decodeBase64URL(k.Public)
	if err != nil {
		return fmt.Errorf("%w: the public key is not base64url", ErrInvalidVAPIDKeys)
	}
	if _, err := ecdh.P256().NewPublicKey(pubBytes); err != nil {
		return fmt.Errorf("%w: the public key is not an uncompressed P-256 point (65 bytes, %d given)", ErrInvalidVAPIDKeys, len(pubBytes))
	}
	if !bytes.Equal(priv.PublicKey().Bytes(), pubBytes) {
		return fmt.Errorf("%w: the public key does not belong to the private key", ErrInvalidVAPIDKeys)
	}
	return nil
}

// Marshal encodes the pair for storage (JSON). The result holds the
// private key: seal it before it is written anywhere.
func (k VAPIDKeys) Marshal() ([]byte, error) {
	if err := k.Validate(); err != nil {
		return nil, err
	}
	b, err := json.Marshal(k)
	if err != nil {
		return nil, fmt.Errorf("push: encoding VAPID keys: %w", err)
	}
	return b, nil
}

// UnmarshalVAPIDKeys decodes what Marshal produced and validates it, so a
// damaged stored value is reported when loaded, not at the first push.
func UnmarshalVAPIDKeys(data []byte) (VAPIDKeys, error) {
	var k VAPIDKeys
	if err := json.Unmarshal(data, &k); err != nil {
		return VAPIDKeys{}, fmt.Errorf("%w: stored value is not a key pair: %w", ErrInvalidVAPIDKeys, err)
	}
	if err := k.Validate(); err != nil {
		return VAPIDKeys{}, err
	}
	return k, nil
}

// decodeBase64URL accepts base64url with or without padding: browsers give
// it unpadded, and webpush-go accepts both.
func decodeBase64URL(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}
