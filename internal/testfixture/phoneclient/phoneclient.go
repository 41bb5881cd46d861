// Package phoneclient plays a paired phone in tests: it holds the P-256 key
// the phone page would make with WebCrypto and signs API calls and answers
// the way the page does (raw r‖s over the devicekey signing inputs), so
// integration tests can drive the phone API without a browser. For tests
// only: the key lives in memory and is extractable.
package phoneclient

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net/http"
	"sync"

	"github.com/mfagate/mfagate/internal/devicekey"
)

// Phone is one paired phone. It is safe for concurrent use.
type Phone struct {
	key  *ecdsa.PrivateKey
	spki string

	mu       sync.Mutex
	deviceID string
}

// New makes a phone with a fresh P-256 key and no device id yet.
func New() (*Phone, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("phoneclient: key: %w", err)
	}
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("phoneclient: exporting key: %w", err)
	}
	return &Phone{key: key, spki: base64.RawURLEncoding.EncodeToString(der)}, nil
}

// PublicKey returns the phone's public key.
func (p *Phone) PublicKey() *ecdsa.PublicKey { return &p.key.PublicKey }

// PublicKeySPKI returns the public key as the page sends it at pairing:
// SPKI DER, unpadded base64url.
func (p *Phone) PublicKeySPKI() string { return p.spki }

// SetDeviceID records the id the gateway gave the phone at pairing.
func (p *Phone) SetDeviceID(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deviceID = id
}

// DeviceID returns the id set by SetDeviceID, or "" before pairing.
func (p *Phone) DeviceID() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.deviceID
}

// SignInput signs SHA-256(input) and returns the 64-byte r‖s WebCrypto
// would. r and s are padded to 32 bytes each: about one signature in 128
// has an r (or s) whose leading byte is zero, and dropping it would make a
// short, invalid signature.
func (p *Phone) SignInput(input []byte) ([]byte, error) {
	digest := sha256.Sum256(input)
	r, s, err := ecdsa.Sign(rand.Reader, p.key, digest[:])
	if err != nil {
		return nil, fmt.Errorf("phoneclient: signing: %w", err)
	}
	sig := make([]byte, devicekey.SignatureSize)
	r.FillBytes(sig[:devicekey.SignatureSize/2])
	s.FillBytes(sig[devicekey.SignatureSize/2:])
	return sig, nil
}

// Sign signs an API call and returns its Authorization header value. An
// empty req.DeviceID means the phone's own.
func (p *Phone) Sign(req devicekey.Request) (string, error) {
	if req.DeviceID == "" {
		req.DeviceID = p.DeviceID()
	}
	input, err := req.SigningInput()
	if err != nil {
		return "", fmt.Errorf("phoneclient: %w", err)
	}
	sig, err := p.SignInput(input)
	if err != nil {
		return "", err
	}
	h, err := devicekey.FormatAuthorization(req.DeviceID, req.Nonce, sig)
	if err != nil {
		return "", fmt.Errorf("phoneclient: %w", err)
	}
	return h, nil
}

// SignAnswer signs an answer to a sign-in request and returns the
// signature as unpadded base64url. An empty a.DeviceID means the phone's
// own.
func (p *Phone) SignAnswer(a devicekey.Answer) (string, error) {
	if a.DeviceID == "" {
		a.DeviceID = p.DeviceID()
	}
	input, err := a.SigningInput()
	if err != nil {
		return "", fmt.Errorf("phoneclient: %w", err)
	}
	sig, err := p.SignInput(input)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(sig), nil
}

// Authorize signs req, whose body is body, and sets its Authorization
// header. It signs what net/http will send: req.Host and the request
// target req.URL.RequestURI(). An empty nonce means a fresh random one.
func (p *Phone) Authorize(req *http.Request, body []byte, nonce string) error {
	if nonce == "" {
		var err error
		if nonce, err = devicekey.NewNonce(); err != nil {
			return fmt.Errorf("phoneclient: %w", err)
		}
	}
	h, err := p.Sign(devicekey.Request{
		Method: req.Method,
		Host:   req.Host,
		Path:   req.URL.RequestURI(),
		Nonce:  nonce,
		Body:   body,
	})
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", h)
	return nil
}

// Do sends a signed call as the phone page does: body as JSON, signed with
// the phone's device id and nonce (a fresh random one if empty).
func (p *Phone) Do(client *http.Client, method, url string, body []byte, nonce string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("phoneclient: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := p.Authorize(req, body, nonce); err != nil {
		return nil, err
	}
	return client.Do(req)
}
