// Package pushservice is a stand-in for a browser vendor's push service
// (RFC 8030) and for the phones subscribed to it, for tests only. It runs
// an https server, checks each push request's VAPID authorization
// (RFC 8292) and headers, decrypts the message as the phone would
// (RFC 8291), and records it, so a test can assert on exactly what a
// paired phone would have shown. It can also be told to answer a status,
// to exercise a sender's handling of dead subscriptions and failures.
package pushservice

import (
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/push"
)

// pathPrefix starts every endpoint path; the rest identifies the
// subscription, as a real push service's opaque token does.
const pathPrefix = "/push/"

// maxBody bounds a request body: RFC 8030 push services accept at least
// 4096 bytes, and this one refuses what no conforming sender would send.
const maxBody = 8192

// Message is a push message as the phone received it.
type Message struct {
	// Payload is the decrypted plaintext.
	Payload []byte
	// TTL, Urgency and Topic are the request's headers of those names.
	TTL     int
	Urgency string
	Topic   string
	// Subscriber is the VAPID sub claim; VAPIDKey the k parameter.
	Subscriber string
	VAPIDKey   string
}

// Service is a running fake push service. Its methods are safe for
// concurrent use.
type Service struct {
	srv *httptest.Server

	mu       sync.Mutex
	subs     map[string]*subscriber // by endpoint path after pathPrefix
	vapidKey string                 // if set, the only k accepted
	// changed is closed and replaced whenever something is recorded, to
	// wake Wait.
	changed chan struct{}
}

// subscriber is one subscription: the phone's private half and what it
// received.
type subscriber struct {
	key        *ecdh.PrivateKey
	authSecret []byte

	// Guarded by Service.mu.
	requests   int
	messages   []Message
	rejections []string
	answers    []answer
}

// answer is a status to give instead of processing requests.
type answer struct {
	status int
	times  int // remaining; negative means always
}

// New starts a push service, closed when the test ends.
func New(t testing.TB) *Service {
	t.Helper()
	s := &Service{subs: map[string]*subscriber{}, changed: make(chan struct{})}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(s.serveHTTP))
	t.Cleanup(s.srv.Close)
	return s
}

// URL is the service's origin, "https://127.0.0.1:port".
func (s *Service) URL() string { return s.srv.URL }

// Host is the service's host and port, the entry for an allow-list.
func (s *Service) Host() string { return strings.TrimPrefix(s.srv.URL, "https://") }

// Client returns an HTTP client that trusts the service's certificate.
func (s *Service) Client() *http.Client { return s.srv.Client() }

// RootCAs returns a pool holding the service's certificate, which is its
// own CA, for a push.Config.
func (s *Service) RootCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	pool.AddCert(s.srv.Certificate())
	return pool
}

// WriteCACert writes the service's certificate, which is its own CA, as
// PEM to path: a separately started process trusts the service when
// SSL_CERT_FILE names this file.
func (s *Service) WriteCACert(path string) error {
	block := &pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o644); err != nil {
		return fmt.Errorf("pushservice: writing CA certificate: %w", err)
	}
	return nil
}

// ExpectVAPIDKey makes the service refuse (403) requests signed with any
// other VAPID public key, as a real service does for a subscription made
// with this applicationServerKey. Empty accepts any valid signature.
func (s *Service) ExpectVAPIDKey(public string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vapidKey = strings.TrimRight(public, "=")
}

// NewSubscription subscribes a new phone: a fresh P-256 key pair and
// 16-byte auth secret, and an endpoint unique to it on this service.
func (s *Service) NewSubscription() push.Subscription {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		panic(fmt.Sprintf("pushservice: generating key: %v", err))
	}
	sub := &subscriber{key: key, authSecret: randomBytes(16)}
	id := base64.RawURLEncoding.EncodeToString(randomBytes(18))
	s.mu.Lock()
	s.subs[id] = sub
	s.mu.Unlock()
	return push.Subscription{
		Endpoint: s.srv.URL + pathPrefix + id,
		P256dh:   base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()),
		Auth:     base64.RawURLEncoding.EncodeToString(sub.authSecret),
	}
}

// randomBytes returns n random bytes; crypto/rand does not fail.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// Answer makes the service answer status to the next times requests for
// sub without looking at them (times <= 0: to every request), e.g. 410 for
// a phone that unsubscribed or 500 once for a passing outage. Answers set
// by successive calls are used in order.
func (s *Service) Answer(sub push.Subscription, status, times int) {
	if times <= 0 {
		times = -1
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lookup(sub.Endpoint); r != nil {
		r.answers = append(r.answers, answer{status: status, times: times})
	}
}

// Messages returns the messages sub received so far, oldest first.
func (s *Service) Messages(sub push.Subscription) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lookup(sub.Endpoint); r != nil {
		return append([]Message(nil), r.messages...)
	}
	return nil
}

