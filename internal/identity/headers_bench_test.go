package identity

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// benchRequest is a typical browser request reaching the gateway, with a
// spoofed identity header and the gateway's cookie among others.
func benchRequest() *http.Request {
	r := httptest.NewRequest("GET", "/app/page?x=1", nil)
	h := r.Header
	h.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", "en-GB,en;q=0.5")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Connection", "keep-alive")
	h.Set("Remote-User", "admin")
	h.Set("Cookie", "theme=dark; mfagate=MTcwMDAwMDAwMHxEdi1CQkFFQ180SUFBUkFCRUFBQUpQLUNBQUVHYzNSeWFXNW5EQVlBQkhSdmEyVnVCbk4wY21sdVp3d2lBQ0F4TkRaaE9XRmlOVEJrfG9hY2tfcGFkZGluZ190b19zaXplX29mX2FfcmVhbF9jb29raWU=; lang=en")
	return r
}

var benchID = Identity{Username: "alice", DisplayName: "Alice Example", Email: "alice@example.com", Groups: []string{"staff", "admins"}}

// BenchmarkRewrite: Strip + Set + RemoveCookies as the gateway does for
// each authorised request (includes cloning the template headers).
func BenchmarkRewrite(b *testing.B) {
	tmpl := benchRequest()
	r := tmpl.Clone(tmpl.Context())
	b.ReportAllocs()
	for b.Loop() {
		r.Header = tmpl.Header.Clone()
		Strip(r.Header)
		Set(r.Header, benchID)
		RemoveCookies(r, "mfagate", "__Host-mfagate")
	}
	if r.Header.Get("Remote-User") != "alice" || r.Header.Get("Cookie") != "theme=dark; lang=en" {
		b.Fatalf("rewrite: %v", r.Header)
	}
}

// BenchmarkHeaderClone is the cloning share of BenchmarkRewrite.
func BenchmarkHeaderClone(b *testing.B) {
	tmpl := benchRequest()
	r := tmpl.Clone(tmpl.Context())
	b.ReportAllocs()
	for b.Loop() {
		r.Header = tmpl.Header.Clone()
	}
}

func BenchmarkStrip(b *testing.B) {
	tmpl := benchRequest()
	b.ReportAllocs()
	for b.Loop() {
		h := tmpl.Header.Clone()
		Strip(h)
	}
}

func BenchmarkSet(b *testing.B) {
	h := http.Header{}
	b.ReportAllocs()
	for b.Loop() {
		Set(h, benchID)
	}
}

func BenchmarkRemoveCookies(b *testing.B) {
	tmpl := benchRequest()
	r := tmpl.Clone(tmpl.Context())
	b.ReportAllocs()
	for b.Loop() {
		r.Header = tmpl.Header.Clone()
		RemoveCookies(r, "mfagate", "__Host-mfagate")
	}
}
