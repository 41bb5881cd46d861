// Package totp implements authenticator-app codes (RFC 6238: SHA-1, 6 digits,
// 30-second steps) on top of pquerna/otp, adding what single-use checking
// needs: the matched time step, so the caller can claim it once per user.
package totp

import (
	"crypto/subtle"
	"encoding/base32"
	"fmt"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Parameters fixed by this package (what every authenticator app supports).
const (
	SecretSize = 20 // bytes: 160 bits, as RFC 4226 recommends
	Digits     = 6
	Period     = 30 // seconds
	// Skew is how many steps before and after now are accepted.
	Skew = 1
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Enrolment is a freshly generated authenticator secret and its otpauth URI.
type Enrolment struct {
	Secret []byte
	URI    string // otpauth://totp/... for the QR code
}

// NewEnrolment generates a 160-bit secret for account at issuer.
func NewEnrolment(issuer, account string) (*Enrolment, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		SecretSize:  SecretSize,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return nil, fmt.Errorf("totp: generate: %w", err)
	}
	secret, err := b32.DecodeString(key.Secret())
	if err != nil {
		return nil, fmt.Errorf("totp: decode generated secret: %w", err)
	}
	return &Enrolment{Secret: secret, URI: key.URL()}, nil
}

// URI rebuilds the otpauth URI for an existing secret (e.g. a pending
// enrolment shown again).
func URI(issuer, account string, secret []byte) (string, error) {
	key, err := totp.Generate(totp.GenerateOpts{
		Issuer:      issuer,
		AccountName: account,
		Period:      Period,
		Secret:      secret,
		Digits:      otp.DigitsSix,
		Algorithm:   otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp: uri: %w", err)
	}
	return key.URL(), nil
}

// DisplaySecret spells the secret out in base32 groups of four for manual
// entry.
func DisplaySecret(secret []byte) string {
	s := b32.EncodeToString(secret)
	var groups []string
	for len(s) > 4 {
		groups = append(groups, s[:4])
		s = s[4:]
	}
	return strings.Join(append(groups, s), " ")
}

// NormalizeCode strips the spaces and dashes people type or paste.
func NormalizeCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '\t' {
			return -1
		}
		return r
	}, code)
}

// Match checks code against the steps around now and returns the matching
// step. Every candidate step is compared (in constant time) so timing does
// not reveal which one matched. It does not enforce single use: the caller
// must claim the returned step (store.ClaimTOTPStep).
func Match(secret []byte, code string, now time.Time) (step int64, ok bool) {
	code = NormalizeCode(code)
	if len(code) != Digits {
		return 0, false
	}
	encoded := b32.EncodeToString(secret)
	current := now.Unix() / Period
	for s := current - Skew; s <= current+Skew; s++ {
		want, err := CodeAt(encoded, s)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && !ok {
			step, ok = s, true
		}
	}
	return step, ok
}

// CodeAt returns the code for a base32 secret at time step s.
func CodeAt(base32Secret string, s int64) (string, error) {
	code, err := totp.GenerateCodeCustom(base32Secret, time.Unix(s*Period, 0), totp.ValidateOpts{
		Period:    Period,
		Digits:    otp.DigitsSix,
		Algorithm: otp.AlgorithmSHA1,
	})
	if err != nil {
		return "", fmt.Errorf("totp: code: %w", err)
	}
	return code, nil
}

// EncodeSecret returns the base32 form of secret (what apps and tests use).
func EncodeSecret(secret []byte) string { return b32.EncodeToString(secret) }
