package push

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	webpush "github.com/SherClockHolmes/webpush-go"
	"go.uber.org/zap"
)

// MaxPayload is the largest payload a Message may carry. webpush-go pads
// every message into one 4096-byte record (the size RFC 8291 says push
// services must accept): 4096 less the 16-byte tag, the 86-byte header and
// the 1-byte padding delimiter.
const MaxPayload = 4096 - 16 - 86 - 1

// maxAttempts is one try and one retry: a sign-in prompt that arrives late
// is useless, so persistent failures are better reported than retried.
const maxAttempts = 2

// maxResponseBody bounds how much of a push service's answer is read, for
// the log; a hostile or broken service cannot make the gateway buffer more.
const maxResponseBody = 512

// Defaults for Config fields left zero.
const (
	DefaultQueueSize  = 256
	DefaultWorkers    = 4
	DefaultTimeout    = 10 * time.Second
	DefaultRetryDelay = time.Second
	DefaultTTL        = 60 * time.Second
)

// Urgency tells the push service how readily to wake the device
// (RFC 8030, section 5.3).
type Urgency string

// The urgencies of RFC 8030.
const (
	UrgencyVeryLow Urgency = "very-low"
	UrgencyLow     Urgency = "low"
	UrgencyNormal  Urgency = "normal"
	UrgencyHigh    Urgency = "high"
)

// Config configures a Sender.
type Config struct {
	// Keys sign every request (VAPID). Required; see VAPIDKeys.Validate.
	Keys VAPIDKeys
	// Subscriber is the contact the push service may use about abuse
	// (the VAPID "sub" claim): "mailto:admin@example.com" or an https URL.
	// Required: some push services (Apple's) refuse requests without it.
	Subscriber string
	// AllowedHosts are the push services messages may go to, as for
	// Subscription.Validate. Empty means DefaultHosts().
	AllowedHosts []string
	// Client sends the requests; nil means a client with Timeout. The
	// Sender uses a copy that never follows redirects.
	Client *http.Client
	// QueueSize is how many messages may wait; default DefaultQueueSize.
	QueueSize int
	// Workers is how many messages are sent at once; default DefaultWorkers.
	Workers int
	// Timeout bounds each attempt; default DefaultTimeout.
	Timeout time.Duration
	// RetryDelay is the pause before the one retry; default DefaultRetryDelay.
	RetryDelay time.Duration
	// TTL is how long the push service keeps a message for an unreachable
	// phone; default DefaultTTL. A sign-in prompt is stale within minutes.
	TTL time.Duration
	// Logger receives delivery failures; nil means none.
	Logger *zap.Logger
	// OnGone, if set, is called with the endpoint when the push service
	// answers 404 or 410: the subscription no longer exists and should be
	// forgotten. It runs on a worker goroutine, possibly several at once.
	OnGone func(endpoint string)
}

// Message is one notification to send.
type Message struct {
	// Subscription is the phone to notify.
	Subscription Subscription
	// Payload is the plaintext the phone's service worker receives, at
	// most MaxPayload bytes. Send copies it.
	Payload []byte
	// Urgency defaults to UrgencyHigh: a sign-in waits on the phone.
	Urgency Urgency
	// Topic, if set, makes this message replace an undelivered one with
	// the same topic: at most 32 characters of base64url (RFC 8030, 5.4).
	Topic string
}

// Sender sends messages from a bounded queue with a fixed set of workers.
// It is safe for concurrent use.
type Sender struct {
	queue        chan Message
	client       *http.Client
	keys         VAPIDKeys
	subscriber   string
	allowedHosts []string
	timeout      time.Duration
	retryDelay   time.Duration
	ttlSeconds   int
	log          *zap.Logger
	onGone       func(string)
	// configErr, if set, makes Send refuse every message: NewSender has no
	// error result, and a Sender with bad keys could deliver nothing.
	configErr error

	// mu guards closed against Send racing Close's close(queue).
	mu     sync.RWMutex
	closed bool

	// ctx is cancelled when Close gives up waiting: in-flight requests and
	// retry pauses end, queued messages are dropped.
	ctx     context.Context
	cancel  context.CancelFunc
	dropped atomic.Int64
	wg      sync.WaitGroup
	done    chan struct{}
}

// NewSender starts a Sender's workers. The configuration is checked here;
// if it is unusable the error is logged and every Send returns false.
func NewSender(cfg Config) *Sender {
	cfg = withDefaults(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	s := &Sender{
		queue:        make(chan Message, cfg.QueueSize),
		client:       noRedirectClient(cfg.Client, cfg.Timeout),
		allowedHosts: cfg.AllowedHosts,
		timeout:      cfg.Timeout,
		retryDelay:   cfg.RetryDelay,
		ttlSeconds:   int(cfg.TTL / time.Second),
		log:          cfg.Logger,
		onGone:       cfg.OnGone,
		ctx:          ctx,
		cancel:       cancel,
		done:         make(chan struct{}),
	}
	s.keys, s.subscriber, s.configErr = checkConfig(cfg)
	if s.configErr != nil {
		s.log.Error("push: sender disabled", zap.Error(s.configErr))
	}
	s.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go s.work()
	}
	go func() {
		s.wg.Wait()
		close(s.done)
	}()
	return s
}

