package push_test

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/testfixture/pushservice"
)

// config returns a Sender configuration for a server, with fresh keys,
// a log observer, and a short retry delay; roots are the CAs trusted.
func config(t *testing.T, host string, roots *x509.CertPool) (push.Config, *observer.ObservedLogs) {
	t.Helper()
	keys, err := push.GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	return push.Config{
		Keys:         keys,
		Subscriber:   "mailto:ops@example.com",
		AllowedHosts: []string{host},
		RootCAs:      roots,
		RetryDelay:   5 * time.Millisecond,
		Logger:       zap.New(core),
	}, logs
}

// start makes a Sender that is closed when the test ends.
func start(t *testing.T, cfg push.Config) *push.Sender {
	t.Helper()
	s := push.NewSender(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s.Close(ctx)
	})
	return s
}

// drain closes s, failing the test if that takes long.
func drain(t *testing.T, s *push.Sender) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

// subscriptionAt returns a subscription with valid keys and the given
// endpoint.
func subscriptionAt(t *testing.T, endpoint string) push.Subscription {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	rand.Read(auth)
	enc := base64.RawURLEncoding.EncodeToString
	return push.Subscription{Endpoint: endpoint, P256dh: enc(key.PublicKey().Bytes()), Auth: enc(auth)}
}

func TestStatusHandling(t *testing.T) {
	cases := []struct {
		name     string
		answers  [][2]int // status, times
		requests int
		received int
		gone     bool
	}{
		{"500 retried once then given up", [][2]int{{500, 0}}, 2, 0, false},
		{"503 once then delivered", [][2]int{{503, 1}}, 2, 1, false},
		{"429 once then delivered", [][2]int{{429, 1}}, 2, 1, false},
		{"400 not retried", [][2]int{{400, 0}}, 1, 0, false},
		{"403 not retried", [][2]int{{403, 0}}, 1, 0, false},
		{"413 not retried", [][2]int{{413, 0}}, 1, 0, false},
		{"410 is gone", [][2]int{{410, 0}}, 1, 0, true},
		{"404 is gone", [][2]int{{404, 0}}, 1, 0, true},
		{"500 then 410 is gone", [][2]int{{500, 1}, {410, 0}}, 2, 0, true},
		{"delivered", nil, 1, 1, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			svc := pushservice.New(t)
			phone := svc.NewSubscription()
			for _, a := range c.answers {
				svc.Answer(phone, a[0], a[1])
			}
			var mu sync.Mutex
			var gone []string
			cfg, _ := config(t, svc.Host(), svc.RootCAs())
			cfg.OnGone = func(endpoint string) {
				mu.Lock()
				defer mu.Unlock()
				gone = append(gone, endpoint)
			}
			s := start(t, cfg)
			if !s.Send(push.Message{Subscription: phone, Payload: []byte("hi")}) {
				t.Fatal("Send refused")
			}
			drain(t, s)
			if n := svc.Requests(phone); n != c.requests {
				t.Errorf("%d requests, want %d", n, c.requests)
			}
			if n := len(svc.Messages(phone)); n != c.received {
				t.Errorf("%d received, want %d", n, c.received)
			}
			mu.Lock()
			defer mu.Unlock()
			if c.gone && (len(gone) != 1 || gone[0] != phone.Endpoint) {
				t.Errorf("OnGone calls: %q", gone)
			}
			if !c.gone && len(gone) != 0 {
				t.Errorf("OnGone called: %q", gone)
			}
		})
	}
}

// certPool trusts the given certificates.
func certPool(certs ...*x509.Certificate) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool
}

// hangUp is a loopback listener that accepts each connection and closes
// it at once, counting them: a network error that is no timeout.
func hangUp(t *testing.T) (net.Listener, *atomic.Int32) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	var n atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			n.Add(1)
			c.Close()
		}
	}()
	return l, &n
}

