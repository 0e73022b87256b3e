package s3api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/objstore"
)

// zeroReader produces n zero bytes without holding them.
type zeroReader struct{ n int64 }

func (z *zeroReader) Read(p []byte) (int, error) {
	if z.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > z.n {
		p = p[:z.n]
	}
	clear(p)
	z.n -= int64(len(p))
	return len(p), nil
}

// bigPublicObject stores size zero bytes as pub/big in a public-read
// bucket, so a raw anonymous GET can fetch it.
func bigPublicObject(t *testing.T, e *testEnv, size int64) {
	t.Helper()
	ctx := context.Background()
	e.bucket("pub")
	if err := e.store.SetBucketPublicRead(ctx, "pub", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.PutObject(ctx, "pub", "big", &zeroReader{n: size}, objstore.PutOptions{Size: size}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
}

// A client that stops reading is cut off after SendTimeout and the log
// says so in those words, with the request id and progress (case C21).
func TestSendTimeoutLogs_C21(t *testing.T) {
	sink := newLogSink()
	e := newEnv(t, func(c *envConfig) {
		c.h.SendTimeout = 300 * time.Millisecond
		c.h.Logger = slog.New(sink)
	})
	const size = 64 << 20
	bigPublicObject(t, e, size)

	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ask for the object and never read the response: the kernel buffers
	// fill and the server's writes stall.
	fmt.Fprintf(conn, "GET /pub/big HTTP/1.1\r\nHost: %s\r\n\r\n", e.srv.Listener.Addr())

	rec := sink.waitLog(t, "client did not read for 300ms")
	if rec.Level != slog.LevelWarn {
		t.Errorf("level = %v, want WARN", rec.Level)
	}
	a := recordAttrs(rec)
	sent, _ := strconv.ParseInt(a["sent"], 10, 64)
	if a["bucket"] != "pub" || a["key"] != "big" || a["total"] != strconv.Itoa(size) ||
		!requestIDRe.MatchString(a["request_id"]) || a["remote"] == "" || sent <= 0 || sent >= size {
		t.Errorf("log attributes = %v; want bucket pub, key big, total %d, 0 < sent < total, a request id and remote", a, size)
	}
}

// A client reading far below MinSendRate is cut off with a log line naming
// both rates (case C22).
func TestMinSendRate_C22(t *testing.T) {
	sink := newLogSink()
	const minRate = 1 << 40 // no client reaches it
	e := newEnv(t, func(c *envConfig) {
		// Long enough that a write blocked on a full socket buffer is woken
		// by the paced reader below well within it (the kernel wakes a
		// writer only once a third of the send buffer has drained).
		c.h.SendTimeout = time.Second
		c.h.MinSendRate = minRate
		c.h.Logger = slog.New(sink)
	})
	const size = 64 << 20
	bigPublicObject(t, e, size)

	resp, err := e.srv.Client().Get(e.srv.URL + "/pub/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan int64, 1)
	go func() {
		// Read at a real-time pace, as a media player does; the pacing is
		// the behaviour under test, not synchronisation.
		var n int64
		buf := make([]byte, 64<<10)
		for {
			m, err := resp.Body.Read(buf)
			n += int64(m)
			if err != nil {
				done <- n
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
	}()
	rec := sink.waitLog(t, "below the minimum of")
	if !strings.Contains(rec.Message, fmt.Sprintf("below the minimum of %d B/s", int64(minRate))) ||
		!strings.HasPrefix(rec.Message, "client read at ") {
		t.Errorf("message = %q", rec.Message)
	}
	select {
	case n := <-done:
		if n >= size {
			t.Errorf("client received the whole object (%d bytes) despite the cut", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the response was not cut off")
	}
}

// After a body is sent the write deadline is cleared, so a later response
// on the same keep-alive connection is not cut by a stale deadline.
func TestSendDeadlineCleared(t *testing.T) {
	e := newEnv(t, func(c *envConfig) { c.h.SendTimeout = 50 * time.Millisecond })
	e.bucket("pub")
	if err := e.store.SetBucketPublicRead(context.Background(), "pub", true); err != nil {
		t.Fatal(err)
	}
	e.put("pub", "o", []byte("hello"), objstore.Meta{})
	tr := &http.Transport{MaxConnsPerHost: 1}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	for i := range 2 {
		resp, err := c.Get(e.srv.URL + "/pub/o")
		if err != nil {
			t.Fatalf("GET %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if i == 0 {
			// Let the old deadline pass on the idle connection. A sleep is
			// the point here: the stale deadline must expire.
			time.Sleep(100 * time.Millisecond)
		}
	}
	// The second request's error response (XML, not via sendWriter) must
	// arrive on the reused connection.
	resp, err := c.Get(e.srv.URL + "/pub/missing")
	if err != nil {
		t.Fatalf("GET after the deadline passed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Errorf("status %d, want 404", resp.StatusCode)
	}
}
