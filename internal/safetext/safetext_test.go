package safetext

import (
	"errors"
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

func TestValidName(t *testing.T) {
	ok := map[string]string{
		"Laptop mail":          "Laptop mail",
		"  Phone  ":            "Phone",
		"Tél. de Zoë":          "Tél. de Zoë",
		"日本語の名前":               "日本語の名前",
		"a\u00a0b":             "a\u00a0b", // no-break space is visible spacing
		strings.Repeat("é", 8): strings.Repeat("é", 8),
	}
	for in, want := range ok {
		if got, err := ValidName(in, 8+4); err != nil || got != want {
			t.Errorf("ValidName(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	refused := []struct {
		in   string
		want error
	}{
		{"", ErrNameEmpty},
		{" \t ", ErrNameEmpty},
		{strings.Repeat("a", 13), ErrNameTooLong},
		{"a\xffb", ErrNameEncoding},
		{"Laptop\u202elim", ErrNameInvisible},    // right-to-left override
		{"Lap\u200btop", ErrNameInvisible},       // zero-width space
		{"\u2066Laptop\u2069", ErrNameInvisible}, // left-to-right isolate
		{"\ufeffLaptop", ErrNameInvisible},       // byte order mark
		{"Lap\u00adtop", ErrNameInvisible},       // soft hyphen
		{"Lap\x00top", ErrNameInvisible},
		{"Lap\ntop", ErrNameInvisible},
		{"Lap\x7ftop", ErrNameInvisible},
		{"Lap\u2028top", ErrNameInvisible}, // line separator
	}
	for _, c := range refused {
		if got, err := ValidName(c.in, 12); !errors.Is(err, c.want) {
			t.Errorf("ValidName(%q) = %q, %v; want %v", c.in, got, err, c.want)
		}
	}
	if _, err := ValidName("a\u202eb", 12); err == nil || !strings.Contains(err.Error(), "U+202E") {
		t.Errorf("error %v does not name the character", err)
	}
}
