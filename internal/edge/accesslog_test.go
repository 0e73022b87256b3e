package edge

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/logs"
)

// recorder collects access records.
type recorder struct {
	mu   sync.Mutex
	recs []*AccessRecord
	ch   chan *AccessRecord
}

func newRecorder() *recorder { return &recorder{ch: make(chan *AccessRecord, 1024)} }

func (r *recorder) log(rec *AccessRecord) {
	r.mu.Lock()
	r.recs = append(r.recs, rec)
	r.mu.Unlock()
	r.ch <- rec
}

func (r *recorder) all() []*AccessRecord {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*AccessRecord(nil), r.recs...)
}

func (r *recorder) next(t *testing.T) *AccessRecord {
	t.Helper()
	select {
	case rec := <-r.ch:
		return rec
	case <-time.After(20 * time.Second):
		t.Fatal("no access record within 20s")
		return nil
	}
}

// originTotals sums the origin bytes and fetches over every record.
func originTotals(recs []*AccessRecord) (bytes int64, fetches int) {
	for _, r := range recs {
		bytes += r.BytesOrigin
		fetches += len(r.Upstream) + r.UpstreamMore
	}
	return bytes, fetches
}

// A miss records the origin fetch and its bytes, a hit records none; the
// records read back through the log analyzer.
func TestAccessLogMissThenHit(t *testing.T) {
	body := randomBytes(100_000, 1)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) { serveObject(w, r, body, `"v1"`, "max-age=300") })
	rec := newRecorder()
	e := newEdge(t, o.URL, func(h *Handler) { h.AccessLog = rec.log })

	resp, got := e.get("/obj", "User-Agent", "access-test/1", "Referer", "https://ref.test/")
	if !bytes.Equal(got, body) {
		t.Fatalf("first GET: %d bytes", len(got))
	}
	first := rec.next(t)
	e.waitFill()
	e.get("/obj")
	second := rec.next(t)
	e.close()

	if first.Kind != AccessKindRequest || first.Status != 200 || first.BytesSent != int64(len(body)) || !strings.HasPrefix(first.Cache, "MISS") ||
		first.Method != "GET" || first.URI != "/obj" || first.UserAgent != "access-test/1" || first.Referer != "https://ref.test/" ||
		first.RequestID != resp.Header.Get("X-Request-Id") || first.Node != testNode {
		t.Errorf("miss record = %+v", first)
	}
	if host := strings.TrimPrefix(o.URL, "http://"); len(first.Upstream) != 1 || first.Upstream[0].Addr != host || first.Upstream[0].Status != 200 {
		t.Errorf("miss record upstream = %+v, want one 200 from %s", first.Upstream, host)
	}
	if second.Cache != "HIT" || second.BytesOrigin != 0 || len(second.Upstream) != 0 || second.BytesSent != int64(len(body)) {
		t.Errorf("hit record = %+v", second)
	}
	if n, f := originTotals(rec.all()); n != int64(len(body)) || f != 1 {
		t.Errorf("records account %d origin bytes in %d fetches, want %d in 1", n, f, len(body))
	}

	// The JSON lines read back through the analyzer.
	var lines bytes.Buffer
	for _, r := range rec.all() {
		j, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(j, '\n'))
	}
	if !bytes.HasPrefix(lines.Bytes(), []byte(`{"time":"`)) {
		t.Errorf("record does not start with its time: %.60s", lines.String())
	}
	a := logs.NewAnalyzer(logs.Options{})
	if err := a.Read("access", &lines, nil); err != nil {
		t.Fatal(err)
	}
	r := a.Report()
	if r.Malformed != 0 || r.Totals.Requests != 2 || r.Totals.Hits != 1 || r.Totals.BytesOrigin != int64(len(body)) {
		t.Errorf("analyzer: malformed %d, totals %+v", r.Malformed, r.Totals)
	}
}