// Requests returns how many requests were made for sub, whatever their
// fate.
func (s *Service) Requests(sub push.Subscription) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lookup(sub.Endpoint); r != nil {
		return r.requests
	}
	return 0
}

// Rejections returns why requests for sub were refused (bad VAPID, bad
// headers, undecryptable body), oldest first. Answers set with Answer are
// not rejections.
func (s *Service) Rejections(sub push.Subscription) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.lookup(sub.Endpoint); r != nil {
		return append([]string(nil), r.rejections...)
	}
	return nil
}

// Wait returns sub's messages once it has received at least n, or ctx's
// error (with what arrived) if ctx ends first.
func (s *Service) Wait(ctx context.Context, sub push.Subscription, n int) ([]Message, error) {
	for {
		s.mu.Lock()
		r := s.lookup(sub.Endpoint)
		changed := s.changed
		var msgs []Message
		if r != nil {
			msgs = append(msgs, r.messages...)
		}
		s.mu.Unlock()
		if r == nil {
			return nil, fmt.Errorf("pushservice: unknown subscription %q", sub.Endpoint)
		}
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return msgs, fmt.Errorf("pushservice: %d of %d messages: %w", len(msgs), n, ctx.Err())
		}
	}
}

// lookup finds a subscription by endpoint; s.mu must be held.
func (s *Service) lookup(endpoint string) *subscriber {
	id, ok := strings.CutPrefix(endpoint, s.srv.URL+pathPrefix)
	if !ok {
		return nil
	}
	return s.subs[id]
}

// notify wakes Wait; s.mu must be held.
func (s *Service) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// serveHTTP handles a push request (RFC 8030, section 5).
func (s *Service) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "push requests are POSTs", http.StatusMethodNotAllowed)
		return
	}
	s.mu.Lock()
	sub := s.subs[strings.TrimPrefix(r.URL.Path, pathPrefix)]
	status, vapidKey := 0, s.vapidKey
	if sub != nil {
		sub.requests++
		status = sub.nextAnswer()
		s.notify()
	}
	s.mu.Unlock()
	switch {
	case sub == nil:
		http.Error(w, "no such subscription", http.StatusNotFound)
		return
	case status != 0:
		w.WriteHeader(status)
		return
	}
	msg, status, err := s.receive(r, sub, vapidKey)
	s.mu.Lock()
	if err != nil {
		sub.rejections = append(sub.rejections, err.Error())
	} else {
		sub.messages = append(sub.messages, msg)
	}
	s.notify()
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), status)
		return
	}
	w.Header().Set("Location", s.srv.URL+"/message/"+base64.RawURLEncoding.EncodeToString(randomBytes(12)))
	w.WriteHeader(http.StatusCreated)
}

// nextAnswer returns the status to answer instead of processing, or 0;
// Service.mu must be held.
func (r *subscriber) nextAnswer() int {
	if len(r.answers) == 0 {
		return 0
	}
	a := &r.answers[0]
	status := a.status
	if a.times > 0 {
		a.times--
		if a.times == 0 {
			r.answers = r.answers[1:]
		}
	}
	return status
}

// receive checks and decrypts a request, returning the message or the
// status to refuse it with and why.
func (s *Service) receive(r *http.Request, sub *subscriber, vapidKey string) (Message, int, error) {
	auth, err := checkVAPID(r.Header.Get("Authorization"), s.srv.URL, time.Now())
	if err != nil {
		return Message{}, http.StatusUnauthorized, err
	}
	if vapidKey != "" && strings.TrimRight(auth.key, "=") != vapidKey {
		return Message{}, http.StatusForbidden, fmt.Errorf("%w: k is not the subscription's application server key", errVAPID)
	}
	if ce := r.Header.Get("Content-Encoding"); ce != "aes128gcm" {
		return Message{}, http.StatusUnsupportedMediaType, fmt.Errorf("content encoding %q is not aes128gcm", ce)
	}
	ttl, err := strconv.Atoi(r.Header.Get("TTL"))
	if err != nil || ttl < 0 {
		return Message{}, http.StatusBadRequest, fmt.Errorf("the TTL header is missing or not a non-negative integer")
	}
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBody))
	if err != nil {
		return Message{}, http.StatusRequestEntityTooLarge, fmt.Errorf("reading body: %w", err)
	}
	payload, err := decrypt(body, sub.key, sub.authSecret)
	if err != nil {
		return Message{}, http.StatusBadRequest, err
	}
	return Message{
		Payload:    payload,
		TTL:        ttl,
		Urgency:    r.Header.Get("Urgency"),
		Topic:      r.Header.Get("Topic"),
		Subscriber: auth.subscriber,
		VAPIDKey:   auth.key,
	}, 0, nil
}