// withDefaults fills the zero fields of cfg.
func withDefaults(cfg Config) Config {
	if len(cfg.AllowedHosts) == 0 {
		cfg.AllowedHosts = DefaultHosts()
	} else {
		cfg.AllowedHosts = append([]string(nil), cfg.AllowedHosts...)
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = DefaultQueueSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.RetryDelay <= 0 {
		cfg.RetryDelay = DefaultRetryDelay
	}
	if cfg.TTL <= 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	return cfg
}

// checkConfig validates the keys and subscriber and returns them in the
// form webpush-go expects.
func checkConfig(cfg Config) (VAPIDKeys, string, error) {
	if err := cfg.Keys.Validate(); err != nil {
		return VAPIDKeys{}, "", err
	}
	subscriber, err := vapidSubscriber(cfg.Subscriber)
	if err != nil {
		return VAPIDKeys{}, "", err
	}
	// Padding stripped: webpush-go accepts padding only if it is exact,
	// where Validate is lenient.
	keys := VAPIDKeys{
		Private: unpadded(cfg.Keys.Private),
		Public:  unpadded(cfg.Keys.Public),
	}
	return keys, subscriber, nil
}

// vapidSubscriber checks the subscriber contact and returns it as
// webpush-go wants it: webpush-go prefixes "mailto:" to anything not
// starting with "https:", so a "mailto:" given here must be removed or
// the claim would read "mailto:mailto:...".
func vapidSubscriber(sub string) (string, error) {
	if addr, ok := strings.CutPrefix(sub, "mailto:"); ok {
		if !strings.Contains(addr, "@") {
			return "", fmt.Errorf("push: subscriber %q is not a mailto: address", sub)
		}
		return addr, nil
	}
	u, err := url.Parse(sub)
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return "", fmt.Errorf("push: subscriber must be a mailto: address or an https URL, got %q", sub)
	}
	return sub, nil
}

// noRedirectClient returns a copy of c (or a new client) that never
// follows a redirect: a push service redirecting to an internal address
// would otherwise turn the gateway into a request forger.
func noRedirectClient(c *http.Client, timeout time.Duration) *http.Client {
	var nc http.Client
	if c != nil {
		nc = *c
	} else {
		nc.Timeout = timeout
	}
	nc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &nc
}

// Send queues msg and returns at once. It returns false, and logs why, if
// the message is invalid, the queue is full, or the Sender is closed.
func (s *Sender) Send(msg Message) bool {
	if err := s.check(msg); err != nil {
		s.log.Warn("push: message refused", zap.String("push_host", endpointHost(msg.Subscription.Endpoint)), zap.Error(err))
		return false
	}
	// webpush-go appends padding to the payload slice it is given, which
	// writes into the caller's array when it has spare capacity (and races
	// when one payload goes to two phones). A copy of exact capacity makes
	// every append reallocate, and frees the caller to reuse its slice.
	payload := make([]byte, len(msg.Payload))
	copy(payload, msg.Payload)
	msg.Payload = payload
	if msg.Urgency == "" {
		msg.Urgency = UrgencyHigh
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.log.Warn("push: message refused: sender closed")
		return false
	}
	select {
	case s.queue <- msg:
		return true
	default:
		s.log.Warn("push: message dropped: queue full", zap.Int("queue_size", cap(s.queue)))
		return false
	}
}

// check validates a message before it is queued.
func (s *Sender) check(msg Message) error {
	if s.configErr != nil {
		return fmt.Errorf("push: sender disabled: %w", s.configErr)
	}
	if len(msg.Payload) > MaxPayload {
		return fmt.Errorf("push: payload of %d bytes exceeds %d", len(msg.Payload), MaxPayload)
	}
	switch msg.Urgency {
	case "", UrgencyVeryLow, UrgencyLow, UrgencyNormal, UrgencyHigh:
	default:
		return fmt.Errorf("push: unknown urgency %q", msg.Urgency)
	}
	if !validTopic(msg.Topic) {
		return fmt.Errorf("push: topic must be at most 32 base64url characters")
	}
	return msg.Subscription.Validate(s.allowedHosts)
}

// validTopic reports whether t is empty or a valid RFC 8030 topic.
func validTopic(t string) bool {
	if len(t) > 32 {
		return false
	}
	for _, c := range t {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// Close stops accepting messages and waits for the queued ones to be
// delivered. If ctx ends first, it cancels requests in flight, drops what
// is still queued, waits for the workers to stop, and returns ctx's error.
// Later calls wait the same way.
func (s *Sender) Close(ctx context.Context) error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.queue)
	}
	s.mu.Unlock()

	select {
	case <-s.done:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	// Both may be ready at once; finished work is not an error.
	select {
	case <-s.done:
		s.cancel()
		return nil
	default:
	}
	s.cancel()
	<-s.done
	if n := s.dropped.Load(); n > 0 {
		s.log.Warn("push: undelivered messages dropped at close", zap.Int64("count", n))
	}
	return fmt.Errorf("push: close gave up on undelivered messages: %w", ctx.Err())
}

