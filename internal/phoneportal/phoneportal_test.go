package phoneportal

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap/zaptest"

	"github.com/mfagate/mfagate/internal/core"
	"github.com/mfagate/mfagate/internal/devicekey"
	"github.com/mfagate/mfagate/internal/model"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/testfixture"
	"github.com/mfagate/mfagate/internal/testfixture/phoneclient"
	"github.com/mfagate/mfagate/internal/wiring"
	"github.com/mfagate/mfagate/loginui"
)

const testVAPID = "BKxvz0L1mZ0pSLAn0Zf8QT2gZtPDk6oLr1u4XR0E3Q4u1v6iSxP6yHk8bC9QJmF7nV2s3a4b5c6d7e8f9g0h1i2"

// env is a phone portal on a real SQLite store, served over HTTP, with
// one user.
type env struct {
	t    *testing.T
	ctx  context.Context
	svc  *wiring.Services
	h    *Handler
	srv  *httptest.Server
	user *model.User
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, testfixture.Services(t))
}

// newEnvDigits is newEnv whose sign-in requests show numbers of digits
// digits (push_number_digits).
func newEnvDigits(t *testing.T, digits int) *env {
	t.Helper()
	return newEnvWith(t, testfixture.ServicesWith(t, wiring.Options{Push: wiring.PushOptions{NumberDigits: digits}}))
}

func newEnvWith(t *testing.T, svc *wiring.Services) *env {
	t.Helper()
	h := New(Deps{Core: svc.Core, UI: svc.UI, Logger: zaptest.NewLogger(t)},
		Config{Issuer: "Example Corp", VAPIDPublicKey: testVAPID})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ctx := context.Background()
	u, err := svc.Core.Accounts.Add(ctx, core.NewUser{Username: "alice", DisplayName: "Alice Example", Password: "a long enough password"})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, svc: svc, h: h, srv: srv, user: u}
}

func sessionHash(name string) []byte {
	h := sha256.Sum256([]byte(name))
	return h[:]
}

// reply is an API answer: status and decoded JSON (and the raw body).
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *env) do(req *http.Request) reply {
	e.t.Helper()
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := reply{status: res.StatusCode, header: res.Header, raw: string(b)}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(b, &out.body); err != nil {
			e.t.Fatalf("%s: body is not a JSON object: %q", req.URL.Path, b)
		}
	}
	return out
}

// post sends an unsigned API call.
func (e *env) post(name, body string) reply {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/"+name, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return e.do(req)
}

func (e *env) get(path string) reply {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	return e.do(req)
}

// nonce fetches a nonce for device id.
func (e *env) nonce(id string) string {
	e.t.Helper()
	r := e.post("nonce", `{"device_id":"`+id+`"}`)
	if r.status != http.StatusOK {
		e.t.Fatalf("nonce: %d %s", r.status, r.raw)
	}
	return r.body["nonce"].(string)
}

// signedWith sends a call signed by phone with nonce ("" = a fresh one
// from the server).
func (e *env) signedWith(p *phoneclient.Phone, name, body, nonce string) reply {
	e.t.Helper()
	if nonce == "" {
		nonce = e.nonce(p.DeviceID())
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/"+name, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if err := p.Authorize(req, []byte(body), nonce); err != nil {
		e.t.Fatal(err)
	}
	return e.do(req)
}

func (e *env) signed(p *phoneclient.Phone, name, body string) reply {
	e.t.Helper()
	return e.signedWith(p, name, body, "")
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// register sends the registration of a new phone through token, signed
// as the page does, and returns the reply.
func (e *env) register(p *phoneclient.Phone, token core.PairingToken, extra map[string]any) reply {
	e.t.Helper()
	in := map[string]any{"token": string(token), "public_key": p.PublicKeySPKI(), "name": "Test phone"}
	for k, v := range extra {
		in[k] = v
	}
	body := mustJSON(e.t, in)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h, err := p.Sign(devicekey.Request{Method: "POST", Host: req.Host, Path: req.URL.RequestURI(),
		DeviceID: core.ProofDeviceID, Nonce: token.ProofNonce(), Body: []byte(body)})
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", h)
	return e.do(req)
}

// pair registers a new phone for the user and returns it (inactive) with
// its code and the pairing session.
func (e *env) pair() (*phoneclient.Phone, string, []byte) {
	e.t.Helper()
	sess := sessionHash("security-info-" + strconv.FormatInt(time.Now().UnixNano(), 10))
	token, err := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sess)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := phoneclient.New()
	if err != nil {
		e.t.Fatal(err)
	}
	r := e.register(p, token, nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("register: %d %s", r.status, r.raw)
	}
	id, _ := r.body["device_id"].(string)
	code, _ := r.body["code"].(string)
	if _, err := strconv.ParseInt(id, 10, 64); err != nil {
		e.t.Fatalf("device_id %q", id)
	}
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(code) {
		e.t.Fatalf("code %q", code)
	}
	p.SetDeviceID(id)
	return p, code, sess
}

