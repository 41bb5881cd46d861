package basicauth

import (
	"encoding/base64"
	"strings"
	"testing"
)

func enc(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseHeader(t *testing.T) {
	good := map[string][2]string{
		"Basic " + enc("alice:abcd efgh"): {"alice", "abcd efgh"},
		"basic " + enc("a:b:c"):           {"a", "b:c"},
		"BASIC  " + enc("a:"):             {"a", ""},
	}
	for in, want := range good {
		u, p, ok := ParseHeader(in)
		if !ok || u != want[0] || p != want[1] {
			t.Errorf("ParseHeader(%q) = %q,%q,%v", in, u, p, ok)
		}
	}
	for _, in := range []string{"", "Basic", "Basic !!!", "Bearer " + enc("a:b"), "Basic " + enc("nocolon"),
		"Basic " + enc(":pw"), "Basic " + enc("a\nb:pw"), "Basic " + enc("\xff:pw"),
		"Basic " + enc(strings.Repeat("u", 300)+":pw"), "Basic " + strings.Repeat("A", 5000)} {
		if _, _, ok := ParseHeader(in); ok {
			t.Errorf("ParseHeader(%q) accepted", in)
		}
	}
}

func FuzzParseHeader(f *testing.F) {
	f.Add("Basic " + enc("alice:secret"))
	f.Add("basic " + enc("a:b:c"))
	f.Add("Basic ====")
	f.Add("Basic " + enc("\x00:x"))
	f.Fuzz(func(t *testing.T, in string) {
		u, p, ok := ParseHeader(in)
		if !ok {
			return
		}
		if u == "" || strings.Contains(u, ":") || hasControl(u) || len(u) > maxUsernameLen {
			t.Fatalf("accepted bad username %q from %q", u, in)
		}
		// What was accepted re-encodes to credentials that parse the same.
		u2, p2, ok2 := ParseHeader("Basic " + enc(u+":"+p))
		if !ok2 || u2 != u || p2 != p {
			t.Fatalf("round trip of %q,%q failed", u, p)
		}
	})
}
