package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/testfixture/phoneclient"
	"github.com/mfagate/mfagate/internal/testfixture/pushservice"
)

// phoneEnv is a gateway with a portal origin (http://localhost:PORT, a
// site of its own serving mfa_portal) and a fake push service that the
// Caddy process trusts (SSL_CERT_FILE) and that push_hosts allows.
type phoneEnv struct {
	t          *testing.T
	g          *gatewayInstance
	up         *upstream
	portalPort int
	push       *pushservice.Service
	// opts is what the Caddyfile was written from, for reloads.
	opts phoneOptions
}

// phoneOptions vary the phone test config.
type phoneOptions struct {
	// storage is the mfa block's storage line without the keyword;
	// default sqlite in the instance's directory.
	storage string
	// extraMFA are further lines of the mfa block (push_timeout 2s).
	extraMFA string
	// push is the push service to trust; nil starts a new one.
	push *pushservice.Service
}

// phoneCaddyfile renders the phone test config of e.
func (e *phoneEnv) caddyfile() string {
	storage := e.opts.storage
	if storage == "" {
		storage = "sqlite " + filepath.Join(e.g.dir, "mfagate.db")
	}
	return fmt.Sprintf(`{
	admin localhost:%d
	persist_config off
	mfa {
		storage %s
		issuer "Test Corp"
		bcrypt_cost 10
		portal http://localhost:%d
		push_hosts %s
		%s
	}
}

http://localhost:%d {
	mfa_portal
}

:%d {
	mfa_gateway
	reverse_proxy 127.0.0.1:%s
}
`, e.g.adminPort, storage, e.portalPort, e.push.Host(), e.opts.extraMFA, e.portalPort, e.g.httpPort, e.up.port())
}

// newPhoneEnv prepares a phone test gateway without starting it; the
// Caddy processes it starts (server and CLI) trust the push service.
func newPhoneEnv(t *testing.T, up *upstream, opts phoneOptions) *phoneEnv {
	t.Helper()
	ps := opts.push
	if ps == nil {
		ps = pushservice.New(t)
		opts.push = ps
	}
	g := newGatewayInstance(t)
	ca := filepath.Join(g.dir, "push-ca.pem")
	if err := ps.WriteCACert(ca); err != nil {
		t.Fatal(err)
	}
	g.Starter = func(cmd *exec.Cmd) error {
		cmd.Env = append(cmd.Env, "SSL_CERT_FILE="+ca)
		return cmd.Start()
	}
	e := &phoneEnv{t: t, g: g, up: up, portalPort: freePort(t), push: ps, opts: opts}
	g.writeCaddyfile(e.caddyfile())
	t.Cleanup(g.stop)
	return e
}

// startPhoneEnv starts a phone test gateway and waits until it answers.
func startPhoneEnv(t *testing.T, up *upstream, opts phoneOptions) *phoneEnv {
	t.Helper()
	e := newPhoneEnv(t, up, opts)
	e.g.start()
	return e
}

// phoneForceReload reloads the running server with its current Caddyfile
// (`caddy reload --force`: without it an unchanged config is a no-op).
func (e *phoneEnv) phoneForceReload() {
	e.t.Helper()
	out, err := e.g.caddy(nil, "reload", "--force", "--config", "Caddyfile", "--address", fmt.Sprintf("localhost:%d", e.g.adminPort))
	if err != nil {
		e.t.Fatalf("caddy reload --force: %v\n%s", err, out)
	}
}

// portalURL is the portal origin as configured.
func (e *phoneEnv) portalURL() string { return fmt.Sprintf("http://localhost:%d", e.portalPort) }

// phoneReply is a phone API answer.
type phoneReply struct {
	status int
	body   map[string]any
	raw    string
}

func (r phoneReply) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// testPhone is a phone (phoneclient) talking to one portal.
type testPhone struct {
	*phoneclient.Phone
	t      *testing.T
	base   string // the portal origin
	client *http.Client
}

