package secrets

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
)

// UserTag is the lookup tag of a user's normalized secret (an app
// password, a recovery code): HMAC-SHA256 under a server key over the
// user's ID and the secret, so the store finds the one row to compare
// with bcrypt, and a database copy alone cannot test guesses faster than
// bcrypt allows.
func UserTag(key []byte, userID int64, normalized string) []byte {
	m := hmac.New(sha256.New, key)
	var id [8]byte
	binary.BigEndian.PutUint64(id[:], uint64(userID))
	m.Write(id[:])
	m.Write([]byte(normalized))
	return m.Sum(nil)
}
