package resolve

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Dialer connects to host:port addresses whose host it resolves with its
// Resolver, trying the addresses in order (IPv4 first) and falling back to
// the next when a connection fails.
type Dialer struct {
	// Resolver resolves the host names. If nil, every dial resolves
	// afresh with a zero Resolver (nothing is cached: set one).
	Resolver *Resolver
	// Timeout bounds the whole dial, lookup included; each address gets
	// an equal share of what is left (at least 2 s), as net.Dialer does.
	// Zero: only the context bounds it.
	Timeout time.Duration
	// KeepAlive is the TCP keep-alive period (net.Dialer.KeepAlive).
	KeepAlive time.Duration
}

// DialContext connects to address on network ("tcp", "tcp4", "tcp6"; a
// network ending in 4 or 6 uses only the addresses of that family).
// The connection is a *Conn.
func (d *Dialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := d.Dial(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Dial is DialContext returning the *Conn.
func (d *Dialer) Dial(ctx context.Context, network, address string) (*Conn, error) {
	r := d.Resolver
	if r == nil {
		r = &Resolver{}
	}
	host, portStr, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	port, err := strconv.ParseUint(portStr, 10, 16)
	if err != nil {
		p, lerr := net.LookupPort(network, portStr)
		if lerr != nil {
			return nil, fmt.Errorf("dial %s: bad port: %w", address, lerr)
		}
		port = uint64(p)
	}
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	ans, err := r.lookup(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("dial %s: %w", address, err)
	}
	var addrs []netip.Addr
	for _, a := range ans.Addrs {
		switch {
		case strings.HasSuffix(network, "4") && !a.Is4(), strings.HasSuffix(network, "6") && a.Is4():
		default:
			addrs = append(addrs, a)
		}
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("dial %s: no %s address among %v", address, network, ans.Addrs)
	}
	var errs []error
	for i, a := range addrs {
		deadline, _ := ctx.Deadline()
		if !deadline.IsZero() {
			deadline = partialDeadline(time.Now(), deadline, len(addrs)-i)
		}
		nd := &net.Dialer{KeepAlive: d.KeepAlive, Deadline: deadline}
		c, err := nd.DialContext(ctx, network, netip.AddrPortFrom(a, uint16(port)).String())
		if err == nil {
			return &Conn{Conn: c, r: r, host: host, addr: a, literal: ans.Source == SourceLiteral}, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("dial %s (%d addresses): %w", address, len(addrs), errors.Join(errs...))
}

// partialDeadline gives one of n remaining addresses its share of the time
// left, at least 2 s when there is that much (net's dialSerial does the
// same).
func partialDeadline(now, deadline time.Time, n int) time.Time {
	left := deadline.Sub(now)
	if left <= 0 {
		return deadline
	}
	share := left / time.Duration(n)
	const floor = 2 * time.Second
	if share < floor {
		share = min(floor, left)
	}
	return now.Add(share)
}

// Conn is a connection dialed by a Dialer. It knows the name it was dialed
// for and the address it reached, so that a pool can check, before reusing
// it, that the address is still one the name resolves to.
type Conn struct {
	net.Conn
	r       *Resolver
	host    string
	addr    netip.Addr
	literal bool
}

// Host returns the name dialed, as given.
func (c *Conn) Host() string { return c.host }

// Addr returns the address connected to.
func (c *Conn) Addr() netip.Addr { return c.addr }

// Current reports whether the address of c is still one of its name's
// addresses: at once while the name's answer lives, else after resolving
// the name again (so a pooled connection lives no longer than the TTL of
// the answer that gave its address, when that address has gone). When the
// name cannot be resolved (even stale), c is reported current: a
// connection that worked is better than none.
func (c *Conn) Current(ctx context.Context) bool {
	if c.literal {
		return true
	}
	a, err := c.r.lookup(ctx, c.host)
	if err != nil {
		return true
	}
	return a.Contains(c.addr)
}