// phoneLoopback is the address phones connect from and to: ::1 where the
// machine has it, so the gateway sees the phone at another address than
// the browsers (127.0.0.1), else 127.0.0.1.
var phoneLoopback = sync.OnceValue(func() string {
	l, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		return "127.0.0.1"
	}
	l.Close()
	return "::1"
})

func (e *phoneEnv) newPhone() *testPhone {
	e.t.Helper()
	p, err := phoneclient.New()
	if err != nil {
		e.t.Fatal(err)
	}
	// The URL names the portal (http://localhost:PORT, which is what is
	// signed and checked); the connection goes to phoneLoopback.
	var d net.Dialer
	transport := &http.Transport{DialContext: func(ctx context.Context, _, addr string) (net.Conn, error) {
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			return nil, err
		}
		return d.DialContext(ctx, "tcp", net.JoinHostPort(phoneLoopback(), port))
	}}
	e.t.Cleanup(transport.CloseIdleConnections)
	return &testPhone{Phone: p, t: e.t, base: e.portalURL(), client: &http.Client{Timeout: 20 * time.Second, Transport: transport}}
}

// on returns the same phone talking to e's portal (another node).
func (p *testPhone) on(e *phoneEnv) *testPhone {
	q := *p
	q.base = e.portalURL()
	return &q
}

func (p *testPhone) url(name string) string { return p.base + "/phone/api/" + name }

