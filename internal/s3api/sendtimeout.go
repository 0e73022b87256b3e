package s3api

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"
)

// Errors a sendWriter returns once it gave up on a client.
var (
	errSendTimeout = errors.New("send timeout: client stopped reading")
	errSendTooSlow = errors.New("client read below the minimum send rate")
)

// sendChunk is the most written under one write deadline, so that a client
// reading steadily but slowly is not mistaken for one that stopped.
const sendChunk = 64 << 10

// copyBufSize is the fixed buffer object bodies are copied through.
const copyBufSize = 256 << 10

var copyBufPool = sync.Pool{New: func() any { b := make([]byte, copyBufSize); return &b }}

// sendWriter writes a response body with a write deadline of SendTimeout
// renewed before every write, and enforces MinSendRate over windows of
// SendTimeout (cases C21, C22). Either failure is logged at WARN with what
// the client did, the request id and the progress, because "connection
// closed" alone tells an operator nothing.
type sendWriter struct {
	req     *request
	rc      *http.ResponseController
	timeout time.Duration
	minRate int64
	total   int64
	sent    int64
	// The minimum-rate window: it began at winStart, when sent was
	// winBase.
	winStart time.Time
	winBase  int64
}

func (req *request) newSendWriter(total int64) *sendWriter {
	return &sendWriter{
		req:      req,
		rc:       http.NewResponseController(req.w),
		timeout:  req.h.sendTimeout(),
		minRate:  req.h.MinSendRate,
		total:    total,
		winStart: time.Now(),
	}
}

func (s *sendWriter) Write(p []byte) (int, error) {
	written := 0
	for len(p) > 0 {
		chunk := p
		if len(chunk) > sendChunk {
			chunk = chunk[:sendChunk]
		}
		// Deadlines are wall-clock instants, so the real clock is used
		// even when Handler.Now is set. Not every writer supports them
		// (http.ErrNotSupported); then only the server's timeouts apply.
		_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
		n, err := s.req.w.Write(chunk)
		written += n
		s.sent += int64(n)
		p = p[n:]
		if err != nil {
			return written, s.fail(err)
		}
		if err := s.checkRate(); err != nil {
			return written, err
		}
	}
	return written, nil
}

// finish flushes the buffered tail under the same deadline, then clears
// the deadline so it cannot cut a later request on the same connection.
func (s *sendWriter) finish() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(s.timeout))
	err := s.rc.Flush()
	_ = s.rc.SetWriteDeadline(time.Time{})
	if err != nil && !errors.Is(err, http.ErrNotSupported) {
		return s.fail(err)
	}
	return nil
}

func (s *sendWriter) fail(err error) error {
	if !isTimeout(err) {
		return err
	}
	s.log(fmt.Sprintf("client did not read for %s", s.timeout))
	return fmt.Errorf("%w: %w", errSendTimeout, err)
}

func (s *sendWriter) checkRate() error {
	if rate, ok := s.rateAt(s.sent, time.Now()); !ok {
		return s.tooSlow(rate)
	}
	return nil
}

// rateAt checks MinSendRate once a window of SendTimeout has passed, with
// total bytes sent by now, and starts the next window when the rate was
// enough. It reports false, with the rate, when the client is too slow.
func (s *sendWriter) rateAt(total int64, now time.Time) (rate int64, ok bool) {
	if s.minRate <= 0 {
		return 0, true
	}
	elapsed := now.Sub(s.winStart)
	if elapsed < s.timeout {
		return 0, true
	}
	rate = int64(float64(total-s.winBase) / elapsed.Seconds())
	if rate < s.minRate {
		return rate, false
	}
	s.winStart, s.winBase = now, total
	return rate, true
}

// tooSlow logs and returns the cut of a client reading at rate, below
// MinSendRate.
func (s *sendWriter) tooSlow(rate int64) error {
	s.log(fmt.Sprintf("client read at %d B/s, below the minimum of %d B/s", rate, s.minRate))
	return fmt.Errorf("%w: %d B/s < %d B/s", errSendTooSlow, rate, s.minRate)
}

func (s *sendWriter) log(msg string) {
	req := s.req
	req.h.logger().LogAttrs(req.ctx, slog.LevelWarn, msg,
		slog.String("request_id", req.id),
		slog.String("bucket", req.bucket),
		slog.String("key", req.key),
		slog.Int64("sent", s.sent),
		slog.Int64("total", s.total),
		slog.String("remote", req.r.RemoteAddr),
	)
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// copyBody copies src to the client through a sendWriter with a fixed
// buffer, then flushes.
func (req *request) copyBody(src io.Reader, total int64) error {
	sw := req.newSendWriter(total)
	bp := copyBufPool.Get().(*[]byte)
	defer copyBufPool.Put(bp)
	if _, err := io.CopyBuffer(sw, src, *bp); err != nil {
		return err
	}
	return sw.finish()
}
