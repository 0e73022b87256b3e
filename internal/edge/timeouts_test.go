package edge

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// waitLog waits for the log to contain s (the edge logs when a limit
// fires; the deadline is only a safety net).
func waitLog(t *testing.T, logs *syncBuffer, s string) bool {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(logs.String(), s) {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Errorf("log lacks %q:\n%s", s, logs.String())
	return false
}

// TestOriginTimeouts_C22: a domain's first-byte and idle limits cut a
// stalled origin, the client gets 504 or a cut body, and the log says
// which limit fired.
func TestOriginTimeouts_C22(t *testing.T) {
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		switch r.URL.Path {
		case "/stall-header":
			<-release
		case "/stall-body":
			w.Header().Set("Content-Length", "100")
			w.Write([]byte("0123456789"))
			w.(http.Flusher).Flush()
			<-release
		}
	})
	t.Cleanup(func() { close(release) }) // before o.Close, which waits for the handlers
	tests := []struct {
		path, which string
		status      int
	}{
		{"/stall-header", "origin-first-byte", http.StatusGatewayTimeout},
		{"/stall-body", "origin-idle", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.which, func(t *testing.T) {
			var logs syncBuffer
			e := newEdge(t, o.URL, withLog(&logs), withDomain(func(d *Domain) {
				d.Timeouts.FirstByte = 150 * time.Millisecond
				d.Timeouts.Idle = 150 * time.Millisecond
			}))
			resp, err := e.srv.Client().Get(e.srv.URL + tt.path)
			if err != nil && tt.status == http.StatusOK {
				// Cut before the header: the client sees the cut too.
				waitLog(t, &logs, "timeout="+tt.which)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			body, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status {
				t.Fatalf("status %d %q, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.status == http.StatusGatewayTimeout && !strings.Contains(string(body), tt.which) {
				t.Errorf("504 body %q does not name %s", body, tt.which)
			}
			if tt.status == http.StatusOK && rerr == nil {
				t.Errorf("body %q read without error, want a cut", body)
			}
			waitLog(t, &logs, "timeout="+tt.which)
		})
	}
}

// TestClientWriteTimeout_C22: a client that stops reading is cut after the
// write timeout, and the log says client-write; the same pause on an
// audio/mpeg object is within the longer media limit, so a player reading
// at its bitrate is not cut.
func TestClientWriteTimeout_C22(t *testing.T) {
	big := bytes.Repeat([]byte("m"), 32<<20) // more than the sockets buffer
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Type", r.URL.Query().Get("type"))
		w.Header().Set("Content-Length", itoa(int64(len(big))))
		w.Write(big)
	})
	tests := []struct {
		ctype string
		cut   bool
	}{
		{"application/octet-stream", true},
		{"audio/mpeg", false},
	}
	for _, tt := range tests {
		t.Run(tt.ctype, func(t *testing.T) {
			var logs syncBuffer
			e := newEdge(t, o.URL, withLog(&logs), withDomain(func(d *Domain) {
				d.Timeouts.ClientWrite = 150 * time.Millisecond // media keeps its 10m default
			}))
			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
			io.WriteString(conn, "GET /obj?type="+tt.ctype+" HTTP/1.1\r\nHost: x\r\n\r\n")
			if tt.cut {
				waitLog(t, &logs, "timeout=client-write")
			} else {
				time.Sleep(time.Second) // a reader paused well past ClientWrite
			}
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			if got := n == int64(len(big)) && err == nil; got == tt.cut {
				t.Errorf("read %d of %d bytes (err %v); want cut = %v", n, len(big), err, tt.cut)
			}
			if !tt.cut && strings.Contains(logs.String(), "timeout=client-write") {
				t.Errorf("media reader was cut:\n%s", logs.String())
			}
		})
	}
}

// TestClientLimitsByType_C22: media types get the longer limits.
func TestClientLimitsByType_C22(t *testing.T) {
	to := Timeouts{ClientWrite: time.Second, MinRate: 1000}
	tests := []struct {
		ctype string
		write time.Duration
		rate  int64
	}{
		{"text/html", time.Second, 1000},
		{"audio/mpeg", DefaultMediaClientWrite, 0},
		{"Video/MP4; codecs=avc1", DefaultMediaClientWrite, 0},
		{"", time.Second, 1000},
	}
	for _, tt := range tests {
		w, r := to.clientLimits(tt.ctype)
		if w != tt.write || r != tt.rate {
			t.Errorf("clientLimits(%q) = %v, %d; want %v, %d", tt.ctype, w, r, tt.write, tt.rate)
		}
	}
}
