package diag

import (
	"context"
	"crypto/sha1" //nolint:gosec // RFC 6455 §4.2.2 defines the accept key with SHA-1
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// textSnippet returns b as one line of evidence when it is short
// printable text, else "".
func textSnippet(b []byte) string {
	if !utf8.Valid(b) {
		return ""
	}
	s := strings.Join(strings.Fields(string(b)), " ")
	for _, r := range s {
		if !unicode.IsPrint(r) {
			return ""
		}
	}
	if len(s) > 200 {
		s = s[:200] + "…"
	}
	return s
}

// wsKey is the Sec-WebSocket-Key sent; a nonce matters only to servers
// that cache handshakes, which none should.
const wsKey = "c3RyYXRhLWRvY3Rvci1rZXk="

// wsGUID is the fixed GUID of RFC 6455 §1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// wsAccept computes the Sec-WebSocket-Accept a server must return for key
// (RFC 6455 §4.2.2).
func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID)) //nolint:gosec
	return b64(h[:])
}

// checkWebSocket sends a WebSocket opening handshake (RFC 6455 §4.1) to
// the URL. A proxy on the client's network that drops Upgrade turns it
// into a plain GET, which a WebSocket server refuses (426, 400) or, as in
// C02, fails on (500).
func checkWebSocket(ctx context.Context, p *prober) []Finding {
	c := p.client(nil)
	defer c.CloseIdleConnections()
	req, err := p.newRequest(ctx, http.MethodGet,
		"Connection", "Upgrade", "Upgrade", "websocket",
		"Sec-WebSocket-Version", "13", "Sec-WebSocket-Key", wsKey)
	if err != nil {
		return []Finding{probeFailed("websocket", "C02", err)}
	}
	resp, err := c.Do(req)
	if err != nil {
		return []Finding{probeFailed("websocket", "C02", err)}
	}
	// A 101's body is the upgraded connection: close it unread.
	var body []byte
	if resp.StatusCode != http.StatusSwitchingProtocols {
		body, _ = io.ReadAll(io.LimitReader(resp.Body, 512))
	}
	resp.Body.Close()
	ev := append([]string{"GET with Upgrade: websocket → " + resp.Proto + " " + resp.Status},
		headerLines(resp.Header, "Upgrade", "Connection", "Sec-WebSocket-Accept", "Server", "Via")...)
	lower := strings.ToLower(string(body))
	if t := textSnippet(body); t != "" && resp.StatusCode >= 400 {
		ev = append(ev, "body: "+t)
	}
	fixWSS := "use wss:// so that proxies on the client's network cannot see or alter the handshake; a CDN must forward Upgrade to the origin"
	switch {
	case resp.StatusCode == http.StatusSwitchingProtocols:
		if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(wsKey) || !hasToken(resp.Header, "Upgrade", "websocket") {
			return []Finding{{ID: "websocket.bad-accept", Case: "C02", Level: Bad,
				Summary:  "the WebSocket handshake is answered 101 without Upgrade: websocket and the right Sec-WebSocket-Accept: clients drop the connection (RFC 6455 §4.2.2)",
				Evidence: append(ev, "want Sec-WebSocket-Accept: "+wsAccept(wsKey)),
				Fix:      "fix the server's handshake, or the proxy that rewrites it"}}
		}
		return []Finding{{ID: "websocket.ok", Case: "C02", Level: OK,
			Summary: "the WebSocket handshake succeeds through this path", Evidence: ev}}
	case resp.StatusCode == http.StatusUpgradeRequired,
		resp.StatusCode == http.StatusBadRequest && (strings.Contains(lower, "upgrade") || strings.Contains(lower, "websocket")):
		return []Finding{{ID: "websocket.upgrade-stripped", Case: "C02", Level: Bad,
			Summary:  "the server wants a WebSocket upgrade but did not see one: something on the path drops the Upgrade header (C02)",
			Evidence: ev, Fix: fixWSS}}
	case resp.StatusCode >= 500:
		return []Finding{{ID: "websocket.failed", Case: "C02", Level: Warn,
			Summary:  "a WebSocket handshake gets " + resp.Status + ": if this URL serves WebSocket, a proxy that strips Upgrade turns it into a plain request the server fails on (C02)",
			Evidence: ev, Fix: fixWSS}}
	}
	return []Finding{{ID: "websocket.not-offered", Case: "C02", Level: Info,
		Summary: "the URL does not speak WebSocket (" + resp.Status + " to a handshake)", Evidence: ev}}
}
