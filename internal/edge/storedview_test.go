package edge

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/strata-cdn/strata/internal/cachestore"
)

// storedTestHeader is a stored response header with what the edge edits
// on the way out: a bare ETag (A1), Surrogate-Control, the trace field, a
// Via of its own, checksum fields, a stored Age and Content-Length.
func storedTestHeader(date time.Time) http.Header {
	return http.Header{
		"Etag":                 {`abc`},
		"Cache-Control":        {"public, max-age=600"},
		"Surrogate-Control":    {"max-age=60"},
		TraceHeader:            {"parent: origin=o:80 200 1ms"},
		"Via":                  {"1.1 upstream", "1.0 other"},
		"Content-Md5":          {"x"},
		"X-Amz-Checksum-Crc32": {"y"},
		"Content-Type":         {"text/plain"},
		"Content-Length":       {"999"},
		"Age":                  {"7"},
		"Date":                 {date.Format(http.TimeFormat)},
		"Last-Modified":        {date.Add(-time.Hour).Format(http.TimeFormat)},
		"Set-Cookie2":          {"a", "b"},
	}
}

// A hit served from the stored view (storedview.go) answers exactly as the
// general path does from the stored header: same status, header and body,
// for whole, conditional, HEAD and range requests, with header rules and
// CORS editing the response.
func TestStoredViewMatchesGeneralPath(t *testing.T) {
	now := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	store, err := cachestore.Open(cachestore.Options{MemoryBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	body := "0123456789abcdefghij"
	w, err := store.NewWriter("k", cachestore.Meta{Status: http.StatusOK, Header: storedTestHeader(now.Add(-time.Minute))})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(body)); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	h := &Handler{
		NodeID: testNode, Cache: store, Now: func() time.Time { return now },
		Domains: []Domain{{Host: "*", Origin: &url.URL{Scheme: "http", Host: "127.0.0.1:9"},
			ResponseHeaders: HeaderRules{Add: map[string]string{"Via": "1.1 rule", "Cache-Control": "x-added"}},
			CORS:            &CORS{AllowOrigins: []string{"*"}},
		}},
	}
	h.init()
	t.Cleanup(func() { h.Close() })

	lm := now.Add(-time.Minute - time.Hour).Format(http.TimeFormat)
	tests := []struct {
		name   string
		method string
		hdr    []string
	}{
		{"get", http.MethodGet, nil},
		{"head", http.MethodHead, nil},
		{"origin", http.MethodGet, []string{"Origin", "https://a.test"}},
		{"if-none-match", http.MethodGet, []string{"If-None-Match", `"abc"`}},
		{"if-modified-since", http.MethodGet, []string{"If-Modified-Since", lm}},
		{"if-match fails", http.MethodGet, []string{"If-Match", `"zzz"`}},
		{"range", http.MethodGet, []string{"Range", "bytes=2-5"}},
		{"range suffix", http.MethodGet, []string{"Range", "bytes=-3"}},
		{"multipart", http.MethodGet, []string{"Range", "bytes=0-1,5-6"}},
		{"unsatisfiable", http.MethodGet, []string{"Range", "bytes=100-"}},
		{"if-range etag", http.MethodGet, []string{"Range", "bytes=1-2", "If-Range", `"abc"`}},
		{"if-range date", http.MethodGet, []string{"Range", "bytes=1-2", "If-Range", lm}},
		{"if-range other", http.MethodGet, []string{"Range", "bytes=1-2", "If-Range", `"nope"`}},
	}
	// serveOnce serves the entry through serveStored (with the view) or
	// serve (without), as the request asks.
	serveOnce := func(t *testing.T, method string, hdr []string, view bool) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest(method, "http://www.example.test/x", nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		rec := httptest.NewRecorder()
		x := &exchange{h: h, w: rec, r: r, start: time.Now(), id: "req-1"}
		x.dom = h.domainFor(r.Host)
		e, err := store.GetShared("k")
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		if view {
			if !x.serveStored(e, "HIT", "42") {
				t.Fatal("serveStored reported the entry unusable")
			}
		} else {
			rep := representation{status: e.Meta.Status, header: e.Meta.Header, size: e.Size, body: e, xcache: "HIT", age: "42"}
			if err := x.serve(rep); err != nil {
				t.Fatal(err)
			}
		}
		return rec
	}
	via := regexp.MustCompile(`^1\.1 ` + testNode + ` \(strata, \d+ms\)$`)
	normal := func(t *testing.T, rec *httptest.ResponseRecorder) (int, http.Header, string) {
		t.Helper()
		hdr := rec.Result().Header.Clone()
		v := hdr["Via"]
		if len(v) == 0 || !via.MatchString(v[len(v)-1]) {
			t.Fatalf("Via %q does not end with this node's element", v)
		}
		v[len(v)-1] = "1.1 " + testNode
		body := rec.Body.String()
		if ct := hdr.Get("Content-Type"); strings.HasPrefix(ct, "multipart/byteranges; boundary=") {
			// Each response draws its own boundary.
			b := strings.TrimPrefix(ct, "multipart/byteranges; boundary=")
			body = strings.ReplaceAll(body, b, "BOUNDARY")
			hdr.Set("Content-Type", "multipart/byteranges; boundary=BOUNDARY")
		}
		return rec.Code, hdr, body
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for round := 0; round < 2; round++ { // the second hit sees no edit of the first
				gs, gh, gb := normal(t, serveOnce(t, tt.method, tt.hdr, true))
				ws, wh, wb := normal(t, serveOnce(t, tt.method, tt.hdr, false))
				if gs != ws || gb != wb {
					t.Errorf("round %d: view status %d body %q, general path %d %q", round, gs, gb, ws, wb)
				}
				if diff := cmp.Diff(wh, gh); diff != "" {
					t.Errorf("round %d: header (-general +view):\n%s", round, diff)
				}
			}
		})
	}
	// The stored header itself is untouched by the hits.
	e, err := store.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if diff := cmp.Diff(storedTestHeader(now.Add(-time.Minute)), e.Meta.Header); diff != "" {
		t.Errorf("stored header changed by serving (-want +got):\n%s", diff)
	}
}