// work delivers queued messages until the queue is closed and empty.
func (s *Sender) work() {
	defer s.wg.Done()
	for msg := range s.queue {
		if s.ctx.Err() != nil {
			s.dropped.Add(1)
			continue
		}
		s.deliver(msg)
	}
}

// outcome is how one attempt ended.
type outcome int

const (
	delivered outcome = iota
	gone              // 404 or 410: the subscription is dead
	transient         // network error, 5xx or 429: worth one retry
	permanent         // anything else: retrying would fail the same way
)

// deliver sends one message, retrying once after a transient failure.
func (s *Sender) deliver(msg Message) {
	log := s.log.With(zap.String("push_host", endpointHost(msg.Subscription.Endpoint)))
	// Checked again here, right before the request, so that no path to
	// the queue can make the gateway POST to a host off the allow-list.
	sub, err := s.webpushSubscription(msg.Subscription)
	if err != nil {
		log.Error("push: message dropped", zap.Error(err))
		return
	}
	for attempt := 1; ; attempt++ {
		out, err := s.attempt(sub, msg)
		switch {
		case out == delivered:
			return
		case out == gone:
			log.Info("push: subscription gone", zap.Error(err))
			if s.onGone != nil {
				s.onGone(msg.Subscription.Endpoint)
			}
			return
		case out == transient && attempt < maxAttempts:
			log.Debug("push: retrying", zap.Error(err))
			if !s.pause() {
				log.Warn("push: message abandoned at close", zap.Error(err))
				return
			}
		default:
			log.Warn("push: delivery failed", zap.Int("attempts", attempt), zap.Error(err))
			return
		}
	}
}

// webpushSubscription validates sub and converts it for webpush-go, keys
// unpadded so webpush-go's decoding cannot disagree with ours.
func (s *Sender) webpushSubscription(sub Subscription) (*webpush.Subscription, error) {
	if err := sub.Validate(s.allowedHosts); err != nil {
		return nil, err
	}
	return &webpush.Subscription{
		Endpoint: sub.Endpoint,
		Keys:     webpush.Keys{P256dh: unpadded(sub.P256dh), Auth: unpadded(sub.Auth)},
	}, nil
}

// attempt makes one request and classifies the result; the error
// describes any failure, for the log.
func (s *Sender) attempt(sub *webpush.Subscription, msg Message) (outcome, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.timeout)
	defer cancel()
	resp, err := webpush.SendNotificationWithContext(ctx, msg.Payload, sub, &webpush.Options{
		HTTPClient:      s.client,
		Subscriber:      s.subscriber,
		TTL:             s.ttlSeconds,
		Urgency:         webpush.Urgency(msg.Urgency),
		Topic:           msg.Topic,
		VAPIDPublicKey:  s.keys.Public,
		VAPIDPrivateKey: s.keys.Private,
	})
	if err != nil {
		// The client wraps every transport failure in *url.Error; any
		// other error is webpush-go refusing the message before sending.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			return transient, fmt.Errorf("push: request failed: %w", err)
		}
		return permanent, fmt.Errorf("push: preparing request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return classify(resp.StatusCode), statusError(resp.StatusCode, body)
}

// classify maps a push service's status code to an outcome.
func classify(status int) outcome {
	switch {
	case status >= 200 && status < 300:
		return delivered
	case status == http.StatusNotFound || status == http.StatusGone:
		return gone
	case status == http.StatusTooManyRequests || status >= 500:
		return transient
	default:
		return permanent
	}
}

// statusError describes a non-2xx answer, nil for 2xx.
func statusError(status int, body []byte) error {
	switch {
	case status >= 200 && status < 300:
		return nil
	case status >= 300 && status < 400:
		return fmt.Errorf("push service answered %d, a redirect, which is not followed", status)
	default:
		return fmt.Errorf("push service answered %d: %q", status, body)
	}
}

// pause waits before a retry; false means Close gave up meanwhile.
func (s *Sender) pause() bool {
	t := time.NewTimer(s.retryDelay)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-s.ctx.Done():
		return false
	}
}

// endpointHost is the part of an endpoint that may be logged: the path is
// the subscription's identifier at the push service and stays out of logs.
func endpointHost(endpoint string) string {
	u, err := url.Parse(endpoint)
	if err != nil {
		return "(unparsable)"
	}
	return u.Host
}

// unpadded turns base64url with or without padding into unpadded
// base64url; it is only called on values already validated.
func unpadded(s string) string {
	return strings.TrimRight(s, "=")
}
