package edge

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Record kinds of the access log.
const (
	// AccessKindRequest is the record of one client request, written when
	// its response ends.
	AccessKindRequest = "request"
	// AccessKindFill records origin traffic that outlived the request that
	// started it: a fill completing into the cache after its client hung up
	// (case C09), or a background revalidation. It carries that request's
	// ID and URL.
	AccessKindFill = "fill"
	// AccessKindDrop says how many records AccessLogWriter dropped.
	AccessKindDrop = "drop"
)

// maxAttemptsLogged bounds the upstream attempts listed in one record (a
// sliced download makes one fetch per slice); the rest are counted.
const maxAttemptsLogged = 16

// AccessRecord is one line of the edge's access log (docs/logs.md), written
// as a JSON object. Every byte read from an origin and every origin fetch
// appears in exactly one record: in the request's own record when it
// happened before the request's response ended, else in a "fill" record.
// A request that joined another's fetch (X-Cache "... collapsed") has
// BytesOrigin 0: the bytes count for the request that started the fetch.
type AccessRecord struct {
	// Time is when the request arrived (for a fill: when the fill ended),
	// written in RFC 3339 with milliseconds, UTC.
	Time time.Time `json:"-"`
	// Kind is AccessKindRequest, AccessKindFill or AccessKindDrop.
	Kind string `json:"kind"`
	// Node is the edge node's ID.
	Node string `json:"node"`
	// RequestID is the X-Request-Id of the exchange.
	RequestID string `json:"request_id,omitempty"`
	// Client is the client's address (the connection's remote address).
	Client string `json:"client,omitempty"`
	Method string `json:"method,omitempty"`
	Host   string `json:"host,omitempty"`
	// URI is the request target as the client sent it.
	URI   string `json:"uri,omitempty"`
	Proto string `json:"proto,omitempty"`
	// Status is the status sent to the client; for a fill, the origin's.
	// 0 when the exchange was cut before a response header was sent.
	Status int `json:"status"`
	// Range is the request's Range header.
	Range string `json:"range,omitempty"`
	// BytesSent counts the body bytes written to the client.
	BytesSent int64 `json:"bytes_sent"`
	// BytesOrigin counts the body bytes read from origins for this record.
	BytesOrigin int64 `json:"bytes_origin"`
	// Cache is the response's X-Cache: outcome, reason, "collapsed".
	Cache string `json:"cache,omitempty"`
	// Upstream lists the origin fetches, in the order they were answered.
	Upstream []UpstreamAttempt `json:"upstream,omitempty"`
	// UpstreamMore counts the fetches not listed (past the first 16).
	UpstreamMore int `json:"upstream_more,omitempty"`
	// DurationMS is the time from the request's arrival to the end of its
	// response (for a fill: to the end of the origin body).
	DurationMS float64 `json:"duration_ms"`
	// TTFBMS is the time from the request's arrival to its response header.
	TTFBMS    float64 `json:"ttfb_ms,omitempty"`
	UserAgent string  `json:"user_agent,omitempty"`
	Referer   string  `json:"referer,omitempty"`
	Upgrade   bool    `json:"upgrade,omitempty"`
	Error     string  `json:"error,omitempty"`
	Dropped   int64   `json:"dropped,omitempty"` // AccessKindDrop only
}

// UpstreamAttempt is one fetch from an origin.
type UpstreamAttempt struct {
	// Addr is the host:port fetched from.
	Addr string `json:"addr"`
	// Status is the origin's status; 0 when no response arrived.
	Status int `json:"status"`
	// MS is the time to the response header (or the failure).
	MS    float64 `json:"ms"`
	Error string  `json:"error,omitempty"`
}

// accessTimeLayout is RFC 3339 with milliseconds.
const accessTimeLayout = "2006-01-02T15:04:05.000Z07:00"

// MarshalJSON writes the record with its time first, then its fields in
// the order and with the omissions of their tags (accesslog_json.go).
func (r *AccessRecord) MarshalJSON() ([]byte, error) {
	return appendAccessRecord(make([]byte, 0, 512), r)
}

func msSince(t time.Time) float64 {
	return float64(time.Since(t).Microseconds()) / 1000
}

// accessRegistry maps the request IDs of requests being served (and of
// ended ones whose origin bodies are still open) to their state, so that
// the origin transport can account fetches and bytes to them.
type accessRegistry struct {
	mu sync.Mutex // guards m
	m  map[string]*accessState
}