func phoneJSON(t *testing.T, v any) []byte {
	t.Helper()
	if b, ok := v.([]byte); ok {
		return b
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send sends req (whose body is body) and reads the JSON answer.
func (p *testPhone) send(req *http.Request, body []byte) phoneReply {
	p.t.Helper()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	res, err := p.client.Do(req)
	if err != nil {
		p.t.Fatalf("%s: %v", req.URL.Path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := phoneReply{status: res.StatusCode, raw: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.body); err != nil {
			p.t.Fatalf("%s: not a JSON object: %q", req.URL.Path, b)
		}
	}
	return out
}

// post sends an unsigned call.
func (p *testPhone) post(name string, body any) phoneReply {
	p.t.Helper()
	b := phoneJSON(p.t, body)
	req, err := http.NewRequest(http.MethodPost, p.url(name), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	return p.send(req, b)
}

// nonce asks the portal for a nonce for this phone.
func (p *testPhone) nonce() string {
	p.t.Helper()
	r := p.post("nonce", map[string]string{"device_id": p.DeviceID()})
	if r.status != http.StatusOK || r.str("nonce") == "" {
		p.t.Fatalf("nonce for device %q: %d %s", p.DeviceID(), r.status, r.raw)
	}
	return r.str("nonce")
}

// signedRequest builds call name signed with nonce, to send with send
// (possibly more than once: a replay).
func (p *testPhone) signedRequest(name string, body []byte, nonce string) *http.Request {
	p.t.Helper()
	req, err := http.NewRequest(http.MethodPost, p.url(name), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := p.Authorize(req, body, nonce); err != nil {
		p.t.Fatal(err)
	}
	return req
}

// callNonce sends a call signed with the given nonce.
func (p *testPhone) callNonce(name string, body any, nonce string) phoneReply {
	p.t.Helper()
	b := phoneJSON(p.t, body)
	return p.send(p.signedRequest(name, b, nonce), b)
}

// call sends a signed call with a fresh nonce from the server.
func (p *testPhone) call(name string, body any) phoneReply {
	p.t.Helper()
	return p.callNonce(name, body, p.nonce())
}

// register sends the registration through pairing token, signed as the
// page does: device "new", the token's proof nonce.
func (p *testPhone) register(token, name string, sub *push.Subscription) phoneReply {
	p.t.Helper()
	in := map[string]any{"token": token, "public_key": p.PublicKeySPKI(), "name": name}
	if sub != nil {
		in["subscription"] = sub
	}
	return p.registerSigned(in, core.ProofDeviceID, core.PairingToken(token).ProofNonce())
}

// registerSigned sends a registration body signed as device id with nonce.
func (p *testPhone) registerSigned(in map[string]any, id, nonce string) phoneReply {
	p.t.Helper()
	body := phoneJSON(p.t, in)
	req, err := http.NewRequest(http.MethodPost, p.url("register"), nil)
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	h, err := p.Sign(devicekey.Request{Method: req.Method, Host: req.Host, Path: req.URL.RequestURI(),
		DeviceID: id, Nonce: nonce, Body: body})
	if err != nil {
		p.t.Fatal(err)
	}
	req.Header.Set("Authorization", h)
	return p.send(req, body)
}

// status is the signed status call: {active, name, device}.
func (p *testPhone) status() phoneReply {
	p.t.Helper()
	return p.call("status", struct{}{})
}

// pending returns the request the phone shows (nil when none), failing
// on anything but 200.
func (p *testPhone) pending() map[string]any {
	p.t.Helper()
	r := p.call("pending", struct{}{})
	if r.status != http.StatusOK {
		p.t.Fatalf("pending: %d %s", r.status, r.raw)
	}
	req, _ := r.body["request"].(map[string]any)
	return req
}

// answer sends a decision on request id (number only for approve).
func (p *testPhone) answer(id, decision, number string) phoneReply {
	p.t.Helper()
	return p.call("answer", map[string]string{"request_id": id, "decision": decision, "number": number})
}

// wantPhoneStatus fails unless r has status; error answers must carry a
// sentence.
func wantPhoneStatus(t *testing.T, what string, r phoneReply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.status, status, r.raw)
	}
	if status >= 400 && r.str("error") == "" {
		t.Fatalf("%s: error without a sentence: %s", what, r.raw)
	}
}

// wantPhoneUnpaired: 401 with the unpaired flag.
func wantPhoneUnpaired(t *testing.T, what string, r phoneReply) {
	t.Helper()
	wantPhoneStatus(t, what, r, http.StatusUnauthorized)
	if r.body["unpaired"] != true {
		t.Fatalf("%s: 401 without unpaired: %s", what, r.raw)
	}
}

// phoneUser is a user with an authenticator app, signed in to Security
// info in sec (fresh second factor), and perhaps a paired phone.
type phoneUser struct {
	e        *phoneEnv
	name, pw string
	secret   string
	used     map[int64]bool // time steps used
	sec      *browser
	phone    *testPhone
}

// newPhoneUser adds a user through the CLI and enrols an authenticator
// app in a new browser on the portal (where Security info lives), which
// stays signed in there as u.sec.
func (e *phoneEnv) newPhoneUser(name string) *phoneUser {
	e.t.Helper()
	pw := name + " password 1"
	e.g.addUser(name, pw, "--name", strings.ToUpper(name[:1])+name[1:]+" Tester")
	u := &phoneUser{e: e, name: name, pw: pw, used: map[int64]bool{}, sec: newPortalBrowser(e.t, e.g, e.portalURL())}
	secret, step := u.sec.enrolled(name, pw)
	u.secret, u.used[step] = secret, true
	return u
}

// nextCode returns an authenticator code of a time step not used yet
// (the server accepts each step once, and steps within one of now),
// waiting for the next step when all three are used.
func (u *phoneUser) nextCode() string {
	u.e.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		now := currentStep()
		for _, s := range []int64{now, now + 1, now - 1} {
			if !u.used[s] {
				u.used[s] = true
				return codeAt(u.e.t, u.secret, s)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	u.e.t.Fatal("no unused time step within 40 s")
	return ""
}

// codeSignIn signs b in with the password and a code.
func (u *phoneUser) codeSignIn(b *browser) {
	u.e.t.Helper()
	p := b.login(u.name, u.pw, "/")
	if p.status != http.StatusSeeOther || (p.location != "/.mfa/verify" && p.location != "/.mfa/push") {
		u.e.t.Fatalf("login %s: %d %q\n%s", u.name, p.status, p.location, p.body)
	}
	p = b.submitCode("/.mfa/verify", u.nextCode())
	if p.status != http.StatusSeeOther {
		u.e.t.Fatalf("code sign-in %s: %d\n%s", u.name, p.status, p.body)
	}
	check := "/signed-in-check"
	if b.origin != "" {
		check = "/.mfa/security" // the portal serves no upstream
	}
	if p := b.get(check); p.status != http.StatusOK {
		u.e.t.Fatalf("after code sign-in %s: %d", u.name, p.status)
	}
}

var pairLinkRE = regexp.MustCompile(`<code class="pair-link">([^<]+)</code>`)

// phonePairingLink opens "add a phone" in Security info and returns the
// link shown and its token.
func (b *browser) phonePairingLink() (link, token string) {
	b.t.Helper()
	p := b.get("/.mfa/security/add?method=phone")
	m := pairLinkRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || m == nil {
		b.t.Fatalf("pairing page: %d\n%s", p.status, p.body)
	}
	link = html.UnescapeString(m[1])
	_, frag, ok := strings.Cut(link, "#t=")
	if !ok || frag == "" {
		b.t.Fatalf("pairing link %q has no #t= token", link)
	}
	return link, frag
}

// confirmPhone enters the phone's code in Security info.
func (b *browser) confirmPhone(code string) page {
	b.t.Helper()
	return b.post("/.mfa/security/phone", url.Values{"code": {code}})
}

// pairPhone pairs a new phone (with push subscription sub, or none) to u
// through u's Security info session and makes the notification the
// default method.
func (u *phoneUser) pairPhone(sub *push.Subscription) *testPhone {
	u.e.t.Helper()
	_, token := u.sec.phonePairingLink()
	ph := u.e.newPhone()
	r := ph.register(token, u.name+"'s phone", sub)
	wantPhoneStatus(u.e.t, "register", r, http.StatusOK)
	ph.SetDeviceID(r.str("device_id"))
	if p := u.sec.confirmPhone(r.str("code")); p.status != http.StatusSeeOther {
		u.e.t.Fatalf("confirm pairing: %d\n%s", p.status, p.body)
	}
	if p := u.sec.post("/.mfa/security/default", url.Values{"method": {"push"}}); p.status != http.StatusSeeOther {
		u.e.t.Fatalf("default method push: %d\n%s", p.status, p.body)
	}
	u.phone = ph
	return ph
}

// newPairedUser is newPhoneUser and pairPhone (without a subscription).
func (e *phoneEnv) newPairedUser(name string) *phoneUser {
	e.t.Helper()
	u := e.newPhoneUser(name)
	u.pairPhone(nil)
	return u
}

var (
	approvalNumberRE = regexp.MustCompile(`<p class="approval-number"[^>]*>\s*(\d+)\s*</p>`)
	approvalWaitRE   = regexp.MustCompile(`data-approval-wait="([^"]+)"`)
)

// approval is a waiting sign-in as the browser shows it.
type approval struct {
	b      *browser
	number int
	id     string
}

// approvalOn reads the number and the request id from a waiting page.
func approvalOn(t *testing.T, p page) approval {
	t.Helper()
	n := approvalNumberRE.FindStringSubmatch(p.body)
	w := approvalWaitRE.FindStringSubmatch(p.body)
	if p.status != http.StatusOK || n == nil || w == nil {
		t.Fatalf("no waiting approval page: %d %q\n%s", p.status, p.location, p.body)
	}
	number, _ := strconv.Atoi(n[1])
	if len(n[1]) != 2 || number < 10 || number > 99 {
		t.Fatalf("approval number %q is not two digits", n[1])
	}
	wait, err := url.Parse(html.UnescapeString(w[1]))
	if err != nil || wait.Path != "/.mfa/push/wait" || wait.Query().Get("id") == "" {
		t.Fatalf("wait address %q", w[1])
	}
	return approval{number: number, id: wait.Query().Get("id")}
}

// startPushSignIn signs a new browser in with u's password and opens the
// approval page, which starts a request.
func (u *phoneUser) startPushSignIn(rd string) approval {
	u.e.t.Helper()
	b := newBrowser(u.e.t, u.e.g)
	p := b.login(u.name, u.pw, rd)
	if p.status != http.StatusSeeOther || p.location != "/.mfa/push" {
		u.e.t.Fatalf("login %s: %d %q, want 303 to /.mfa/push\n%s", u.name, p.status, p.location, p.body)
	}
	a := approvalOn(u.e.t, b.get("/.mfa/push"))
	a.b = b
	return a
}

func (a approval) num() string { return strconv.Itoa(a.number) }

// wrongNum is a two-digit number other than a's.
func (a approval) wrongNum() string { return strconv.Itoa((a.number-10+1)%90 + 10) }

// wait long-polls the request's status; it returns the status and how
// long the poll took.
func (a approval) wait() (string, time.Duration) {
	return phoneWait(a.b, a.id)
}

// phoneWait long-polls GET /.mfa/push/wait?id=id with b's cookies (with a
// client timeout above the server's 25 s).
func phoneWait(b *browser, id string) (string, time.Duration) {
	b.t.Helper()
	c := &http.Client{Jar: b.client.Jar, Timeout: 40 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	res, err := c.Get(b.g.url("/.mfa/push/wait?id=" + url.QueryEscape(id)))
	if err != nil {
		b.t.Fatalf("wait: %v", err)
	}
	defer res.Body.Close()
	var out struct {
		Status string `json:"status"`
	}
	if res.StatusCode != http.StatusOK || json.NewDecoder(res.Body).Decode(&out) != nil {
		b.t.Fatalf("wait: status %d", res.StatusCode)
	}
	return out.Status, time.Since(start)
}

// phoneWaitAsync starts a long-poll and delivers its result.
type waitResult struct {
	status string
	took   time.Duration
	ended  time.Time
}

func phoneWaitAsync(t *testing.T, b *browser, id string) <-chan waitResult {
	ch := make(chan waitResult, 1)
	go func() {
		// A connection of its own: a kept-alive one from the shared pool
		// may be one a reloading server is closing, which a browser
		// retries on a fresh connection but Go's client reports as
		// "connection reset by peer".
		c := &http.Client{Jar: b.client.Jar, Timeout: 40 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		start := time.Now()
		res, err := c.Get(b.g.url("/.mfa/push/wait?id=" + url.QueryEscape(id)))
		r := waitResult{took: time.Since(start), ended: time.Now()}
		if err != nil {
			t.Errorf("wait: %v", err)
			r.status = "error: " + err.Error()
			ch <- r
			return
		}
		defer res.Body.Close()
		var out struct {
			Status string `json:"status"`
		}
		if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
			r.status = fmt.Sprintf("error: status %d: %v", res.StatusCode, err)
		} else {
			r.status = out.Status
		}
		r.took, r.ended = time.Since(start), time.Now()
		ch <- r
	}()
	return ch
}

// completes checks that the approved request completes the sign-in:
// GET /.mfa/push goes on to rd and the upstream sees the user.
func (a approval) completes(t *testing.T, up *upstream, user, rd string) {
	t.Helper()
	p := a.b.get("/.mfa/push")
	if p.status != http.StatusSeeOther || p.location != rd {
		t.Fatalf("approved sign-in: %d %q, want 303 to %s\n%s", p.status, p.location, rd, p.body)
	}
	p = a.b.get(rd)
	wantProxiedAs(t, up, p, user, "after approval")
}

// notSignedIn checks that b is not signed in (the gateway redirects to
// the login page).
func notSignedIn(t *testing.T, b *browser, what string) {
	t.Helper()
	path := "/not-signed-in-check"
	if b.origin != "" {
		path = "/.mfa/security" // the portal serves no upstream
	}
	if p := b.get(path); p.status != http.StatusFound {
		t.Fatalf("%s: status %d, want 302 to sign in\n%s", what, p.status, p.body)
	}
}

// phoneDeadline polls cond every 50 ms until it holds and returns how long
// that took, failing after limit.
func phoneDeadline(t *testing.T, what string, limit time.Duration, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > limit {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}