// paired returns an active phone.
func (e *env) paired() *phoneclient.Phone {
	e.t.Helper()
	p, code, sess := e.pair()
	if _, err := e.svc.Core.Phones.Confirm(e.ctx, e.user, sess, code, "192.0.2.1"); err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) request(site string) *model.Approval {
	e.t.Helper()
	ap, err := e.svc.Core.Approvals.Request(e.ctx, e.user, sessionHash("signin-"+site),
		core.Context{Site: site, RemoteIP: "198.51.100.23", UserAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"})
	if err != nil {
		e.t.Fatal(err)
	}
	return ap
}

func wantStatus(t *testing.T, what string, r reply, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.raw)
	}
	if r.status >= 400 {
		if msg, _ := r.body["error"].(string); msg == "" {
			t.Errorf("%s: error without a sentence: %s", what, r.raw)
		}
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("%s: Cache-Control %q", what, r.header.Get("Cache-Control"))
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("%s: no nosniff", what)
	}
}

func wantUnpaired(t *testing.T, what string, r reply) {
	t.Helper()
	wantStatus(t, what, r, http.StatusUnauthorized)
	if r.body["unpaired"] != true || r.body["error"] != "This phone is no longer paired: remove it in Security info and pair again" {
		t.Fatalf("%s: %s", what, r.raw)
	}
}

// containsValue reports whether the JSON value v holds a string or number
// equal to s anywhere.
func containsValue(v any, s string) bool {
	switch v := v.(type) {
	case string:
		return v == s
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64) == s
	case map[string]any:
		for k, x := range v {
			if k == "number" || containsValue(x, s) {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if containsValue(x, s) {
				return true
			}
		}
	}
	return false
}

func TestPairAndApprove(t *testing.T) {
	e := newEnv(t)
	p, code, sess := e.pair()

	r := e.signed(p, "status", `{}`)
	wantStatus(t, "status before confirmation", r, http.StatusOK)
	if r.body["active"] != false || r.body["name"] != "" || r.body["account"] != "" || r.body["device"] != "Test phone" {
		t.Fatalf("status before confirmation: %s", r.raw)
	}
	// A phone waiting for its code sees no requests.
	wantUnpaired(t, "pending before confirmation", e.signed(p, "pending", `{}`))

	if _, err := e.svc.Core.Phones.Confirm(e.ctx, e.user, sess, code, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	r = e.signed(p, "status", `{}`)
	wantStatus(t, "status", r, http.StatusOK)
	// The app page says which account it answers for: name and username.
	if r.body["active"] != true || r.body["name"] != "Alice Example" || r.body["account"] != "alice" {
		t.Fatalf("status after confirmation: %s", r.raw)
	}

	r = e.signed(p, "pending", `{}`)
	wantStatus(t, "pending", r, http.StatusOK)
	if v, ok := r.body["request"]; !ok || v != nil {
		t.Fatalf("pending with no request: %s", r.raw)
	}

	ap := e.request("app.example.com")
	r = e.signed(p, "pending", `{}`)
	wantStatus(t, "pending", r, http.StatusOK)
	req, _ := r.body["request"].(map[string]any)
	if req == nil {
		t.Fatalf("no request: %s", r.raw)
	}
	for k, want := range map[string]string{"id": ap.ID, "issuer": "Example Corp", "site": "app.example.com",
		"ip": "198.51.100.23", "agent": "Firefox on Linux"} {
		if req[k] != want {
			t.Errorf("request.%s = %v, want %q", k, req[k], want)
		}
	}
	for _, k := range []string{"created", "expires"} {
		s, _ := req[k].(string)
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil || !strings.HasSuffix(s, "Z") {
			t.Errorf("request.%s = %q: not RFC 3339 UTC", k, s)
		}
		if d := time.Since(tm); d > time.Minute || d < -2*time.Minute {
			t.Errorf("request.%s = %q is far from now", k, s)
		}
	}
	// How many digits the number has (for the phone's input), never the
	// number.
	if req["digits"] != float64(2) {
		t.Errorf("request.digits = %v, want 2", req["digits"])
	}
	if len(req) != 8 {
		t.Errorf("request has fields %v", req)
	}
	if containsValue(r.body, strconv.Itoa(ap.Number)) {
		t.Fatalf("pending shows the number %d: %s", ap.Number, r.raw)
	}

	r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": strconv.Itoa(ap.Number)}))
	wantStatus(t, "answer", r, http.StatusOK)
	if r.body["status"] != "approved" {
		t.Fatalf("answer: %s", r.raw)
	}
	got, err := e.svc.Core.Approvals.ForSession(e.ctx, sessionHash("signin-app.example.com"))
	if err != nil || got == nil || got.Status != model.ApprovalApproved {
		t.Fatalf("request after approval: %+v, %v", got, err)
	}
	// Answered: nothing pending, and a second answer is refused.
	if r := e.signed(p, "pending", `{}`); r.body["request"] != nil {
		t.Fatalf("still pending: %s", r.raw)
	}
	r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "deny", "number": ""}))
	wantStatus(t, "second answer", r, http.StatusConflict)
	if r.body["gone"] != true {
		t.Errorf("second answer: %s", r.raw)
	}
}

