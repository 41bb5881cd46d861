package password

import (
	"errors"
	"strings"
	"testing"
)

func TestPolicyRefusesWithAReason(t *testing.T) {
	p := DefaultPolicy()
	for _, tc := range []struct {
		pw     string
		inputs []string
		reason error
		says   string
	}{
		{"", nil, ErrTooShort, "too short: use at least 8 characters"},
		{"Xk9#vQ2", nil, ErrTooShort, "too short"},
		{strings.Repeat("kq7 ", 18) + "z", nil, ErrTooLong, "too long: use at most 72 bytes"},
		{"password1", nil, ErrTooGuessable, "it is a very common password"},
		{"password1", []string{"alice"}, ErrTooGuessable, "too easy to guess"},
		{"alice2024", []string{"alice", "Example Corp"}, ErrTooGuessable, "contains your username or the name of this service"},
		{"examplecorp99", []string{"bob", "Example Corp"}, ErrTooGuessable, "contains your username or the name of this service"},
		{"smith2024!", []string{"alice.smith@example.com"}, ErrTooGuessable, "contains your username"},
		{"qwertyuiop", nil, ErrTooGuessable, "100 most common passwords"},
		{"123456789", nil, ErrTooGuessable, "10 most common passwords"},
		{"aaaaaaaaaaaa", nil, ErrTooGuessable, `repeated characters like "aaa"`},
		{"abcdefghijkl", nil, ErrTooGuessable, "sequences like abc"},
		{"pass\xffword1234", nil, ErrNotText, "not valid text"},
	} {
		err := p.Check(tc.pw, tc.inputs...)
		var pe *PolicyError
		if !errors.As(err, &pe) || !errors.Is(err, tc.reason) {
			t.Errorf("Check(%q): %v, want a PolicyError for %v", tc.pw, err, tc.reason)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tc.says) || !strings.HasPrefix(msg, "The password is ") || !strings.HasSuffix(msg, ".") {
			t.Errorf("Check(%q) = %q, want a sentence saying %q", tc.pw, msg, tc.says)
		}
		if errors.Is(err, ErrTooGuessable) && !strings.Contains(msg, "Add more words or characters") {
			t.Errorf("Check(%q) = %q: no hint", tc.pw, msg)
		}
	}
}

// max72 is a strong password of exactly MaxBytes bytes.
const max72 = "plum verdict 42 orbit lantern saffron quibble mosaic drift fennel cove 9"

func TestPolicyAcceptsStrongPasswords(t *testing.T) {
	p := DefaultPolicy()
	for _, pw := range []string{
		"correct horse battery staple",
		"violet tractor 7 umbrella",
		max72,
	} {
		if err := p.Check(pw, "alice", "Example Corp"); err != nil {
			t.Errorf("Check(%q): %v", pw, err)
		}
	}
	if len(max72) != MaxBytes {
		t.Fatalf("test password is %d bytes, not %d", len(max72), MaxBytes)
	}
}

func TestPolicyScores(t *testing.T) {
	// Score 0 leaves the length rule only.
	lax := Policy{MinScore: 0}
	if err := lax.Check("password1"); err != nil {
		t.Errorf("min score 0: %v", err)
	}
	if err := lax.Check("short"); !errors.Is(err, ErrTooShort) {
		t.Errorf("min score 0, short: %v", err)
	}
	// "right password" scores 3: accepted at 3, refused at 4.
	if err := (Policy{MinScore: 3}).Check("right password"); err != nil {
		t.Errorf("score 3 at min 3: %v", err)
	}
	var pe *PolicyError
	if err := (Policy{MinScore: 4}).Check("right password"); !errors.As(err, &pe) || pe.Score != 3 {
		t.Errorf("score 3 at min 4: %v", err)
	}
	for _, s := range []int{-1, 5} {
		if err := (Policy{MinScore: s}).Validate(); err == nil {
			t.Errorf("min score %d valid", s)
		}
	}
	if err := DefaultPolicy().Validate(); err != nil || DefaultPolicy().MinScore != 3 {
		t.Errorf("default policy: %+v %v", DefaultPolicy(), err)
	}
}

// Hashing keeps its own limit, and verifying accepts any stored password:
// the policy applies only when a password is chosen.
func TestPolicyDoesNotChangeHashing(t *testing.T) {
	h, _ := NewHasher(MinCost)
	hash, err := h.Hash("pw")
	if err != nil || !h.Verify(hash, "pw") {
		t.Fatalf("weak password no longer hashes or verifies: %v", err)
	}
}
