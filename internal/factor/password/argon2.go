package password

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Imported hashes. Accounts imported from another system (an Authelia
// users file) keep the hash they had, bcrypt or argon2id (Authelia's
// default), until the user's first successful sign-in, which replaces it
// by a bcrypt hash at the server's cost (NeedsRehash). Checks against
// them are paced apart from ordinary sign-ins (see imported.go).
//
// An argon2id hash is in the PHC string format
//
//	$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>
//
// with salt and key in unpadded standard base64. Its parameters are
// bounded, since every sign-in attempt against it costs m KiB of memory
// and m·t block passes of CPU: larger ones are refused at import, and a
// stored hash outside the bounds never matches. Within them, an import
// also refuses a hash dearer than MaxImportedCost checks at the server's
// cost (Hasher.CheckImportedHash).
const (
	Argon2MaxMemoryKiB = 256 * 1024 // 256 MiB
	Argon2MaxTime      = 10
	Argon2MaxLanes     = 16
	Argon2MinSaltBytes = 8
	Argon2MaxSaltBytes = 64
	Argon2MinKeyBytes  = 16
	Argon2MaxKeyBytes  = 64
)

// argon2Prefix starts every argon2id hash.
const argon2Prefix = "$argon2id$"

// ErrUnsupportedHash is wrapped by CheckImportedHash for a hash in a scheme
// this server does not verify.
var ErrUnsupportedHash = errors.New("unsupported password hash")

// argon2Params are the parts of an argon2id hash.
type argon2Params struct {
	memory uint32 // KiB
	time   uint32
	lanes  uint8
	salt   []byte
	key    []byte
}

// IsArgon2id reports whether hash is in the argon2id format (whatever its
// parameters).
func IsArgon2id(hash string) bool { return strings.HasPrefix(hash, argon2Prefix) }

// parseArgon2id parses and bounds an argon2id hash.
func parseArgon2id(hash string) (*argon2Params, error) {
	parts := strings.Split(hash, "$")
	// "", "argon2id", "v=19", "m=…,t=…,p=…", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return nil, errors.New("argon2id hash must be $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>")
	}
	if parts[2] != "v=19" {
		return nil, fmt.Errorf("argon2id version %q is not supported (want v=19)", parts[2])
	}
	var p argon2Params
	fields := strings.Split(parts[3], ",")
	if len(fields) != 3 {
		return nil, fmt.Errorf("argon2id parameters %q must be m=<KiB>,t=<passes>,p=<lanes>", parts[3])
	}
	vals := make([]uint64, 3)
	for i, name := range []string{"m", "t", "p"} {
		k, v, ok := strings.Cut(fields[i], "=")
		if !ok || k != name {
			return nil, fmt.Errorf("argon2id parameters %q must be m=<KiB>,t=<passes>,p=<lanes>", parts[3])
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil || (len(v) > 1 && v[0] == '0') {
			return nil, fmt.Errorf("argon2id parameter %s=%q is not a number", name, v)
		}
		vals[i] = n
	}
	m, t, lanes := vals[0], vals[1], vals[2]
	switch {
	case lanes < 1 || lanes > Argon2MaxLanes:
		return nil, fmt.Errorf("argon2id parallelism p=%d is outside 1..%d", lanes, Argon2MaxLanes)
	case t < 1 || t > Argon2MaxTime:
		return nil, fmt.Errorf("argon2id iterations t=%d are outside 1..%d", t, Argon2MaxTime)
	case m < 8*lanes || m > Argon2MaxMemoryKiB:
		return nil, fmt.Errorf("argon2id memory m=%d KiB is outside %d..%d (8·p to %d MiB)", m, 8*lanes,
			Argon2MaxMemoryKiB, Argon2MaxMemoryKiB/1024)
	}
	p.memory, p.time, p.lanes = uint32(m), uint32(t), uint8(lanes)
	var err error
	if p.salt, err = base64.RawStdEncoding.Strict().DecodeString(parts[4]); err != nil {
		return nil, fmt.Errorf("argon2id salt is not unpadded base64: %w", err)
	}
	if p.key, err = base64.RawStdEncoding.Strict().DecodeString(parts[5]); err != nil {
		return nil, fmt.Errorf("argon2id key is not unpadded base64: %w", err)
	}
	if n := len(p.salt); n < Argon2MinSaltBytes || n > Argon2MaxSaltBytes {
		return nil, fmt.Errorf("argon2id salt of %d bytes is outside %d..%d", n, Argon2MinSaltBytes, Argon2MaxSaltBytes)
	}
	if n := len(p.key); n < Argon2MinKeyBytes || n > Argon2MaxKeyBytes {
		return nil, fmt.Errorf("argon2id key of %d bytes is outside %d..%d", n, Argon2MinKeyBytes, Argon2MaxKeyBytes)
	}
	return &p, nil
}

// matches computes argon2id over pw with p's parameters and compares in
// constant time.
func (p *argon2Params) matches(pw string) bool {
	got := argon2.IDKey([]byte(pw), p.salt, p.time, p.memory, p.lanes, uint32(len(p.key)))
	return subtle.ConstantTimeCompare(got, p.key) == 1
}

// bcryptPrefixes are the bcrypt variants kept as they are at import.
var bcryptPrefixes = [...]string{"$2a$", "$2b$", "$2y$"}

// bcryptAlphabet is bcrypt's base64 alphabet.
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// checkBcrypt checks the form of a bcrypt hash: $2a$, $2b$ or $2y$, a cost
// between MinCost and maxCost, and 53 characters of salt and hash.
func checkBcrypt(hash string, maxCost int) error {
	if len(hash) != 60 {
		return errors.New("bcrypt hash must have 60 characters")
	}
	cost, err := bcrypt.Cost([]byte(hash))
	if err != nil || hash[6] != '$' {
		return errors.New("bcrypt hash must be $2a$, $2b$ or $2y$, a two-digit cost, $ and 53 characters")
	}
	if cost < MinCost || cost > maxCost {
		return fmt.Errorf("bcrypt cost %d is outside %d..%d", cost, MinCost, maxCost)
	}
	for _, c := range hash[7:] {
		if !strings.ContainsRune(bcryptAlphabet, c) {
			return errors.New("bcrypt hash has a character outside its alphabet")
		}
	}
	return nil
}

// Cost is the bcrypt cost the hasher hashes at.
func (h *Hasher) Cost() int { return h.cost }

func hasBcryptPrefix(hash string) bool {
	for _, p := range bcryptPrefixes {
		if strings.HasPrefix(hash, p) {
			return true
		}
	}
	return false
}

// describeScheme names the scheme of a refused hash without quoting it.
func describeScheme(hash string) string {
	if !strings.HasPrefix(hash, "$") {
		return "not a hash in modular crypt format (a plain-text password?)"
	}
	id, _, _ := strings.Cut(hash[1:], "$")
	names := map[string]string{"1": "md5-crypt", "5": "sha256-crypt", "6": "sha512-crypt", "argon2i": "argon2i",
		"argon2d": "argon2d", "scrypt": "scrypt", "pbkdf2": "pbkdf2", "pbkdf2-sha256": "pbkdf2-sha256",
		"pbkdf2-sha512": "pbkdf2-sha512", "2": "bcrypt $2$", "2x": "bcrypt $2x$"}
	if n, ok := names[id]; ok {
		return n
	}
	if len(id) > 16 || strings.ContainsFunc(id, func(r rune) bool { return r < ' ' || r > '~' }) {
		return "an unknown scheme"
	}
	return "scheme $" + id + "$"
}

// verifyArgon2 is Verify for an argon2id hash, unbounded.
func (h *Hasher) verifyArgon2(hash, pw string) bool {
	p, err := parseArgon2id(hash)
	if err != nil || Check(pw) != nil {
		h.Verify("", pw)
		return false
	}
	return p.matches(pw)
}