func TestAnswers(t *testing.T) {
	e := newEnv(t)
	p := e.paired()

	ap := e.request("wrong.example.com")
	wrong := (ap.Number-10+1)%90 + 10
	r := e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": strconv.Itoa(wrong)}))
	wantStatus(t, "wrong number", r, http.StatusOK)
	if r.body["status"] != string(model.ApprovalWrongNumber) {
		t.Fatalf("wrong number: %s", r.raw)
	}

	ap = e.request("deny.example.com")
	for _, bad := range []map[string]string{
		{"request_id": ap.ID, "decision": "approve", "number": "7"},
		{"request_id": ap.ID, "decision": "approve", "number": "123"},
		{"request_id": ap.ID, "decision": "approve", "number": "1a"},
		{"request_id": ap.ID, "decision": "deny", "number": "12"},
		{"request_id": ap.ID, "decision": "Approve", "number": "12"},
		{"request_id": "", "decision": "deny", "number": ""},
		{"request_id": "a b", "decision": "deny", "number": ""},
	} {
		wantStatus(t, "answer "+mustJSON(t, bad), e.signed(p, "answer", mustJSON(t, bad)), http.StatusBadRequest)
	}
	// None of those voided the request.
	r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "deny", "number": ""}))
	wantStatus(t, "deny", r, http.StatusOK)
	if r.body["status"] != "denied" {
		t.Fatalf("deny: %s", r.raw)
	}

	r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": "no-such-request", "decision": "deny", "number": ""}))
	wantStatus(t, "unknown request", r, http.StatusConflict)

	ap = e.request("report.example.com")
	r = e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "report", "number": ""}))
	wantStatus(t, "report", r, http.StatusOK)
	if r.body["status"] != "reported" {
		t.Fatalf("report: %s", r.raw)
	}
	u, err := e.svc.Core.Accounts.ByID(e.ctx, e.user.ID)
	if err != nil || u.BlockedAt.IsZero() {
		t.Fatalf("reporting did not block the account: %+v %v", u, err)
	}
}

func TestAnotherUsersRequest(t *testing.T) {
	e := newEnv(t)
	p := e.paired()
	bob, err := e.svc.Core.Accounts.Add(e.ctx, core.NewUser{Username: "bob", Password: "another long password"})
	if err != nil {
		t.Fatal(err)
	}
	alice := e.user
	e.user = bob
	bobPhone := e.paired()
	ap := e.request("bob.example.com")
	e.user = alice
	if r := e.signed(p, "pending", `{}`); r.body["request"] != nil {
		t.Fatalf("alice's phone sees bob's request: %s", r.raw)
	}
	r := e.signed(p, "answer", mustJSON(t, map[string]string{"request_id": ap.ID, "decision": "approve", "number": strconv.Itoa(ap.Number)}))
	wantStatus(t, "answering another user's request", r, http.StatusConflict)
	if r := e.signed(bobPhone, "pending", `{}`); r.body["request"] == nil {
		t.Fatalf("bob's request went away: %s", r.raw)
	}
}

func TestSignedCallsRefused(t *testing.T) {
	e := newEnv(t)
	p := e.paired()
	other := e.paired()

	// A nonce is single use.
	nonce := e.nonce(p.DeviceID())
	wantStatus(t, "first use", e.signedWith(p, "status", `{}`, nonce), http.StatusOK)
	r := e.signedWith(p, "status", `{}`, nonce)
	wantStatus(t, "replayed nonce", r, http.StatusUnauthorized)
	if r.body["unpaired"] == true {
		t.Errorf("replay said unpaired: %s", r.raw)
	}
	if r.header.Get("WWW-Authenticate") != "MFA-Device" {
		t.Errorf("WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
	}

	// A nonce never issued.
	wantStatus(t, "made-up nonce", e.signedWith(p, "status", `{}`, "made-up-nonce"), http.StatusUnauthorized)

	// Signed by another device's key, in p's name, with p's nonce.
	impostor, _ := phoneclient.New()
	impostor.SetDeviceID(p.DeviceID())
	wantStatus(t, "other key", e.signedWith(impostor, "status", `{}`, e.nonce(p.DeviceID())), http.StatusUnauthorized)
	// A paired device signing as another paired device.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/pending", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	h, _ := other.Sign(devicekey.Request{Method: "POST", Host: req.Host, Path: "/phone/api/pending",
		DeviceID: p.DeviceID(), Nonce: e.nonce(p.DeviceID()), Body: []byte(`{}`)})
	req.Header.Set("Authorization", h)
	wantStatus(t, "signed by another device", e.do(req), http.StatusUnauthorized)
	// Another device's nonce, signed correctly by p.
	wantStatus(t, "another device's nonce", e.signedWith(p, "status", `{}`, e.nonce(other.DeviceID())), http.StatusUnauthorized)

	// The signature covers the body, the path and the host.
	nonce = e.nonce(p.DeviceID())
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/pending", strings.NewReader(`{ }`))
	req.Header.Set("Content-Type", "application/json")
	_ = p.Authorize(req, []byte(`{}`), nonce)
	wantStatus(t, "body changed", e.do(req), http.StatusUnauthorized)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/pending?x=1", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	h, _ = p.Sign(devicekey.Request{Method: "POST", Host: req.Host, Path: "/phone/api/pending", Nonce: nonce, Body: []byte(`{}`)})
	req.Header.Set("Authorization", h)
	wantStatus(t, "path changed", e.do(req), http.StatusUnauthorized)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/pending", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	h, _ = p.Sign(devicekey.Request{Method: "POST", Host: "evil.example", Path: "/phone/api/pending", Nonce: nonce, Body: []byte(`{}`)})
	req.Header.Set("Authorization", h)
	wantStatus(t, "host changed", e.do(req), http.StatusUnauthorized)
	// None of the refused calls used the nonce.
	wantStatus(t, "nonce still good", e.signedWith(p, "pending", `{}`, nonce), http.StatusOK)

	// Unsigned, malformed, or doubly signed.
	wantStatus(t, "unsigned", e.post("pending", `{}`), http.StatusUnauthorized)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/pending", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", `MFA-Device id="1", nonce="x"`)
	wantStatus(t, "malformed", e.do(req), http.StatusUnauthorized)
	req, _ = http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/pending", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	_ = p.Authorize(req, []byte(`{}`), e.nonce(p.DeviceID()))
	req.Header.Add("Authorization", req.Header.Get("Authorization"))
	wantStatus(t, "two headers", e.do(req), http.StatusBadRequest)
}

