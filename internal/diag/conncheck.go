package diag

import (
	"context"
	"io"
	"net/http"
	"strings"
)

// checkKeepAlive sends two requests and checks that the second reuses the
// first one's connection (RFC 9112 §9.3). A server that says Connection:
// close, as an edge passing on its origin's close did in C19, makes
// clients on long-lived connections reconnect, or fail when they send on a
// connection it has just closed.
func checkKeepAlive(ctx context.Context, p *prober) []Finding {
	base, skip := p.needBase("keepalive", "C19")
	if base == nil {
		return skip
	}
	c := p.client(nil)
	defer c.CloseIdleConnections()
	// A one-byte range keeps the exchange small when ranges work; the
	// body is read to the end either way so that the connection can be
	// reused.
	first, err := p.get(ctx, c, "Range", "bytes=0-0")
	if err != nil {
		return []Finding{probeFailed("keepalive", "C19", err)}
	}
	if first.Truncated {
		// Reuse needs the body read to its end.
		return []Finding{{ID: "keepalive.skipped", Case: "C19", Level: Info,
			Summary: "not checked: the server ignores Range and the body is too large to read twice"}}
	}
	second, err := p.get(ctx, c, "Range", "bytes=0-0")
	if err != nil {
		return []Finding{probeFailed("keepalive", "C19", err)}
	}
	ev := []string{
		"request 1 → " + statusLine(first) + connLine(first),
		"request 2 → " + statusLine(second) + connLine(second),
	}
	if second.Reused && !first.Close && !second.Close {
		return []Finding{{ID: "keepalive.ok", Case: "C19", Level: OK,
			Summary: "the connection stays open across requests", Evidence: ev}}
	}
	sum := "the server closes the connection after a request"
	switch {
	case first.Proto == "HTTP/1.0" && first.Close:
		sum = "the server answers in HTTP/1.0 without keep-alive: every request needs a new connection (C19)"
	case first.Close || second.Close:
		sum = "the server answers Connection: close on a keep-alive request: clients reconnect for every request, and those that reuse the connection at the wrong moment fail (C19)"
	case !second.Reused:
		sum = "the second request could not reuse the first one's connection: the server closed it without saying so (C19)"
	}
	return []Finding{{ID: "keepalive.closed", Case: "C19", Level: Warn, Summary: sum, Evidence: ev,
		Fix: "keep client connections open; a proxy or CDN must not pass an origin's Connection: close on to the client (it is hop-by-hop, RFC 9110 §7.6.1)"}}
}

func connLine(s *sample) string {
	var b strings.Builder
	if c := s.Header.Get("Connection"); c != "" {
		b.WriteString(", Connection: " + c)
	}
	if s.Close && s.Header.Get("Connection") == "" {
		b.WriteString(", connection closed")
	}
	if s.Reused {
		b.WriteString(", reused connection")
	} else {
		b.WriteString(", new connection")
	}
	return b.String()
}

// getBody is the small body the get-body check sends, as apps that put a
// JSON query in a GET do.
const getBody = `{"q":"strata-doctor"}`

// checkGetBody sends a GET with a small body. RFC 9110 §9.3.1 gives such
// content no meaning and allows a server to reject it, but an app that
// sends one then fails only through the CDN (C11).
func checkGetBody(ctx context.Context, p *prober) []Finding {
	base, skip := p.needBase("get-body", "C11")
	if base == nil {
		return skip
	}
	if base.Status >= 400 {
		return nil
	}
	c := p.client(nil)
	defer c.CloseIdleConnections()
	req, err := p.newRequest(ctx, http.MethodGet, "Content-Type", "application/json")
	if err != nil {
		return []Finding{probeFailed("get-body", "C11", err)}
	}
	req.Body = io.NopCloser(strings.NewReader(getBody))
	req.ContentLength = int64(len(getBody))
	s, err := p.do(c, req, probeBody)
	if err != nil {
		return []Finding{{ID: "get-body.error", Case: "C11", Level: Warn,
			Summary:  "a GET with a small body fails: " + err.Error(),
			Evidence: []string{"GET with Content-Length: " + itoa(int64(len(getBody)))},
			Fix:      "accept and discard a small body on GET (or reject it with a clear error); clients that send one otherwise fail"}}
	}
	ev := append([]string{"GET with Content-Length: " + itoa(int64(len(getBody))) + " → " + statusLine(s)},
		headerLines(s.Header, "Server", "Via", "X-Swift-Error", "X-Cache")...)
	if s.Status >= 400 && s.Status != base.Status {
		return []Finding{{ID: "get-body.rejected", Case: "C11", Level: Warn,
			Summary:  "a GET with a small body is refused (" + statusLine(s) + ") while a plain GET gets " + itoa(int64(base.Status)) + ": apps that send a body with GET fail (C11)",
			Evidence: append(ev, "plain GET → "+statusLine(base)),
			Fix:      "fix the client to send no body with GET (RFC 9110 §9.3.1), or have the CDN discard small GET bodies instead of rejecting them"}}
	}
	return []Finding{{ID: "get-body.ok", Case: "C11", Level: OK,
		Summary: "a GET with a small body is answered like a plain GET", Evidence: ev}}
}
