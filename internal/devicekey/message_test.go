package devicekey

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// sampleRequest is a valid Request used across the tests.
func sampleRequest() Request {
	return Request{
		Method:   "POST",
		Host:     "MFA.Example.com:8443",
		Path:     "/phone/api/answer?x=1",
		DeviceID: "dev_123",
		Nonce:    "n-0123456789",
		Body:     []byte(`{"a":1}`),
	}
}

// sampleAnswer is a valid Answer used across the tests.
func sampleAnswer() Answer {
	return Answer{RequestID: "req-42", Decision: DecisionApprove, Number: "07", DeviceID: "dev_123", Nonce: "n-0123456789"}
}

func TestRequestSigningInputFormat(t *testing.T) {
	got, err := sampleRequest().SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256 of {"a":1}, unpadded base64url (computed with openssl).
	want := "mfagate-device-v1\nPOST\nmfa.example.com:8443\n/phone/api/answer?x=1\ndev_123\nn-0123456789\n" +
		"AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX-GI"
	if string(got) != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	empty := sampleRequest()
	empty.Body = nil
	got, err = empty.SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256 of nothing: an empty body is allowed and still hashed.
	if !bytes.HasSuffix(got, []byte("\n47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU")) {
		t.Fatalf("empty body: %q", got)
	}
}

func TestAnswerSigningInputFormat(t *testing.T) {
	got, err := sampleAnswer().SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	if want := "mfagate-answer-v1\nreq-42\napprove\n07\ndev_123\nn-0123456789"; string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
	deny := sampleAnswer()
	deny.Decision, deny.Number = DecisionDeny, ""
	got, err = deny.SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	if want := "mfagate-answer-v1\nreq-42\ndeny\n\ndev_123\nn-0123456789"; string(got) != want {
		t.Fatalf("got %q want %q", got, want)
	}
}

func TestHostIsCaseInsensitive(t *testing.T) {
	a, b := sampleRequest(), sampleRequest()
	b.Host = strings.ToLower(a.Host)
	ia, _ := a.SigningInput()
	ib, _ := b.SigningInput()
	if !bytes.Equal(ia, ib) {
		t.Fatal("host case changed the signing input")
	}
}

// requestMutations change one field of a valid Request to another valid
// value; each must change the signing input.
var requestMutations = map[string]func(*Request){
	"Method":   func(r *Request) { r.Method = "PUT" },
	"Host":     func(r *Request) { r.Host = "mfa.example.com:8444" },
	"Path":     func(r *Request) { r.Path = "/phone/api/answer?x=2" },
	"DeviceID": func(r *Request) { r.DeviceID = "dev_124" },
	"Nonce":    func(r *Request) { r.Nonce = "n-0123456788" },
	"Body":     func(r *Request) { r.Body = []byte(`{"a":2}`) },
	"no Body":  func(r *Request) { r.Body = nil },
	// Moving text across a field boundary must not give the same bytes.
	"shifted": func(r *Request) { r.Path, r.DeviceID = "/phone/api/answer?x=1dev", "_123" },
}

// answerMutations are the same for an Answer.
var answerMutations = map[string]func(*Answer){
	"RequestID": func(a *Answer) { a.RequestID = "req-43" },
	"Decision":  func(a *Answer) { a.Decision, a.Number = DecisionDeny, "" },
	"Number":    func(a *Answer) { a.Number = "70" },
	"DeviceID":  func(a *Answer) { a.DeviceID = "dev_124" },
	"Nonce":     func(a *Answer) { a.Nonce = "n-0123456788" },
}

func TestEveryFieldIsBound(t *testing.T) {
	base, _ := sampleRequest().SigningInput()
	for name, mutate := range requestMutations {
		r := sampleRequest()
		mutate(&r)
		in, err := r.SigningInput()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if bytes.Equal(in, base) {
			t.Errorf("request %s: changing it left the signing input unchanged", name)
		}
	}
	baseA, _ := sampleAnswer().SigningInput()
	for name, mutate := range answerMutations {
		a := sampleAnswer()
		mutate(&a)
		in, err := a.SigningInput()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if bytes.Equal(in, baseA) {
			t.Errorf("answer %s: changing it left the signing input unchanged", name)
		}
	}
}

