package apppassword

import (
	"testing"
)

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	counts := make([]int, 26)
	for range 2000 {
		pw, err := Generate()
		if err != nil {
			t.Fatal(err)
		}
		n, ok := Normalize(pw)
		if !ok || n != pw {
			t.Fatalf("generated %q does not normalize to itself", pw)
		}
		if seen[pw] {
			t.Fatalf("duplicate %q", pw)
		}
		seen[pw] = true
		for _, c := range pw {
			counts[c-'a']++
		}
	}
	// 32000 letters: each letter expected ~1231; a biased generator would
	// push the first letters far above that.
	for i, c := range counts {
		if c < 1000 || c > 1470 {
			t.Errorf("letter %c appears %d times", 'a'+i, c)
		}
	}
}

func TestNormalize(t *testing.T) {
	for in, want := range map[string]string{
		"abcd efgh ijkl mnop":   "abcdefghijklmnop",
		"ABCDefghijklmnop":      "abcdefghijklmnop",
		" abcd\tefgh ijklmnop ": "abcdefghijklmnop",
	} {
		if got, ok := Normalize(in); !ok || got != want {
			t.Errorf("Normalize(%q) = %q,%v", in, got, ok)
		}
	}
	for _, in := range []string{"", "abc", "abcdefghijklmnopq", "abcdefghijklmno1", "abcdéfghijklmnop"} {
		if _, ok := Normalize(in); ok {
			t.Errorf("Normalize(%q) accepted", in)
		}
	}
}

func TestGroup(t *testing.T) {
	if g := Group("abcdefghijklmnop"); g != "abcd efgh ijkl mnop" {
		t.Fatalf("Group: %q", g)
	}
}
