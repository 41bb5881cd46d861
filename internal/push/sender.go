package push

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
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
// is useless, so persistent failures are better reported than retried. A
// timeout is never retried (see deliver).
const maxAttempts = 2

// maxResponseBody bounds how much of a push service's answer is read, for
// the log; a hostile or broken service cannot make the gateway buffer more.
const maxResponseBody = 512

// Limits on concurrent sends. Each user's phones are sent to one at a
// time, and each push host gets at most two of the workers, so one
// account's (or one host's) slow or dead push services cannot hold every
// worker while other users' sign-ins wait.
const (
	MaxPerOwner = 1
	MaxPerHost  = 2
)

// wantedTimeout bounds Message.Wanted, which asks the store.
const wantedTimeout = 2 * time.Second

// Defaults for Config fields left zero.
const (
	DefaultQueueSize      = 256
	DefaultWorkers        = 4
	DefaultConnectTimeout = 3 * time.Second
	DefaultTimeout        = 5 * time.Second
	DefaultRetryDelay     = time.Second
	DefaultTTL            = 60 * time.Second
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
	// Subscription.Validate. Empty means DefaultHosts(). Every address
	// connected to is checked too: only an exact entry naming an address
	// or a private host reaches a non-public address.
	AllowedHosts []string
	// RootCAs are the certificate authorities push services are trusted
	// by; nil means the system's.
	RootCAs *x509.CertPool
	// Resolver looks up push hosts; nil means net.DefaultResolver.
	Resolver Resolver
	// QueueSize is how many messages may wait; default DefaultQueueSize.
	QueueSize int
	// Workers is how many messages are sent at once; default DefaultWorkers.
	Workers int
	// ConnectTimeout bounds connecting and the TLS handshake together;
	// default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// Timeout bounds each attempt in all; default DefaultTimeout.
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
	// Owner names whose message it is (the user): at most MaxPerOwner
	// messages of one owner are sent at once. Messages without one count
	// as one owner.
	Owner string
	// Wanted, if set, is asked right before each attempt: false drops
	// the message (its sign-in request was answered, replaced or has
	// expired). It must be cheap.
	Wanted func(ctx context.Context) bool
}

// job is a queued message with its push host, the key of the per-host
// limit.
type job struct {
	msg  Message
	host string
}

// Sender sends messages from a bounded queue with a bounded number of
// workers, at most MaxPerOwner at once per owner and MaxPerHost per push
// host; a subscription that timed out twice is skipped for a while. It is
// safe for concurrent use.
type Sender struct {
	client       *http.Client
	keys         VAPIDKeys
	subscriber   string
	allowedHosts []string
	timeout      time.Duration
	retryDelay   time.Duration
	ttlSeconds   int
	log          *zap.Logger
	onGone       func(string)
	dialer       *guardedDialer
	backoff      *backoff
	// configErr, if set, makes Send refuse every message: NewSender has no
	// error result, and a Sender with bad keys could deliver nothing.
	configErr error

	// mu guards the queue and the counts of running sends.
	mu        sync.Mutex
	queue     []job
	queueSize int
	workers   int
	running   int
	byOwner   map[string]int
	byHost    map[string]int
	closed    bool
	// idle is closed once the Sender is closed with nothing queued or
	// running.
	idle       chan struct{}
	idleClosed bool

	// ctx is cancelled when Close gives up waiting: in-flight requests and
	// retry pauses end, queued messages are dropped.
	ctx     context.Context
	cancel  context.CancelFunc
	dropped atomic.Int64
}

// NewSender makes a Sender. The configuration is checked here; if it is
// unusable the error is logged and every Send returns false.
func NewSender(cfg Config) *Sender {
	cfg = withDefaults(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	dialer := &guardedDialer{allowed: newAllowList(cfg.AllowedHosts), resolver: cfg.Resolver,
		rootCAs: cfg.RootCAs, timeout: cfg.ConnectTimeout}
	s := &Sender{
		client:       noRedirectClient(dialer.transport()),
		allowedHosts: cfg.AllowedHosts,
		timeout:      cfg.Timeout,
		retryDelay:   cfg.RetryDelay,
		ttlSeconds:   int(cfg.TTL / time.Second),
		log:          cfg.Logger,
		onGone:       cfg.OnGone,
		dialer:       dialer,
		backoff:      newBackoff(time.Now),
		queueSize:    cfg.QueueSize,
		workers:      cfg.Workers,
		byOwner:      map[string]int{},
		byHost:       map[string]int{},
		idle:         make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
	}
	s.keys, s.subscriber, s.configErr = checkConfig(cfg)
	if s.configErr == nil {
		s.configErr = CheckHosts(cfg.AllowedHosts)
	}
	if s.configErr != nil {
		s.log.Error("push: sender disabled", zap.Error(s.configErr))
	}
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
	if cfg.ConnectTimeout <= 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
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

// noRedirectClient returns a client over t that never follows a redirect:
// a push service redirecting to an internal address would otherwise turn
// the gateway into a request forger.
func noRedirectClient(t http.RoundTripper) *http.Client {
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
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

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		s.log.Warn("push: message refused: sender closed")
		return false
	}
	if len(s.queue) >= s.queueSize {
		s.log.Warn("push: message dropped: queue full", zap.Int("queue_size", s.queueSize))
		return false
	}
	s.queue = append(s.queue, job{msg: msg, host: strings.ToLower(endpointHost(msg.Subscription.Endpoint))})
	s.startReadyLocked()
	return true
}

// startReadyLocked starts every queued message, oldest first, whose
// owner, push host and the worker count have room; the others wait for a
// send to end. s.mu is held.
func (s *Sender) startReadyLocked() {
	if s.ctx.Err() != nil {
		s.dropped.Add(int64(len(s.queue)))
		s.queue = nil
		s.signalIdleLocked()
		return
	}
	kept := s.queue[:0]
	for _, j := range s.queue {
		if s.running >= s.workers || s.byOwner[j.msg.Owner] >= MaxPerOwner || s.byHost[j.host] >= MaxPerHost {
			kept = append(kept, j)
			continue
		}
		s.running++
		s.byOwner[j.msg.Owner]++
		s.byHost[j.host]++
		go s.run(j)
	}
	clear(s.queue[len(kept):])
	s.queue = kept
}

// run sends one message and frees its slots.
func (s *Sender) run(j job) {
	defer func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.running--
		release(s.byOwner, j.msg.Owner)
		release(s.byHost, j.host)
		s.startReadyLocked()
		s.signalIdleLocked()
	}()
	s.deliver(j.msg)
}

