package push_test

import (
	"context"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/testfixture/pushservice"
)

// tarpit is a loopback listener that accepts connections and never
// answers, counting them and how many are open at once.
type tarpit struct {
	addr     string
	total    atomic.Int32
	mu       sync.Mutex
	open     int
	maxOpen  int
	accepted chan struct{}
}

func newTarpit(t *testing.T) *tarpit {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tp := &tarpit{addr: l.Addr().String(), accepted: make(chan struct{}, 100)}
	var conns sync.WaitGroup
	t.Cleanup(func() { l.Close(); conns.Wait() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tp.total.Add(1)
			tp.mu.Lock()
			tp.open++
			tp.maxOpen = max(tp.maxOpen, tp.open)
			tp.mu.Unlock()
			tp.accepted <- struct{}{}
			conns.Go(func() {
				// Never answer; notice when the sender hangs up.
				for {
					if _, err := c.Read(make([]byte, 64<<10)); err != nil {
						break
					}
				}
				c.Close()
				tp.mu.Lock()
				tp.open--
				tp.mu.Unlock()
			})
		}
	}()
	return tp
}

func (tp *tarpit) maxConcurrent() int {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	return tp.maxOpen
}

// One account with five phones pointing at a tarpit must not delay
// another user's notification: with the production timeouts, it arrives
// within a second.
func TestTarpitDoesNotStallOtherUsers(t *testing.T) {
	tp := newTarpit(t)
	svc := pushservice.New(t)
	cfg, _ := config(t, svc.Host(), svc.RootCAs())
	cfg.AllowedHosts = append(cfg.AllowedHosts, tp.addr)
	s := start(t, cfg)
	for i := range 5 {
		phone := subscriptionAt(t, "https://"+tp.addr+"/push/mallory-"+strconv.Itoa(i))
		if !s.Send(push.Message{Subscription: phone, Payload: []byte("x"), Owner: "mallory"}) {
			t.Fatal("Send refused")
		}
	}
	select {
	case <-tp.accepted:
	case <-time.After(5 * time.Second):
		t.Fatal("the tarpit was never reached")
	}
	alice := svc.NewSubscription()
	sent := time.Now()
	if !s.Send(push.Message{Subscription: alice, Payload: []byte("sign in?"), Owner: "alice"}) {
		t.Fatal("Send refused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if _, err := svc.Wait(ctx, alice, 1); err != nil {
		t.Fatalf("another user's notification not delivered within 1s of a tarpit: %v", err)
	}
	t.Logf("delivered after %v", time.Since(sent))
	if n := tp.maxConcurrent(); n > push.MaxPerOwner {
		t.Errorf("%d of one user's sends at once, want at most %d", n, push.MaxPerOwner)
	}
}

// A push host gets at most two sends at once, whoever they are for, and
// a send that timed out is not tried again.
func TestPerHostLimitAndNoRetryOnTimeout(t *testing.T) {
	tp := newTarpit(t)
	cfg, logs := config(t, tp.addr, nil)
	cfg.ConnectTimeout = 600 * time.Millisecond
	cfg.Timeout = time.Second
	s := start(t, cfg)
	const messages = 6
	for i := range messages {
		phone := subscriptionAt(t, "https://"+tp.addr+"/push/"+strconv.Itoa(i))
		s.Send(push.Message{Subscription: phone, Payload: []byte("x"), Owner: "user-" + strconv.Itoa(i)})
	}
	// Within the first connect timeout, only the first two are open.
	time.Sleep(300 * time.Millisecond)
	if n := tp.total.Load(); n != push.MaxPerHost {
		t.Errorf("%d sends at once to one push host, want %d", n, push.MaxPerHost)
	}
	drain(t, s)
	if n := tp.total.Load(); n != messages {
		t.Errorf("%d connections for %d messages: a timeout was retried", n, messages)
	}
	if n := logs.FilterMessage("push: delivery timed out, not retried").Len(); n != messages {
		t.Errorf("%d timeouts logged, want %d", n, messages)
	}
}

// Two timeouts in a row make the sender skip that subscription (for ten
// minutes), not the push host: other subscriptions there are still tried.
func TestSubscriptionBacksOffAfterTwoTimeouts(t *testing.T) {
	tp := newTarpit(t)
	cfg, logs := config(t, tp.addr, nil)
	cfg.ConnectTimeout = 100 * time.Millisecond
	s := start(t, cfg)
	phone := subscriptionAt(t, "https://"+tp.addr+"/push/slow")
	for range 4 {
		s.Send(push.Message{Subscription: phone, Payload: []byte("x"), Owner: "mallory"})
	}
	other := subscriptionAt(t, "https://"+tp.addr+"/push/other")
	s.Send(push.Message{Subscription: other, Payload: []byte("x"), Owner: "mallory"})
	drain(t, s)
	if n := tp.total.Load(); n != 3 {
		t.Errorf("%d connections, want 3 (two timeouts of one subscription, then only the other one's)", n)
	}
	if n := logs.FilterMessage("push: message skipped: the subscription timed out repeatedly").Len(); n != 2 {
		t.Errorf("%d messages skipped, want 2: %v", n, logs.All())
	}
}

// A message is asked, right before it is sent, whether it is still
// wanted; one that is not is dropped unsent.
func TestUnwantedMessageNotSent(t *testing.T) {
	svc := pushservice.New(t)
	cfg, _ := config(t, svc.Host(), svc.RootCAs())
	s := start(t, cfg)
	stale, fresh := svc.NewSubscription(), svc.NewSubscription()
	var asked atomic.Int32
	s.Send(push.Message{Subscription: stale, Payload: []byte("x"), Wanted: func(context.Context) bool { asked.Add(1); return false }})
	s.Send(push.Message{Subscription: fresh, Payload: []byte("x"), Wanted: func(context.Context) bool { return true }})
	drain(t, s)
	if asked.Load() != 1 || svc.Requests(stale) != 0 {
		t.Errorf("unwanted message: asked %d times, %d requests", asked.Load(), svc.Requests(stale))
	}
	if len(svc.Messages(fresh)) != 1 {
		t.Error("wanted message not delivered")
	}
}

// hostResolver resolves every name to one address, never the network.
type hostResolver netip.Addr

func (r hostResolver) LookupNetIP(context.Context, string, string) ([]netip.Addr, error) {
	return []netip.Addr{netip.Addr(r)}, nil
}

// A wildcard entry's name that resolves to loopback, and the IPv6 zone
// spellings whose text matches the wildcard, never reach the loopback
// service behind them.
func TestWildcardNeverReachesLoopback(t *testing.T) {
	tp := newTarpit(t)
	_, port, _ := net.SplitHostPort(tp.addr)
	cfg, logs := config(t, "*.notify.windows.com:"+port, nil)
	cfg.Resolver = hostResolver(netip.MustParseAddr("127.0.0.1"))
	cfg.ConnectTimeout = 200 * time.Millisecond
	s := start(t, cfg)
	if !s.Send(push.Message{Subscription: subscriptionAt(t, "https://WNS2-par02p.Notify.Windows.com:"+port+"/w/"), Payload: []byte("x")}) {
		t.Fatal("an allowed name was refused before sending")
	}
	for _, e := range []string{
		"https://[::ffff:127.0.0.1%25x.notify.windows.com]:" + port + "/w/",
		"https://[::ffff:127.0.0.2%25x.notify.windows.com]:" + port + "/w/",
		"https://[::1%25x.notify.windows.com]:" + port + "/w/",
	} {
		if s.Send(push.Message{Subscription: subscriptionAt(t, e), Payload: []byte("x")}) {
			t.Errorf("%s queued", e)
		}
	}
	drain(t, s)
	if n := tp.total.Load(); n != 0 {
		t.Fatalf("%d connections to the loopback service", n)
	}
	failed := logs.FilterMessage("push: delivery failed").All()
	if len(failed) != 1 || !strings.Contains(failed[0].ContextMap()["error"].(string), "loopback address") {
		t.Errorf("refusal not logged: %v", logs.All())
	}
}
