package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// upload is an HTTP/1.1 PUT announcing a body of n bytes (-1: chunked).
func upload(n int64) *http.Request {
	r := httptest.NewRequest("PUT", "/dav/f", strings.NewReader(strings.Repeat("x", 64)))
	r.ContentLength = n
	return r
}

func TestCloseUnreadBody(t *testing.T) {
	for _, c := range []struct {
		name  string
		r     *http.Request
		close bool
	}{
		{"content-length", upload(64), true},
		{"chunked", upload(-1), true},
		{"no body", httptest.NewRequest("GET", "/", nil), false},
		{"empty PUT", upload(0), false},
		{"HTTP/2", func() *http.Request { r := upload(64); r.ProtoMajor, r.ProtoMinor = 2, 0; return r }(), false},
	} {
		w := httptest.NewRecorder()
		CloseUnreadBody(w, c.r)
		if got := w.Header().Get("Connection") == "close"; got != c.close {
			t.Errorf("%s: Connection: close %v, want %v", c.name, got, c.close)
		}
	}
}

func TestCloseUnlessBodyRead(t *testing.T) {
	answer := func(r *http.Request, handler func(w http.ResponseWriter, r *http.Request)) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		handler(CloseUnlessBodyRead(rec, r), r)
		return rec
	}
	refuse := func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusUnauthorized) }
	readAll := func(w http.ResponseWriter, r *http.Request) {
		if _, err := io.ReadAll(r.Body); err != nil {
			t.Error(err)
		}
		_, _ = w.Write([]byte("ok")) // a ResponseRecorder: never fails
	}
	readSome := func(w http.ResponseWriter, r *http.Request) {
		_, _ = r.Body.Read(make([]byte, 10)) // a part only: the body stays unread
		w.WriteHeader(http.StatusRequestEntityTooLarge)
	}
	readForm := func(w http.ResponseWriter, r *http.Request) {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Body = http.MaxBytesReader(w, r.Body, MaxFormBytes)
		if err := r.ParseForm(); err != nil {
			t.Errorf("ParseForm: %v", err)
		}
		w.WriteHeader(http.StatusSeeOther)
	}
	for _, c := range []struct {
		name    string
		r       *http.Request
		handler func(http.ResponseWriter, *http.Request)
		close   bool
	}{
		{"refused unread", upload(64), refuse, true},
		{"refused unread, chunked", upload(-1), refuse, true},
		{"read to its end", upload(64), readAll, false},
		{"form read", upload(64), readForm, false},
		{"read in part", upload(64), readSome, true},
		{"no body", httptest.NewRequest("POST", "/", nil), refuse, false},
	} {
		if got := answer(c.r, c.handler).Header().Get("Connection") == "close"; got != c.close {
			t.Errorf("%s: Connection: close %v, want %v", c.name, got, c.close)
		}
	}

	// Without a body the writer and the body are the caller's own.
	rec := httptest.NewRecorder()
	get := httptest.NewRequest("GET", "/", nil)
	body := get.Body
	if w := CloseUnlessBodyRead(rec, get); w != http.ResponseWriter(rec) || get.Body != body {
		t.Fatal("a request without a body was wrapped")
	}

	// A long poll's flush through http.ResponseController decides first,
	// and reaches the writer beneath.
	rec = httptest.NewRecorder()
	r := upload(64)
	w := CloseUnlessBodyRead(rec, r)
	if err := http.NewResponseController(w).Flush(); err != nil || !rec.Flushed {
		t.Fatalf("flush through the wrapper: %v, flushed %v", err, rec.Flushed)
	}
	if rec.Header().Get("Connection") != "close" {
		t.Fatal("a flushed answer to an unread body has no Connection: close")
	}
}
