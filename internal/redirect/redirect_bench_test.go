package redirect

import "testing"

var benchSink string

func BenchmarkSafe(b *testing.B) {
	const host = "app.example.com"
	for _, c := range []struct{ name, target string }{
		{"empty", ""},
		{"path", "/docs/page?x=1&y=2"},
		{"encoded-path", "/files/a%20b/c%2Bd?q=%C3%A9"},
		{"absolute-same-host", "https://app.example.com/x/y?q=1"},
		{"evil-encoded", "/%252f%252fevil.example"},
		{"evil-absolute", "https://evil.example/login"},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				benchSink = Safe(c.target, host)
			}
		})
	}
}
