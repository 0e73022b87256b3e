package s3api

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/strata-cdn/strata/internal/objstore"
)

// Object bodies from sendfileMin to sendfileMax go from the data files to
// the socket with sendfile(2): net/http's response writer does that when
// its ReadFrom gets an *os.File (or an io.LimitedReader of one) on a plain
// TCP connection, and copies through a buffer otherwise (TLS, HTTP/2).
//
// One sendfile call can move megabytes, so a write deadline renewed per
// call, as Write renews it per 64 KiB, would cut a client that reads
// steadily but slowly (an audio player reading at ~10 KB/s, case C22)
// for not finishing a chunk in time. Instead a watchdog looks at the data
// file's offset, which sendfile advances as the socket drains, every
// quarter of SendTimeout while a chunk is sent: any progress renews the
// deadline, so the deadline fires only after SendTimeout without progress
// (the client stopped reading, C21), and the watchdog checks MinSendRate
// on the way, cutting the send as Write's checks would.

// sendfileMin is the smallest body sent with sendfile(2). Below it the
// body is copied into the response buffer, so that it leaves in the same
// write as the header; above it, not copying the data saves more than the
// extra system call costs.
const sendfileMin = 64 << 10

// sendfileMax is the largest body sent with sendfile(2). Measured on
// Linux 6.18 over loopback with the server on one CPU, sendfile took
// about 30% less server CPU per byte than pread and write for 256 KiB and
// 1 MiB bodies, but about 15-25% more for 4, 16 and 64 MiB ones, whose
// long streams the copy path sends cheaply in 64 KiB writes.
const sendfileMax = 2 << 20

// sendfileChunk is the most handed to one ReadFrom call: the progress
// counted for the request log and the rate windows is brought up to date
// between chunks.
const sendfileChunk = 2 << 20

// sendObject sends n bytes of obj from offset off as the response body:
// bodies from sendfileMin to sendfileMax go from the data files to the
// socket with sendfile(2), a segment at a time; others, and data the
// catalog holds (small objects, in memory already), are copied.
func (req *request) sendObject(obj *objstore.Object, off, n int64) error {
	var frs []objstore.FileRange
	if n >= sendfileMin && n <= sendfileMax {
		frs = obj.FileRanges(off, n) // none when the catalog holds the data
	}
	if frs == nil {
		return req.copyBody(io.NewSectionReader(obj, off, n), n)
	}
	sw := req.newSendWriter(n)
	for _, fr := range frs {
		// sendfile reads from the file offset; this request is the only
		// user of obj, which it opened.
		if _, err := fr.File.Seek(fr.Off, io.SeekStart); err != nil {
			return fmt.Errorf("send %s/%s: %w", req.bucket, req.key, err)
		}
		if err := sw.sendFile(fr.File, fr.Off, fr.Len); err != nil {
			return err
		}
	}
	if sw.sent < n {
		return fmt.Errorf("send %s/%s: %d of %d bytes in the data files: %w", req.bucket, req.key, sw.sent, n, io.ErrUnexpectedEOF)
	}
	return sw.finish()
}

// sendFile sends n bytes of f from offset pos, where f's offset stands.
func (s *sendWriter) sendFile(f *os.File, pos, n int64) error {
	for n > 0 {
		want := min(n, sendfileChunk)
		w := s.watch(f, pos)
		m, err := s.req.w.ReadFrom(io.LimitReader(f, want))
		slowRate, slow := w.stop()
		s.sent += m
		pos += m
		n -= m
		if slow {
			return s.tooSlow(slowRate)
		}
		if err != nil {
			return s.fail(err)
		}
		if m < want {
			// The data file is shorter than its metadata says.
			return fmt.Errorf("send %s/%s: data file: %w", s.req.bucket, s.req.key, io.ErrUnexpectedEOF)
		}
		if err := s.checkRate(); err != nil {
			return err
		}
	}
	return nil
}

// sendWatch is the watchdog of one ReadFrom call (see the top of this
// file). Its fields after mu are guarded by mu; the sendWriter's rate
// window is used by check only while the call runs.
type sendWatch struct {
	s     *sendWriter
	f     *os.File
	start int64 // f's offset when the call began

	mu      sync.Mutex
	timer   *time.Timer
	last    int64 // the highest offset seen
	stopped bool
	slow    bool  // the client fell below MinSendRate
	rate    int64 // its rate then
}

// watchTick is how often a watchdog looks: a quarter of SendTimeout, so
// that a client is cut between SendTimeout and 1.25 SendTimeout after it
// last read.
func (s *sendWriter) watchTick() time.Duration {
	return max(s.timeout/4, time.Millisecond)
}

// watch sets the write deadline for a ReadFrom call that starts at f's
// offset pos and starts its watchdog.
func (s *sendWriter) watch(f *os.File, pos int64) *sendWatch {
	w := &sendWatch{s: s, f: f, start: pos, last: pos}
	// Deadlines are wall-clock instants, so the real clock is used even
	// when Handler.Now is set.
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	w.mu.Lock()
	w.timer = time.AfterFunc(s.watchTick(), w.check)
	w.mu.Unlock()
	return w
}

// check runs on the watchdog's timer while the call runs.
func (w *sendWatch) check() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stopped {
		return
	}
	now := time.Now()
	// Seek(0, SeekCurrent) only reads the offset; it does not wait for
	// the sendfile call using the file.
	if pos, err := w.f.Seek(0, io.SeekCurrent); err == nil && pos > w.last {
		w.last = pos
		_ = w.s.rc.SetWriteDeadline(now.Add(w.s.timeout))
	}
	if rate, ok := w.s.rateAt(w.s.sent+w.last-w.start, now); !ok {
		// Wake the blocked send now; stop reports why.
		w.slow, w.rate = true, rate
		_ = w.s.rc.SetWriteDeadline(now)
		return
	}
	w.timer.Reset(w.s.watchTick())
}

// stop ends the watchdog once the call has returned, and reports whether
// it cut the client for reading below MinSendRate, at what rate.
func (w *sendWatch) stop() (rate int64, slow bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stopped = true
	w.timer.Stop()
	return w.rate, w.slow
}