func TestUnknownDevice(t *testing.T) {
	e := newEnv(t)
	// Any id gets a nonce, shaped like a paired phone's: the answer does
	// not tell which phones exist. Using it says the phone is unpaired.
	p := e.paired()
	known, unknown := e.post("nonce", `{"device_id":"`+p.DeviceID()+`"}`), e.post("nonce", `{"device_id":"99999"}`)
	wantStatus(t, "nonce of unknown device", unknown, http.StatusOK)
	if k, u := known.body["nonce"].(string), unknown.body["nonce"].(string); len(k) != len(u) || u == "" || len(known.raw) != len(unknown.raw) {
		t.Errorf("nonces differ in shape: paired %q, unknown %q", known.raw, unknown.raw)
	}
	ghost, _ := phoneclient.New()
	ghost.SetDeviceID("99999")
	wantUnpaired(t, "call of unknown device with its nonce", e.signedWith(ghost, "pending", `{}`, unknown.body["nonce"].(string)))
	wantUnpaired(t, "call of unknown device", e.signedWith(ghost, "pending", `{}`, "some-nonce"))

	// A removed phone learns that it is unpaired, from its signed call.
	id, _ := strconv.ParseInt(p.DeviceID(), 10, 64)
	nonce := e.nonce(p.DeviceID())
	if err := e.svc.Core.Phones.Remove(e.ctx, e.user, id, false, nil, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	wantUnpaired(t, "removed phone", e.signedWith(p, "status", `{}`, nonce))
	wantUnpaired(t, "removed phone, fresh nonce", e.signed(p, "status", `{}`))

	for _, bad := range []string{`{"device_id":"0"}`, `{"device_id":"-1"}`, `{"device_id":"01"}`, `{"device_id":"x"}`, `{"device_id":1}`, `{}`} {
		wantStatus(t, "nonce "+bad, e.post("nonce", bad), http.StatusBadRequest)
	}
}

// Nonces are limited per client address, not per device id: one address
// asking for too many is refused for the window; another is not.
func TestNonceRateLimitedPerAddress(t *testing.T) {
	e := newEnv(t)
	e.h.clientIP = func(r *http.Request) string { return r.Header.Get("X-Test-Client") }
	ask := func(addr, id string) reply {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/nonce", strings.NewReader(`{"device_id":"`+id+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Test-Client", addr)
		return e.do(req)
	}
	for i := range nonceLimit {
		if r := ask("198.51.100.7", strconv.Itoa(i+1)); r.status != http.StatusOK {
			t.Fatalf("nonce %d: %d %s", i, r.status, r.raw)
		}
	}
	r := ask("198.51.100.7", "1")
	wantStatus(t, "nonce over the limit", r, http.StatusTooManyRequests)
	if r.header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	wantStatus(t, "another address", ask("198.51.100.8", "1"), http.StatusOK)
	e.h.now = func() time.Time { return time.Now().Add(nonceWindow) }
	wantStatus(t, "next window", ask("198.51.100.7", "1"), http.StatusOK)
}

// Asking for nonces stores nothing, so nobody can use up a device's
// nonces by asking for many: one fetched before a hundred others still
// signs a call, and once only.
func TestNoncesCannotBeExhausted(t *testing.T) {
	e := newEnv(t)
	p := e.paired()
	first := e.nonce(p.DeviceID())
	for i := 0; i < 100; i++ {
		if r := e.post("nonce", `{"device_id":"`+p.DeviceID()+`"}`); r.status != http.StatusOK {
			t.Fatalf("nonce %d: status %d", i, r.status)
		}
	}
	wantStatus(t, "call with the first nonce", e.signedWith(p, "status", `{}`, first), http.StatusOK)
	if r := e.signedWith(p, "status", `{}`, first); r.status == http.StatusOK {
		t.Fatal("a nonce passed twice")
	}
}

// subscription returns a well-formed push subscription at endpoint.
func subscription(t *testing.T, endpoint string) map[string]string {
	t.Helper()
	k, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return map[string]string{
		"endpoint": endpoint,
		"p256dh":   base64.RawURLEncoding.EncodeToString(k.PublicKey().Bytes()),
		"auth":     base64.RawURLEncoding.EncodeToString(auth),
	}
}

func TestRegister(t *testing.T) {
	e := newEnv(t)
	token, err := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sessionHash("s1"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := phoneclient.New()

	// A push service outside the allowed ones is refused before anything
	// is stored, so the link still works.
	r := e.register(p, token, map[string]any{"subscription": subscription(t, "https://push.evil.example/x")})
	wantStatus(t, "foreign push endpoint", r, http.StatusBadRequest)
	if r.body["push_refused"] != true || !strings.Contains(r.raw, "push.evil.example") {
		t.Errorf("foreign push endpoint: %s", r.raw)
	}
	r = e.register(p, token, map[string]any{"subscription": map[string]string{"endpoint": "https://fcm.googleapis.com/x", "p256dh": "AAAA", "auth": "AAAA"}})
	wantStatus(t, "bad push keys", r, http.StatusBadRequest)
	r = e.register(p, token, map[string]any{"subscription": map[string]any{"endpoint": "https://fcm.googleapis.com/x", "keys": map[string]string{}}})
	wantStatus(t, "subscription with unknown fields", r, http.StatusBadRequest)

	// Refused: bad names and keys, wrong signatures.
	for name, want := range map[string]string{
		strings.Repeat("x", 65): "shorter",
		"bad\u202ename":         "U+202E",
	} {
		r := e.register(p, token, map[string]any{"name": name})
		wantStatus(t, "name "+name, r, http.StatusBadRequest)
		if !strings.Contains(r.raw, want) {
			t.Errorf("name %q: %s", name, r.raw)
		}
	}
	wantStatus(t, "bad key", e.register(p, token, map[string]any{"public_key": "AAAA"}), http.StatusBadRequest)
	wantStatus(t, "undecodable key", e.register(p, token, map[string]any{"public_key": "***"}), http.StatusBadRequest)
	other, _ := phoneclient.New()
	wantStatus(t, "key of another phone", e.register(p, token, map[string]any{"public_key": other.PublicKeySPKI()}), http.StatusUnauthorized)
	wantStatus(t, "bad token", e.register(p, token, map[string]any{"token": "a b"}), http.StatusBadRequest)
	unsigned, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/register",
		strings.NewReader(mustJSON(t, map[string]string{"token": string(token), "public_key": p.PublicKeySPKI()})))
	unsigned.Header.Set("Content-Type", "application/json")
	wantStatus(t, "unsigned registration", e.do(unsigned), http.StatusUnauthorized)

	// The proof must be made with the token's nonce and id "new".
	body := mustJSON(t, map[string]string{"token": string(token), "public_key": p.PublicKeySPKI()})
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/register", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	h, _ := p.Sign(devicekey.Request{Method: "POST", Host: req.Host, Path: "/phone/api/register", DeviceID: "new", Nonce: "other-nonce", Body: []byte(body)})
	req.Header.Set("Authorization", h)
	wantStatus(t, "wrong proof nonce", e.do(req), http.StatusUnauthorized)

	// An allowed push service: paired with push.
	r = e.register(p, token, map[string]any{"subscription": subscription(t, "https://fcm.googleapis.com/fcm/send/abc")})
	wantStatus(t, "register", r, http.StatusOK)
	if r.body["push"] != true {
		t.Errorf("register: %s", r.raw)
	}
	ds, err := e.svc.Core.Phones.Devices(e.ctx, e.user.ID)
	if err != nil || len(ds) != 1 || ds[0].Push == nil || ds[0].Active || ds[0].Name != "Test phone" {
		t.Fatalf("devices after registration: %+v %v", ds, err)
	}

	// The link takes two more phones, then no more.
	for i := 2; i <= model.MaxPairingPhones; i++ {
		more, _ := phoneclient.New()
		wantStatus(t, fmt.Sprintf("phone %d on the link", i), e.register(more, token, nil), http.StatusOK)
	}
	again, _ := phoneclient.New()
	r = e.register(again, token, nil)
	wantStatus(t, "link used up", r, http.StatusNotFound)
	if !strings.Contains(r.raw, "not valid any more") {
		t.Errorf("link used up: %s", r.raw)
	}
}

// Whoever reads the install manifest's address (from an access log, say)
// and registers first through its link cannot lock the user's own phone
// out: the user's phone still registers, the code the user types (the one
// their phone shows) activates it, and the reader's phone is dropped.
func TestLinkReadFromALogCannotLockOutTheUsersPhone(t *testing.T) {
	e := newEnv(t)
	sess := sessionHash("security-info")
	token, err := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sess)
	if err != nil {
		t.Fatal(err)
	}
	// The user's phone asks for its install manifest: the address is what
	// a log shows.
	logged, _ := e.post("install", mustJSON(t, map[string]string{"token": string(token)})).body["manifest"].(string)
	if strings.Contains(logged, string(token)) {
		t.Fatalf("the manifest address %q holds the token", logged)
	}
	// The reader fetches it, takes the token from start_url and registers
	// first.
	var m webManifest
	if r := e.get(logged); r.status != http.StatusOK || json.Unmarshal([]byte(r.raw), &m) != nil {
		t.Fatalf("manifest: %d %s", r.status, r.raw)
	}
	stolen := core.PairingToken(strings.TrimPrefix(m.StartURL, "/phone/pair#t="))
	reader, _ := phoneclient.New()
	rr := e.register(reader, stolen, nil)
	wantStatus(t, "reader's registration", rr, http.StatusOK)
	reader.SetDeviceID(rr.body["device_id"].(string))

	// The user's own phone, opened from the Home Screen, still registers.
	own, _ := phoneclient.New()
	ro := e.register(own, token, nil)
	wantStatus(t, "user's own phone after the reader", ro, http.StatusOK)
	own.SetDeviceID(ro.body["device_id"].(string))
	if ro.body["code"] == rr.body["code"] {
		t.Fatal("two phones of one link show the same code")
	}

	// The user types the code their phone shows.
	d, err := e.svc.Core.Phones.Confirm(e.ctx, e.user, sess, ro.body["code"].(string), "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if strconv.FormatInt(d.ID, 10) != own.DeviceID() || !d.Active {
		t.Fatalf("confirmed %+v, want the user's phone %s", d, own.DeviceID())
	}
	if r := e.signed(own, "status", `{}`); r.status != http.StatusOK || r.body["active"] != true {
		t.Errorf("user's phone: %d %s", r.status, r.raw)
	}
	wantUnpaired(t, "reader's phone", e.signed(reader, "status", `{}`))
	if ds, _ := e.svc.Core.Phones.Devices(e.ctx, e.user.ID); len(ds) != 1 {
		t.Errorf("devices after confirmation: %+v", ds)
	}
	// The manifest went with its link.
	if r := e.get(logged); r.status != http.StatusNotFound {
		t.Errorf("manifest after confirmation: %d", r.status)
	}
}

func TestSubscription(t *testing.T) {
	e := newEnv(t)
	p := e.paired()
	r := e.signed(p, "subscription", mustJSON(t, map[string]any{"subscription": subscription(t, "https://updates.push.services.mozilla.com/wpush/v2/x")}))
	wantStatus(t, "subscription", r, http.StatusOK)
	if r.body["ok"] != true {
		t.Fatalf("subscription: %s", r.raw)
	}
	ds, _ := e.svc.Core.Phones.Devices(e.ctx, e.user.ID)
	if len(ds) != 1 || ds[0].Push == nil {
		t.Fatalf("subscription not stored: %+v", ds)
	}
	r = e.signed(p, "subscription", mustJSON(t, map[string]any{"subscription": subscription(t, "http://127.0.0.1:9/x")}))
	wantStatus(t, "foreign subscription", r, http.StatusBadRequest)
	wantStatus(t, "no subscription", e.signed(p, "subscription", `{}`), http.StatusBadRequest)
}

func TestBadRequests(t *testing.T) {
	e := newEnv(t)
	p := e.paired()
	send := func(name, ctype, body string) reply {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/"+name, strings.NewReader(body))
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		return e.do(req)
	}
	id := p.DeviceID()
	for _, c := range []struct {
		name, ctype, body string
		status            int
	}{
		{"nonce", "application/json", `{"device_id":`, http.StatusBadRequest},
		{"nonce", "application/json", `not json`, http.StatusBadRequest},
		{"nonce", "application/json", ``, http.StatusBadRequest},
		{"nonce", "application/json", `[]`, http.StatusBadRequest},
		{"nonce", "application/json", `{"device_id":"` + id + `","extra":1}`, http.StatusBadRequest},
		{"nonce", "application/json", `{"device_id":"` + id + `"} {}`, http.StatusBadRequest},
		{"nonce", "application/json", `{"device_id":"` + id + `"}` + strings.Repeat(" ", MaxBodyBytes), http.StatusRequestEntityTooLarge},
		{"config", "application/json", `{"x":1}`, http.StatusBadRequest},
		{"nonce", "text/plain", `{"device_id":"` + id + `"}`, http.StatusUnsupportedMediaType},
		{"nonce", "application/x-www-form-urlencoded", `device_id=1`, http.StatusUnsupportedMediaType},
		{"nonce", "", `{"device_id":"` + id + `"}`, http.StatusUnsupportedMediaType},
		{"nonce", "application/jsonx", `{"device_id":"` + id + `"}`, http.StatusUnsupportedMediaType},
		{"nope", "application/json", `{}`, http.StatusNotFound},
		{"", "application/json", `{}`, http.StatusNotFound},
		{"nonce/x", "application/json", `{}`, http.StatusNotFound},
	} {
		r := send(c.name, c.ctype, c.body)
		wantStatus(t, c.name+" "+c.ctype+" "+c.body[:min(len(c.body), 40)], r, c.status)
	}
	wantStatus(t, "charset parameter", send("nonce", "application/json; charset=utf-8", `{"device_id":"`+id+`"}`), http.StatusOK)
	// Signed calls check the body first: a huge one never reaches the core.
	r := e.signedWith(p, "pending", `{"x":"`+strings.Repeat("a", MaxBodyBytes)+`"}`, "n")
	wantStatus(t, "huge signed call", r, http.StatusRequestEntityTooLarge)
	r = e.signed(p, "pending", `{"x":1}`)
	wantStatus(t, "unknown field in signed call", r, http.StatusBadRequest)

	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/phone/api/nonce", nil)
	r = e.do(req)
	wantStatus(t, "GET", r, http.StatusMethodNotAllowed)
	if r.header.Get("Allow") != "POST" {
		t.Errorf("Allow %q", r.header.Get("Allow"))
	}
}

func TestCrossOrigin(t *testing.T) {
	e := newEnv(t)
	for name, set := range map[string]func(http.Header){
		"Sec-Fetch-Site": func(h http.Header) { h.Set("Sec-Fetch-Site", "cross-site") },
		"Origin":         func(h http.Header) { h.Set("Origin", "https://evil.example") },
	} {
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/config", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		set(req.Header)
		r := e.do(req)
		wantStatus(t, name, r, http.StatusForbidden)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/phone/api/config", strings.NewReader(`{}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.Header.Set("Origin", e.srv.URL)
	r := e.do(req)
	wantStatus(t, "same origin", r, http.StatusOK)
	if r.body["vapid_public_key"] != testVAPID || r.body["issuer"] != "Example Corp" {
		t.Fatalf("config: %s", r.raw)
	}
}

var scriptTag = regexp.MustCompile(`<script[^>]*>`)

func TestPages(t *testing.T) {
	e := newEnv(t)
	for _, path := range []string{"/phone/pair", "/phone/"} {
		r := e.get(path)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d", path, r.status)
		}
		if got := r.header.Get("Content-Security-Policy"); got != loginui.PhoneContentSecurityPolicy {
			t.Errorf("%s: CSP %q", path, got)
		}
		if !strings.Contains(r.header.Get("Content-Security-Policy"), "connect-src 'self'; manifest-src 'self'; worker-src 'self'") {
			t.Errorf("%s: CSP lacks the phone's sources", path)
		}
		for k, want := range map[string]string{"Cache-Control": "no-store", "X-Frame-Options": "DENY",
			"Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Content-Type": "text/html; charset=utf-8"} {
			if got := r.header.Get(k); got != want {
				t.Errorf("%s: %s = %q, want %q", path, k, got, want)
			}
		}
		if !strings.Contains(r.raw, "This page needs JavaScript") {
			t.Errorf("%s: no message for browsers without JavaScript", path)
		}
		if !strings.Contains(r.raw, `<script src="/phone/static/phone.js?v=`+loginui.AssetVersion()+`" defer></script>`) {
			t.Errorf("%s: phone.js not loaded", path)
		}
		for _, tag := range scriptTag.FindAllString(r.raw, -1) {
			if !strings.Contains(tag, ` src="/phone/static/`) {
				t.Errorf("%s: inline or foreign script %s", path, tag)
			}
		}
		if strings.Contains(r.raw, "<style") || strings.Contains(r.raw, " style=") || regexp.MustCompile(`\son[a-z]+=`).MatchString(r.raw) {
			t.Errorf("%s: inline style or handler", path)
		}
		if req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, nil); true {
			if r := e.do(req); r.status != http.StatusMethodNotAllowed {
				t.Errorf("POST %s: %d", path, r.status)
			}
		}
	}
	// /phone is redirected to the app (net/http's mux does that for a
	// folder asked for without its slash).
	noFollow := *e.srv.Client()
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	if res, err := noFollow.Get(e.srv.URL + "/phone"); err != nil || res.StatusCode/100 != 3 || res.Header.Get("Location") != "/phone/" {
		t.Errorf("/phone: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	for _, path := range []string{"/", "/phone/nope", "/other", "/phone/pair/x", "/phone/manifest/", "/phone/api/"} {
		r := e.get(path)
		if r.status != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, r.status)
		}
		if r.header.Get("Content-Security-Policy") == "" || r.header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no security headers", path)
		}
	}
	for path, ctype := range map[string]string{"/phone/static/app.css": "text/css; charset=utf-8", "/phone/static/phone.js": "text/javascript; charset=utf-8"} {
		r := e.get(path)
		if r.status != http.StatusOK || r.header.Get("Content-Type") != ctype {
			t.Errorf("%s: %d %q", path, r.status, r.header.Get("Content-Type"))
		}
	}
}

