package password

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"
	"golang.org/x/time/rate"
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
	if !h.Verify(bh, "correct horse") || h.Verify(bh, "wrong") || NeedsUpgrade(bh) || !NeedsUpgrade(hash) {
		t.Fatal("bcrypt beside argon2id")
	}
}

// TestArgon2idKnownVectors: hashes made elsewhere verify. The first is
// the argon2id vector of the reference implementation's tests
// (phc-winner-argon2 src/test.c: t=2, m=64 MiB, p=1, "password",
// "somesalt"); the second the users-file example of Authelia's
// documentation, whose password is "password".
func TestArgon2idKnownVectors(t *testing.T) {
	h, _ := NewHasher(MinCost)
	for _, hash := range []string{
		"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc",
		"$argon2id$v=19$m=65536,t=3,p=2$BpLnfgDsc2WD8F2q$o/vzA4myCqZZ36bUGsDY//8mKUYNZZaR0t4MFFSs+iM",
	} {
		if _, err := CheckImportedHash(hash, h.Cost()); err != nil {
			t.Fatalf("%s: %v", hash, err)
		}
		if !h.Verify(hash, "password") || h.Verify(hash, "Password") {
			t.Fatalf("%s does not verify as documented", hash)
		}
	}
}

func TestAutheliaExampleParses(t *testing.T) {
	h, _ := NewHasher(MinCost)
	scheme, err := CheckImportedHash(autheliaExample, h.Cost())
	if err != nil || scheme != "argon2id" {
		t.Fatalf("Authelia's example: %q %v", scheme, err)
	}
	p, err := parseArgon2id(autheliaExample)
	if err != nil || p.memory != 65536 || p.time != 3 || p.lanes != 4 || len(p.salt) != 12 || len(p.key) != 32 {
		t.Fatalf("parsed %+v %v", p, err)
	}
}

