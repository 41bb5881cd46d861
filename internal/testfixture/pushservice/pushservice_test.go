package pushservice_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"

	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/testfixture/pushservice"
)

// newSender returns a Sender for svc with fresh keys, and the keys.
func newSender(t *testing.T, svc *pushservice.Service) (*push.Sender, push.VAPIDKeys) {
	t.Helper()
	keys, err := push.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	s := push.NewSender(push.Config{
		Keys:         keys,
		Subscriber:   "mailto:ops@example.com",
		AllowedHosts: []string{svc.Host()},
		RootCAs:      svc.RootCAs(),
		RetryDelay:   time.Millisecond,
	})
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, keys
}

// closeSender waits until everything sent has been dealt with.
func closeSender(t *testing.T, s *push.Sender) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

func wait(t *testing.T, svc *pushservice.Service, sub push.Subscription, n int) []pushservice.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msgs, err := svc.Wait(ctx, sub, n)
	if err != nil {
		t.Fatal(err)
	}
	return msgs
}

func TestSenderMessagesDecryptExactly(t *testing.T) {
	svc := pushservice.New(t)
	s, keys := newSender(t, svc)
	phone, other := svc.NewSubscription(), svc.NewSubscription()
	// Payloads that end like padding would, and the largest allowed.
	payloads := [][]byte{
		[]byte(`{"type":"signin","id":"8f2c"}`),
		[]byte("ends in padding\x02\x00\x00"),
		{},
		bytes.Repeat([]byte{0xff}, push.MaxPayload),
	}
	for _, p := range payloads {
		if !s.Send(push.Message{Subscription: phone, Payload: p, Topic: "signin"}) {
			t.Fatal("Send refused")
		}
	}
	msgs := wait(t, svc, phone, len(payloads))
	for _, p := range payloads {
		found := false
		for _, m := range msgs {
			found = found || bytes.Equal(m.Payload, p)
		}
		if !found {
			t.Errorf("payload of %d bytes not received intact", len(p))
		}
	}
	m := msgs[0]
	if m.Urgency != "high" || m.TTL != 60 || m.Topic != "signin" {
		t.Errorf("headers: urgency %q ttl %d topic %q", m.Urgency, m.TTL, m.Topic)
	}
	if m.Subscriber != "mailto:ops@example.com" {
		t.Errorf("sub claim %q", m.Subscriber)
	}
	if m.VAPIDKey != keys.Public {
		t.Errorf("k %q is not the sender's public key", m.VAPIDKey)
	}
	if r := svc.Rejections(phone); len(r) != 0 {
		t.Errorf("rejections: %q", r)
	}
	if got := svc.Messages(other); len(got) != 0 {
		t.Errorf("another subscription received %d messages", len(got))
	}
}