func TestNetworkErrorRetriedOnce(t *testing.T) {
	l, calls := hangUp(t)
	cfg, logs := config(t, l.Addr().String(), nil)
	s := start(t, cfg)
	s.Send(push.Message{Subscription: subscriptionAt(t, "https://"+l.Addr().String()+"/x"), Payload: []byte("hi")})
	drain(t, s)
	if n := calls.Load(); n != 2 {
		t.Errorf("%d attempts, want 2", n)
	}
	if logs.FilterMessage("push: delivery failed").Len() != 1 {
		t.Errorf("failure not logged: %v", logs.All())
	}
}

// A push service that does not answer in time is not tried again: the
// retry would hold a worker as long again, for a prompt already late.
func TestTimeoutNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// Read the body: only then does the server watch the connection
		// and cancel r.Context when the client gives up.
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}))
	defer srv.Close()
	cfg, logs := config(t, srv.Listener.Addr().String(), certPool(srv.Certificate()))
	cfg.Timeout = time.Second // long enough for TLS on a busy machine; the handler never answers
	s := start(t, cfg)
	s.Send(push.Message{Subscription: subscriptionAt(t, srv.URL+"/x"), Payload: []byte("hi")})
	drain(t, s)
	if n := calls.Load(); n != 1 {
		t.Errorf("%d attempts, want 1", n)
	}
	if logs.FilterMessage("push: delivery timed out, not retried").Len() != 1 {
		t.Errorf("timeout not logged: %v", logs.All())
	}
}

func TestRedirectNotFollowed(t *testing.T) {
	var internalHits, redirects atomic.Int32
	internal := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		internalHits.Add(1)
	}))
	defer internal.Close()
	for _, status := range []int{301, 302, 307, 308} {
		redirector := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			redirects.Add(1)
			http.Redirect(w, r, internal.URL+"/admin", status)
		}))
		// The sender trusts both servers, so only the redirect policy
		// stands between the redirect and the internal server.
		cfg, logs := config(t, redirector.Listener.Addr().String(), certPool(redirector.Certificate(), internal.Certificate()))
		s := start(t, cfg)
		s.Send(push.Message{Subscription: subscriptionAt(t, redirector.URL+"/x"), Payload: []byte("hi")})
		drain(t, s)
		redirector.Close()
		if logs.FilterMessage("push: delivery failed").Len() != 1 {
			t.Errorf("%d: redirect not reported: %v", status, logs.All())
		}
	}
	if n := redirects.Load(); n != 4 {
		t.Errorf("%d requests to the redirecting server, want 4 (no retries)", n)
	}
	if n := internalHits.Load(); n != 0 {
		t.Fatalf("redirect followed %d times", n)
	}
}

// gate is a push service that holds every request until released.
type gate struct {
	srv     *httptest.Server
	entered chan struct{}
	release chan struct{}
	handled atomic.Int32
}

func newGate(t *testing.T) *gate {
	g := &gate{entered: make(chan struct{}, 100), release: make(chan struct{})}
	g.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body) // see TestTimeoutRetriedOnce
		g.entered <- struct{}{}
		select {
		case <-g.release:
			g.handled.Add(1)
			w.WriteHeader(http.StatusCreated)
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(g.srv.Close)
	return g
}

func (g *gate) config(t *testing.T) (push.Config, *observer.ObservedLogs) {
	cfg, logs := config(t, g.srv.Listener.Addr().String(), certPool(g.srv.Certificate()))
	cfg.Workers = 1
	return cfg, logs
}

func (g *gate) waitEntered(t *testing.T) {
	t.Helper()
	select {
	case <-g.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("no request reached the server")
	}
}

