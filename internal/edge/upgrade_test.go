package edge

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/base64"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// wsGUID is the key suffix of RFC 6455 §1.3.
const wsGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

func wsAccept(key string) string {
	h := sha1.Sum([]byte(key + wsGUID))
	return base64.StdEncoding.EncodeToString(h[:])
}

// wsEchoOrigin answers a WebSocket handshake (RFC 6455 §4.2) and echoes
// every frame back unmasked; a request without the handshake gets 500,
// as the origin of case C02 answered.
func wsEchoOrigin(t *testing.T) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") || !headerHasTokenFold(r.Header, "Connection", "upgrade") {
			http.Error(w, "not a websocket handshake", http.StatusInternalServerError)
			return
		}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
			wsAccept(r.Header.Get("Sec-WebSocket-Key")) + "\r\n\r\n")
		brw.Flush()
		for {
			op, payload, err := wsRead(brw.Reader)
			if err != nil {
				return
			}
			if _, err := conn.Write(wsFrame(op, payload, false)); err != nil {
				return
			}
		}
	})
}

// wsFrame encodes one final frame of at most 125 bytes.
func wsFrame(op byte, payload []byte, mask bool) []byte {
	b := []byte{0x80 | op, byte(len(payload))}
	if !mask {
		return append(b, payload...)
	}
	b[1] |= 0x80
	key := []byte{1, 2, 3, 4}
	b = append(b, key...)
	for i, c := range payload {
		b = append(b, c^key[i%4])
	}
	return b
}

// wsRead decodes one frame of at most 125 bytes.
func wsRead(r *bufio.Reader) (byte, []byte, error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(h[1] & 0x7f)
	var key [4]byte
	masked := h[1]&0x80 != 0
	if masked {
		if _, err := io.ReadFull(r, key[:]); err != nil {
			return 0, nil, err
		}
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	if masked {
		for i := range p {
			p[i] ^= key[i%4]
		}
	}
	return h[0] & 0x0f, p, nil
}

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func withLog(buf *syncBuffer) edgeOption {
	return func(h *Handler) {
		h.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// TestWebSocketEcho_C02: a real WebSocket handshake passes through the
// edge, frames echo both ways, and the log says the request was handled as
// an upgrade; a handshake whose Connection field a proxy dropped is served
// plain and the log says so.
func TestWebSocketEcho_C02(t *testing.T) {
	o := wsEchoOrigin(t)
	var logs syncBuffer
	var recs []*AccessRecord
	var mu sync.Mutex
	e := newEdge(t, o.URL, withLog(&logs), func(h *Handler) {
		h.AccessLog = func(r *AccessRecord) { mu.Lock(); recs = append(recs, r); mu.Unlock() }
	})
	conn, err := net.DialTimeout("tcp", e.srv.Listener.Addr().String(), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	key := base64.StdEncoding.EncodeToString([]byte("0123456789abcdef"))
	io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: ws.example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: "+key+"\r\nSec-WebSocket-Version: 13\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status %d, want 101", resp.StatusCode)
	}
	if got := resp.Header.Get("Sec-WebSocket-Accept"); got != wsAccept(key) {
		t.Errorf("Sec-WebSocket-Accept = %q, want %q", got, wsAccept(key))
	}
	if !strings.Contains(resp.Header.Get("Via"), testNode) {
		t.Errorf("Via = %q, want this node", resp.Header.Get("Via"))
	}
	for _, msg := range []string{"hello", "second message", strings.Repeat("z", 120)} {
		if _, err := conn.Write(wsFrame(1, []byte(msg), true)); err != nil {
			t.Fatal(err)
		}
		op, p, err := wsRead(br)
		if err != nil {
			t.Fatalf("reading echo: %v", err)
		}
		if op != 1 || string(p) != msg {
			t.Errorf("echo = %d %q, want 1 %q", op, p, msg)
		}
	}
	conn.Close()

	// The Connection field dropped on the way: served plain, logged so.
	r2, body := e.get("/chat", "Upgrade", "websocket", "Sec-WebSocket-Key", key)
	if r2.StatusCode != http.StatusInternalServerError {
		t.Errorf("partial handshake: status %d %q, want the origin's 500", r2.StatusCode, body)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "edge: upgrade closed") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // safety net: the edge logs when its pipe ends
	}
	got := logs.String()
	for _, want := range []string{"msg=\"edge: upgraded\" handled=upgrade protocol=websocket", "handled=plain upgrade=websocket", "msg=\"edge: upgrade closed\""} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q:\n%s", want, got)
		}
	}
	e.close()
	mu.Lock()
	defer mu.Unlock()
	var up, plain int
	for _, r := range recs {
		if r.Kind != AccessKindRequest {
			continue
		}
		if r.Upgrade {
			up++
		} else {
			plain++
		}
	}
	if up != 1 || plain != 1 {
		t.Errorf("access records: %d upgrade, %d plain; want 1 and 1", up, plain)
	}
}

// TestUpgradeIdleTimeout_C02: an upgraded connection where neither side
// sends is closed after the domain's idle timeout, and the log says so.
func TestUpgradeIdleTimeout_C02(t *testing.T) {
	o := wsEchoOrigin(t)
	var logs syncBuffer
	e := newEdge(t, o.URL, withLog(&logs), withDomain(func(d *Domain) { d.Timeouts.UpgradeIdle = 200 * time.Millisecond }))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(conn, "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Key: a2V5\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 101 {
		t.Fatalf("handshake: %v %v", resp, err)
	}
	// Nothing is sent: the edge closes the connection.
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("read after idle: %v, want EOF", err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(logs.String(), "end=\"idle timeout 200ms\"") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "end=\"idle timeout 200ms\"") {
		t.Errorf("log lacks the idle timeout:\n%s", logs.String())
	}
}
