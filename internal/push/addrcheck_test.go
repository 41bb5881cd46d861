package push

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// nonPublicAddresses are refused to wildcard and default entries; none is
// ever connected to in these tests.
var nonPublicAddresses = []string{
	"0.0.0.0", "0.1.2.3", "10.0.0.1", "10.255.255.53", "100.64.0.1", "100.127.255.254", "127.0.0.1", "127.0.0.2",
	"169.254.169.254", "172.16.0.1", "172.31.255.255", "192.0.0.170", "192.0.2.1", "192.88.99.1", "192.168.1.1",
	"198.18.0.1", "198.51.100.1", "203.0.113.1", "224.0.0.1", "239.255.255.250", "240.0.0.1", "255.255.255.255",
	"::", "::1", "::ffff:127.0.0.1", "::ffff:8.8.8.8", "::7f00:1", "64:ff9b::7f00:1", "64:ff9b::a9fe:a9fe",
	"64:ff9b:1::1", "100::1", "2001::1", "2001:db8::1", "2002:7f00:1::1", "3fff::1", "5f00::1", "fc00::1",
	"fd12:3456::1", "fe80::1", "fec0::1", "ff02::1", "4000::1",
}

var publicAddresses = []string{"8.8.8.8", "142.250.185.10", "1.1.1.1", "2a00:1450:4001::200e", "2606:4700::1111", "2620:fe::fe"}