func TestQueueFullDoesNotBlock(t *testing.T) {
	g := newGate(t)
	cfg, logs := g.config(t)
	cfg.QueueSize = 1
	s := start(t, cfg)
	msg := push.Message{Subscription: subscriptionAt(t, g.srv.URL+"/x"), Payload: []byte("hi")}
	if !s.Send(msg) {
		t.Fatal("first message refused")
	}
	g.waitEntered(t) // the worker is busy with it
	if !s.Send(msg) {
		t.Fatal("second message refused with room in the queue")
	}
	done := make(chan bool)
	go func() { done <- s.Send(msg) }()
	select {
	case ok := <-done:
		if ok {
			t.Fatal("third message accepted into a full queue")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Send blocked on a full queue")
	}
	if logs.FilterMessage("push: message dropped: queue full").Len() != 1 {
		t.Errorf("full queue not logged: %v", logs.All())
	}
	close(g.release)
	drain(t, s)
	if n := g.handled.Load(); n != 2 {
		t.Errorf("%d delivered, want 2", n)
	}
}

func TestCloseWaitsForQueuedMessages(t *testing.T) {
	g := newGate(t)
	cfg, _ := g.config(t)
	s := start(t, cfg)
	msg := push.Message{Subscription: subscriptionAt(t, g.srv.URL+"/x"), Payload: []byte("hi")}
	for range 3 {
		s.Send(msg)
	}
	g.waitEntered(t)
	closed := make(chan error)
	go func() { closed <- s.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while messages were in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	if s.Send(msg) {
		t.Error("Send accepted a message after Close began")
	}
	close(g.release)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if n := g.handled.Load(); n != 3 {
		t.Errorf("%d delivered before Close returned, want 3", n)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseGivesUpWhenContextEnds(t *testing.T) {
	g := newGate(t) // never released
	cfg, logs := g.config(t)
	s := start(t, cfg)
	msg := push.Message{Subscription: subscriptionAt(t, g.srv.URL+"/x"), Payload: []byte("hi")}
	for range 3 {
		s.Send(msg)
	}
	g.waitEntered(t)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %v after its context ended", d)
	}
	if n := g.handled.Load(); n != 0 {
		t.Errorf("%d delivered", n)
	}
	if logs.FilterMessage("push: undelivered messages dropped at close").Len() != 1 {
		t.Errorf("dropped messages not logged: %v", logs.All())
	}
}

func TestSendRefusesBadMessages(t *testing.T) {
	svc := pushservice.New(t)
	cfg, logs := config(t, svc.Host(), svc.RootCAs())
	s := start(t, cfg)
	phone := svc.NewSubscription()
	elsewhere := phone
	elsewhere.Endpoint = "https://evil.example/push/x"
	plain := phone
	plain.Endpoint = strings.Replace(phone.Endpoint, "https:", "http:", 1)
	cases := map[string]push.Message{
		"host off the allow-list": {Subscription: elsewhere},
		"http endpoint":           {Subscription: plain},
		"payload too large":       {Subscription: phone, Payload: make([]byte, push.MaxPayload+1)},
		"unknown urgency":         {Subscription: phone, Urgency: "urgent"},
		"topic too long":          {Subscription: phone, Topic: strings.Repeat("a", 33)},
		"topic not base64url":     {Subscription: phone, Topic: "sign in"},
	}
	for name, msg := range cases {
		if s.Send(msg) {
			t.Errorf("%s: accepted", name)
		}
	}
	drain(t, s)
	if n := svc.Requests(phone); n != 0 {
		t.Errorf("%d requests made for refused messages", n)
	}
	if n := logs.FilterMessage("push: message refused").Len(); n != len(cases) {
		t.Errorf("%d refusals logged, want %d", n, len(cases))
	}
}

func TestBadConfigRefusesEverything(t *testing.T) {
	svc := pushservice.New(t)
	other, _ := push.GenerateVAPIDKeys()
	cases := map[string]func(*push.Config){
		"mismatched keys":      func(c *push.Config) { c.Keys.Public = other.Public },
		"no keys":              func(c *push.Config) { c.Keys = push.VAPIDKeys{} },
		"no subscriber":        func(c *push.Config) { c.Subscriber = "" },
		"bare address":         func(c *push.Config) { c.Subscriber = "ops@example.com" },
		"http subscriber":      func(c *push.Config) { c.Subscriber = "http://example.com" },
		"mailto without an at": func(c *push.Config) { c.Subscriber = "mailto:ops" },
	}
	for name, change := range cases {
		cfg, logs := config(t, svc.Host(), svc.RootCAs())
		change(&cfg)
		s := start(t, cfg)
		if s.Send(push.Message{Subscription: svc.NewSubscription(), Payload: []byte("x")}) {
			t.Errorf("%s: message accepted", name)
		}
		if logs.FilterMessage("push: sender disabled").Len() != 1 {
			t.Errorf("%s: not logged at start", name)
		}
	}
}

func TestHTTPSSubscriber(t *testing.T) {
	svc := pushservice.New(t)
	cfg, _ := config(t, svc.Host(), svc.RootCAs())
	cfg.Subscriber = "https://gateway.example.com/contact"
	s := start(t, cfg)
	phone := svc.NewSubscription()
	s.Send(push.Message{Subscription: phone, Payload: []byte("x"), Urgency: push.UrgencyLow})
	drain(t, s)
	msgs := svc.Messages(phone)
	if len(msgs) != 1 || msgs[0].Subscriber != "https://gateway.example.com/contact" || msgs[0].Urgency != "low" {
		t.Fatalf("got %+v, rejections %q", msgs, svc.Rejections(phone))
	}
}

// webpush-go appends padding to the payload slice it is given; the Sender
// must not let that write into the caller's array, nor share one payload
// between workers sending it to two phones.
func TestPayloadWithSpareCapacity(t *testing.T) {
	svc := pushservice.New(t)
	cfg, _ := config(t, svc.Host(), svc.RootCAs())
	s := start(t, cfg)
	buf := bytes.Repeat([]byte("Z"), 8192)
	payload := buf[:5]
	copy(payload, "hello")
	phones := []push.Subscription{svc.NewSubscription(), svc.NewSubscription(), svc.NewSubscription()}
	for _, p := range phones {
		s.Send(push.Message{Subscription: p, Payload: payload})
	}
	drain(t, s)
	if !bytes.Equal(buf[5:], bytes.Repeat([]byte("Z"), 8192-5)) {
		t.Error("the caller's array beyond the payload was written")
	}
	for _, p := range phones {
		msgs := svc.Messages(p)
		if len(msgs) != 1 || string(msgs[0].Payload) != "hello" {
			t.Errorf("phone got %+v", msgs)
		}
	}
}

func TestConcurrentSendAndClose(t *testing.T) {
	svc := pushservice.New(t)
	cfg, _ := config(t, svc.Host(), svc.RootCAs())
	cfg.QueueSize = 8
	s := start(t, cfg)
	phone := svc.NewSubscription()
	var accepted atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 20 {
				if s.Send(push.Message{Subscription: phone, Payload: []byte("x")}) {
					accepted.Add(1)
				}
			}
		})
	}
	time.Sleep(time.Millisecond)
	drain(t, s)
	wg.Wait()
	if got, want := len(svc.Messages(phone)), int(accepted.Load()); got != want {
		t.Errorf("%d delivered, %d accepted", got, want)
	}
}

// The sender's own TLS dialing keeps HTTP/2 with push services that offer
// it (as the major ones do).
func TestHTTP2(t *testing.T) {
	var proto atomic.Value
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proto.Store(r.Proto)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	cfg, logs := config(t, srv.Listener.Addr().String(), certPool(srv.Certificate()))
	s := start(t, cfg)
	s.Send(push.Message{Subscription: subscriptionAt(t, srv.URL+"/x"), Payload: []byte("hi")})
	drain(t, s)
	if p, _ := proto.Load().(string); p != "HTTP/2.0" {
		t.Errorf("request made over %q: %v", p, logs.All())
	}
}
