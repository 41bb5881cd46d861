package web

import (
	"io"
	"net/http"
)

// A client that sends "Expect: 100-continue" waits for "100 Continue"
// before it sends its body. net/http knows to close the connection when a
// handler answers without reading such a body, but only while the body is
// its own reader: Caddy wraps every request body (for its idle timeouts),
// so net/http instead reads and discards the unread body before sending
// the answer, and the client, still waiting for "100 Continue", hears
// nothing until it gives up waiting (curl: after 1 s, then uploading the
// whole body; a client that keeps waiting: never). An answer that leaves
// the body unread therefore says "Connection: close" itself: net/http then
// sends it at once and ends the connection instead of draining the body.
//
// Only HTTP/1.x: HTTP/2 and HTTP/3 end an unread stream on their own, and
// there "Connection: close" would end every other request on the
// connection too.

// CloseUnreadBody marks the answer about to be written to w (by this
// handler or, for an error returned to Caddy, by Caddy) as one that does
// not read r's body: if r announced a body, the answer closes the
// connection.
func CloseUnreadBody(w http.ResponseWriter, r *http.Request) {
	if announcesBody(r) {
		w.Header().Set("Connection", "close")
	}
}

// CloseUnlessBodyRead returns the writer for an answer that may or may not
// read r's body (a page that reads its form, or refuses first): when r
// announced a body, r.Body is replaced by a reader that notes its end, and
// the returned writer adds "Connection: close" to an answer that starts
// before the body was read to its end. A request without a body gets w
// itself, at no cost.
func CloseUnlessBodyRead(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if !announcesBody(r) {
		return w
	}
	body := &endNotingBody{ReadCloser: r.Body}
	r.Body = body
	return &unreadBodyCloser{ResponseWriter: w, body: body}
}

// announcesBody: an HTTP/1.x request with a Content-Length other than 0,
// or a chunked one (-1). net/http sets 0 for a request without a body.
func announcesBody(r *http.Request) bool {
	return r.ProtoMajor == 1 && r.ContentLength != 0
}

// endNotingBody is a request body that notes whether it was read to its end.
type endNotingBody struct {
	io.ReadCloser
	sawEOF bool
}

func (b *endNotingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.sawEOF = true
	}
	return n, err
}

// unreadBodyCloser decides, when the answer starts, whether the body was
// read: if not, the answer says "Connection: close".
type unreadBodyCloser struct {
	http.ResponseWriter
	body    *endNotingBody
	started bool
}

func (u *unreadBodyCloser) start() {
	if u.started {
		return
	}
	u.started = true
	if !u.body.sawEOF {
		u.ResponseWriter.Header().Set("Connection", "close")
	}
}

func (u *unreadBodyCloser) WriteHeader(code int) {
	if code >= 200 { // 1xx answers are not the answer
		u.start()
	}
	u.ResponseWriter.WriteHeader(code)
}

func (u *unreadBodyCloser) Write(p []byte) (int, error) {
	u.start()
	return u.ResponseWriter.Write(p)
}

// FlushError lets http.ResponseController flush (long polls) through the
// wrapper, deciding first as a write would.
func (u *unreadBodyCloser) FlushError() error {
	u.start()
	return http.NewResponseController(u.ResponseWriter).Flush()
}

// Unwrap gives http.ResponseController the writer beneath.
func (u *unreadBodyCloser) Unwrap() http.ResponseWriter { return u.ResponseWriter }
