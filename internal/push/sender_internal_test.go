package push

import (
	"context"
	"net"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// noConnect is a guardedDialer.connect that fails the test: it proves a
// refused address is never connected to, without any connection attempt.
func noConnect(t *testing.T) func(context.Context, string, string, dialPolicy) (net.Conn, error) {
	return func(_ context.Context, _, address string, _ dialPolicy) (net.Conn, error) {
		t.Errorf("connected to %s", address)
		return nil, net.ErrClosed
	}
}

// testSender is a Sender whose connections fail the test.
func testSender(t *testing.T, cfg Config) (*Sender, *observer.ObservedLogs) {
	t.Helper()
	keys, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	cfg.Keys, cfg.Subscriber, cfg.Logger, cfg.Workers = keys, "mailto:ops@example.com", zap.New(core), 1
	s := NewSender(cfg)
	s.dialer.connect = noConnect(t)
	t.Cleanup(func() { s.Close(context.Background()) })
	return s, logs
}

// The worker checks the allow-list itself, so a message that reached the
// queue by any path still cannot make the gateway POST elsewhere.
func TestWorkerRechecksAllowList(t *testing.T) {
	s, logs := testSender(t, Config{})
	p256dh, auth := testKeys(t)
	s.deliver(Message{Subscription: Subscription{Endpoint: "https://169.254.169.254/latest/meta-data", P256dh: p256dh, Auth: auth}})
	if logs.FilterMessage("push: message dropped").Len() != 1 {
		t.Errorf("drop not logged: %v", logs.All())
	}
}
