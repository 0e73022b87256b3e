package edge

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// isUpgrade reports whether r asks to switch protocols (RFC 9110 §7.8):
// an Upgrade field named by Connection.
func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && headerHasTokenFold(r.Header, "Connection", "upgrade")
}

// serveUpgrade proxies a protocol upgrade (WebSocket or any other): the
// handshake goes to the origin on a connection of its own; on 101 both
// connections are taken over and bytes are copied both ways until either
// side closes or the connection is idle for the domain's UpgradeIdle. The
// log says whether the request was handled as an upgrade or as a plain
// request (C02).
func (x *exchange) serveUpgrade() {
	hd := x.originHeader(true) // without the hop-by-hop fields
	hd.Set("Connection", "Upgrade")
	hd.Set("Upgrade", x.r.Header.Get("Upgrade"))
	req := newOriginRequest(x.ctx(), x.dom, x.r.Method, x.r.URL, hd, nil, 0)
	conn, err := x.dialOrigin(req)
	if err != nil {
		x.h.log.Warn("edge: upgrade origin unreachable", "handled", "upgrade", "protocol", x.r.Header.Get("Upgrade"), "request", x.id, "err", err)
		x.originError(err, "MISS reason=upgrade")
		return
	}
	defer conn.Close()
	stop := closeOnHangup(x, conn)
	defer stop()
	if err := req.Write(conn); err != nil {
		x.originError(err, "MISS reason=upgrade")
		return
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		x.originError(err, "MISS reason=upgrade")
		return
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		// The origin declined: relay its answer as a plain response.
		defer resp.Body.Close()
		x.h.log.Info("edge: upgrade declined by origin", "handled", "plain", "protocol", x.r.Header.Get("Upgrade"),
			"status", resp.StatusCode, "request", x.id)
		x.noteUpgrade(false)
		x.writeHead(resp.StatusCode, responseHeader(resp), "MISS reason=upgrade-declined")
		if x.r.Method != http.MethodHead {
			_ = copyOut(x.w, resp.Body, resp.ContentLength < 0)
		}
		return
	}
	stop()
	client, cbuf, err := http.NewResponseController(x.w).Hijack()
	if err != nil {
		x.h.log.Warn("edge: upgrade impossible on this connection", "handled", "plain", "request", x.id, "err", err)
		x.fail(http.StatusHTTPVersionNotSupported, "MISS reason=upgrade",
			"the client connection cannot switch protocols (an upgrade needs HTTP/1.1): "+err.Error())
		return
	}
	defer client.Close()
	_ = client.SetDeadline(time.Time{}) // pipe sets its own (Hijack keeps any set before)
	x.noteUpgrade(true)
	x.wrote = true
	// The 101 keeps its Upgrade and Connection fields (they are the
	// point of it) plus the edge's own.
	out := resp.Header.Clone()
	out["Via"] = append(out.Values("Via"), x.via())
	out.Set("X-Request-Id", x.id)
	x.dom.ResponseHeaders.apply(out)
	_ = (&http.Response{StatusCode: 101, ProtoMajor: 1, ProtoMinor: 1, Header: out, Body: http.NoBody, ContentLength: -1}).Write(cbuf)
	if err := cbuf.Flush(); err != nil {
		return
	}
	x.h.log.Info("edge: upgraded", "handled", "upgrade", "protocol", x.r.Header.Get("Upgrade"),
		"host", x.dom.Host, "path", x.r.URL.Path, "request", x.id)
	n1, n2, why := pipe(client, cbuf.Reader, conn, br, x.dom.upgradeIdle())
	x.h.log.Info("edge: upgrade closed", "handled", "upgrade", "request", x.id,
		"client_to_origin", n1, "origin_to_client", n2, "end", why)
}

// closeOnHangup closes conn when the client goes away before the handshake
// is answered; the returned function cancels that.
func closeOnHangup(x *exchange, conn net.Conn) func() {
	done := make(chan struct{})
	var once sync.Once
	go func() {
		select {
		case <-x.ctx().Done():
			conn.Close()
		case <-done:
		}
	}()
	return func() { once.Do(func() { close(done) }) }
}

// dialOrigin opens a connection to the request's origin, over TLS for an
// https origin, resolving its name like every origin connection
// (resolver.go, case C01).
func (x *exchange) dialOrigin(req *http.Request) (net.Conn, error) {
	host := req.URL.Host
	if req.URL.Port() == "" {
		port := "80"
		if req.URL.Scheme == "https" {
			port = "443"
		}
		host = net.JoinHostPort(req.URL.Hostname(), port)
	}
	return x.h.dialUpgrade(x.ctx(), req.URL, host, x.dom.connectTimeout())
}

// noteUpgrade records in the access log how the request was handled.
func (x *exchange) noteUpgrade(upgraded bool) {
	if aw, ok := x.w.(*accessWriter); ok {
		aw.a.rec.Upgrade = upgraded
	}
}

// pipe copies a→b and b→a (after what each side's reader has buffered)
// until either side ends or neither sends for idle. It returns the bytes
// copied each way and why it ended.
func pipe(a net.Conn, ar io.Reader, b net.Conn, br io.Reader, idle time.Duration) (ab, ba int64, why string) {
	var last atomic.Int64
	last.Store(time.Now().UnixNano())
	var once sync.Once
	reason := "closed"
	end := func(r string) {
		once.Do(func() {
			reason = r
			a.Close()
			b.Close()
		})
	}
	cp := func(dst, srcConn net.Conn, src io.Reader, n *int64) {
		buf := make([]byte, 32<<10)
		for {
			_ = srcConn.SetReadDeadline(time.Now().Add(idle))
			k, err := src.Read(buf)
			if k > 0 {
				last.Store(time.Now().UnixNano())
				if _, werr := dst.Write(buf[:k]); werr != nil {
					end("closed")
					return
				}
				*n += int64(k)
			}
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					if time.Since(time.Unix(0, last.Load())) < idle {
						continue // the other direction is active
					}
					end("idle timeout " + idle.String())
					return
				}
				end("closed")
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		cp(b, a, ar, &ab)
	}()
	cp(a, b, br, &ba)
	wg.Wait()
	return ab, ba, reason
}