// C09: a client hangs up mid-body; its record says so, and the rest of the
// origin body, read by the background fill, is in a fill record under the
// same request ID. Every origin byte is counted once.
func TestAccessLogFillOutlivesClient_C09(t *testing.T) {
	const size = 1 << 20
	body := randomBytes(size, 2)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		w.Header().Set("Content-Length", "1048576")
		w.Write(body[:64<<10])
		w.(http.Flusher).Flush()
		<-release
		w.Write(body[64<<10:])
	})
	rec := newRecorder()
	e := newEdge(t, o.URL, func(h *Handler) { h.AccessLog = rec.log })

	conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(conn, "GET /big.zip HTTP/1.1\r\nHost: dl.test\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(resp.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	conn.Close() // the client hangs up after a little of the body
	req := rec.next(t)
	close(release)
	e.waitFill()
	e.close()

	if req.Kind != AccessKindRequest || req.Error == "" || req.BytesSent >= size || req.Host != "dl.test" {
		t.Errorf("request record = %+v, want a cut request", req)
	}
	var fills []*AccessRecord
	for _, r := range rec.all() {
		if r.Kind == AccessKindFill {
			fills = append(fills, r)
		}
	}
	if len(fills) != 1 || fills[0].RequestID != req.RequestID || fills[0].URI != "/big.zip" || fills[0].BytesOrigin <= 0 {
		t.Fatalf("fill records = %+v, want one for request %s", fills, req.RequestID)
	}
	if n, f := originTotals(rec.all()); n != size || f != 1 {
		t.Errorf("records account %d origin bytes in %d fetches, want %d in 1", n, f, size)
	}
}

// An origin that cannot be reached is recorded as an attempt with no
// status and its error (C18).
func TestAccessLogOriginDown_C18(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	addr := strings.TrimPrefix(o.URL, "http://")
	o.Close()
	rec := newRecorder()
	e := newEdge(t, "http://"+addr, func(h *Handler) { h.AccessLog = rec.log })
	resp, _ := e.get("/x")
	r := rec.next(t)
	if r.Status != resp.StatusCode || r.Status != http.StatusBadGateway || len(r.Upstream) != 1 || r.Upstream[0].Addr != addr || r.Upstream[0].Status != 0 || r.Upstream[0].Error == "" {
		t.Errorf("record = %+v, upstream %+v; want 502 with a failed attempt on %s", r, r.Upstream, addr)
	}
}

// blockingWriter blocks every Write until released.
type blockingWriter struct {
	release chan struct{}
	mu      sync.Mutex
	buf     bytes.Buffer
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// The writer never blocks its caller: with the disk stuck, records beyond
// the queue are dropped, counted, and the count is written to the log.
func TestAccessLogWriterDrops(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	l := NewAccessLogWriter(bw, AccessLogOptions{Queue: 2, Node: "n1"})
	const n = 10
	for i := 0; i < n; i++ {
		l.Log(&AccessRecord{Time: time.Unix(1700000000, 0), Kind: AccessKindRequest, Node: "n1", Status: 200, URI: "/" + string(rune('a'+i))})
	}
	dropped := l.Dropped()
	if dropped < n-3 || dropped > n-2 {
		t.Errorf("dropped %d of %d with a queue of 2 and the writer stuck, want %d or %d", dropped, n, n-3, n-2)
	}
	close(bw.release)
	l.Close()
	var kept, reported int64
	sc := bufio.NewScanner(&bw.buf)
	for sc.Scan() {
		var r struct {
			Kind    string `json:"kind"`
			Dropped int64  `json:"dropped"`
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		switch r.Kind {
		case AccessKindRequest:
			kept++
		case AccessKindDrop:
			reported += r.Dropped
		}
	}
	if kept+int64(dropped) != n || reported != int64(dropped) {
		t.Errorf("log has %d records and reports %d dropped; Dropped() = %d; want %d in all", kept, reported, dropped, n)
	}
}