func TestImportedHashesRefused(t *testing.T) {
	h, _ := NewHasher(MinCost)
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
		{"$2y$09$" + strings.Repeat("a", 53), "bcrypt cost 9"},
		{"$2y$15$" + strings.Repeat("a", 53), "bcrypt cost 15"},
		{"$2x$12$" + strings.Repeat("a", 53), "bcrypt $2x$"},
		{"$2y$12$" + strings.Repeat("a", 52), "60 characters"},
		{"$2y$12$" + strings.Repeat("a", 52) + "!", "alphabet"},
	} {
		_, err := CheckImportedHash(tc.hash, h.Cost())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40s…: %v, want %q", tc.hash, err, tc.want)
		}
		if err != nil && len(tc.hash) > 12 && strings.Contains(err.Error(), tc.hash) {
			t.Errorf("the error quotes the hash: %v", err)
		}
	}
	for _, ok := range []string{good, bcryptOK, "$2a$10$" + strings.Repeat("a", 53), "$2b$14$" + strings.Repeat("a", 53)} {
		if _, err := CheckImportedHash(ok, h.Cost()); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	if s, _ := CheckImportedHash(bcryptOK, h.Cost()); s != "bcrypt" {
		t.Errorf("scheme %q", s)
	}
	if _, err := CheckImportedHash("$6$x$y", h.Cost()); !errors.Is(err, ErrUnsupportedHash) {
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

// TestArgon2idSpendsTheBudget: an argon2id check spends as many tokens as
// its CPU cost is worth in bcrypt comparisons, is shed over the budget
// and without slots, like bcrypt.
func TestArgon2idSpendsTheBudget(t *testing.T) {
	h, _ := NewHasher(MinCost)
	hash := argon2Hash("pw", []byte("0123456789abcdef"), 8000, 10, 2, 32)
	p, _ := parseArgon2id(hash)
	// 80,000 block passes: two comparisons at cost 10, half of one at cost 11.
	n := h.argon2Tokens(p)
	if n != 2 {
		t.Fatalf("an argon2id check of 80,000 block passes costs %d tokens at cost 10, want 2", n)
	}
	if h11, _ := NewHasher(MinCost + 1); h11.argon2Tokens(p) != 1 {
		t.Fatalf("at cost 11: %d tokens, want 1", h11.argon2Tokens(p))
	}
	// Authelia's default (64 MiB, 3 passes) at the default cost 12: a
	// little more than one comparison (both take some 200 ms), so two.
	if h12, _ := NewHasher(DefaultCost); h12.argon2Tokens(&argon2Params{memory: 65536, time: 3}) != 2 {
		t.Fatalf("Authelia's default at cost 12: %d tokens", h12.argon2Tokens(&argon2Params{memory: 65536, time: 3}))
	}
	h.budget = rate.NewLimiter(rate.Limit(0.001), n)
	h.shedDelay = time.Millisecond
	if ok, err := h.VerifyBounded(context.Background(), hash, "pw"); !ok || err != nil {
		t.Fatalf("within budget: %v %v", ok, err)
	}
	if _, err := h.VerifyBounded(context.Background(), hash, "pw"); err != ErrBusy {
		t.Fatalf("over budget: %v, want ErrBusy", err)
	}
	// Never more than the burst: a check can always run on a full budget.
	h.budget = rate.NewLimiter(rate.Limit(0.001), 1)
	if got := h.argon2Tokens(p); got != 1 {
		t.Fatalf("tokens %d, want the burst 1", got)
	}

	h2, _ := NewHasher(MinCost)
	h2.queueWait = 10 * time.Millisecond
	for range cap(h2.slots) {
		h2.slots <- struct{}{}
	}
	if _, err := h2.VerifyBounded(context.Background(), hash, "pw"); err != ErrBusy {
		t.Fatalf("no slot: %v, want ErrBusy", err)
	}
	<-h2.slots
	if ok, err := h2.VerifyBounded(context.Background(), hash, "pw"); !ok || err != nil {
		t.Fatalf("a free slot: %v %v", ok, err)
	}
	if len(h2.slots) != cap(h2.slots)-1 {
		t.Fatalf("slots not given back: %d of %d held", len(h2.slots), cap(h2.slots))
	}
	// Memory: while other checks hold the bound, ErrBusy.
	if !h2.argon2.memory.TryAcquire(argon2InFlightKiB) {
		t.Fatal("memory bound taken")
	}
	if _, err := h2.VerifyBounded(context.Background(), hash, "pw"); err != ErrBusy {
		t.Fatalf("no memory: %v, want ErrBusy", err)
	}
	h2.argon2.memory.Release(argon2InFlightKiB)
}

// TestCostlierBcryptSpendsMore: an imported bcrypt hash above the server's
// cost spends 2^(difference) tokens; the server's own hashes one.
func TestCostlierBcryptSpendsMore(t *testing.T) {
	h, _ := NewHasher(MinCost)
	own, _ := h.Hash("pw")
	h12, _ := NewHasher(MinCost + 2)
	dearer, _ := h12.Hash("pw")
	if h.bcryptTokens(own) != 1 || h.bcryptTokens(dearer) != 4 || h12.bcryptTokens(own) != 1 || h.bcryptTokens("") != 1 {
		t.Fatalf("tokens: own %d, cost+2 %d", h.bcryptTokens(own), h.bcryptTokens(dearer))
	}
	h.budget = rate.NewLimiter(rate.Limit(0.001), 4)
	h.shedDelay = time.Millisecond
	if ok, err := h.VerifyBounded(context.Background(), dearer, "pw"); !ok || err != nil {
		t.Fatalf("within budget: %v %v", ok, err)
	}
	if _, err := h.VerifyBounded(context.Background(), own, "pw"); err != ErrBusy {
		t.Fatalf("after a 4-token check on a 4-token budget: %v, want ErrBusy", err)
	}
}
