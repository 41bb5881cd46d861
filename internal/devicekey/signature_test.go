package devicekey

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"math/big"
	"testing"
)

// signRaw signs SHA-256(input) as WebCrypto does: r‖s, each padded to 32
// bytes.
func signRaw(t testing.TB, k *ecdsa.PrivateKey, input []byte) []byte {
	t.Helper()
	digest := sha256.Sum256(input)
	r, s, err := ecdsa.Sign(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	return rawSig(r, s)
}

// rawSig encodes r and s as a 64-byte r‖s.
func rawSig(r, s *big.Int) []byte {
	sig := make([]byte, SignatureSize)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig
}

// splitSig decodes a 64-byte r‖s.
func splitSig(sig []byte) (r, s *big.Int) {
	return new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
}

func TestVerifyRoundTrip(t *testing.T) {
	k := newKey(t)
	in, err := sampleRequest().SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	sig := signRaw(t, k, in)
	if err := Verify(&k.PublicKey, in, sig); err != nil {
		t.Fatalf("valid signature refused: %v", err)
	}
	if err := Verify(&newKey(t).PublicKey, in, sig); err != ErrBadSignature {
		t.Fatalf("another key's signature: %v", err)
	}
}

func TestVerifyAcceptsHighS(t *testing.T) {
	// WebCrypto does not normalise s, so (r, N-s) must verify as well.
	k := newKey(t)
	in, _ := sampleAnswer().SigningInput()
	r, s := splitSig(signRaw(t, k, in))
	n := elliptic.P256().Params().N
	flipped := rawSig(r, new(big.Int).Sub(n, s))
	if err := Verify(&k.PublicKey, in, flipped); err != nil {
		t.Fatalf("signature with s replaced by N-s refused: %v", err)
	}
}

func TestVerifyRefusesASN1(t *testing.T) {
	k := newKey(t)
	in, _ := sampleRequest().SigningInput()
	digest := sha256.Sum256(in)
	der, err := ecdsa.SignASN1(rand.Reader, k, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(&k.PublicKey, in, der); err != ErrBadSignature {
		t.Fatalf("ASN.1 signature: %v", err)
	}
	// Even padded or cut to 64 bytes, DER is not r‖s.
	padded := make([]byte, SignatureSize)
	copy(padded, der)
	if err := Verify(&k.PublicKey, in, padded); err != ErrBadSignature {
		t.Fatalf("ASN.1 signature fitted to 64 bytes: %v", err)
	}
}

func TestVerifyRefusesMalformedSignatures(t *testing.T) {
	k := newKey(t)
	in, _ := sampleRequest().SigningInput()
	good := signRaw(t, k, in)
	r, s := splitSig(good)
	n := elliptic.P256().Params().N
	zero := new(big.Int)
	flipped := append([]byte(nil), good...)
	flipped[10] ^= 1
	allOnes := make([]byte, SignatureSize)
	for i := range allOnes {
		allOnes[i] = 0xff
	}
	cases := map[string][]byte{
		"empty":        nil,
		"63 bytes":     good[:63],
		"65 bytes":     append(append([]byte(nil), good...), 0),
		"r zero":       rawSig(zero, s),
		"s zero":       rawSig(r, zero),
		"r = N":        rawSig(n, s),
		"s = N":        rawSig(r, n),
		"all 0xff":     allOnes,
		"flipped bit":  flipped,
		"swapped r, s": rawSig(s, r),
	}
	for name, sig := range cases {
		if err := Verify(&k.PublicKey, in, sig); err != ErrBadSignature {
			t.Errorf("%s: got %v, want ErrBadSignature", name, err)
		}
	}
}

func TestVerifyRefusesBadKeys(t *testing.T) {
	k := newKey(t)
	in, _ := sampleRequest().SigningInput()
	sig := signRaw(t, k, in)
	if err := Verify(nil, in, sig); !errors.Is(err, ErrBadKey) {
		t.Fatalf("nil key: %v", err)
	}
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err := Verify(&p384.PublicKey, in, sig); !errors.Is(err, ErrBadKey) {
		t.Fatalf("P-384 key: %v", err)
	}
}

func TestTamperedRequestFails(t *testing.T) {
	k := newKey(t)
	in, _ := sampleRequest().SigningInput()
	sig := signRaw(t, k, in)
	for name, mutate := range requestMutations {
		r := sampleRequest()
		mutate(&r)
		other, err := r.SigningInput()
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(&k.PublicKey, other, sig); err != ErrBadSignature {
			t.Errorf("request with %s changed verified: %v", name, err)
		}
	}
}

func TestTamperedAnswerFails(t *testing.T) {
	k := newKey(t)
	in, _ := sampleAnswer().SigningInput()
	sig := signRaw(t, k, in)
	for name, mutate := range answerMutations {
		a := sampleAnswer()
		mutate(&a)
		other, err := a.SigningInput()
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(&k.PublicKey, other, sig); err != ErrBadSignature {
			t.Errorf("answer with %s changed verified: %v", name, err)
		}
	}
}

func TestRequestSignatureIsNotAnAnswerSignature(t *testing.T) {
	// Domain separation: a phone's signature over an API call must not
	// approve a sign-in, and the other way round.
	k := newKey(t)
	req, _ := sampleRequest().SigningInput()
	ans, _ := sampleAnswer().SigningInput()
	if err := Verify(&k.PublicKey, ans, signRaw(t, k, req)); err != ErrBadSignature {
		t.Fatalf("request signature accepted as answer: %v", err)
	}
	if err := Verify(&k.PublicKey, req, signRaw(t, k, ans)); err != ErrBadSignature {
		t.Fatalf("answer signature accepted as request: %v", err)
	}
}