func TestServiceWorker(t *testing.T) {
	e := newEnv(t)
	r := e.get("/phone/sw.js")
	if r.status != http.StatusOK {
		t.Fatalf("sw.js: %d", r.status)
	}
	for k, want := range map[string]string{"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "no-cache",
		"Content-Security-Policy": loginui.PhoneContentSecurityPolicy} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(r.raw, "'use strict';\nself.MFAGATE_ISSUER = \"Example Corp\";\n") {
		t.Errorf("sw.js does not start with the issuer: %.80q", r.raw)
	}
	for _, s := range []string{"showNotification", "notificationclick", "'signin'", "openWindow('/phone/')"} {
		if !strings.Contains(r.raw, s) {
			t.Errorf("sw.js lacks %s", s)
		}
	}
	// The issuer is a JavaScript string whatever it holds.
	h := New(Deps{Core: e.svc.Core, UI: e.svc.UI}, Config{Issuer: "</script>\"\u2028x"})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/phone/sw.js", nil))
	lines := strings.SplitN(rec.Body.String(), "\n", 3)
	if first := lines[1]; first != `self.MFAGATE_ISSUER = "\u003c/script\u003e\"\u2028x";` {
		t.Errorf("issuer line %q", first)
	}
}

func TestManifests(t *testing.T) {
	e := newEnv(t)
	r := e.get("/phone/manifest.webmanifest")
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/manifest+json" {
		t.Fatalf("manifest: %d %q", r.status, r.header.Get("Content-Type"))
	}
	var m webManifest
	if err := json.Unmarshal([]byte(r.raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.StartURL != "/phone/" || m.Scope != "/phone/" || m.Display != "standalone" || !strings.Contains(m.Name, "Example Corp") || len(m.Icons) == 0 {
		t.Fatalf("manifest: %+v", m)
	}
	for _, size := range iconSizes {
		r := e.get(iconPath(size))
		if r.status != http.StatusOK || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("icon %d: %d %q", size, r.status, r.header.Get("Content-Type"))
		}
		img, err := png.Decode(strings.NewReader(r.raw))
		if err != nil {
			t.Fatalf("icon %d: %v", size, err)
		}
		if b := img.Bounds(); b.Dx() != size || b.Dy() != size {
			t.Errorf("icon %d is %v", size, b)
		}
	}

	// The per-link manifest starts at the pairing link. Its address is
	// an opaque handle: neither the token nor anything it is sealed in.
	token, _ := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sessionHash("s"))
	r = e.post("install", mustJSON(t, map[string]string{"token": string(token)}))
	wantStatus(t, "install", r, http.StatusOK)
	link, _ := r.body["manifest"].(string)
	if !regexp.MustCompile(`^/phone/manifest/[A-Za-z0-9_-]{43}\.webmanifest$`).MatchString(link) || strings.Contains(link, string(token)) {
		t.Fatalf("manifest link %q", link)
	}
	handle := strings.TrimSuffix(strings.TrimPrefix(link, "/phone/manifest/"), ".webmanifest")
	if raw, err := base64.RawURLEncoding.DecodeString(handle); err != nil || len(raw) != sha256.Size || bytes.Contains(raw, []byte(token)) {
		t.Fatalf("handle %q is not an opaque 32-byte value", handle)
	}
	// Installing again (the page reloaded) names the same manifest.
	if again := e.post("install", mustJSON(t, map[string]string{"token": string(token)})); again.body["manifest"] != link {
		t.Errorf("second install: %v, want %s", again.body["manifest"], link)
	}
	// iOS fetches the manifest more than once: it lives as long as the
	// link.
	for i := range 3 {
		r = e.get(link)
		if r.status != http.StatusOK {
			t.Fatalf("link manifest, fetch %d: %d %s", i+1, r.status, r.raw)
		}
	}
	if err := json.Unmarshal([]byte(r.raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.StartURL != "/phone/pair#t="+string(token) || m.Scope != "/phone/" || m.Display != "standalone" {
		t.Fatalf("link manifest: %+v", m)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("link manifest Cache-Control %q", r.header.Get("Cache-Control"))
	}

	// Any node sharing the store serves it.
	other := New(Deps{Core: e.svc.Core, UI: e.svc.UI}, Config{})
	rec := httptest.NewRecorder()
	other.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, link, nil))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), string(token)) {
		t.Errorf("other node: %d", rec.Code)
	}

	// Altered or malformed handles are not found.
	flipped := []byte(handle)
	flipped[len(flipped)/2] ^= 1
	for _, p := range []string{"/phone/manifest/" + string(flipped) + ".webmanifest", "/phone/manifest/" + handle[:20] + ".webmanifest",
		"/phone/manifest/" + handle, "/phone/manifest/" + handle + ".json", "/phone/manifest/%2e%2e.webmanifest",
		"/phone/manifest/" + strings.Repeat("a", 200) + ".webmanifest"} {
		if r := e.get(p); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.status)
		}
	}
	// A new link voids the old one and its manifest; an unknown token
	// gets none.
	newer, _ := e.svc.Core.Phones.StartPairing(e.ctx, e.user, sessionHash("s"))
	if r := e.get(link); r.status != http.StatusNotFound {
		t.Errorf("manifest of a voided link: %d", r.status)
	}
	wantStatus(t, "install, voided link", e.post("install", mustJSON(t, map[string]string{"token": string(token)})), http.StatusNotFound)
	wantStatus(t, "install, unknown token", e.post("install", `{"token":"unknown-token"}`), http.StatusNotFound)
	wantStatus(t, "install, newer link", e.post("install", mustJSON(t, map[string]string{"token": string(newer)})), http.StatusOK)

	for _, bad := range []string{`{"token":""}`, `{"token":"a/b"}`, `{"token":"` + strings.Repeat("a", 129) + `"}`, `{}`} {
		wantStatus(t, "install "+bad, e.post("install", bad), http.StatusBadRequest)
	}
}

func TestPushPayloadHasNoNumber(t *testing.T) {
	// The service worker shows what core.PushPayload carries; it must not
	// carry the number.
	b, _ := json.Marshal(core.PushPayload{Request: "r", Text: "t"})
	if strings.Contains(string(b), "number") {
		t.Fatalf("push payload %s", b)
	}
	var sub push.Subscription
	if err := json.Unmarshal([]byte(`{"endpoint":"e","p256dh":"p","auth":"a"}`), &sub); err != nil || sub.Endpoint != "e" {
		t.Fatalf("subscription fields: %+v %v", sub, err)
	}
}
