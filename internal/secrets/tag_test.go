package secrets

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// A lookup tag depends on the key, the user and the secret, and only on
// them.
func TestUserTag(t *testing.T) {
	k := []byte("key")
	a := UserTag(k, 1, "abcdefghijklmnop")
	if bytes.Equal(a, UserTag(k, 2, "abcdefghijklmnop")) || bytes.Equal(a, UserTag([]byte("other"), 1, "abcdefghijklmnop")) ||
		bytes.Equal(a, UserTag(k, 1, "abcdefghijklmnoq")) {
		t.Fatal("the tag does not depend on the user, the key and the secret")
	}
	if !bytes.Equal(a, UserTag(k, 1, "abcdefghijklmnop")) {
		t.Fatal("the tag is not deterministic")
	}
}

// The tag of stored app passwords never changes: HMAC-SHA256(key,
// big-endian user ID || secret), as app passwords were tagged before this
// function served recovery codes too.
func TestUserTagIsStable(t *testing.T) {
	const want = "6da25f9251ea2b8e95bff7fb2a8050cd5023b031a8d0b546adb17685ae40b516"
	if got := hex.EncodeToString(UserTag([]byte("key"), 7, "abcdefghijklmnop")); got != want {
		t.Fatalf("UserTag = %s, want %s: stored app passwords would no longer be found", got, want)
	}
}