// sendTampered sends payload to phone as the Sender does (webpush-go,
// fresh VAPID keys) through a client that changes the request with change
// before it leaves: the Sender itself only ever sends through its own
// guarded transport.
func sendTampered(t *testing.T, svc *pushservice.Service, phone push.Subscription, payload []byte, change func(*http.Request)) {
	t.Helper()
	keys := mustKeys(t)
	client := svc.Client()
	base := client.Transport
	client.Transport = roundTripper(func(r *http.Request) (*http.Response, error) {
		r = r.Clone(r.Context())
		change(r)
		return base.RoundTrip(r)
	})
	unpad := func(s string) string { return strings.TrimRight(s, "=") }
	resp, err := webpush.SendNotification(payload,
		&webpush.Subscription{Endpoint: phone.Endpoint, Keys: webpush.Keys{P256dh: unpad(phone.P256dh), Auth: unpad(phone.Auth)}},
		&webpush.Options{HTTPClient: client, Subscriber: "ops@example.com", TTL: 60,
			VAPIDPublicKey: unpad(keys.Public), VAPIDPrivateKey: unpad(keys.Private)})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestTamperedBodyDoesNotDecrypt(t *testing.T) {
	svc := pushservice.New(t)
	phone := svc.NewSubscription()
	sendTampered(t, svc, phone, []byte("approve sign-in?"), func(r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		body[len(body)/2] ^= 0x40
		r.Body = io.NopCloser(bytes.NewReader(body))
	})
	if n := len(svc.Messages(phone)); n != 0 {
		t.Fatalf("%d tampered messages accepted", n)
	}
	rej := svc.Rejections(phone)
	if len(rej) != 1 || !strings.Contains(rej[0], "does not decrypt") {
		t.Fatalf("rejections %q", rej)
	}
}

func TestVAPIDWithWrongKeyRefused(t *testing.T) {
	svc := pushservice.New(t)
	impostor, _ := push.GenerateVAPIDKeys()
	k := regexp.MustCompile(`k=[A-Za-z0-9_-]+`)
	phone := svc.NewSubscription()
	sendTampered(t, svc, phone, []byte("x"), func(r *http.Request) {
		r.Header.Set("Authorization", k.ReplaceAllString(r.Header.Get("Authorization"), "k="+impostor.Public))
	})
	rej := svc.Rejections(phone)
	if len(rej) != 1 || !strings.Contains(rej[0], "signature does not verify") {
		t.Fatalf("rejections %q", rej)
	}
	if len(svc.Messages(phone)) != 0 {
		t.Fatal("message accepted")
	}
}

func mustKeys(t *testing.T) push.VAPIDKeys {
	t.Helper()
	k, err := push.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestExpectedVAPIDKey(t *testing.T) {
	svc := pushservice.New(t)
	s, keys := newSender(t, svc)
	phone := svc.NewSubscription()
	svc.ExpectVAPIDKey(mustKeys(t).Public)
	s.Send(push.Message{Subscription: phone, Payload: []byte("x")})
	closeSender(t, s)
	rej := svc.Rejections(phone)
	if len(rej) != 1 || !strings.Contains(rej[0], "application server key") {
		t.Fatalf("rejections %q", rej)
	}

	svc.ExpectVAPIDKey(keys.Public)
	s2 := push.NewSender(push.Config{Keys: keys, Subscriber: "mailto:ops@example.com", AllowedHosts: []string{svc.Host()}, RootCAs: svc.RootCAs()})
	s2.Send(push.Message{Subscription: phone, Payload: []byte("y")})
	if m := wait(t, svc, phone, 1); string(m[0].Payload) != "y" {
		t.Fatalf("got %q", m[0].Payload)
	}
	closeSender(t, s2)
}

func TestAnswersInOrder(t *testing.T) {
	svc := pushservice.New(t)
	phone := svc.NewSubscription()
	svc.Answer(phone, http.StatusServiceUnavailable, 1)
	svc.Answer(phone, http.StatusTooManyRequests, 1)
	client := svc.Client()
	post := func() int {
		resp, err := client.Post(phone.Endpoint, "application/octet-stream", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	for _, want := range []int{503, 429, 401} { // then processed: no VAPID
		if got := post(); got != want {
			t.Errorf("got %d, want %d", got, want)
		}
	}
	svc.Answer(phone, http.StatusGone, 0)
	for range 2 {
		if got := post(); got != http.StatusGone {
			t.Errorf("got %d, want 410 every time", got)
		}
	}
	if n := svc.Requests(phone); n != 5 {
		t.Errorf("%d requests counted", n)
	}
	resp, err := client.Post(svc.URL()+"/push/unknown", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown subscription: %d", resp.StatusCode)
	}
}

func TestWaitGivesUp(t *testing.T) {
	svc := pushservice.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := svc.Wait(ctx, svc.NewSubscription(), 1); err == nil {
		t.Fatal("Wait returned without messages")
	}
	if _, err := svc.Wait(context.Background(), push.Subscription{Endpoint: "https://elsewhere/"}, 1); err == nil {
		t.Fatal("Wait accepted an unknown subscription")
	}
}

func TestCACertificateFile(t *testing.T) {
	svc := pushservice.New(t)
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := svc.WriteCACert(path); err != nil {
		t.Fatal(err)
	}
	pemBytes, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemBytes) {
		t.Fatal("no certificate in the file")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get(svc.URL() + "/")
	if err != nil {
		t.Fatalf("a client trusting the file cannot connect: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET answered %d", resp.StatusCode)
	}
}
