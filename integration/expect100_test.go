package integration

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// answerWithin is how long a refused upload may wait for its answer. Go's
// net/http waits 1 s for "100 Continue" before sending the body; an answer
// later than that comes only after the client gave up and started sending.
const answerWithin = time.Second

// rawExchange sends raw (a request's head, often announcing a body it never
// sends) on a fresh connection to addr, and reads the answer. It reports
// how long the answer took and whether the server then closed the
// connection.
func rawExchange(t *testing.T, addr, raw string) (resp *http.Response, took time.Duration, closed bool) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, raw); err != nil {
		t.Fatal(err)
	}
	// Far past answerWithin, so a late answer is measured, not cut off;
	// short of Caddy's own timeouts.
	if err := conn.SetDeadline(start.Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err = http.ReadResponse(br, nil)
	took = time.Since(start)
	if err != nil {
		t.Fatalf("no answer after %v: %v\nrequest:\n%s", took.Round(time.Millisecond), err, raw)
	}
	_, _ = io.Copy(io.Discard, resp.Body) // drained so the connection is reused; the answer is judged already
	resp.Body.Close()
	// After a "Connection: close" answer the server ends the connection;
	// otherwise it waits for the next request (and the read times out).
	if err := conn.SetDeadline(time.Now().Add(answerWithin)); err != nil {
		t.Fatal(err)
	}
	_, err = br.ReadByte()
	return resp, took, err == io.EOF
}

// uploadHead is the head of a request announcing a body: Content-Length
// and Expect: 100-continue, plus the extra header lines.
func uploadHead(method, path, host string, extra ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: upload-test\r\n", method, path, host)
	for _, h := range extra {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("Content-Length: 1048576\r\nExpect: 100-continue\r\n\r\n")
	return b.String()
}

// TestRefusedUploadsAnswerAtOnce: every answer the gateway and the portal
// give without reading an announced request body (a refused upload with
// Expect: 100-continue) comes at once with Connection: close, instead of
// after the client gives up waiting for "100 Continue" and sends the
// whole body (or, for a client that waits, never). Answers that read the
// body, and answers to requests without one, keep the connection.
func TestRefusedUploadsAnswerAtOnce(t *testing.T) {
	e := adminStart(t, "")
	g := e.g
	g.addUser("dana", "dana password 1", "--mfa", "disabled")
	site := fmt.Sprintf("127.0.0.1:%d", g.httpPort)
	portalHost := strings.TrimPrefix(e.portal, "http://")
	portalAddr := strings.Replace(portalHost, "localhost", "127.0.0.1", 1)
	basic := func(user, pw string) string {
		req, _ := http.NewRequest("GET", "/", nil)
		req.SetBasicAuth(user, pw)
		return "Authorization: " + req.Header.Get("Authorization")
	}

	refusals := []struct {
		name   string
		addr   string
		head   string
		status int
	}{
		{"no credentials", site, uploadHead("PUT", "/dav/file.bin", site), 401},
		{"wrong password", site, uploadHead("PUT", "/dav/file.bin", site, basic("dana", "wrong")), 401},
		{"unknown user", site, uploadHead("PUT", "/dav/file.bin", site, basic("nobody", "wrong")), 401},
		{"malformed basic auth", site, uploadHead("PUT", "/dav/file.bin", site, "Authorization: Basic !!!"), 401},
		{"browser without a session", site, uploadHead("POST", "/form", site, "Accept: text/html"), 401},
		{"chunked, no credentials", site, strings.Replace(uploadHead("PUT", "/dav/chunked.bin", site),
			"Content-Length: 1048576", "Transfer-Encoding: chunked", 1), 401},
		{"sign-in page, cross-site post", site, uploadHead("POST", "/.mfa/login", site,
			"Content-Type: application/x-www-form-urlencoded", "Sec-Fetch-Site: cross-site"), 403},
		{"sign-in page, wrong method", site, uploadHead("PUT", "/.mfa/login", site), 405},
		{"portal root redirect", portalAddr, uploadHead("POST", "/", portalHost), 302},
		{"portal sign-in, cross-site post", portalAddr, uploadHead("POST", "/.mfa/login", portalHost,
			"Content-Type: application/x-www-form-urlencoded", "Sec-Fetch-Site: cross-site"), 403},
		{"admin center without a session", portalAddr, uploadHead("POST", "/admin/action", portalHost,
			"Content-Type: application/x-www-form-urlencoded", "Origin: "+e.portal), 0},
		{"phone pages, unknown path", portalAddr, uploadHead("PUT", "/nothing-here", portalHost), 404},
	}
	for _, c := range refusals {
		t.Run(c.name, func(t *testing.T) {
			resp, took, closed := rawExchange(t, c.addr, c.head)
			if took > answerWithin {
				t.Errorf("answer (%d) took %v, want under %v", resp.StatusCode, took.Round(time.Millisecond), answerWithin)
			}
			if c.status != 0 && resp.StatusCode != c.status {
				t.Errorf("status %d, want %d", resp.StatusCode, c.status)
			}
			if resp.StatusCode < 300 {
				t.Errorf("status %d: the refusal let the request through", resp.StatusCode)
			}
			if !resp.Close {
				t.Errorf("no Connection: close")
			}
			// After the answer net/http reads up to 256 KiB of a body
			// looking for its end (a chunked one has none announced) and
			// closes when the client does; a longer one it drops at once.
			if !closed && !strings.Contains(c.head, "chunked") {
				t.Errorf("the connection stayed open")
			}
		})
	}

	// The same refusal without a body keeps the connection: DAV and git
	// clients ask again on it with credentials.
	t.Run("no body keeps the connection", func(t *testing.T) {
		head := fmt.Sprintf("GET /dav/ HTTP/1.1\r\nHost: %s\r\n\r\n", site)
		resp, _, closed := rawExchange(t, site, head)
		if resp.StatusCode != 401 || resp.Close || closed {
			t.Errorf("GET without credentials: %d, Connection: close %v, closed %v; want 401 on a kept connection",
				resp.StatusCode, resp.Close, closed)
		}
	})

	// The signed-in pass-through is untouched: the upload goes upstream
	// and the connection stays open.
	t.Run("signed-in upload passes", func(t *testing.T) {
		req, _ := http.NewRequest("PUT", g.url("/dav/ok.bin"), strings.NewReader(strings.Repeat("x", 70000)))
		req.SetBasicAuth("dana", "dana password 1")
		req.Header.Set("Expect", "100-continue")
		client := &http.Client{Transport: &http.Transport{ExpectContinueTimeout: time.Second}, Timeout: 20 * time.Second}
		defer client.CloseIdleConnections()
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Close {
			t.Fatalf("signed-in upload: %d, Connection: close %v", resp.StatusCode, resp.Close)
		}
		if got := e.up.lastRequest(); got == nil || got.Method != "PUT" || got.Header.Get("Remote-User") != "dana" {
			t.Fatalf("upstream did not get the upload as dana: %v", got)
		}
	})

	// A sign-in form the page reads is answered on a kept connection.
	t.Run("read form keeps the connection", func(t *testing.T) {
		form := url.Values{"username": {"dana"}, "password": {"wrong"}, "rd": {"/"}}.Encode()
		head := fmt.Sprintf("POST /.mfa/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"+
			"Content-Length: %d\r\n\r\n%s", site, len(form), form)
		resp, _, closed := rawExchange(t, site, head)
		if resp.StatusCode >= 500 || resp.Close || closed {
			t.Errorf("sign-in form: %d, Connection: close %v, closed %v; want an answer on a kept connection",
				resp.StatusCode, resp.Close, closed)
		}
	})
}
