package edge

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"time"
)

// Default client limits of a domain's Timeouts. Media (audio/*, video/*)
// is read by players at its bitrate, for as long as it plays, so its
// limits are longer: a reader at 10 KB/s is real-time playback, not a
// stalled client (C22).
const (
	// DefaultClientWrite is how long one write to a client may block.
	DefaultClientWrite = 60 * time.Second
	// DefaultMediaClientWrite is DefaultClientWrite for audio/* and video/*.
	DefaultMediaClientWrite = 10 * time.Minute
	// DefaultConnectTimeout bounds the dial of an upgrade's origin
	// connection when the domain sets no connect timeout.
	DefaultConnectTimeout = 10 * time.Second
	// DefaultUpgradeIdle is the idle timeout of an upgraded connection
	// whose domain sets none.
	DefaultUpgradeIdle = 5 * time.Minute
)

// Timeouts are a domain's time limits. Zero fields take the defaults; the
// origin limits left zero are those of the Handler (OriginTimeout) and its
// transport. When a limit fires, the log names it (timeout=origin-connect,
// origin-first-byte, origin-idle, client-write, client-min-rate).
type Timeouts struct {
	// Connect bounds the connection to the origin (dial and TLS).
	Connect time.Duration
	// FirstByte bounds the wait for the origin's response after the
	// request was sent.
	FirstByte time.Duration
	// Idle bounds the wait for each read of the origin's body.
	Idle time.Duration
	// ClientWrite bounds one write to the client: a client that reads
	// nothing for this long is cut. Zero: DefaultClientWrite.
	ClientWrite time.Duration
	// MediaClientWrite is ClientWrite for audio/* and video/* responses.
	// Zero: DefaultMediaClientWrite.
	MediaClientWrite time.Duration
	// MinRate, in bytes per second measured over ClientWrite, is the
	// slowest download allowed; zero turns the check off.
	MinRate int64
	// MediaMinRate is MinRate for audio/* and video/* responses; zero
	// turns it off.
	MediaMinRate int64
	// UpgradeIdle closes an upgraded (WebSocket) connection when neither
	// side has sent anything for this long. Zero: DefaultUpgradeIdle.
	UpgradeIdle time.Duration
}

func (d *Domain) connectTimeout() time.Duration {
	if d.Timeouts.Connect > 0 {
		return d.Timeouts.Connect
	}
	return DefaultConnectTimeout
}

func (d *Domain) upgradeIdle() time.Duration {
	if d.Timeouts.UpgradeIdle > 0 {
		return d.Timeouts.UpgradeIdle
	}
	return DefaultUpgradeIdle
}

// isMedia reports whether a Content-Type is audio or video.
func isMedia(contentType string) bool {
	ct := strings.ToLower(strings.TrimSpace(contentType))
	return strings.HasPrefix(ct, "audio/") || strings.HasPrefix(ct, "video/")
}

// clientLimits returns the write timeout and minimum rate for a response
// of the given Content-Type.
func (t *Timeouts) clientLimits(contentType string) (write time.Duration, minRate int64) {
	if isMedia(contentType) {
		write, minRate = t.MediaClientWrite, t.MediaMinRate
		if write <= 0 {
			write = DefaultMediaClientWrite
		}
		return write, minRate
	}
	write, minRate = t.ClientWrite, t.MinRate
	if write <= 0 {
		write = DefaultClientWrite
	}
	return write, minRate
}

// timeoutError is a named timeout that fired.
type timeoutError struct {
	which string // origin-connect, origin-first-byte, origin-idle
	d     time.Duration
}

func (e *timeoutError) Error() string {
	return "timeout " + e.which + " (" + e.d.String() + ") fired"
}

// Timeout reports true: the error is a net.Error timeout.
func (e *timeoutError) Timeout() bool { return true }

// Temporary reports false.
func (e *timeoutError) Temporary() bool { return false }

// Unwrap makes errors.Is(err, context.DeadlineExceeded) hold.
func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// timeoutTransport applies the Timeouts of the domain an origin request
// is made for (found in its context, parents.go) to each attempt.
type timeoutTransport struct {
	h    *Handler
	next http.RoundTripper
}

// withTimeouts wraps rt with the domains' origin timeouts.
func (h *Handler) withTimeouts(rt http.RoundTripper) http.RoundTripper {
	return &timeoutTransport{h: h, next: rt}
}

// RoundTrip sends req, cancelling it with a named cause when the
// domain's connect, first-byte or idle limit passes.
func (t *timeoutTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	info, _ := req.Context().Value(upstreamKey{}).(*upstreamInfo)
	if info == nil || info.dom == nil {
		return t.next.RoundTrip(req)
	}
	to := info.dom.Timeouts
	if to.Connect <= 0 && to.FirstByte <= 0 && to.Idle <= 0 {
		return t.next.RoundTrip(req)
	}
	ctx, cancel := context.WithCancelCause(req.Context())
	var mu sync.Mutex
	var timer *time.Timer
	arm := func(which string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		if timer != nil {
			timer.Stop()
			timer = nil
		}
		if d > 0 {
			timer = time.AfterFunc(d, func() { cancel(&timeoutError{which: which, d: d}) })
		}
	}
	disarm := func() { arm("", 0) }
	trace := &httptrace.ClientTrace{
		ConnectStart:         func(string, string) { arm("origin-connect", to.Connect) },
		ConnectDone:          func(string, string, error) { disarm() },
		TLSHandshakeStart:    func() { arm("origin-connect", to.Connect) },
		TLSHandshakeDone:     func(tls.ConnectionState, error) { disarm() },
		WroteRequest:         func(httptrace.WroteRequestInfo) { arm("origin-first-byte", to.FirstByte) },
		GotFirstResponseByte: func() { disarm() },
	}
	resp, err := t.next.RoundTrip(req.WithContext(httptrace.WithClientTrace(ctx, trace)))
	if err != nil {
		disarm()
		err = t.named(ctx, req, err)
		cancel(nil)
		return nil, err
	}
	disarm()
	if to.Idle > 0 {
		arm("origin-idle", to.Idle)
	}
	resp.Body = &timedBody{ReadCloser: resp.Body, t: t, req: req, ctx: ctx, cancel: cancel, arm: func() {
		if to.Idle > 0 {
			arm("origin-idle", to.Idle)
		}
	}, disarm: disarm}
	return resp, nil
}

