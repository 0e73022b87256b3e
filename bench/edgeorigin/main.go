// Command edgeorigin is the origin server of the edge benchmark
// (bench/edge.sh): one HTTP server that Strata's edge, nginx proxy_cache
// and Varnish all fetch from, so that every cache sees the same objects,
// the same validators and the same freshness.
//
// Any path whose last segment is a size ("1KiB", "100KiB", "100MiB",
// "512B") is an object of that many bytes of fixed pseudo-random data; the
// segments before it only name the object, so the benchmark can make a
// cold object by asking a path never asked before. Every object carries a
// strong ETag, a Last-Modified date and Cache-Control: public,
// max-age=3600, and is served with net/http's ServeContent, which answers
// Range, If-Range and the conditional requests of RFC 9110 §13.
//
// The server counts the requests and body bytes it serves per path;
// GET /__stats?prefix=/p/ answers with the sums over paths starting with
// /p/ as one line, "requests=N range_requests=N bytes=N", which is how the
// benchmark reports the origin bytes a cache fetched. The counters are
// never reset: the benchmark gives every measurement its own prefix.
//
// Usage:
//
//	edgeorigin -listen 127.0.0.1:8000 [-max 100MiB]
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// lastModified is the fixed Last-Modified of every object: the content
// never changes while the benchmark runs.
var lastModified = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	listen := flag.String("listen", "127.0.0.1:8000", "loopback `host:port` to listen on")
	maxSize := flag.String("max", "100MiB", "largest object `size`")
	flag.Parse()
	if err := run(*listen, *maxSize); err != nil {
		fmt.Fprintln(os.Stderr, "edgeorigin:", err)
		os.Exit(1)
	}
}

func run(listen, maxSize string) error {
	limit, err := parseSize(maxSize)
	if err != nil {
		return fmt.Errorf("-max: %w", err)
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("-listen: %w", err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("-listen: %q is not a loopback address", host)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           newOrigin(limit),
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(os.Stderr, "edgeorigin: ", 0),
	}
	return srv.Serve(ln)
}

// origin serves the generated objects and counts what it serves.
type origin struct {
	data []byte // the pseudo-random bytes every object is a prefix of

	mu    sync.Mutex        // guards stats
	stats map[string]*count // by request path
}

// count is what was served for one path.
type count struct {
	requests, ranges, bytes int64
}

func newOrigin(limit int64) *origin {
	return &origin{data: fill(limit), stats: make(map[string]*count)}
}

// fill returns n bytes of xorshift64 output: incompressible and the same
// on every run.
func fill(n int64) []byte {
	b := make([]byte, n)
	x := uint64(0x9E3779B97F4A7C15)
	for i := int64(0); i < n; i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		for j := int64(0); j < 8 && i+j < n; j++ {
			b[i+j] = byte(x >> (8 * j))
		}
	}
	return b
}

func (o *origin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/__stats" {
		o.serveStats(w, r)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	name := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	size, err := parseSize(name)
	if err != nil || size > int64(len(o.data)) {
		http.Error(w, fmt.Sprintf("no object %q: the last path segment must be a size up to %d bytes, as in 100KiB", r.URL.Path, len(o.data)), http.StatusNotFound)
		return
	}
	c := o.counter(r.URL.Path, r.Header.Get("Range") != "")
	h := w.Header()
	// A strong validator (RFC 9110 §8.8.3) that differs per size: objects
	// of one size have the same bytes whatever their path.
	h.Set("ETag", fmt.Sprintf(`"%x-v1"`, size))
	h.Set("Cache-Control", "public, max-age=3600")
	h.Set("Content-Type", "application/octet-stream")
	cw := &countingWriter{ResponseWriter: w}
	http.ServeContent(cw, r, "", lastModified, bytes.NewReader(o.data[:size]))
	o.mu.Lock()
	c.bytes += cw.n
	o.mu.Unlock()
}

// counter returns the counters of path after counting one request.
func (o *origin) counter(path string, ranged bool) *count {
	o.mu.Lock()
	defer o.mu.Unlock()
	c := o.stats[path]
	if c == nil {
		c = &count{}
		o.stats[path] = c
	}
	c.requests++
	if ranged {
		c.ranges++
	}
	return c
}

func (o *origin) serveStats(w http.ResponseWriter, r *http.Request) {
	prefix := r.URL.Query().Get("prefix")
	var sum count
	o.mu.Lock()
	for p, c := range o.stats {
		if strings.HasPrefix(p, prefix) {
			sum.requests += c.requests
			sum.ranges += c.ranges
			sum.bytes += c.bytes
		}
	}
	o.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintf(w, "requests=%d range_requests=%d bytes=%d\n", sum.requests, sum.ranges, sum.bytes)
}

// countingWriter counts the body bytes the client was sent.
type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.ResponseWriter.Write(p)
	c.n += int64(n)
	return n, err
}

var errSize = errors.New("not a size")

// parseSize reads "512B", "1KiB", "100MiB", "1GiB" or a bare byte count.
func parseSize(s string) (int64, error) {
	num, mult := s, int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}} {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("%q: %w", s, errSize)
	}
	return n * mult, nil
}
