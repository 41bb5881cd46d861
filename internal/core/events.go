package core

import (
	"context"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Event kinds. A change event tells every node to drop what it caches
// about a user (sessions, basic-auth successes); an approval event wakes
// the browsers waiting on a sign-in request.
const (
	EventUser     = "user"     // the user's sessions, password, state or methods changed
	EventApproval = "approval" // a sign-in request was answered
)

// Event is one change, delivered on this node and, where the database
// carries them, on every other node sharing it.
type Event struct {
	Kind   string
	UserID int64  // EventUser
	ID     string // EventApproval: the request id
}

// encode gives the event as a short text for the database channel.
func (e Event) encode() string {
	if e.Kind == EventUser {
		return EventUser + ":" + strconv.FormatInt(e.UserID, 10)
	}
	return e.Kind + ":" + e.ID
}

// decodeEvent parses what encode made; ok is false for anything else.
func decodeEvent(s string) (Event, bool) {
	kind, arg, ok := strings.Cut(s, ":")
	switch {
	case !ok || arg == "":
		return Event{}, false
	case kind == EventUser:
		id, err := strconv.ParseInt(arg, 10, 64)
		return Event{Kind: kind, UserID: id}, err == nil
	case kind == EventApproval && len(arg) <= 64:
		return Event{Kind: kind, ID: arg}, true
	}
	return Event{}, false
}

// Channel carries events between nodes (PostgreSQL LISTEN/NOTIFY). A
// store that implements it is used as one.
type Channel interface {
	// Notify sends payload to every listening node, this one included.
	Notify(ctx context.Context, payload string) error
	// Listen delivers every payload sent on the channel until ctx ends;
	// it returns only then (or when it cannot listen at all).
	Listen(ctx context.Context, deliver func(payload string)) error
}

// Events delivers changes to this node's caches and waiting requests. It
// outlives a config reload (it is kept with the pooled store), so a
// browser waiting across a reload is still woken.
type Events struct {
	channel Channel // nil: this node only

	mu          sync.Mutex
	waiters     map[string]map[chan struct{}]struct{}
	subscribers map[int]func(Event)
	nextSub     int
}

// NewEvents returns an Events sending through channel (nil: none).
func NewEvents(channel Channel) *Events {
	return &Events{channel: channel, waiters: map[string]map[chan struct{}]struct{}{}, subscribers: map[int]func(Event){}}
}

// Subscribe calls fn for every event until the returned function is
// called (a config that unloads stops listening); fn must not block.
func (e *Events) Subscribe(fn func(Event)) (unsubscribe func()) {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := e.nextSub
	e.nextSub++
	e.subscribers[id] = fn
	return func() {
		e.mu.Lock()
		defer e.mu.Unlock()
		delete(e.subscribers, id)
	}
}

// Publish delivers ev here at once and sends it to the other nodes. A
// failed send is not an error of the change: other nodes catch up within
// their cache bound.
func (e *Events) Publish(ctx context.Context, ev Event) {
	e.deliver(ev)
	if e.channel != nil {
		_ = e.channel.Notify(context.WithoutCancel(ctx), ev.encode())
	}
}

// Remote delivers an event received from the channel.
func (e *Events) Remote(payload string) {
	if ev, ok := decodeEvent(payload); ok {
		e.deliver(ev)
	}
}

func (e *Events) deliver(ev Event) {
	e.mu.Lock()
	subs := make([]func(Event), 0, len(e.subscribers))
	for _, fn := range e.subscribers {
		subs = append(subs, fn)
	}
	if ev.Kind == EventApproval {
		for ch := range e.waiters[ev.ID] {
			close(ch)
		}
		delete(e.waiters, ev.ID)
	}
	e.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
}

// WaitApproval returns when request id is answered (an approval event),
// after d, or when ctx ends, whichever comes first. The caller then reads
// the request's state from the store: waiting costs no queries.
func (e *Events) WaitApproval(ctx context.Context, id string, d time.Duration) {
	ch := make(chan struct{})
	e.mu.Lock()
	if e.waiters[id] == nil {
		e.waiters[id] = map[chan struct{}]struct{}{}
	}
	e.waiters[id][ch] = struct{}{}
	e.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return
	case <-t.C:
	case <-ctx.Done():
	}
	e.mu.Lock()
	delete(e.waiters[id], ch)
	if len(e.waiters[id]) == 0 {
		delete(e.waiters, id)
	}
	e.mu.Unlock()
}

// Waiting says how many waits are open (for tests and metrics).
func (e *Events) Waiting() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for _, w := range e.waiters {
		n += len(w)
	}
	return n
}

// Run listens on the channel until ctx ends, listening again after a
// lost connection; report receives the errors. Without a channel it
// returns at once.
func (e *Events) Run(ctx context.Context, report func(error)) {
	if e.channel == nil {
		return
	}
	for ctx.Err() == nil {
		err := e.channel.Listen(ctx, e.Remote)
		if ctx.Err() != nil {
			return
		}
		report(err)
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}
}
