package s3api

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// lowatListener sets TCP_NOTSENT_LOWAT on accepted connections, as the
// daemon's S3 listener does: a blocked send then wakes as soon as the
// client has taken a little, not after a third of a multi-megabyte send
// buffer has drained.
type lowatListener struct{ net.Listener }

func (l lowatListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	raw, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return nil, err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_NOTSENT_LOWAT, 128<<10)
	}); err != nil {
		return nil, err
	}
	return c, serr
}

// A client that reads steadily, but takes much longer than SendTimeout to
// take one sendfile chunk, is not cut off: the watchdog renews the
// deadline as the data file's offset advances (cases C21, C22).
func TestSendfileSlowSteadyReader_C22(t *testing.T) {
	sink := newLogSink()
	// Long enough that a test process starved by a busy machine is not
	// taken for a stalled reader; the reader below still takes five times
	// as long for the one sendfile chunk.
	const timeout = time.Second
	e := newEnv(t, func(c *envConfig) {
		c.h.SendTimeout = timeout
		c.h.Logger = slog.New(sink)
	})
	srv := httptest.NewUnstartedServer(e.h)
	srv.Listener = lowatListener{srv.Listener}
	srv.Start()
	defer srv.Close()
	// The largest body sent with sendfile, more than the socket buffers
	// hold.
	const size = sendfileMax
	bigPublicObject(t, e, size)

	resp, err := srv.Client().Get(srv.URL + "/pub/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	start := time.Now()
	var n int64
	buf := make([]byte, 8<<10)
	for {
		// Read at a steady pace, under 400 KB/s: the chunk takes well over
		// SendTimeout. The pacing is the behaviour under test, not
		// synchronisation.
		m, err := resp.Body.Read(buf)
		n += int64(m)
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("read after %d bytes, %v: %v", n, time.Since(start), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n != size {
		t.Fatalf("got %d bytes, want %d", n, size)
	}
	if el := time.Since(start); el < 3*timeout {
		t.Fatalf("the read took %v, too fast to show anything against a %v timeout", el, timeout)
	}
	for len(sink.ch) > 0 {
		if rec := <-sink.ch; rec.Level >= slog.LevelWarn {
			t.Errorf("unexpected log: %s %v", rec.Message, recordAttrs(rec))
		}
	}
}

// lowatEnv is a test server with the daemon's TCP_NOTSENT_LOWAT, a short
// SendTimeout and a public object of sendfileMax bytes, served with
// sendfile.
func lowatEnv(t *testing.T, minRate int64) (*httptest.Server, *logSink) {
	sink := newLogSink()
	e := newEnv(t, func(c *envConfig) {
		c.h.SendTimeout = 300 * time.Millisecond
		c.h.MinSendRate = minRate
		c.h.Logger = slog.New(sink)
	})
	srv := httptest.NewUnstartedServer(e.h)
	srv.Listener = lowatListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	bigPublicObject(t, e, sendfileMax)
	return srv, sink
}

// A client that stops reading in the middle of a sendfile body is cut off
// after SendTimeout, with the C21 log line.
func TestSendfileStoppedReader_C21(t *testing.T) {
	srv, sink := lowatEnv(t, 0)
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Ask and never read: the socket buffers fill and sendfile stalls.
	fmt.Fprintf(conn, "GET /pub/big HTTP/1.1\r\nHost: %s\r\n\r\n", srv.Listener.Addr())
	rec := sink.waitLog(t, "client did not read for 300ms")
	a := recordAttrs(rec)
	if sent, _ := strconv.ParseInt(a["sent"], 10, 64); sent >= sendfileMax || a["total"] != strconv.Itoa(sendfileMax) {
		t.Errorf("log attributes = %v; want sent < total = %d", a, sendfileMax)
	}
}

// A client reading below MinSendRate in the middle of a sendfile body is
// cut off by the watchdog, with the C22 log line.
func TestSendfileMinRate_C22(t *testing.T) {
	const minRate = 1 << 40 // no client reaches it
	srv, sink := lowatEnv(t, minRate)
	resp, err := srv.Client().Get(srv.URL + "/pub/big")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	done := make(chan int64, 1)
	go func() {
		// Read at a real-time pace; the pacing is the behaviour under
		// test, not synchronisation.
		var n int64
		buf := make([]byte, 8<<10)
		for {
			m, err := resp.Body.Read(buf)
			n += int64(m)
			if err != nil {
				done <- n
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	rec := sink.waitLog(t, "below the minimum of")
	if want := fmt.Sprintf("below the minimum of %d B/s", int64(minRate)); !strings.Contains(rec.Message, want) || !strings.HasPrefix(rec.Message, "client read at ") {
		t.Errorf("message = %q, want \"client read at ... %s\"", rec.Message, want)
	}
	select {
	case n := <-done:
		if n >= sendfileMax {
			t.Errorf("client received the whole object (%d bytes) despite the cut", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("the response was not cut off")
	}
}