// A whole hit from the view sends the stored fields as the edge always
// has: ETag quoted, Surrogate-Control and the trace field dropped,
// Content-Length the stored size, Age the current one, Via appended.
func TestStoredViewHead(t *testing.T) {
	date := time.Date(2026, 11, 22, 11, 59, 0, 0, time.UTC)
	store, err := cachestore.Open(cachestore.Options{MemoryBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	w, err := store.NewWriter("k", cachestore.Meta{Status: http.StatusOK, Header: storedTestHeader(date)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	e, err := store.GetShared("k")
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	v := storedViewOf(e)
	want := http.Header{
		"Etag":                 {`"abc"`},
		"Cache-Control":        {"public, max-age=600"},
		"Via":                  {"1.1 upstream", "1.0 other"},
		"Content-Md5":          {"x"},
		"X-Amz-Checksum-Crc32": {"y"},
		"Content-Type":         {"text/plain"},
		"Content-Length":       {"5"},
		"Age":                  {"7"},
		"Date":                 {date.Format(http.TimeFormat)},
		"Last-Modified":        {date.Add(-time.Hour).Format(http.TimeFormat)},
		"Set-Cookie2":          {"a", "b"},
	}
	if diff := cmp.Diff(want, v.head); diff != "" {
		t.Errorf("view head (-want +got):\n%s", diff)
	}
	if got := storedViewOf(e); got != v {
		t.Errorf("second storedViewOf made a new view; want the one kept as the entry's memo")
	}
	if !v.fields.strongModified || v.fields.etag != "abc" {
		t.Errorf("fields %+v: want the stored ETag and a strong Last-Modified", v.fields)
	}
}

// Concurrent hits on one stored response, each edited by header rules that
// append to stored fields, each see the stored values plus their own
// edits only: the view's value slices are shared, never appended to in
// place (run with -race to see it).
func TestConcurrentHitsShareNoEdits(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Via", "1.1 upstream")
		w.Header().Add("Vary", "Accept-Encoding")
		serveObject(w, r, []byte("shared"), `"s1"`, "max-age=600")
	})
	e := newEdge(t, o.URL, withDomain(func(d *Domain) {
		d.ResponseHeaders = HeaderRules{Add: map[string]string{"Via": "1.1 rule", "Cache-Control": "x-added"}}
		d.CORS = &CORS{AllowOrigins: []string{"*"}}
	}))
	e.get("/s")
	e.waitFill()
	const workers, hits = 4, 25
	errs := make(chan string, workers*hits)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 0; j < hits; j++ {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/s", nil)
				req.Header.Set("Origin", "https://a.test")
				resp, err := e.srv.Client().Do(req)
				if err != nil {
					errs <- err.Error()
					return
				}
				resp.Body.Close()
				via := resp.Header.Values("Via")
				got := []string{xcache(resp), strings.Join(resp.Header.Values("Cache-Control"), "|"),
					strings.Join(via[:len(via)-1], "|"), strings.Join(resp.Header.Values("Vary"), "|")}
				// A rule's Via is replaced by the stored Via and this node's.
				want := []string{"HIT", "max-age=600|x-added", "1.1 upstream", "Accept-Encoding|Origin"}
				if diff := cmp.Diff(want, got); diff != "" {
					errs <- diff
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("hit (-want +got): %s", err)
	}
}
