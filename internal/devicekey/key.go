// Package devicekey verifies what a paired phone signs. At pairing the phone
// page makes a non-extractable ECDSA P-256 key with WebCrypto and sends its
// public key; from then on it signs every API call, and every answer to a
// sign-in request, with that key. There are no cookies: the signature over
// a canonical message (see Request and Answer) is the whole authentication,
// and a single-use nonce in that message is what stops replay.
//
// The formats here are shared with the phone page: the JavaScript that
// builds the same bytes is loginui/static/signing-input.js, and a vector signed
// by real WebCrypto is checked in the tests.
package devicekey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
)

// ErrBadKey means a public key is not an ECDSA P-256 key this package can
// use, or is missing.
var ErrBadKey = errors.New("devicekey: not a usable P-256 public key")

// Sizes of the two accepted encodings of a P-256 public key. WebCrypto's
// exportKey gives 65 bytes for "raw" (uncompressed point) and 91 for "spki".
const (
	rawKeySize = 65
	// maxKeySize bounds what is handed to the DER parser; a P-256 SPKI is
	// 91 bytes, so anything far larger is not one.
	maxKeySize = 256
)

// ParsePublicKey accepts a P-256 public key as WebCrypto exports it: either
// "raw" (the 65-byte uncompressed point 0x04‖X‖Y) or "spki" (DER
// SubjectPublicKeyInfo). Other curves, compressed points and other key
// types are refused.
func ParsePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: empty", ErrBadKey)
	case len(b) > maxKeySize:
		return nil, fmt.Errorf("%w: %d bytes is too long", ErrBadKey, len(b))
	case len(b) == rawKeySize && b[0] == 0x04:
		return parseRaw(b)
	case b[0] == 0x30: // a DER SEQUENCE: SubjectPublicKeyInfo
		return parseSPKI(b)
	default:
		return nil, fmt.Errorf("%w: neither SPKI DER nor a 65-byte uncompressed point", ErrBadKey)
	}
}

// parseRaw parses an uncompressed point, which the standard library checks
// is on the curve and not the point at infinity.
func parseRaw(b []byte) (*ecdsa.PublicKey, error) {
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return pub, nil
}

// parseSPKI parses DER SubjectPublicKeyInfo and insists on P-256. The point
// is then parsed again as raw so that both encodings go through the same
// validation.
func parseSPKI(b []byte) (*ecdsa.PublicKey, error) {
	key, err := x509.ParsePKIXPublicKey(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	pub, ok := key.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("%w: got a %T key, want ECDSA", ErrBadKey, key)
	}
	if pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: key is on %s, want P-256", ErrBadKey, pub.Curve.Params().Name)
	}
	point, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return parseRaw(point)
}

// PublicKeyFromBase64 decodes a key sent as text, in base64url (the phone
// page's encoding, unpadded) or standard base64, padded or not, and parses
// it with ParsePublicKey.
func PublicKeyFromBase64(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	// Four base64 characters per three bytes, plus padding.
	if len(s) > (maxKeySize+2)/3*4 {
		return nil, fmt.Errorf("%w: %d characters is too long", ErrBadKey, len(s))
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return ParsePublicKey(b)
}

// decodeBase64 tries the URL-safe alphabet first (what the phone sends),
// then the standard one, each unpadded and padded.
func decodeBase64(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, errors.New("not valid base64")
}

// Fingerprint names a key for display and as an identifier: the unpadded
// base64url SHA-256 of its uncompressed point (43 characters). It is the
// same whichever encoding the key arrived in.
func Fingerprint(pub *ecdsa.PublicKey) (string, error) {
	point, err := uncompressedP256(pub)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(point)
	return base64.RawURLEncoding.EncodeToString(sum[:]), nil
}

// uncompressedP256 returns the 65-byte point of a P-256 key, refusing
// nil keys and other curves.
func uncompressedP256(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, ErrBadKey
	}
	point, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadKey, err)
	}
	return point, nil
}
