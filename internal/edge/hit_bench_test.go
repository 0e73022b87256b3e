package edge

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/cachestore"
)

// The hit benchmarks measure what a cached hit costs the edge: the
// in-process ones call ServeHTTP with a writer that keeps nothing, so
// allocs/op counts the edge's own allocations; the loopback ones go through
// net/http's server and a real socket, as bench/edge.sh does (their
// allocs/op include a minimal client's).

// benchOrigin answers like bench/edgeorigin: fixed bytes with a strong
// ETag, Last-Modified and a long max-age.
func benchOrigin(b *testing.B, sizes ...int) *httptest.Server {
	b.Helper()
	bodies := map[string][]byte{}
	for _, n := range sizes {
		bodies["/"+strconv.Itoa(n)] = randomBytes(n, uint64(n))
	}
	lm := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := bodies[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Etag", `"`+strconv.FormatInt(int64(len(body)), 16)+`-v1"`)
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", lm, strings.NewReader(string(body)))
	}))
	b.Cleanup(srv.Close)
	return srv
}

// discardWriter is a ResponseWriter that keeps nothing; its header map is
// reused, as net/http's is not, so that it adds no allocations.
type discardWriter struct {
	h      http.Header
	status int
	n      int64
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *discardWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.n += int64(len(p))
	return len(p), nil
}

// SetWriteDeadline is what http.ResponseController calls; net/http's
// writer supports it.
func (w *discardWriter) SetWriteDeadline(time.Time) error { return nil }

func (w *discardWriter) reset() {
	clear(w.h)
	w.status, w.n = 0, 0
}

// benchEdge starts an edge in front of a bench origin and warms it with
// the object of the given size; opts as for newEdge.
func benchEdge(b *testing.B, size int, opts ...edgeOption) (*Handler, *http.Request) {
	return benchEdgeStore(b, size, cachestore.Options{MemoryBytes: 64 << 20, DiskBytes: 256 << 20}, opts...)
}

// benchEdgeStore is benchEdge over a store opened with so (Dir set here).
func benchEdgeStore(b *testing.B, size int, so cachestore.Options, opts ...edgeOption) (*Handler, *http.Request) {
	b.Helper()
	o := benchOrigin(b, size)
	origin, err := url.Parse(o.URL)
	if err != nil {
		b.Fatal(err)
	}
	so.Dir = b.TempDir()
	store, err := cachestore.Open(so)
	if err != nil {
		b.Fatalf("cachestore.Open: %v", err)
	}
	fills := make(chan string, 16)
	h := &Handler{
		NodeID:     testNode,
		Domains:    []Domain{{Host: "*", Origin: origin}},
		Cache:      store,
		TempDir:    b.TempDir(),
		onFillDone: func(key string) { fills <- key },
	}
	for _, opt := range opts {
		opt(h)
	}
	b.Cleanup(func() {
		h.Close()
		store.Close()
	})
	path := "/" + strconv.Itoa(size)
	for i := 0; i < 2; i++ {
		w := &discardWriter{h: http.Header{}}
		req := httptest.NewRequest(http.MethodGet, "http://bench.test"+path, nil)
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n != int64(size) {
			b.Fatalf("warming GET %s: status %d, %d bytes", path, w.status, w.n)
		}
		if i == 0 {
			select {
			case <-fills:
			case <-time.After(20 * time.Second):
				b.Fatal("the warming fill did not end")
			}
		}
	}
	req := httptest.NewRequest(http.MethodGet, "http://bench.test"+path, nil)
	req.Header.Set("User-Agent", "wrk")
	return h, req
}

func benchHit(b *testing.B, size int, opts ...edgeOption) {
	h, req := benchEdge(b, size, opts...)
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		w.reset()
		h.ServeHTTP(w, req)
	}
	b.StopTimer()
	if w.status != http.StatusOK || w.n != int64(size) || w.h.Get("X-Cache") != "HIT" {
		b.Fatalf("last response: status %d, %d bytes, X-Cache %q; want 200, %d, HIT", w.status, w.n, w.h.Get("X-Cache"), size)
	}
}

func BenchmarkHit1KiB(b *testing.B)   { benchHit(b, 1<<10) }
func BenchmarkHit100KiB(b *testing.B) { benchHit(b, 100<<10) }

// BenchmarkHit1KiBAccessLog is BenchmarkHit1KiB with the access log on,
// written by an AccessLogWriter to io.Discard.
func BenchmarkHit1KiBAccessLog(b *testing.B) {
	lw := NewAccessLogWriter(io.Discard, AccessLogOptions{Node: testNode})
	b.Cleanup(func() { _ = lw.Close() })
	benchHit(b, 1<<10, func(h *Handler) { h.AccessLog = lw.Log })
}

// benchLoopback serves the edge with net/http on 127.0.0.1 and sends
// keep-alive GETs over one connection, one at a time.
func benchLoopback(b *testing.B, size int, opts ...edgeOption) {
	h, req := benchEdge(b, size, opts...)
	loopback(b, h, req, size)
}

// loopback sends GETs for req's path to h served on 127.0.0.1.
func loopback(b *testing.B, h http.Handler, req *http.Request, size int) {
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	msg := []byte(fmt.Sprintf("GET %s HTTP/1.1\r\nHost: bench.test\r\nUser-Agent: wrk\r\n\r\n", req.URL.Path))
	br := bufio.NewReaderSize(c, 256<<10)
	b.ReportAllocs()
	b.SetBytes(int64(size))
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		n := readResponse(b, br)
		if n != size {
			b.Fatalf("body of %d bytes, want %d", n, size)
		}
	}
}

// readResponse reads one response with a Content-Length and returns its
// body length, allocating nothing per response.
func readResponse(b *testing.B, br *bufio.Reader) int {
	cl := -1
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if len(line) <= 2 {
			break
		}
		if len(line) > 16 && strings.EqualFold(string(line[:15]), "Content-Length:") {
			cl = 0
			for _, c := range line[15:] {
				if c >= '0' && c <= '9' {
					cl = cl*10 + int(c-'0')
				}
			}
		}
	}
	if cl < 0 {
		b.Fatal("response without Content-Length")
	}
	if _, err := br.Discard(cl); err != nil {
		b.Fatal(err)
	}
	return cl
}

func BenchmarkLoopbackHit1KiB(b *testing.B)   { benchLoopback(b, 1<<10) }
func BenchmarkLoopbackHit100KiB(b *testing.B) { benchLoopback(b, 100<<10) }

// BenchmarkLoopbackDiskHit100KiB serves the 100 KiB object from the disk
// tier (sendfile.go) rather than memory, for comparison.
func BenchmarkLoopbackDiskHit100KiB(b *testing.B) {
	h, req := benchEdgeStore(b, 100<<10, cachestore.Options{MemoryBytes: 64 << 20, DiskBytes: 256 << 20, MemoryEntryMax: 32 << 10})
	loopback(b, h, req, 100<<10)
}