// release decrements a count, forgetting it at zero.
func release(m map[string]int, key string) {
	if m[key] <= 1 {
		delete(m, key)
		return
	}
	m[key]--
}

// signalIdleLocked closes idle once the Sender is closed and has nothing
// queued or running. s.mu is held.
func (s *Sender) signalIdleLocked() {
	if s.closed && !s.idleClosed && s.running == 0 && len(s.queue) == 0 {
		s.idleClosed = true
		close(s.idle)
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
	s.closed = true
	s.signalIdleLocked()
	s.mu.Unlock()

	defer s.client.CloseIdleConnections()
	select {
	case <-s.idle:
		s.cancel()
		return nil
	case <-ctx.Done():
	}
	// Both may be ready at once; finished work is not an error.
	select {
	case <-s.idle:
		s.cancel()
		return nil
	default:
	}
	s.cancel()
	s.mu.Lock()
	s.startReadyLocked() // drops what is queued, now that ctx is cancelled
	s.mu.Unlock()
	<-s.idle
	if n := s.dropped.Load(); n > 0 {
		s.log.Warn("push: undelivered messages dropped at close", zap.Int64("count", n))
	}
	return fmt.Errorf("push: close gave up on undelivered messages: %w", ctx.Err())
}

// outcome is how one attempt ended.
type outcome int

const (
	delivered outcome = iota
	gone              // 404 or 410: the subscription is dead
	transient         // network error, 5xx or 429: worth one retry
	timedOut          // no answer in time: not retried, counts against the subscription
	permanent         // anything else: retrying would fail the same way
)

// deliver sends one message, retrying once after a transient failure
// other than a timeout: a push service that did not answer in time will
// hardly answer the retry, and waiting for it holds a worker.
func (s *Sender) deliver(msg Message) {
	endpoint := msg.Subscription.Endpoint
	log := s.log.With(zap.String("push_host", endpointHost(endpoint)))
	// Checked again here, right before the request, so that no path to
	// the queue can make the gateway POST to a host off the allow-list.
	sub, err := s.webpushSubscription(msg.Subscription)
	if err != nil {
		log.Error("push: message dropped", zap.Error(err))
		return
	}
	if s.backoff.skipping(endpoint) {
		log.Info("push: message skipped: the subscription timed out repeatedly", zap.Duration("backoff", backoffPause))
		return
	}
	for attempt := 1; ; attempt++ {
		if !s.wanted(msg) {
			log.Debug("push: message dropped: its sign-in request is no longer pending")
			return
		}
		out, err := s.attempt(sub, msg)
		switch {
		case out == delivered:
			s.backoff.succeeded(endpoint)
			return
		case out == gone:
			log.Info("push: subscription gone", zap.Error(err))
			if s.onGone != nil {
				s.onGone(endpoint)
			}
			return
		case out == timedOut:
			if s.ctx.Err() != nil {
				log.Warn("push: message abandoned at close", zap.Error(err))
				return
			}
			s.backoff.timedOut(endpoint)
			log.Warn("push: delivery timed out, not retried", zap.Int("attempts", attempt), zap.Error(err))
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

// wanted asks the message whether it is still worth sending.
func (s *Sender) wanted(msg Message) bool {
	if msg.Wanted == nil {
		return true
	}
	ctx, cancel := context.WithTimeout(s.ctx, wantedTimeout)
	defer cancel()
	return msg.Wanted(ctx)
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
		var refusal refusedError
		if errors.As(err, &uerr) {
			if errors.As(err, &refusal) {
				return permanent, fmt.Errorf("push: request refused: %w", err)
			}
			if isTimeout(err) {
				return timedOut, fmt.Errorf("push: request timed out: %w", err)
			}
			return transient, fmt.Errorf("push: request failed: %w", err)
		}
		return permanent, fmt.Errorf("push: preparing request: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponseBody))
	return classify(resp.StatusCode), statusError(resp.StatusCode, body)
}

// isTimeout reports whether a request failed for lack of an answer in
// time (connect, handshake or the attempt's deadline).
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout())
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