func (g *accessRegistry) add(a *accessState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m == nil {
		g.m = make(map[string]*accessState)
	}
	if _, dup := g.m[a.rec.RequestID]; !dup {
		// A client-chosen ID used twice at once: the second request's
		// origin traffic counts for the first.
		g.m[a.rec.RequestID] = a
	}
}

func (g *accessRegistry) get(id string) *accessState {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.m[id]
}

func (g *accessRegistry) remove(a *accessState) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.m[a.rec.RequestID] == a {
		delete(g.m, a.rec.RequestID)
	}
}

// accessState is the record of one request being built.
type accessState struct {
	h     *Handler
	rec   *AccessRecord
	start time.Time
	w     *accessWriter
	r     *http.Request

	mu       sync.Mutex // guards the fields below
	ended    bool       // rec has been written
	open     int        // origin bodies not yet closed
	origin   int64
	upstream []UpstreamAttempt
	more     int
}

// beginAccess starts the access record of x and wraps its ResponseWriter
// to count what is sent. The caller defers end on the result.
func (h *Handler) beginAccess(x *exchange) *accessState {
	r := x.r
	// One allocation holds the state, the record and the writer.
	b := &struct {
		a   accessState
		rec AccessRecord
		w   accessWriter
	}{
		a: accessState{h: h, start: x.start, r: r},
		rec: AccessRecord{
			Time: x.start, Kind: AccessKindRequest, Node: h.nodeID, RequestID: x.id,
			Client: r.RemoteAddr, Method: r.Method, Host: r.Host, URI: r.RequestURI, Proto: r.Proto,
			Range: r.Header.Get("Range"), UserAgent: r.UserAgent(), Referer: r.Referer(),
			Upgrade: r.Header.Get("Upgrade") != "" && headerHasToken(r.Header, "Connection", "upgrade"),
		},
		w: accessWriter{ResponseWriter: x.w},
	}
	a := &b.a
	a.rec, a.w, b.w.a = &b.rec, &b.w, a
	if a.rec.URI == "" {
		a.rec.URI = r.URL.RequestURI()
	}
	x.w = a.w
	h.access.add(a)
	return a
}

// end writes the request's record. It is deferred by ServeHTTP and so
// sees, through recover, a response the edge cut (http.ErrAbortHandler),
// which it lets continue.
func (a *accessState) end() {
	v := recover()
	rec, w := a.rec, a.w
	rec.Status, rec.BytesSent, rec.Cache = w.status, w.bytes, w.cache
	if !w.wroteHeader && v == nil {
		rec.Status = http.StatusOK // net/http sends an empty 200
	}
	if w.wroteHeader {
		rec.TTFBMS = float64(w.ttfb.Microseconds()) / 1000
	}
	rec.DurationMS = msSince(a.start)
	switch {
	case v != nil && v == http.ErrAbortHandler:
		rec.Error = "the edge cut the response (its origin body failed or the object changed)"
	case v != nil:
		rec.Error = fmt.Sprintf("panic: %v", v)
	case w.err != nil:
		rec.Error = "client connection failed: " + w.err.Error()
	case a.r.Context().Err() != nil && w.short():
		rec.Error = "the client went away before the end of the body"
	case w.short():
		rec.Error = fmt.Sprintf("body cut short: %d of %s bytes", w.bytes, w.Header().Get("Content-Length"))
	}
	a.mu.Lock()
	a.ended = true
	rec.BytesOrigin = a.origin
	rec.Upstream, rec.UpstreamMore = a.upstream, a.more
	open := a.open
	a.mu.Unlock()
	if open == 0 {
		a.h.access.remove(a)
	}
	a.h.AccessLog(rec)
	if v != nil {
		panic(v)
	}
}

// attempt records one origin fetch; it returns true when the request's
// record was already written, so the fetch belongs to a fill record.
func (a *accessState) attempt(at UpstreamAttempt, body bool) (late bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if body {
		a.open++
	}
	if a.ended {
		return true
	}
	if len(a.upstream) < maxAttemptsLogged {
		a.upstream = append(a.upstream, at)
	} else {
		a.more++
	}
	return false
}

// accountOrigin wraps the origin transport so that each fetch and the
// bytes of its body are accounted to the request named by the fetch's
// X-Request-Id (forward.go sets it on every origin request).
func (h *Handler) accountOrigin(rt http.RoundTripper) http.RoundTripper {
	if h.AccessLog == nil {
		return rt
	}
	return &accountingTransport{h: h, next: rt}
}

type accountingTransport struct {
	h    *Handler
	next http.RoundTripper
}

