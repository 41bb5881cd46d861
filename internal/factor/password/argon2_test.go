package password

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// argon2Hash makes an argon2id hash in the PHC format, as Authelia does.
func argon2Hash(pw string, salt []byte, m, t uint32, p uint8, keyLen uint32) string {
	key := argon2.IDKey([]byte(pw), salt, t, m, p, keyLen)
	return fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", m, t, p,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// The example of Authelia's documentation (and of the import brief).
const autheliaExample = "$argon2id$v=19$m=65536,t=3,p=4$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MIFAhV8U"

func TestArgon2idVerifies(t *testing.T) {
	h, _ := NewHasher(MinCost)
	hash := argon2Hash("correct horse", []byte("0123456789abcdef"), 1024, 2, 2, 32)
	if !h.Verify(hash, "correct horse") {
		t.Fatal("right password refused")
	}
	if h.Verify(hash, "correct horsE") || h.Verify(hash, "") || h.Verify(hash, strings.Repeat("a", MaxBytes+1)) {
		t.Fatal("wrong password accepted")
	}
	ok, err := h.VerifyBounded(context.Background(), hash, "correct horse")
	if !ok || err != nil {
		t.Fatalf("bounded, right password: %v %v", ok, err)
	}
	ok, err = h.VerifyBounded(context.Background(), hash, "wrong")
	if ok || err != nil {
		t.Fatalf("bounded, wrong password: %v %v", ok, err)
	}
	// A known vector: the same inputs give the same key (another salt
	// gives another).
	if hash != argon2Hash("correct horse", []byte("0123456789abcdef"), 1024, 2, 2, 32) ||
		hash == argon2Hash("correct horse", []byte("0123456789abcdeF"), 1024, 2, 2, 32) {
		t.Fatal("argon2id is not deterministic in its inputs")
	}
	// bcrypt behaves as before beside it.
	bh, _ := h.Hash("correct horse")
	if !h.Verify(bh, "correct horse") || h.Verify(bh, "wrong") || h.NeedsRehash(bh) || !h.NeedsRehash(hash) {
		t.Fatal("bcrypt beside argon2id")
	}
}

// TestArgon2idKnownVectors: hashes made elsewhere verify. The first is
// the argon2id vector of the reference implementation's tests
// (phc-winner-argon2 src/test.c: t=2, m=64 MiB, p=1, "password",
// "somesalt"); the second the users-file example of Authelia's
// documentation, whose password is "password".
func TestArgon2idKnownVectors(t *testing.T) {
	h := calibratedHasher(t, DefaultCost)
	for _, hash := range []string{
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=3,p=2$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MFFSs+iM",
	} {
		if _, _, err := h.CheckImportedHash(hash); err != nil {
			t.Fatalf("%s: %v", hash, err)
		}
		if !h.Verify(hash, "password") || h.Verify(hash, "Password") {
			t.Fatalf("%s does not verify as documented", hash)
		}
	}
}

func TestAutheliaExampleParses(t *testing.T) {
	h := calibratedHasher(t, DefaultCost)
	scheme, _, err := h.CheckImportedHash(autheliaExample)
	if err != nil || scheme != "argon2id" {
		t.Fatalf("Authelia's example: %q %v", scheme, err)
	}
	p, err := parseArgon2id(autheliaExample)
	if err != nil || p.memory != 65536 || p.time != 3 || p.lanes != 4 || len(p.salt) != 12 || len(p.key) != 32 {
		t.Fatalf("parsed %+v %v", p, err)
	}
}

func TestImportedHashesRefused(t *testing.T) {
	h := calibratedHasher(t, MinCost)
	salt := []byte("0123456789abcdef")
	good := argon2Hash("pw", salt, 1024, 1, 1, 32)
	b64 := base64.RawStdEncoding.EncodeToString
	bcryptOK := "$2y$12$" + strings.Repeat("a", 53)
	for _, tc := range []struct{ hash, want string }{
		{"$argon2id$v=19$m=524288,t=1,p=1$" + b64(salt) + "$" + b64(make([]byte, 32)), "memory m=524288 KiB is outside"},
		{"$argon2id$v=19$m=1024,t=11,p=1$" + b64(salt) + "$" + b64(make([]byte, 32)), "iterations t=11"},
		{"$argon2id$v=19$m=1024,t=0,p=1$" + b64(salt) + "$" + b64(make([]byte, 32)), "iterations t=0"},
		{"$argon2id$v=19$m=1024,t=1,p=17$" + b64(salt) + "$" + b64(make([]byte, 32)), "parallelism p=17"},
		{"$argon2id$v=19$m=64,t=1,p=16$" + b64(salt) + "$" + b64(make([]byte, 32)), "memory m=64 KiB is outside 128"},
		{"$argon2id$v=19$m=1024,t=1,p=1$" + b64(salt) + "$" + b64(make([]byte, 15)), "key of 15 bytes"},
		{"$argon2id$v=19$m=1024,t=1,p=1$" + b64(salt) + "$" + b64(make([]byte, 65)), "key of 65 bytes"},
		{"$argon2id$v=19$m=1024,t=1,p=1$" + b64(salt[:7]) + "$" + b64(make([]byte, 32)), "salt of 7 bytes"},
		{"$argon2id$v=19$m=1024,t=1,p=1$" + b64(salt) + "==$" + b64(make([]byte, 32)), "not unpadded base64"},
		{"$argon2id$v=16$m=1024,t=1,p=1$" + b64(salt) + "$" + b64(make([]byte, 32)), "version"},
		{"$argon2id$v=19$t=1,m=1024,p=1$" + b64(salt) + "$" + b64(make([]byte, 32)), "must be m=<KiB>"},
		{"$argon2id$v=19$m=1024,t=1,p=1$" + b64(salt), "must be $argon2id$v=19"},
		{"$argon2i$v=19$m=1024,t=1,p=1$" + b64(salt) + "$" + b64(make([]byte, 32)), "argon2i"},
		{"$6$rounds=5000$salt$hash", "sha512-crypt"},
		{"$pbkdf2-sha512$310000$salt$hash", "pbkdf2-sha512"},
		{"hunter22", "plain-text"},
		{"", "no password hash"},
		{"$2y$09$" + strings.Repeat("a", 53), "bcrypt cost 9 is outside 10..31"},
		{"$2y$32$" + strings.Repeat("a", 53), "must be $2a$, $2b$ or $2y$"},
		{"$2y$15$" + strings.Repeat("a", 53), "costs about 32.0 checks at this server's bcrypt cost 10"},
		{"$2x$12$" + strings.Repeat("a", 53), "bcrypt $2x$"},
		{"$2y$12$" + strings.Repeat("a", 52), "60 characters"},
		{"$2y$12$" + strings.Repeat("a", 52) + "!", "alphabet"},
	} {
		_, _, err := h.CheckImportedHash(tc.hash)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40s…: %v, want %q", tc.hash, err, tc.want)
		}
		if err != nil && len(tc.hash) > 12 && strings.Contains(err.Error(), tc.hash) {
			t.Errorf("the error quotes the hash: %v", err)
		}
	}
	for _, ok := range []string{good, "$2a$10$" + strings.Repeat("a", 53), "$2b$11$" + strings.Repeat("a", 53)} {
		if _, _, err := h.CheckImportedHash(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	if s, _, _ := h.CheckImportedHash(bcryptOK); s != "bcrypt" {
		t.Errorf("scheme %q", s)
	}
	if _, _, err := h.CheckImportedHash("$6$x$y"); !errors.Is(err, ErrUnsupportedHash) {
		t.Errorf("not ErrUnsupportedHash: %v", err)
	}
	// A stored argon2id hash outside the bounds never matches.
	big := "$argon2id$v=19$m=524288,t=1,p=1$" + b64(salt) + "$" + b64(make([]byte, 32))
	if h.Verify(big, "pw") {
		t.Fatal("out-of-bounds hash matched")
	}
	if ok, err := h.VerifyBounded(context.Background(), big, "pw"); ok || err != nil {
		t.Fatalf("out-of-bounds hash, bounded: %v %v", ok, err)
	}
}
