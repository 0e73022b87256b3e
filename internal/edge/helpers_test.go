package edge

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/cachestore"
)

// testNode is the NodeID of the edges under test.
const testNode = "edge-test-1"

// origin is a test origin counting the requests it receives.
type origin struct {
	*httptest.Server
	mu      sync.Mutex
	reqs    []*http.Request // headers of every request received
	gets    atomic.Int64
	heads   atomic.Int64
	arrived chan string // receives "METHOD path range" for every request, if set
}

func newOrigin(t *testing.T, h http.HandlerFunc) *origin {
	t.Helper()
	o := &origin{}
	o.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o.mu.Lock()
		o.reqs = append(o.reqs, r.Clone(r.Context()))
		o.mu.Unlock()
		switch r.Method {
		case http.MethodGet:
			o.gets.Add(1)
		case http.MethodHead:
			o.heads.Add(1)
		}
		if o.arrived != nil {
			o.arrived <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Range")
		}
		h(w, r)
	}))
	t.Cleanup(o.Close)
	return o
}

func (o *origin) requests() []*http.Request {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]*http.Request(nil), o.reqs...)
}

// edge is a Handler served on 127.0.0.1 over a real store.
type edge struct {
	t     *testing.T
	h     *Handler
	srv   *httptest.Server
	store *cachestore.Store
	dir   string
	fills chan string // receives the key of every finished fill
}

type edgeOption func(*Handler)

func withDomain(mut func(*Domain)) edgeOption {
	return func(h *Handler) { mut(&h.Domains[0]) }
}

// newEdge starts an edge with one domain "*" in front of originURL.
func newEdge(t *testing.T, originURL string, opts ...edgeOption) *edge {
	t.Helper()
	dir := t.TempDir()
	return newEdgeAt(t, dir, originURL, opts...)
}

func newEdgeAt(t *testing.T, dir, originURL string, opts ...edgeOption) *edge {
	t.Helper()
	store, err := cachestore.Open(cachestore.Options{Dir: dir, MemoryBytes: 64 << 20, DiskBytes: 256 << 20})
	if err != nil {
		t.Fatalf("cachestore.Open: %v", err)
	}
	u, err := url.Parse(originURL)
	if err != nil {
		t.Fatal(err)
	}
	e := &edge{t: t, store: store, dir: dir, fills: make(chan string, 1024)}
	e.h = &Handler{
		NodeID:     testNode,
		Domains:    []Domain{{Host: "*", Origin: u}},
		Cache:      store,
		TempDir:    t.TempDir(),
		onFillDone: func(key string) { e.fills <- key },
	}
	for _, o := range opts {
		o(e.h)
	}
	e.srv = httptest.NewServer(e.h)
	t.Cleanup(e.close)
	return e
}

var closed sync.Map

func (e *edge) close() {
	if _, done := closed.LoadOrStore(e, true); done {
		return
	}
	e.srv.Close()
	e.h.Close()
	e.store.Close()
}

// get sends a request to the edge and returns the response with its body
// read. Header pairs are name, value, ...
func (e *edge) do(method, path string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if strings.EqualFold(hdr[i], "Host") {
			req.Host = hdr[i+1]
			continue
		}
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		e.t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp, body
}

func (e *edge) get(path string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	return e.do(http.MethodGet, path, hdr...)
}

// waitFill waits for the next fill of the edge to end.
func (e *edge) waitFill() string {
	e.t.Helper()
	select {
	case k := <-e.fills:
		return k
	case <-time.After(20 * time.Second):
		e.t.Fatal("no fill finished within 20s")
		return ""
	}
}

// randomBytes returns n deterministic pseudo-random bytes.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

var viaRE = regexp.MustCompile(`^1\.1 ` + testNode + ` \(strata, \d+ms\)$`)

// checkEdgeHeaders checks the fields every edge response carries.
func checkEdgeHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	via := resp.Header.Values("Via")
	if len(via) == 0 || !viaRE.MatchString(via[len(via)-1]) {
		t.Errorf("Via = %q, want last element like 1.1 %s (strata, Nms)", via, testNode)
	}
	if resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("no X-Request-Id")
	}
	if resp.Header.Get("X-Cache") == "" {
		t.Errorf("no X-Cache")
	}
	if et := resp.Header.Get("Etag"); et != "" && !strings.HasSuffix(et, `"`) {
		t.Errorf("ETag %q is not quoted", et)
	}
}

func xcache(resp *http.Response) string { return resp.Header.Get("X-Cache") }

// serveObject answers like a store: ranges, conditionals, with the given
// validators, via http.ServeContent.
func serveObject(w http.ResponseWriter, r *http.Request, body []byte, etag, cc string) {
	if etag != "" {
		w.Header().Set("Etag", etag)
	}
	if cc != "" {
		w.Header().Set("Cache-Control", cc)
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// time0 is the zero time: http.ServeContent then sends no Last-Modified.
var time0 time.Time
