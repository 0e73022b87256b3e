package diag

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"
)

// Phases of a connection, named by what the client had done when it
// failed.
const (
	phaseConnect = "connect"       // the TCP handshake
	phaseTLS     = "tls-handshake" // the ClientHello was sent
	phaseRequest = "request"       // the HTTP request was sent, no response yet
	phaseBody    = "body"          // the response head arrived, the body did not end
	phaseDone    = "done"          // nothing failed
)

// Kinds of failure. The first five are cuts at the network level, the
// ones the reset check diagnoses; kindOther is an answer at the protocol
// level (a TLS alert, a malformed response) or a local error.
const (
	kindOK          = "ok"
	kindRefused     = "refused"     // an RST answered the SYN
	kindTimeout     = "timeout"     // no answer within the timeout
	kindUnreachable = "unreachable" // an ICMP error answered
	kindReset       = "reset"       // an RST cut an established connection
	kindClosed      = "closed"      // a FIN ended it early
	kindOther       = "error"
)

// isCut reports whether kind is a failure at the network level.
func isCut(kind string) bool {
	switch kind {
	case kindRefused, kindTimeout, kindUnreachable, kindReset, kindClosed:
		return true
	}
	return false
}

// failKind classifies the error of one step of a connection.
func failKind(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return kindOK
	case errors.Is(err, syscall.ECONNREFUSED):
		return kindRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNABORTED):
		return kindReset
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return kindClosed
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return kindTimeout
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return kindUnreachable
	}
	return kindOther
}

// attempt describes one connection the reset check makes to one address.
type attempt struct {
	addr string // "ip:port"
	tls  bool
	sni  string // the TLS server name; "" (or an IP address) sends none
	host string // the Host field; "" stops after the TLS handshake
	path string // the request target
	// silent connects and sends nothing, waiting up to quiet for the
	// peer to cut the connection on its own.
	silent bool
	quiet  time.Duration
}

// outcome is how an attempt ended: where, how, and what had crossed the
// connection by then.
type outcome struct {
	phase string
	kind  string
	err   error
	// connectTook is the TCP handshake's duration; sinceConnect the time
	// from the connection's establishment to the end (0 in the connect
	// phase).
	connectTook, sinceConnect time.Duration
	// sent and recv count TCP payload bytes, TLS records included.
	sent, recv int64
	// writeFailed says the failure surfaced on a write: the cut came
	// before (or while) the data left.
	writeFailed bool
	local       string // the local "ip:port", once connected
	status      int    // the response status, once the head arrived
	bodyRead    int64
	bodyWant    int64 // the response's Content-Length; -1 when unknown
}

// answered reports whether the peer answered at the protocol level:
// completed, or refused with a TLS alert or an HTTP error. Either shows
// the path carries this kind of connection.
func (o outcome) answered() bool { return !isCut(o.kind) }

// countConn counts the bytes that cross a connection.
type countConn struct {
	net.Conn
	sent, recv int64
	writeErr   bool
}

func (c *countConn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	c.recv += int64(n)
	return n, err
}

func (c *countConn) Write(b []byte) (int, error) {
	n, err := c.Conn.Write(b)
	c.sent += int64(n)
	if err != nil {
		c.writeErr = true
	}
	return n, err
}

// try makes one attempt, bounded by the prober's timeout: connect, shake
// hands, send a GET with Connection: close, read the head and up to
// probeBody bytes of the body. It records where and how it failed.
func (p *prober) try(ctx context.Context, a attempt) outcome {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	o := outcome{phase: phaseConnect, bodyWant: -1}
	var d net.Dialer
	start := time.Now()
	raw, err := d.DialContext(ctx, "tcp", a.addr)
	o.connectTook = time.Since(start)
	if err != nil {
		o.kind, o.err = failKind(err), err
		return o
	}
	connected := time.Now()
	c := &countConn{Conn: raw}
	defer c.Close()
	o.local = raw.LocalAddr().String()
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	end := func(phase string, err error) outcome {
		o.phase, o.err, o.kind = phase, err, failKind(err)
		o.sinceConnect = time.Since(connected)
		o.sent, o.recv, o.writeFailed = c.sent, c.recv, c.writeErr
		return o
	}
	if a.silent {
		c.SetReadDeadline(time.Now().Add(a.quiet))
		var b [1]byte
		_, err := c.Read(b[:])
		if failKind(err) == kindTimeout {
			err = nil // silence is what a server owes a client that says nothing
		}
		return end(phaseConnect, err)
	}
	var conn net.Conn = c
	if a.tls {
		tc := tls.Client(c, &tls.Config{ServerName: a.sni, InsecureSkipVerify: true, //nolint:gosec // only the connection's fate matters here
			NextProtos: []string{"http/1.1"}})
		if err := tc.HandshakeContext(ctx); err != nil {
			return end(phaseTLS, err)
		}
		conn = tc
	}
	if a.host == "" {
		return end(phaseDone, nil)
	}
	req := "GET " + a.path + " HTTP/1.1\r\nHost: " + a.host + "\r\nUser-Agent: " + p.opts.UserAgent +
		"\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return end(phaseRequest, err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return end(phaseRequest, err)
	}
	defer resp.Body.Close()
	o.status, o.bodyWant = resp.StatusCode, resp.ContentLength
	n, err := io.Copy(io.Discard, io.LimitReader(resp.Body, probeBody))
	o.bodyRead = n
	if err != nil {
		return end(phaseBody, err)
	}
	return end(phaseDone, nil)
}
