package push

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// The worker checks the allow-list itself, so a message that reached the
// queue by any path still cannot make the gateway POST elsewhere.
func TestWorkerRechecksAllowList(t *testing.T) {
	keys, err := GenerateVAPIDKeys()
	if err != nil {
		t.Fatal(err)
	}
	called := false
	client := &http.Client{Transport: roundTripperFunc(func(*http.Request) (*http.Response, error) {
		called = true
		return nil, errors.New("no network in this test")
	})}
	core, logs := observer.New(zap.DebugLevel)
	s := NewSender(Config{
		Keys: keys, Subscriber: "mailto:ops@example.com",
		Client: client, Logger: zap.New(core), Workers: 1,
	})
	defer s.Close(context.Background())
	p256dh, auth := testKeys(t)
	s.deliver(Message{Subscription: Subscription{Endpoint: "https://169.254.169.254/latest/meta-data", P256dh: p256dh, Auth: auth}})
	if called {
		t.Fatal("request made to a host off the allow-list")
	}
	if logs.FilterMessage("push: message dropped").Len() != 1 {
		t.Errorf("drop not logged: %v", logs.All())
	}
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
