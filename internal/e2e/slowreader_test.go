package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// pacedReader reads no faster than rate bytes per second on average,
// checking every tick: a player consuming a stream at its bitrate. The
// pacing is the behaviour under test.
type pacedReader struct {
	conn  net.Conn
	rate  float64
	tick  *time.Ticker
	start time.Time
	total int
}

func (p *pacedReader) Read(b []byte) (int, error) {
	for {
		<-p.tick.C
		allowed := int(time.Since(p.start).Seconds()*p.rate) - p.total
		if allowed <= 0 {
			continue
		}
		if len(b) > allowed {
			b = b[:allowed]
		}
		n, err := p.conn.Read(b)
		p.total += n
		return n, err
	}
}

// readPaced fetches path from the edge at about rate bytes per second and
// reports how many body bytes arrived of how many, and how it ended.
func readPaced(t *testing.T, edgeURL, host, path string, rate int) (got, want int64, elapsed time.Duration, err error) {
	u, perr := url.Parse(edgeURL)
	if perr != nil {
		t.Fatal(perr)
	}
	conn, derr := net.Dial("tcp", u.Host)
	if derr != nil {
		t.Fatal(derr)
	}
	defer conn.Close()
	// A small receive buffer, like a player's socket: the edge's writes
	// block at the reader's pace instead of filling megabytes of kernel
	// buffer first.
	_ = conn.(*net.TCPConn).SetReadBuffer(4096)
	_ = conn.SetDeadline(time.Now().Add(5 * time.Minute)) // safety net
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: ffplay-like\r\n\r\n", path, host)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	start := time.Now()
	br := bufio.NewReaderSize(&pacedReader{conn: conn, rate: float64(rate), tick: tick, start: start}, 4096)
	resp, rerr := http.ReadResponse(br, nil)
	if rerr != nil {
		return 0, -1, time.Since(start), rerr
	}
	defer resp.Body.Close()
	got, err = io.Copy(io.Discard, resp.Body)
	return got, resp.ContentLength, time.Since(start), err
}

// TestSlowAudioReaderNotCut_C22 is case C22 at the edge, end to end: a
// player reading an audio/mpeg object at its bitrate, 10 KB/s, for two
// minutes is not cut, on a domain whose limits for other content are
// strict (5 s write timeout, 50 KiB/s minimum rate) — while the same
// reader of an application/octet-stream object of that domain is cut, and
// the log names the limit that fired.
func TestSlowAudioReaderNotCut_C22(t *testing.T) {
	if testing.Short() {
		t.Skip("reads for two minutes")
	}
	const size = 1_200_000 // two minutes at 10 KB/s
	body := bytes.Repeat([]byte{0xff, 0xfb, 0x90, 0x64}, size/4)
	origin := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ct := "audio/mpeg"
		if strings.HasSuffix(r.URL.Path, ".bin") {
			ct = "application/octet-stream"
		}
		w.Header().Set("Content-Type", ct)
		w.Header().Set("Cache-Control", "max-age=600")
		http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
	}))
	t.Cleanup(origin.Close)
	n := startNode(t, nodeConfig{
		extra: fmt.Sprintf("domains:\n  - host: radio.example.test\n    origin: %s\n    timeouts: {client_write: 5s, min_rate: 50KiB}\n", origin.URL),
	})
	// Both objects are cached first: the slow readers are served from the
	// edge's cache, as a popular stream is.
	for _, p := range []string{"/song.mp3", "/file.bin"} {
		req, _ := http.NewRequest(http.MethodGet, n.Edge+p, nil)
		req.Host = "radio.example.test"
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	type result struct {
		got, want int64
		elapsed   time.Duration
		err       error
	}
	control := make(chan result, 1)
	go func() {
		var r result
		r.got, r.want, r.elapsed, r.err = readPaced(t, n.Edge, "radio.example.test", "/file.bin", 10_000)
		control <- r
	}()
	got, want, elapsed, err := readPaced(t, n.Edge, "radio.example.test", "/song.mp3", 10_000)
	if err != nil || got != size || want != size {
		t.Errorf("audio/mpeg at 10 KB/s: %d of %d bytes (Content-Length %d) after %v, err %v; want the whole object",
			got, size, want, elapsed.Round(time.Second), err)
	}
	if elapsed < 100*time.Second {
		t.Errorf("the audio read took %v: too fast to show anything about a real-time reader", elapsed)
	}
	c := <-control
	if c.got >= size {
		t.Errorf("application/octet-stream at 10 KB/s was read whole (%d bytes in %v): the domain's strict limits did not apply",
			c.got, c.elapsed.Round(time.Second))
	}
	logs := n.logText()
	if !strings.Contains(logs, `"timeout":"client-write"`) && !strings.Contains(logs, `"timeout":"client-min-rate"`) {
		t.Errorf("the log does not name the client limit that cut the octet-stream reader:\n%s", logs)
	}
	for _, l := range strings.Split(logs, "\n") {
		if strings.Contains(l, "audio/mpeg") && strings.Contains(l, `"timeout"`) {
			t.Errorf("the audio reader was cut: %s", l)
		}
	}
}
