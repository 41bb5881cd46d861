package devicekey

import (
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"os"
	"testing"
)

// jsRequest and jsAnswer are the phone page's spelling of the messages, as
// loginui/static/signing-input.js takes them.
type jsRequest struct {
	Method   string `json:"method"`
	Host     string `json:"host"`
	Path     string `json:"path"`
	DeviceID string `json:"deviceId"`
	Nonce    string `json:"nonce"`
	Body     string `json:"body"`
}

type jsAnswer struct {
	RequestID string `json:"requestId"`
	Decision  string `json:"decision"`
	Number    string `json:"number"`
	DeviceID  string `json:"deviceId"`
	Nonce     string `json:"nonce"`
}

// toGo converts the page's request; the body string is what the page sends
// as UTF-8.
func (r jsRequest) toGo() Request {
	return Request{Method: r.Method, Host: r.Host, Path: r.Path, DeviceID: r.DeviceID, Nonce: r.Nonce, Body: []byte(r.Body)}
}

func (a jsAnswer) toGo() Answer {
	return Answer(a)
}

// TestVectorWasMadeWithTheServedScript: the vector checks the script the
// phone pages load only as long as it was made with that very file.
func TestVectorWasMadeWithTheServedScript(t *testing.T) {
	js, err := os.ReadFile("../../loginui/static/signing-input.js")
	if err != nil {
		t.Fatal(err)
	}
	v := loadVector(t)
	if sum := sha256.Sum256(js); hex.EncodeToString(sum[:]) != v.SigningInput {
		t.Fatal("loginui/static/signing-input.js changed since testdata/webcrypto_vector.json was made: " +
			"run node internal/devicekey/testdata/webcrypto_vector.mjs > internal/devicekey/testdata/webcrypto_vector.json")
	}
}

// webCryptoVector is testdata/webcrypto_vector.json, made by
// testdata/webcrypto_vector.mjs with real WebCrypto.
type webCryptoVector struct {
	Generator     string    `json:"generator"`
	SigningInput  string    `json:"signingInputSHA256"`
	SPKI          string    `json:"spki"`
	Raw           string    `json:"raw"`
	Request       jsRequest `json:"request"`
	RequestInput  string    `json:"requestInput"`
	RequestSig    string    `json:"requestSig"`
	Authorization string    `json:"authorization"`
	Answer        jsAnswer  `json:"answer"`
	AnswerInput   string    `json:"answerInput"`
	AnswerSig     string    `json:"answerSig"`
	RequestCases  map[string]struct {
		Message jsRequest `json:"message"`
		Input   *string   `json:"input"`
	} `json:"requestCases"`
	AnswerCases map[string]struct {
		Message jsAnswer `json:"message"`
		Input   *string  `json:"input"`
	} `json:"answerCases"`
}

func loadVector(t *testing.T) webCryptoVector {
	t.Helper()
	b, err := os.ReadFile("testdata/webcrypto_vector.json")
	if err != nil {
		t.Fatal(err)
	}
	var v webCryptoVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestWebCryptoVector(t *testing.T) {
	v := loadVector(t)
	t.Logf("vector from %s", v.Generator)
	pub, err := PublicKeyFromBase64(v.SPKI)
	if err != nil {
		t.Fatalf("WebCrypto spki export: %v", err)
	}
	raw, err := PublicKeyFromBase64(v.Raw)
	if err != nil {
		t.Fatalf("WebCrypto raw export: %v", err)
	}
	if !raw.Equal(pub) {
		t.Fatal("spki and raw exports parse to different keys")
	}

	in, err := v.Request.toGo().SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	if string(in) != v.RequestInput {
		t.Fatalf("Go and JS request inputs differ:\nGo %q\nJS %q", in, v.RequestInput)
	}
	id, nonce, sig, err := ParseAuthorization(v.Authorization)
	if err != nil {
		t.Fatalf("page's Authorization header: %v", err)
	}
	if id != v.Request.DeviceID || nonce != v.Request.Nonce || base64.RawURLEncoding.EncodeToString(sig) != v.RequestSig {
		t.Fatal("page's Authorization header carries other values")
	}
	if err := Verify(pub, in, sig); err != nil {
		t.Fatalf("WebCrypto request signature: %v", err)
	}
	// The script picked a signature with s > N/2: WebCrypto does not
	// normalise s, and Verify must take it.
	s := new(big.Int).SetBytes(sig[32:])
	if s.Cmp(new(big.Int).Rsh(elliptic.P256().Params().N, 1)) <= 0 {
		t.Fatal("vector's request signature does not have a high s")
	}

	ans, err := v.Answer.toGo().SigningInput()
	if err != nil {
		t.Fatal(err)
	}
	if string(ans) != v.AnswerInput {
		t.Fatalf("Go and JS answer inputs differ:\nGo %q\nJS %q", ans, v.AnswerInput)
	}
	ansSig, err := base64.RawURLEncoding.DecodeString(v.AnswerSig)
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(pub, ans, ansSig); err != nil {
		t.Fatalf("WebCrypto answer signature: %v", err)
	}
	if err := Verify(pub, ans, sig); err != ErrBadSignature {
		t.Fatalf("request signature accepted for the answer: %v", err)
	}
}

func TestWebCryptoVectorCasesAgree(t *testing.T) {
	// Go must refuse what the page refuses, and build the same bytes for
	// what it accepts.
	v := loadVector(t)
	if len(v.RequestCases) == 0 || len(v.AnswerCases) == 0 {
		t.Fatal("vector has no cases")
	}
	for name, c := range v.RequestCases {
		in, err := c.Message.toGo().SigningInput()
		checkAgreement(t, "request "+name, in, err, c.Input)
	}
	for name, c := range v.AnswerCases {
		in, err := c.Message.toGo().SigningInput()
		checkAgreement(t, "answer "+name, in, err, c.Input)
	}
}

// checkAgreement compares Go's outcome with the page's: js is nil when the
// page refused the message.
func checkAgreement(t *testing.T, name string, in []byte, err error, js *string) {
	t.Helper()
	switch {
	case js == nil && err == nil:
		t.Errorf("%s: the page refuses it, Go accepts it", name)
	case js != nil && err != nil:
		t.Errorf("%s: the page accepts it, Go refuses it: %v", name, err)
	case js != nil && string(in) != *js:
		t.Errorf("%s: inputs differ:\nGo %q\nJS %q", name, in, *js)
	}
}
