package phoneclient

import (
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mfagate/mfagate/internal/devicekey"
)

func newPhone(t *testing.T) *Phone {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	p.SetDeviceID("dev_1")
	return p
}

func TestPublicKeySPKI(t *testing.T) {
	p := newPhone(t)
	s := p.PublicKeySPKI()
	if strings.ContainsAny(s, "+/=") {
		t.Fatalf("not unpadded base64url: %s", s)
	}
	pub, err := devicekey.PublicKeyFromBase64(s)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(p.PublicKey()) {
		t.Fatal("exported key is not the phone's")
	}
}

func TestSignVerifies(t *testing.T) {
	p := newPhone(t)
	req := devicekey.Request{Method: "POST", Host: "mfa.example.com", Path: "/phone/api/x", Nonce: "n1", Body: []byte(`{}`)}
	h, err := p.Sign(req)
	if err != nil {
		t.Fatal(err)
	}
	id, nonce, sig, err := devicekey.ParseAuthorization(h)
	if err != nil {
		t.Fatal(err)
	}
	if id != "dev_1" || nonce != "n1" {
		t.Fatalf("header carries %q %q", id, nonce)
	}
	req.DeviceID = id
	input, _ := req.SigningInput()
	if err := devicekey.Verify(p.PublicKey(), input, sig); err != nil {
		t.Fatal(err)
	}
	// An explicit DeviceID is signed as given.
	req.DeviceID = "dev_other"
	h, _ = p.Sign(req)
	if id, _, _, _ := devicekey.ParseAuthorization(h); id != "dev_other" {
		t.Fatalf("explicit device id replaced by %q", id)
	}
}

func TestSignAnswerVerifies(t *testing.T) {
	p := newPhone(t)
	a := devicekey.Answer{RequestID: "r1", Decision: devicekey.DecisionApprove, Number: "42", Nonce: "n1"}
	s, err := p.SignAnswer(a)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	a.DeviceID = "dev_1"
	input, _ := a.SigningInput()
	if err := devicekey.Verify(p.PublicKey(), input, sig); err != nil {
		t.Fatal(err)
	}
	a.Number = "43"
	input, _ = a.SigningInput()
	if err := devicekey.Verify(p.PublicKey(), input, sig); err != devicekey.ErrBadSignature {
		t.Fatalf("answer signature valid for another number: %v", err)
	}
}

func TestSignRefusesUnpairedPhone(t *testing.T) {
	p, _ := New()
	if _, err := p.Sign(devicekey.Request{Method: "GET", Host: "h", Path: "/", Nonce: "n"}); err == nil {
		t.Fatal("signed without a device id")
	}
	if _, err := p.SignAnswer(devicekey.Answer{RequestID: "r", Decision: devicekey.DecisionDeny, Nonce: "n"}); err == nil {
		t.Fatal("signed an answer without a device id")
	}
}

func TestShortRAndSArePadded(t *testing.T) {
	// About one signature in 128 has r below 2^248 (a leading zero byte),
	// and as many have such an s. Sign until both have happened; each
	// must still be 64 bytes and verify.
	p := newPhone(t)
	input := []byte("padding test")
	var shortR, shortS bool
	for i := 0; i < 20000 && !(shortR && shortS); i++ {
		sig, err := p.SignInput(input)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != devicekey.SignatureSize {
			t.Fatalf("signature is %d bytes", len(sig))
		}
		r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
		if r.BitLen() > 248 && s.BitLen() > 248 {
			continue
		}
		if err := devicekey.Verify(p.PublicKey(), input, sig); err != nil {
			t.Fatalf("signature with r of %d bits, s of %d bits: %v", r.BitLen(), s.BitLen(), err)
		}
		// Unpadded, this signature would have been too short.
		if len(r.Bytes())+len(s.Bytes()) >= devicekey.SignatureSize {
			t.Fatal("expected a short r or s")
		}
		shortR = shortR || r.BitLen() <= 248
		shortS = shortS || s.BitLen() <= 248
	}
	if !shortR || !shortS {
		t.Fatalf("no short value met (r %v, s %v)", shortR, shortS)
	}
}

// verifyingServer checks every request as the gateway will: the signature
// in the Authorization header over the method, Host, request target, the
// header's device id and nonce, and the body.
func verifyingServer(t *testing.T, p *Phone) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	seen := map[string]bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, nonce, sig, err := devicekey.ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		body, _ := io.ReadAll(r.Body)
		input, err := devicekey.Request{Method: r.Method, Host: r.Host, Path: r.RequestURI, DeviceID: id, Nonce: nonce, Body: body}.SigningInput()
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := devicekey.Verify(p.PublicKey(), input, sig); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		replay := seen[nonce]
		seen[nonce] = true
		mu.Unlock()
		if replay {
			http.Error(w, "nonce used", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "not JSON", http.StatusUnsupportedMediaType)
			return
		}
		_, _ = io.WriteString(w, id) // a client gone away fails on its side
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestDoSignsWhatIsSent(t *testing.T) {
	p := newPhone(t)
	srv := verifyingServer(t, p)
	for _, c := range []struct {
		method, path string
		body         []byte
	}{
		{"POST", "/phone/api/answer", []byte(`{"decision":"approve"}`)},
		{"GET", "/phone/api/pending?since=5&x=a%20b", nil},
		{"PUT", "/phone/api/a%2Fb", []byte(`{}`)},
	} {
		resp, err := p.Do(srv.Client(), c.method, srv.URL+c.path, c.body, "")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || string(got) != "dev_1" {
			t.Fatalf("%s %s: %d %s", c.method, c.path, resp.StatusCode, got)
		}
	}
}

func TestDoWithGivenNonceIsSingleUse(t *testing.T) {
	p := newPhone(t)
	srv := verifyingServer(t, p)
	for i, want := range []int{http.StatusOK, http.StatusUnauthorized} {
		resp, err := p.Do(srv.Client(), "POST", srv.URL+"/x", []byte(`{}`), "fixed-nonce")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Fatalf("call %d: status %d, want %d", i, resp.StatusCode, want)
		}
	}
}

func TestAnotherPhoneIsRefused(t *testing.T) {
	p, other := newPhone(t), newPhone(t)
	srv := verifyingServer(t, p)
	resp, err := other.Do(srv.Client(), "POST", srv.URL+"/x", []byte(`{}`), "")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestConcurrentUse(t *testing.T) {
	p := newPhone(t)
	srv := verifyingServer(t, p)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			p.SetDeviceID("dev_1")
			resp, err := p.Do(srv.Client(), "POST", srv.URL+"/x", []byte(`{}`), "")
			if err != nil {
				errs <- err
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				errs <- fmt.Errorf("status %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}
