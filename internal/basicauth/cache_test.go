package basicauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/mfagate/mfagate/internal/policy"
)

// The hand-written HMAC is HMAC-SHA256 exactly, for short credentials (on
// the stack) and long ones (past the stack buffer), and with keys of any
// length.
func TestCacheKeyIsHMACSHA256(t *testing.T) {
	long := strings.Repeat("s", 3000)
	for _, key := range [][]byte{[]byte("0123456789abcdef0123456789abcdef"), []byte(strings.Repeat("k", 100))} {
		k := newCacheKeyer(key)
		for _, c := range []struct {
			site             policy.Site
			username, secret string
		}{
			{policy.Site{}, "alice", "abcd-efgh-ijkl-mnop"},
			{policy.Site{RequireMFA: true}, "alice", "abcd-efgh-ijkl-mnop"},
			{policy.Site{RefuseAccountPassword: true}, "bob", ""},
			{policy.Site{}, "carol", long},
		} {
			m := hmac.New(sha256.New, key)
			var head [10]byte
			head[0], head[1] = boolByte(c.site.RequireMFA), boolByte(c.site.RefuseAccountPassword)
			binary.BigEndian.PutUint64(head[2:], uint64(len(c.username)))
			m.Write(head[:])
			m.Write([]byte(c.username))
			m.Write([]byte(c.secret))
			var want [32]byte
			m.Sum(want[:0])
			if got := k.key(c.site, c.username, c.secret); got != want {
				t.Errorf("key(%+v, %q, %d bytes) differs from HMAC-SHA256", c.site, c.username, len(c.secret))
			}
		}
	}
	k := newCacheKeyer([]byte("key"))
	if k.key(policy.Site{}, "ab", "c") == k.key(policy.Site{}, "a", "bc") {
		t.Error("the username's end is not part of the key")
	}
}

// The key of a cached pass is computed without allocating.
func TestCacheKeyAllocatesNothing(t *testing.T) {
	k := newCacheKeyer([]byte("0123456789abcdef0123456789abcdef"))
	if n := testing.AllocsPerRun(100, func() { k.key(policy.Site{}, "alice", "abcd-efgh-ijkl-mnop") }); n != 0 {
		t.Fatalf("%v allocations", n)
	}
}
