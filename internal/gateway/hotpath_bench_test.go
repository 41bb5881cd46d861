package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/policy"
	"github.com/mfagate/mfagate/internal/session"
	"github.com/mfagate/mfagate/internal/signin"
	"github.com/mfagate/mfagate/internal/testfixture"
)

// hotRequest is a request reaching the gateway on every signed-in page
// view or DAV call: typical browser headers, a spoofed identity header,
// and either the session cookie among others or basic credentials. reset
// puts back what Serve changes (the Cookie or Authorization header and the
// spoofed Remote-User) without cloning the headers or allocating, so the
// figures are the gateway's alone.
type hotRequest struct {
	r                    *http.Request
	cookie, auth, spoof  []string
	cookieVal, authValue string
}

func newHotRequest(cookieValue, authorization string) *hotRequest {
	r := httptest.NewRequest("GET", "http://app.example.com/app/page?x=1", nil)
	h := r.Header
	h.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0")
	h.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	h.Set("Accept-Language", "en-GB,en;q=0.5")
	h.Set("Accept-Encoding", "gzip, deflate, br, zstd")
	h.Set("Connection", "keep-alive")
	hr := &hotRequest{r: r, cookie: make([]string, 1), auth: make([]string, 1), spoof: make([]string, 1),
		cookieVal: cookieValue, authValue: authorization}
	hr.reset()
	return hr
}

func (hr *hotRequest) reset() {
	h := hr.r.Header
	if hr.cookieVal != "" {
		hr.cookie[0] = hr.cookieVal
		h["Cookie"] = hr.cookie[:1]
	}
	if hr.authValue != "" {
		hr.auth[0] = hr.authValue
		h["Authorization"] = hr.auth[:1]
	}
	hr.spoof[0] = "admin"
	h["Remote-User"] = hr.spoof[:1]
}

// discard is a ResponseWriter for passes, which write nothing.
type discard struct{ h http.Header }

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(int)             {}

// signedInPass wires a gateway with a complete session in the real
// session cache and returns a request carrying its cookie between two
// cookies of the upstream's.
func signedInPass(tb testing.TB) (*Gateway, *hotRequest) {
	tb.Helper()
	g, sm, u := newGateway(tb, policy.Site{})
	w := httptest.NewRecorder()
	start := httptest.NewRequest("GET", "http://app.example.com/", nil)
	if err := sm.Start(w, start, model.Session{UserID: u.ID, Stage: model.StageComplete, MFAAt: time.Now()}); err != nil {
		tb.Fatal(err)
	}
	c := w.Result().Cookies()[0]
	hr := newHotRequest("theme=dark; "+session.CookieName+"="+c.Value+"; lang=en", "")
	checkPass(tb, g, hr, "gus", "theme=dark; lang=en")
	return g, hr
}

// basicPass wires a gateway whose verifier has an app password's success
// cached (and the sign-in log's hourly success row written).
func basicPass(tb testing.TB) (*Gateway, *hotRequest) {
	tb.Helper()
	ctx := context.Background()
	svc := testfixture.Services(tb)
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "dav", Password: "dav rides a violet tractor", Groups: []string{"ops"}, MFAState: model.MFAEnforced})
	if err != nil {
		tb.Fatal(err)
	}
	ap, err := svc.Core.AppPasswords.Create(ctx, u, "phone", "192.0.2.1")
	if err != nil {
		tb.Fatal(err)
	}
	portal := signin.New(signin.Deps{Deps: svc.Web(nil, nil), Hasher: svc.Hasher}, signin.Config{Issuer: "T"})
	g := New(portal, svc.Sessions, svc.Verifier, svc.Core.Audit, Config{Policy: policy.Site{}, SignInLog: svc.Core.SignInLog})
	auth := httptest.NewRequest("GET", "/", nil)
	auth.SetBasicAuth("dav", ap)
	hr := newHotRequest("", auth.Header.Get("Authorization"))
	checkPass(tb, g, hr, "dav", "")
	return g, hr
}

// checkPass serves hr once and checks that it passed as user with only
// wantCookie left and no credentials or spoofed identity.
func checkPass(tb testing.TB, g *Gateway, hr *hotRequest, user, wantCookie string) {
	tb.Helper()
	hr.reset()
	res, err := g.Serve(&discard{h: http.Header{}}, hr.r)
	h := hr.r.Header
	if err != nil || res.User == nil || res.Handled || h.Get("Remote-User") != user || len(h.Values("Remote-User")) != 1 ||
		h.Get("Remote-Groups") != "ops" || h.Get("Cookie") != wantCookie || h.Get("Authorization") != "" {
		tb.Fatalf("pass: %+v %v: %v", res, err, h)
	}
}

// BenchmarkSignedInPass: the gateway's work on a signed-in request whose
// session is cached (configuration B's steady state): cookie in, identity
// headers out, our cookie removed, the client's Remote-User dropped.
func BenchmarkSignedInPass(b *testing.B) {
	g, hr := signedInPass(b)
	benchPass(b, g, hr)
}

// BenchmarkBasicPass: the same for an app password in basic auth whose
// success is cached (configuration C's steady state).
func BenchmarkBasicPass(b *testing.B) {
	g, hr := basicPass(b)
	benchPass(b, g, hr)
}

// benchPass serves hr over and over. Besides ns/op (wall time, which a
// busy shared machine inflates) it reports cpu-ns/op: the benchmark
// thread's own CPU time per pass.
func benchPass(b *testing.B, g *Gateway, hr *hotRequest) {
	w := &discard{h: http.Header{}}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	b.ReportAllocs()
	n, cpu0 := 0, threadCPU()
	for b.Loop() {
		hr.reset()
		if res, _ := g.Serve(w, hr.r); res.User == nil {
			b.Fatal("not passed")
		}
		n++
	}
	if cpu1 := threadCPU(); cpu0 >= 0 && cpu1 >= 0 && n > 0 {
		b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
	}
}
