package core

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/mfagate/mfagate/internal/factor/password"
	"github.com/mfagate/mfagate/internal/push"
	"github.com/mfagate/mfagate/internal/secrets"
	"github.com/mfagate/mfagate/internal/testfixture/teststore"
)

// A notification is the user's (one sent at a time) and is dropped unsent
// once its request was replaced, answered or has expired: the sender asks
// right before sending.
func TestNotificationsLapseWithTheirRequest(t *testing.T) {
	f := newApprovalFixture(t)
	ctx := context.Background()
	msg := func(i int) push.Message {
		t.Helper()
		f.sender.mu.Lock()
		defer f.sender.mu.Unlock()
		if len(f.sender.msgs) <= i {
			t.Fatalf("%d messages, want more than %d", len(f.sender.msgs), i)
		}
		return f.sender.msgs[i]
	}
	wanted := func(m push.Message) bool {
		t.Helper()
		if m.Wanted == nil {
			t.Fatal("message without a Wanted check")
		}
		return m.Wanted(ctx)
	}
	f.request(t, "browser-a")
	if m := msg(0); m.Owner != strconv.FormatInt(f.user.ID, 10) || !wanted(m) {
		t.Fatalf("pending request's message: owner %q, wanted %v", m.Owner, wanted(m))
	}
	second := f.request(t, "browser-a")
	if wanted(msg(0)) {
		t.Error("a replaced request's message is still wanted")
	}
	if !wanted(msg(1)) {
		t.Error("the new request's message is not wanted")
	}
	if _, err := f.c.Approvals.Answer(ctx, f.device, second.ID, DecisionDeny, ""); err != nil {
		t.Fatal(err)
	}
	if wanted(msg(1)) {
		t.Error("an answered request's message is still wanted")
	}
	f.request(t, "browser-a")
	later := time.Now().Add(2 * DefaultApprovalTimeout)
	f.c.Approvals.now = func() time.Time { return later }
	if wanted(msg(2)) {
		t.Error("an expired request's message is still wanted")
	}
}

// mapResolver resolves names from a map, never the network.
type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := m[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// A phone registering a push endpoint whose name (on a wildcard or
// default entry) resolves to loopback or a private address is refused at
// registration; the zone-id and IPv4-mapped spellings are refused as
// they are written.
func TestPushEndpointRefusedAtRegistration(t *testing.T) {
	h, err := password.NewHasher(password.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	resolver := mapResolver{
		"loop.notify.windows.com": {netip.MustParseAddr("127.0.0.1")},
		"lan.notify.windows.com":  {netip.MustParseAddr("10.0.0.1")},
		"ok.notify.windows.com":   {netip.MustParseAddr("8.8.8.8")},
	}
	c, err := New(teststore.Open(t), Config{Hasher: h, Keys: &secrets.Keys{Factor: key, AppPasswordTag: key}, PushResolver: resolver})
	if err != nil {
		t.Fatal(err)
	}
	sub := func(endpoint string) *push.Subscription {
		return &push.Subscription{Endpoint: endpoint,
			P256dh: "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
			Auth:   "tBHItJI5svbpez7KI4CCXg"}
	}
	for _, e := range []string{
		"https://loop.notify.windows.com/w/",
		"https://lan.notify.windows.com/w/",
		"https://[::1%25x.notify.windows.com]/w/",
		"https://[::ffff:127.0.0.2%25x.notify.windows.com]/w/",
		"https://[::ffff:127.0.0.1]/w/",
	} {
		if err := c.Phones.CheckPush(sub(e)); !errors.Is(err, ErrBadPush) {
			t.Errorf("%s: %v, want ErrBadPush", e, err)
		}
	}
	if err := c.Phones.CheckPush(sub("https://ok.notify.windows.com/w/")); err != nil {
		t.Errorf("a public push host refused: %v", err)
	}
}
