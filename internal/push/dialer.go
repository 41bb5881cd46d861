package push

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Resolver looks up a push service's addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// guardedDialer opens the sender's connections: it resolves the host
// itself, checks every address against the policy of the allow-list
// entry that admitted the host, and checks again in the socket's Control
// hook right before connect, so no path (DNS answer, redirect, proxy)
// reaches an address the entry does not allow.
type guardedDialer struct {
	allowed  allowList
	resolver Resolver
	rootCAs  *x509.CertPool
	// timeout bounds connect and TLS handshake together.
	timeout time.Duration
	// connect opens a TCP connection to an address already checked; nil
	// means a net.Dialer whose Control checks it again. Tests replace it
	// to prove that a refused address is never connected to.
	connect func(ctx context.Context, network, address string, p dialPolicy) (net.Conn, error)
}

// transport returns the HTTP transport of the sender: no proxy (a proxy
// would connect on the sender's behalf, unchecked), TLS connections from
// dialTLS only.
func (d *guardedDialer) transport() *http.Transport {
	return &http.Transport{
		Proxy: nil,
		DialContext: func(context.Context, string, string) (net.Conn, error) {
			return nil, errors.New("push: plain-text connections are never made")
		},
		DialTLSContext:    d.dialTLS,
		ForceAttemptHTTP2: true,
		MaxIdleConns:      32,
		IdleConnTimeout:   90 * time.Second,
	}
}

// dialTLS connects to addr ("host:port" of an allowed endpoint) and
// completes the TLS handshake within the connect timeout.
func (d *guardedDialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, d.timeout)
	defer cancel()
	host, portText, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("push: dial %q: %w", addr, err)
	}
	host = strings.ToLower(host)
	port, err := strconv.ParseUint(portText, 10, 16)
	if err != nil {
		return nil, fmt.Errorf("push: dial %q: bad port", addr)
	}
	policy, ok := d.allowed.policyFor(host, uint16(port))
	if !ok {
		return nil, refused("push: refusing to connect to %s: not on the allow-list", addr)
	}
	addrs, err := d.lookup(ctx, host)
	if err != nil {
		return nil, err
	}
	conn, err := d.connectFirst(ctx, network, addrs, uint16(port), policy)
	if err != nil {
		return nil, err
	}
	tc := tls.Client(conn, &tls.Config{
		ServerName: host,
		RootCAs:    d.rootCAs,
		MinVersion: tls.VersionTLS12,
		NextProtos: []string{"h2", "http/1.1"},
	})
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("push: TLS handshake with %s: %w", addr, err)
	}
	return tc, nil
}

// lookup returns host's addresses: the address itself if it is one.
func (d *guardedDialer) lookup(ctx context.Context, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	addrs, err := d.resolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("push: resolving %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("push: resolving %s: no addresses", host)
	}
	return addrs, nil
}

// connectFirst connects to the first address the policy permits and that
// answers; an address refused by the policy is never tried.
func (d *guardedDialer) connectFirst(ctx context.Context, network string, addrs []netip.Addr, port uint16, p dialPolicy) (net.Conn, error) {
	var errs []error
	for _, ip := range addrs {
		ap := netip.AddrPortFrom(ip, port)
		if err := p.permit(ap); err != nil {
			errs = append(errs, err)
			continue
		}
		conn, err := d.connectOne(ctx, network, ap.String(), p)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, errors.Join(errs...)
}

func (d *guardedDialer) connectOne(ctx context.Context, network, address string, p dialPolicy) (net.Conn, error) {
	if d.connect != nil {
		return d.connect(ctx, network, address, p)
	}
	return checkedDialer(p).DialContext(ctx, network, address)
}

// checkedDialer is a net.Dialer that checks the address of each socket in
// Control, after resolution, right before it connects.
func checkedDialer(p dialPolicy) *net.Dialer {
	return &net.Dialer{
		Control: func(network, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return refused("push: refusing to connect to %q: not an address", address)
			}
			return p.permit(ap)
		},
	}
}