func TestRequestRefusesBadFields(t *testing.T) {
	long := strings.Repeat("a", 5000)
	cases := map[string]func(*Request){
		"empty Method":        func(r *Request) { r.Method = "" },
		"lower-case Method":   func(r *Request) { r.Method = "post" },
		"Method with newline": func(r *Request) { r.Method = "POST\n" },
		"long Method":         func(r *Request) { r.Method = strings.Repeat("A", 17) },
		"empty Host":          func(r *Request) { r.Host = "" },
		"Host with newline":   func(r *Request) { r.Host = "a\nb" },
		"Host with space":     func(r *Request) { r.Host = "a b" },
		"non-ASCII Host":      func(r *Request) { r.Host = "bücher.example" },
		"long Host":           func(r *Request) { r.Host = long },
		"empty Path":          func(r *Request) { r.Path = "" },
		"relative Path":       func(r *Request) { r.Path = "phone" },
		"Path with newline":   func(r *Request) { r.Path = "/a\n/b" },
		"Path with CR":        func(r *Request) { r.Path = "/a\r" },
		"long Path":           func(r *Request) { r.Path = "/" + long },
		"empty DeviceID":      func(r *Request) { r.DeviceID = "" },
		"DeviceID newline":    func(r *Request) { r.DeviceID = "a\nb" },
		"DeviceID quote":      func(r *Request) { r.DeviceID = `a"b` },
		"long DeviceID":       func(r *Request) { r.DeviceID = strings.Repeat("a", 129) },
		"empty Nonce":         func(r *Request) { r.Nonce = "" },
		"Nonce newline":       func(r *Request) { r.Nonce = "a\n" },
		"Nonce comma":         func(r *Request) { r.Nonce = "a,b" },
	}
	for name, mutate := range cases {
		r := sampleRequest()
		mutate(&r)
		if in, err := r.SigningInput(); !errors.Is(err, ErrBadField) || in != nil {
			t.Errorf("%s: got %q, %v; want ErrBadField", name, in, err)
		}
	}
}

func TestAnswerRefusesBadFields(t *testing.T) {
	cases := map[string]func(*Answer){
		"empty RequestID":     func(a *Answer) { a.RequestID = "" },
		"RequestID newline":   func(a *Answer) { a.RequestID = "r\n" },
		"unknown Decision":    func(a *Answer) { a.Decision = "maybe" },
		"upper-case Decision": func(a *Answer) { a.Decision = "APPROVE" },
		"approve no Number":   func(a *Answer) { a.Number = "" },
		"approve one digit":   func(a *Answer) { a.Number = "7" },
		"approve 9 digits":    func(a *Answer) { a.Number = "123456789" },
		"approve grouped":     func(a *Answer) { a.Number = "123 456" },
		"approve letters":     func(a *Answer) { a.Number = "a7" },
		"approve newline":     func(a *Answer) { a.Number = "7\n" },
		"deny with Number":    func(a *Answer) { a.Decision = DecisionDeny },
		"report with Number":  func(a *Answer) { a.Decision = DecisionReport },
		"empty DeviceID":      func(a *Answer) { a.DeviceID = "" },
		"DeviceID newline":    func(a *Answer) { a.DeviceID = "d\n" },
		"empty Nonce":         func(a *Answer) { a.Nonce = "" },
		"Nonce newline":       func(a *Answer) { a.Nonce = "\n" },
	}
	for name, mutate := range cases {
		a := sampleAnswer()
		mutate(&a)
		if in, err := a.SigningInput(); !errors.Is(err, ErrBadField) || in != nil {
			t.Errorf("%s: got %q, %v; want ErrBadField", name, in, err)
		}
	}
	report := sampleAnswer()
	report.Decision, report.Number = DecisionReport, ""
	if _, err := report.SigningInput(); err != nil {
		t.Fatalf("report: %v", err)
	}
}

func TestRequestAndAnswerInputsNeverCollide(t *testing.T) {
	// Even with field values chosen to line up, the first line differs.
	r, _ := sampleRequest().SigningInput()
	a, _ := sampleAnswer().SigningInput()
	if !bytes.HasPrefix(r, []byte(RequestDomain+"\n")) || !bytes.HasPrefix(a, []byte(AnswerDomain+"\n")) {
		t.Fatal("domain prefix missing")
	}
	if bytes.Equal(r, a) {
		t.Fatal("request and answer inputs collide")
	}
}

func TestNewNonce(t *testing.T) {
	seen := map[string]bool{}
	for range 100 {
		n, err := NewNonce()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.RawURLEncoding.DecodeString(n)
		if err != nil || len(b) != 32 || len(n) != 43 {
			t.Fatalf("nonce %q: %d bytes, %v", n, len(b), err)
		}
		if err := checkID("Nonce", n); err != nil {
			t.Fatalf("nonce %q not usable in a message: %v", n, err)
		}
		if seen[n] {
			t.Fatal("nonce repeated")
		}
		seen[n] = true
	}
}