// named replaces err by the timeout that caused it, if one did, and logs it.
func (t *timeoutTransport) named(ctx context.Context, req *http.Request, err error) error {
	var te *timeoutError
	if errors.As(context.Cause(ctx), &te) && req.Context().Err() == nil {
		t.h.log.Warn("edge: origin timeout", "timeout", te.which, "limit", te.d, "url", req.URL.Redacted(), "err", err)
		return te
	}
	return err
}

// timedBody is an origin body whose every read restarts the idle timer.
type timedBody struct {
	io.ReadCloser
	t           *timeoutTransport
	req         *http.Request
	ctx         context.Context
	cancel      context.CancelCauseFunc
	arm, disarm func()
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		return n, b.t.named(b.ctx, b.req, err)
	}
	b.arm()
	return n, err
}

func (b *timedBody) Close() error {
	b.disarm()
	err := b.ReadCloser.Close()
	b.cancel(nil)
	return err
}

// clientWriter bounds each write to the client by the domain's write
// timeout, and the rate over that window by its minimum rate, both chosen
// by the response's Content-Type (C22). When one fires it logs which and
// makes the connection's writes fail, so the client sees a cut, not a
// short body that looks complete.
type clientWriter struct {
	http.ResponseWriter
	x       *exchange
	rc      *http.ResponseController
	write   time.Duration
	minRate int64
	winFrom time.Time
	winN    int64
	failed  bool
}

// limitClient wraps x.w with the domain's client limits.
func (x *exchange) limitClient() {
	cw := &clientWriter{ResponseWriter: x.w, x: x}
	cw.rc = http.NewResponseController(x.w)
	x.w = cw
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *clientWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *clientWriter) WriteHeader(status int) {
	w.write, w.minRate = w.x.dom.Timeouts.clientLimits(w.Header().Get("Content-Type"))
	w.winFrom = time.Now()
	w.ResponseWriter.WriteHeader(status)
}

func (w *clientWriter) Write(p []byte) (int, error) {
	if w.failed {
		return 0, errClientCut
	}
	if w.write == 0 {
		w.WriteHeader(http.StatusOK)
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.write))
	n, err := w.ResponseWriter.Write(p)
	m, err := w.wrote(int64(n), err)
	return int(m), err
}

// ReadFrom keeps the server's sendfile path for bodies sent from files
// (sendfile.go) under the same limits as Write: one deadline per call, so
// the caller sends in chunks, and the rate counted as for Write.
func (w *clientWriter) ReadFrom(r io.Reader) (int64, error) {
	if w.failed {
		return 0, errClientCut
	}
	if w.write == 0 {
		w.WriteHeader(http.StatusOK)
	}
	rf, ok := w.ResponseWriter.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{w}, r)
	}
	_ = w.rc.SetWriteDeadline(time.Now().Add(w.write))
	return w.wrote(rf.ReadFrom(r))
}

// wrote ends one write of n bytes: it clears the deadline, or on a timeout
// cuts the connection, and checks the minimum rate.
func (w *clientWriter) wrote(n int64, err error) (int64, error) {
	if err == nil {
		// The deadline belongs to this write: a later request on the
		// same kept-alive connection must not inherit it.
		_ = w.rc.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) || isTimeout(err) {
			w.cut("client-write", "the client read nothing for "+w.write.String())
		}
		return n, err
	}
	w.winN += n
	if w.minRate > 0 {
		if el := time.Since(w.winFrom); el >= w.write {
			if rate := float64(w.winN) / el.Seconds(); rate < float64(w.minRate) {
				w.cut("client-min-rate", "the client read "+itoa(int64(rate))+" B/s, under the minimum of "+itoa(w.minRate)+" B/s")
				return n, errClientCut
			}
			w.winFrom, w.winN = time.Now(), 0
		}
	}
	return n, nil
}

// Flush passes a flush on.
func (w *clientWriter) Flush() {
	if !w.failed {
		_ = w.rc.Flush()
	}
}

// cut logs the limit that fired and fails the connection's writes.
func (w *clientWriter) cut(which, why string) {
	w.failed = true
	_ = w.rc.SetWriteDeadline(time.Now().Add(-time.Second))
	w.x.h.log.Warn("edge: client timeout", "timeout", which, "reason", why,
		"content_type", w.Header().Get("Content-Type"), "request", w.x.id)
}

var errClientCut = errors.New("edge: client cut by a timeout")

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