func TestAddressCheck(t *testing.T) {
	wildcard := dialPolicy{port: 443}
	for _, a := range nonPublicAddresses {
		if err := wildcard.permit(netip.AddrPortFrom(netip.MustParseAddr(a), 443)); err == nil {
			t.Errorf("%s permitted to a wildcard or default entry", a)
		}
	}
	for _, a := range publicAddresses {
		ap := netip.AddrPortFrom(netip.MustParseAddr(a), 443)
		if err := wildcard.permit(ap); err != nil {
			t.Errorf("%s refused: %v", a, err)
		}
		if err := wildcard.permit(netip.AddrPortFrom(ap.Addr(), 8443)); err == nil {
			t.Errorf("%s permitted on another port", a)
		}
	}
	// An exact entry naming an address reaches that address and port only.
	exact := dialPolicy{port: 8443, exactIP: netip.MustParseAddr("127.0.0.1")}
	if err := exact.permit(netip.MustParseAddrPort("127.0.0.1:8443")); err != nil {
		t.Errorf("exact entry's own address refused: %v", err)
	}
	for _, ap := range []string{"127.0.0.1:443", "127.0.0.2:8443", "[::ffff:127.0.0.1]:8443", "[::1]:8443", "8.8.8.8:8443"} {
		if err := exact.permit(netip.MustParseAddrPort(ap)); err == nil {
			t.Errorf("exact entry 127.0.0.1:8443 permits %s", ap)
		}
	}
	// An exact private-host entry reaches private addresses on its port,
	// never the unspecified, multicast, broadcast or IPv4-mapped ones.
	private := dialPolicy{port: 8443, private: true}
	for _, ap := range []string{"10.1.2.3:8443", "[fd00::1]:8443", "127.0.0.1:8443"} {
		if err := private.permit(netip.MustParseAddrPort(ap)); err != nil {
			t.Errorf("private entry refuses %s: %v", ap, err)
		}
	}
	for _, ap := range []string{"10.1.2.3:443", "0.0.0.0:8443", "[::]:8443", "224.0.0.1:8443", "255.255.255.255:8443", "[::ffff:10.1.2.3]:8443", "[fe80::1%eth0]:8443"} {
		if err := private.permit(netip.MustParseAddrPort(ap)); err == nil {
			t.Errorf("private entry permits %s", ap)
		}
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

// Names on wildcard and default entries that resolve to non-public
// addresses are refused when the sender connects: the connect hook fails
// the test if it is ever reached.
func TestSendRefusesNamesResolvingToNonPublicAddresses(t *testing.T) {
	resolver := mapResolver{}
	var endpoints []string
	for i, a := range nonPublicAddresses {
		name := "wns" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + "-" + string(rune('a'+i/26)) + ".notify.windows.com"
		resolver[name] = []netip.Addr{netip.MustParseAddr(a)}
		endpoints = append(endpoints, "https://"+name+"/w/?token=x")
	}
	// A default entry's name resolving to private addresses only.
	resolver["fcm.googleapis.com"] = []netip.Addr{netip.MustParseAddr("10.0.0.5"), netip.MustParseAddr("fd00::5")}
	endpoints = append(endpoints, "https://fcm.googleapis.com/fcm/send/x")
	s, logs := testSender(t, Config{Resolver: resolver, QueueSize: len(endpoints)})
	p256dh, auth := testKeys(t)
	for _, e := range endpoints {
		if !s.Send(Message{Subscription: Subscription{Endpoint: e, P256dh: p256dh, Auth: auth}, Payload: []byte("x")}) {
			t.Errorf("%s refused before sending; the name is allowed", e)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	failed := logs.FilterMessage("push: delivery failed").All()
	if len(failed) != len(endpoints) {
		t.Fatalf("%d failures logged, want %d: %v", len(failed), len(endpoints), logs.All())
	}
	for _, f := range failed {
		if err := f.ContextMap()["error"]; !strings.Contains(err.(string), "refusing to connect") {
			t.Errorf("failure not a refusal: %v", err)
		}
	}
}

// IPv6 zone spellings and IPv4-mapped addresses are refused at send time
// too, both when queued and by the worker itself.
func TestSendRefusesZonesAndMappedAddresses(t *testing.T) {
	s, logs := testSender(t, Config{AllowedHosts: []string{"*.notify.windows.com", "127.0.0.1:8443"}})
	p256dh, auth := testKeys(t)
	for _, e := range []string{
		"https://[::1%25x.notify.windows.com]/w/",
		"https://[::ffff:127.0.0.2%25x.notify.windows.com]/w/",
		"https://[::ffff:127.0.0.1]:8443/push/x",
		"https://[::1%25x.notify.windows.com]:8443/push/x",
	} {
		msg := Message{Subscription: Subscription{Endpoint: e, P256dh: p256dh, Auth: auth}, Payload: []byte("x")}
		if s.Send(msg) {
			t.Errorf("%s queued", e)
		}
		s.deliver(msg)
	}
	if n := logs.FilterMessage("push: message dropped").Len(); n != 4 {
		t.Errorf("%d dropped by the worker, want 4: %v", n, logs.All())
	}
}

// The socket's Control hook refuses an address even when the dial did not
// come through the resolver check: a loopback listener (the only kind
// these tests connect to) never sees the connection.
func TestControlRefusesBeforeConnecting(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted atomic.Int32
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			c.Close()
		}
	}()
	ap := netip.MustParseAddrPort(l.Addr().String())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if c, err := checkedDialer(dialPolicy{port: ap.Port()}).DialContext(ctx, "tcp", ap.String()); err == nil {
		c.Close()
		t.Fatal("a wildcard entry's policy connected to loopback")
	} else if !strings.Contains(err.Error(), "loopback") {
		t.Errorf("refusal does not say why: %v", err)
	}
	c, err := checkedDialer(dialPolicy{port: ap.Port(), exactIP: ap.Addr()}).DialContext(ctx, "tcp", ap.String())
	if err != nil {
		t.Fatalf("an exact entry's own address refused: %v", err)
	}
	c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for accepted.Load() != 1 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := accepted.Load(); n != 1 {
		t.Errorf("%d connections accepted, want 1 (the exact entry's)", n)
	}
}

// At registration, a name an entry allows is resolved and refused when it
// leads where the entry may not reach; nothing is connected to.
func TestCheckAddressesAtRegistration(t *testing.T) {
	p256dh, auth := testKeys(t)
	hosts := append(DefaultHosts(), "push.internal:8443", "127.0.0.1:8443")
	resolver := mapResolver{
		"loop.notify.windows.com":   {netip.MustParseAddr("127.0.0.1")},
		"meta.notify.windows.com":   {netip.MustParseAddr("169.254.169.254")},
		"lan.notify.windows.com":    {netip.MustParseAddr("10.0.0.1")},
		"ula.notify.windows.com":    {netip.MustParseAddr("fd00::1")},
		"nat64.notify.windows.com":  {netip.MustParseAddr("64:ff9b::7f00:1")},
		"mapped.notify.windows.com": {netip.MustParseAddr("::ffff:127.0.0.1")},
		"mixed.notify.windows.com":  {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("192.168.0.1")},
		"ok.notify.windows.com":     {netip.MustParseAddr("8.8.8.8"), netip.MustParseAddr("2a00:1450::1")},
		"fcm.googleapis.com":        {netip.MustParseAddr("127.0.0.1")},
		"push.internal":             {netip.MustParseAddr("10.1.2.3")},
	}
	cases := map[string]bool{ // endpoint: accepted
		"https://loop.notify.windows.com/w/":   false,
		"https://meta.notify.windows.com/w/":   false,
		"https://lan.notify.windows.com/w/":    false,
		"https://ula.notify.windows.com/w/":    false,
		"https://nat64.notify.windows.com/w/":  false,
		"https://mapped.notify.windows.com/w/": false,
		"https://mixed.notify.windows.com/w/":  false,
		"https://fcm.googleapis.com/fcm/x":     false,
		"https://ok.notify.windows.com/w/":     true,
		"https://push.internal:8443/x":         true, // an exact private-host entry
		"https://127.0.0.1:8443/x":             true, // an exact address entry
		"https://unknown.notify.windows.com/w": true, // lookup failed: the Sender decides
	}
	for endpoint, want := range cases {
		sub := Subscription{Endpoint: endpoint, P256dh: p256dh, Auth: auth}
		if err := sub.Validate(hosts); err != nil {
			t.Fatalf("%s: %v", endpoint, err)
		}
		err := sub.CheckAddresses(context.Background(), hosts, resolver)
		if (err == nil) != want {
			t.Errorf("%s: %v, want accepted %v", endpoint, err, want)
		}
		if err != nil && !errors.Is(err, ErrInvalidSubscription) {
			t.Errorf("%s: %v is not ErrInvalidSubscription", endpoint, err)
		}
	}
}
