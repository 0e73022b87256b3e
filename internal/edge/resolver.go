package edge

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/strata-cdn/strata/internal/resolve"
)

// Origin names are resolved by the Handler's resolve.Resolver, which
// caches each DNS answer for its TTL (case C01). A new connection dials an
// address of the current answer; a pooled keep-alive connection is checked
// when a request is about to be sent on it: once the answer it was dialed
// from has expired and the name, resolved again, no longer has its
// address, the request is refused by the connection before a byte is
// written, and net/http's Transport sends it on another connection (it
// retries a request that wrote nothing when the request has no body or can
// be rewound; Transport.roundTrip, persistConn.shouldRetryRequest). So the
// first request after a changed answer's TTL goes to the new address, and
// requests in flight on the old connections finish where they are.

// Limits of the origin dials made for the Handler's own transport.
const (
	originDialTimeout  = 10 * time.Second
	originKeepAlive    = 30 * time.Second
	originTLSHandshake = 10 * time.Second
	// dnsCheckWait bounds the wait for a re-resolution before a request on
	// a pooled connection; past it the connection is used as it is.
	dnsCheckWait = 5 * time.Second
)

// errAddressGone fails the first write of a request on a connection whose
// address left its name's DNS answer.
var errAddressGone = errors.New("origin address no longer in the DNS answer of its name; connection retired")

// originDialer dials origin (and parent) connections through a Resolver.
type originDialer struct {
	d   resolve.Dialer
	log *slog.Logger
	tls *tls.Config // the base TLS configuration; nil: the defaults (tests set roots)
}

func newOriginDialer(r *resolve.Resolver, log *slog.Logger) *originDialer {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &originDialer{d: resolve.Dialer{Resolver: r, Timeout: originDialTimeout, KeepAlive: originKeepAlive}, log: log}
}

// dial is the transport's DialContext: a plain connection that honours
// its DNS answer's TTL.
func (o *originDialer) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := o.d.Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &originConn{Conn: c, dns: c, log: o.log}, nil
}

// dialTLS is the transport's DialTLSContext: TLS over a connection of
// dial, so that the check reads the request in the clear. The transport's
// TLS defaults are kept: the system roots, SNI and verification of the
// origin's name, HTTP/1.1.
func (o *originDialer) dialTLS(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	c, err := o.d.Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	hctx, cancel := context.WithTimeout(ctx, originTLSHandshake)
	defer cancel()
	cfg := &tls.Config{}
	if o.tls != nil {
		cfg = o.tls.Clone()
	}
	cfg.ServerName, cfg.NextProtos = host, []string{"http/1.1"}
	tc := tls.Client(c, cfg)
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, err
	}
	return &originConn{Conn: tc, dns: c, log: o.log}, nil
}

// originConn is a pooled origin connection (plain, or TLS over dns).
type originConn struct {
	net.Conn               // what the transport reads and writes
	dns      *resolve.Conn // the TCP connection, which knows its name and address
	log      *slog.Logger
	wrote    atomic.Bool // a request was written on it
	answered atomic.Bool // the origin sent bytes since the last write
}

func (c *originConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.answered.Store(true)
	}
	return n, err
}

// Write refuses the start of a request on a reused connection whose
// address has left the DNS answer. The start of a request is a write
// after the origin has answered (HTTP/1.1 without pipelining, which
// net/http does not do) that holds a whole request head; only requests
// without a body are refused, since those net/http always sends again
// (a body may not be rewindable: such a request goes out on the old
// connection, which still worked, and the check is made again at the
// next one). Any other write goes through: a request in flight is never
// cut.
func (c *originConn) Write(p []byte) (int, error) {
	reused := c.wrote.Swap(true)
	boundary := c.answered.Swap(false)
	if reused && boundary && startsBodylessRequest(p) {
		ctx, cancel := context.WithTimeout(context.Background(), dnsCheckWait)
		current := c.dns.Current(ctx)
		cancel()
		if !current {
			c.log.Info("edge: origin connection retired: its address left the DNS answer (TTL honoured)",
				"host", c.dns.Host(), "addr", c.dns.Addr().String())
			return 0, errAddressGone
		}
	}
	return c.Conn.Write(p)
}

// startsBodylessRequest reports whether p begins with a whole HTTP/1.x
// request head (RFC 9112 §2.1, §3) that announces no body: neither
// Transfer-Encoding nor a Content-Length other than 0 (RFC 9112 §6.1-6.3).
func startsBodylessRequest(p []byte) bool {
	end := bytes.Index(p, []byte("\r\n\r\n"))
	if end < 0 {
		return false
	}
	line, fields, _ := bytes.Cut(p[:end], []byte("\r\n"))
	parts := bytes.Split(line, []byte(" "))
	if len(parts) != 3 || len(parts[0]) == 0 || !isToken(string(parts[0])) || len(parts[1]) == 0 || !bytes.HasPrefix(parts[2], []byte("HTTP/1.")) {
		return false
	}
	for len(fields) > 0 {
		var f []byte
		f, fields, _ = bytes.Cut(fields, []byte("\r\n"))
		name, value, ok := bytes.Cut(f, []byte(":"))
		if !ok {
			return false
		}
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			return false
		case bytes.EqualFold(name, []byte("Content-Length")) && string(bytes.TrimSpace(value)) != "0":
			return false
		}
	}
	return true
}

// dialUpgrade opens an upgrade's own connection to u's origin at addr
// (host:port), resolved like every origin connection, over TLS for https;
// timeout bounds the dial and the handshake.
func (h *Handler) dialUpgrade(ctx context.Context, u *url.URL, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	d := &resolve.Dialer{Resolver: h.resolver, KeepAlive: originKeepAlive}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || u.Scheme != "https" {
		return c, err
	}
	tc := tls.Client(c, &tls.Config{ServerName: u.Hostname(), NextProtos: []string{"http/1.1"}})
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}
