package devicekey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"math/big"
)

// SignatureSize is the length of a P-256 signature as WebCrypto makes it:
// r and s, each a 32-byte big-endian integer, concatenated (IEEE P1363),
// not the ASN.1 DER that most Go and OpenSSL code uses.
const SignatureSize = 64

// ErrBadSignature is the one error for any signature that does not verify,
// whatever the reason, so a caller cannot tell a client which check failed.
var ErrBadSignature = errors.New("devicekey: bad signature")

// Verify checks sig, a raw r‖s signature, over SHA-256(input) with pub: the
// ECDSA-P256-SHA256 that WebCrypto's sign({name: "ECDSA", hash: "SHA-256"})
// produces. It refuses signatures of the wrong length and r or s outside
// [1, N-1]; it returns ErrBadKey for a nil key or one not on P-256.
//
// Both s and N-s are accepted: WebCrypto does not normalise s to the low
// half, so refusing high s would refuse half of real phones' signatures.
// ECDSA signatures are therefore malleable, and anyone who sees a valid
// signature can make a second valid one for the same message. Replay is
// stopped by the single-use nonce inside every signed message, never by the
// uniqueness of a signature, so callers must not use a signature as an
// identifier or as a replay-cache key.
func Verify(pub *ecdsa.PublicKey, input, sig []byte) error {
	if pub == nil || pub.Curve != elliptic.P256() {
		return ErrBadKey
	}
	if len(sig) != SignatureSize {
		return ErrBadSignature
	}
	r := new(big.Int).SetBytes(sig[:SignatureSize/2])
	s := new(big.Int).SetBytes(sig[SignatureSize/2:])
	if !inScalarRange(r) || !inScalarRange(s) {
		return ErrBadSignature
	}
	digest := sha256.Sum256(input)
	if !ecdsa.Verify(pub, digest[:], r, s) {
		return ErrBadSignature
	}
	return nil
}

// inScalarRange reports whether 1 <= x < N for P-256's group order N.
// ecdsa.Verify checks this too; checking here keeps the rule visible and
// independent of the library's.
func inScalarRange(x *big.Int) bool {
	return x.Sign() > 0 && x.Cmp(elliptic.P256().Params().N) < 0
}
