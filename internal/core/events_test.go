package core

import (
	"context"
	"sync"
	"testing"
	"time"
)

// fakeChannel loops every notification back, as PostgreSQL does to the
// node that sent it, and counts them.
type fakeChannel struct {
	mu   sync.Mutex
	sent []string
}

func (c *fakeChannel) Notify(_ context.Context, payload string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, payload)
	return nil
}

func (c *fakeChannel) Listen(ctx context.Context, _ func(string)) error {
	<-ctx.Done()
	return nil
}

func TestWaitApprovalWakesOnItsEventOnly(t *testing.T) {
	e := NewEvents(nil)
	done := make(chan time.Duration, 1)
	go func() {
		start := time.Now()
		e.WaitApproval(context.Background(), "req-1", 10*time.Second)
		done <- time.Since(start)
	}()
	waitFor(t, func() bool { return e.Waiting() == 1 })
	e.Publish(context.Background(), Event{Kind: EventApproval, ID: "req-2"})
	select {
	case <-done:
		t.Fatal("woken by another request's event")
	case <-time.After(50 * time.Millisecond):
	}
	e.Remote(Event{Kind: EventApproval, ID: "req-1"}.encode())
	select {
	case d := <-done:
		if d > time.Second {
			t.Errorf("woken after %s", d)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("not woken by its event from another node")
	}
	if n := e.Waiting(); n != 0 {
		t.Errorf("%d waits left open", n)
	}
}

func TestWaitApprovalEndsWithItsContext(t *testing.T) {
	e := NewEvents(nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.WaitApproval(ctx, "req", time.Minute); close(done) }()
	waitFor(t, func() bool { return e.Waiting() == 1 })
	cancel()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("wait outlived its context")
	}
	if n := e.Waiting(); n != 0 {
		t.Errorf("%d waits left open", n)
	}
}

func TestSubscribersGetUserEventsUntilUnsubscribed(t *testing.T) {
	ch := &fakeChannel{}
	e := NewEvents(ch)
	var mu sync.Mutex
	var got []int64
	unsubscribe := e.Subscribe(func(ev Event) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, ev.UserID)
	})
	e.Publish(context.Background(), Event{Kind: EventUser, UserID: 7})
	e.Remote("user:8")
	e.Remote("user:not-a-number")
	e.Remote("nonsense")
	unsubscribe()
	e.Publish(context.Background(), Event{Kind: EventUser, UserID: 9})
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 2 || got[0] != 7 || got[1] != 8 {
		t.Errorf("subscriber got %v, want [7 8]", got)
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if len(ch.sent) != 2 || ch.sent[0] != "user:7" || ch.sent[1] != "user:9" {
		t.Errorf("sent to other nodes %v, want [user:7 user:9]", ch.sent)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	for _, s := range []string{"user:1", "approval:abc", "user:", ":", "approval:" + string(make([]byte, 70))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ev, ok := decodeEvent(s)
		if !ok {
			return
		}
		if back, ok2 := decodeEvent(ev.encode()); !ok2 || back != ev {
			t.Fatalf("%q decodes to %+v, which does not round-trip", s, ev)
		}
	})
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}
