package safetext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	cases := []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 10, "plain"},
		{"a\x00b", 10, "ab"},
		{"a\xffb", 10, "a\uFFFDb"},
		{strings.Repeat("a", 255) + "é", 256, strings.Repeat("a", 255)},
		{"ééé", 5, "éé"},
		{"", 3, ""},
	}
	for _, c := range cases {
		if got := Clean(c.in, c.max); got != c.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	f.Add("a\x00\xffé", 3)
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 0 || max > 1<<16 {
			return
		}
		got := Clean(s, max)
		if !utf8.ValidString(got) || strings.IndexByte(got, 0) >= 0 || len(got) > max {
			t.Fatalf("Clean(%q, %d) = %q", s, max, got)
		}
	})
}