func (t *accountingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	at := UpstreamAttempt{Addr: req.URL.Host, MS: msSince(start)}
	if err != nil {
		at.Error = err.Error()
	} else {
		at.Status = resp.StatusCode
	}
	id := req.Header.Get("X-Request-Id")
	a := t.h.access.get(id)
	if a == nil {
		// The request ended and nothing of it is open: a fetch it left
		// behind. Record it alone, under the origin's URL.
		a = &accessState{h: t.h, start: start, rec: &AccessRecord{
			Kind: AccessKindFill, Node: t.h.nodeID, RequestID: id, Method: req.Method,
			Host: req.Host, URI: req.URL.RequestURI(),
		}, ended: true}
	}
	late := a.attempt(at, err == nil)
	if err != nil {
		if late {
			a.fill(at, 0, true, err.Error())
		}
		return nil, err
	}
	resp.Body = &originBody{ReadCloser: resp.Body, a: a, at: at, late: late}
	return resp, nil
}

// fill writes a fill record for origin traffic after the request's record.
func (a *accessState) fill(at UpstreamAttempt, n int64, withAttempt bool, errMsg string) {
	r := a.rec
	rec := &AccessRecord{
		Time: time.Now(), Kind: AccessKindFill, Node: r.Node, RequestID: r.RequestID,
		Client: r.Client, Method: r.Method, Host: r.Host, URI: r.URI, Proto: r.Proto,
		Status: at.Status, BytesOrigin: n, DurationMS: msSince(a.start), Error: errMsg,
	}
	if withAttempt {
		rec.Upstream = []UpstreamAttempt{at}
	}
	a.h.AccessLog(rec)
}

// originBody counts the bytes of an origin body for its request.
type originBody struct {
	io.ReadCloser
	a     *accessState
	at    UpstreamAttempt
	late  bool  // the fetch was answered after the request's record
	after int64 // bytes read after the request's record was written
	err   error // the first read error other than EOF
	once  sync.Once
}

func (b *originBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	a := b.a
	a.mu.Lock()
	if a.ended {
		b.after += int64(n)
	} else {
		a.origin += int64(n)
	}
	a.mu.Unlock()
	if err != nil && err != io.EOF && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *originBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() {
		a := b.a
		a.mu.Lock()
		a.open--
		ended, open := a.ended, a.open
		a.mu.Unlock()
		if ended && open == 0 {
			a.h.access.remove(a)
		}
		if ended && (b.after > 0 || b.late) {
			msg := ""
			if b.err != nil && !errors.Is(b.err, errBodyClosed) {
				msg = "origin body: " + b.err.Error()
			}
			a.fill(b.at, b.after, b.late, msg)
		}
	})
	return err
}

// errBodyClosed is how net/http reports a read after Close.
var errBodyClosed = errors.New("http: read on closed response body")

// accessWriter counts what the edge sends to the client.
type accessWriter struct {
	http.ResponseWriter
	a           *accessState
	wroteHeader bool
	status      int
	ttfb        time.Duration
	cache       string
	bytes       int64
	err         error // the first write error
}

func (w *accessWriter) WriteHeader(code int) {
	if !w.wroteHeader && (code >= 200 || code == http.StatusSwitchingProtocols) {
		w.wroteHeader = true
		w.status = code
		w.ttfb = time.Since(w.a.start)
		w.cache = w.Header().Get("X-Cache")
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *accessWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	n, err := w.ResponseWriter.Write(p)
	w.bytes += int64(n)
	if err != nil && w.err == nil {
		w.err = err
	}
	return n, err
}

// ReadFrom keeps the server's sendfile path for bodies copied from files.
func (w *accessWriter) ReadFrom(r io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(r)
	} else {
		n, err = io.Copy(writerOnly{w.ResponseWriter}, r)
	}
	w.bytes += n
	return n, err
}

// Flush sends what is buffered; for code that asserts http.Flusher.
func (w *accessWriter) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(w.ResponseWriter).Flush()
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *accessWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// short reports whether fewer body bytes were sent than Content-Length
// announced.
func (w *accessWriter) short() bool {
	if !w.wroteHeader || w.a.r.Method == http.MethodHead || w.status == http.StatusNotModified || w.status == http.StatusNoContent {
		return false
	}
	cl, err := strconv.ParseInt(w.Header().Get("Content-Length"), 10, 64)
	return err == nil && w.bytes < cl
}

type writerOnly struct{ io.Writer }

// headerHasToken reports whether a comma-separated header field lists
// token, case-insensitively (RFC 9110 §5.6.1).
func headerHasToken(h http.Header, field, token string) bool {
	for _, v := range h.Values(field) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
