package edge

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/strata-cdn/strata/internal/transform"
)

// page is an HTML page with what minification removes: comments and
// indentation.
const page = `<!DOCTYPE html>
<html>
  <head>
    <title>Strata</title>
    <!-- build 1234: a comment minification removes -->
    <style>
      body { color : #ff0000 ; }
    </style>
  </head>
  <body>
    <p class="lead">   Hello,    edge.   </p>
  </body>
</html>
`

// gzipped returns b gzip-encoded.
func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := transform.Encode(transform.Gzip, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// decoded returns a response body decoded from its Content-Encoding.
func decoded(t *testing.T, resp *http.Response, body []byte) string {
	t.Helper()
	c, ok := transform.ParseCoding(resp.Header.Get("Content-Encoding"))
	if !ok {
		t.Fatalf("Content-Encoding %q", resp.Header.Get("Content-Encoding"))
	}
	out, err := transform.Decode(c, body, 64<<20)
	if err != nil {
		t.Fatalf("decoding %s body: %v", c, err)
	}
	return string(out)
}

// viaGzipOrigin answers like nginx with gzip_proxied: it gzips the page
// only for a request that came through a proxy (Via) and accepts gzip.
func viaGzipOrigin(t *testing.T, body, contentType, cc string) *origin {
	zbody := gzipped(t, []byte(body))
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Header().Set("Etag", `"v1"`)
		w.Header().Set("Content-Md5", "not-the-md5-of-what-the-client-gets")
		if cc != "" {
			w.Header().Set("Cache-Control", cc)
		}
		w.Header().Add("Vary", "Accept-Encoding")
		if r.Header.Get("Via") != "" && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(len(zbody)))
			_, _ = w.Write(zbody)
			return
		}
		_, _ = io.WriteString(w, body)
	})
}

func withTransform(tr Transform) edgeOption {
	return withDomain(func(d *Domain) { d.Transform = &tr })
}

// TestTransformDecodeMinifyEncode_C03 is case C03: the origin gzips because
// it sees Via, minification is on, and every client gets the page minified
// in the coding it accepts, with Vary: Accept-Encoding, from one origin
// fetch; the variants are cached.
func TestTransformDecodeMinifyEncode_C03(t *testing.T) {
	o := viaGzipOrigin(t, page, "text/html; charset=utf-8", "max-age=300")
	e := newEdge(t, o.URL, withTransform(Transform{
		Codings: []transform.Coding{transform.Brotli, transform.Gzip}, Minify: []transform.Kind{transform.HTML, transform.CSS},
		OriginAcceptEncoding: "gzip", MinSize: 16,
	}))
	var minified string
	for i, tc := range []struct {
		accept, wantCoding, wantSteps string
	}{
		{"gzip, deflate, br", "br", "decode=gzip, minify=html, encode=br"},
		{"gzip", "gzip", "decode=gzip, minify=html, encode=gzip"},
		{"identity", "", "decode=gzip, minify=html"},
		{"br;q=0, gzip;q=0.5", "gzip", "decode=gzip, minify=html, encode=gzip"},
		{"gzip, deflate, br", "br", "decode=gzip, minify=html, encode=br"}, // again: from the cache
	} {
		resp, body := e.get("/index.html", "Accept-Encoding", tc.accept)
		if i == 0 {
			e.waitFill() // the rest are served from the stored response
		}
		checkEdgeHeaders(t, resp)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%d (%s): status %d", i, tc.accept, resp.StatusCode)
		}
		if got := resp.Header.Get("Content-Encoding"); got != tc.wantCoding {
			t.Errorf("%d (%s): Content-Encoding %q, want %q", i, tc.accept, got, tc.wantCoding)
		}
		if got := resp.Header.Get(TransformHeader); got != tc.wantSteps {
			t.Errorf("%d (%s): %s %q, want %q", i, tc.accept, TransformHeader, got, tc.wantSteps)
		}
		if !headerHasTokenFold(resp.Header, "Vary", "Accept-Encoding") {
			t.Errorf("%d (%s): Vary %q lacks Accept-Encoding", i, tc.accept, resp.Header.Values("Vary"))
		}
		if got := resp.Header.Values("Vary"); len(got) != 1 {
			t.Errorf("%d (%s): Vary %q: want one field, no duplicate", i, tc.accept, got)
		}
		if resp.Header.Get("Content-Md5") != "" {
			t.Errorf("%d (%s): the origin's Content-MD5 is passed on with a body it does not describe", i, tc.accept)
		}
		if resp.ContentLength != int64(len(body)) {
			t.Errorf("%d (%s): Content-Length %d, body %d bytes", i, tc.accept, resp.ContentLength, len(body))
		}
		text := decoded(t, resp, body)
		if strings.Contains(text, "a comment minification removes") || strings.Contains(text, "\n    ") || !strings.Contains(text, "Hello, edge.") {
			t.Errorf("%d (%s): body not minified: %q", i, tc.accept, text)
		}
		if !strings.Contains(text, "body{color:red}") {
			t.Errorf("%d (%s): inline CSS not minified: %q", i, tc.accept, text)
		}
		if minified == "" {
			minified = text
		} else if text != minified {
			t.Errorf("%d (%s): another minified text %q, want %q", i, tc.accept, text, minified)
		}
		wantTag := `"v1-` + strings.NewReplacer("=", "", ", ", "-").Replace(tc.wantSteps) + `"`
		if got := resp.Header.Get("Etag"); got != wantTag {
			t.Errorf("%d (%s): ETag %q, want %q", i, tc.accept, got, wantTag)
		}
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1: one stored response serves every coding", n)
	}
	if req := o.requests()[0]; req.Header.Get("Accept-Encoding") != "gzip" {
		t.Errorf("origin request Accept-Encoding %q, want gzip", req.Header.Get("Accept-Encoding"))
	}
	// The last request was served from the cached variant.
	resp, _ := e.get("/index.html", "Accept-Encoding", "br")
	if xc := xcache(resp); xc != "HIT" {
		t.Errorf("X-Cache %q, want HIT", xc)
	}
	// A client revalidating its variant gets 304.
	resp, body := e.get("/index.html", "Accept-Encoding", "br", "If-None-Match", resp.Header.Get("Etag"))
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("If-None-Match of the br variant: %d with %d bytes, want 304", resp.StatusCode, len(body))
	}
}

// TestTransformNotStored_C03: a page the edge may not store (private) is
// transformed all the same, on the pass-through path.
func TestTransformNotStored_C03(t *testing.T) {
	o := viaGzipOrigin(t, page, "text/html", "private")
	e := newEdge(t, o.URL, withTransform(Transform{Codings: []transform.Coding{transform.Gzip}, Minify: []transform.Kind{transform.HTML}, OriginAcceptEncoding: "gzip", MinSize: 16}))
	for i := 0; i < 2; i++ { // the first is a fill's leader, the second a pass-through
		resp, body := e.get("/p", "Accept-Encoding", "gzip")
		if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get(TransformHeader) != "decode=gzip, minify=html, encode=gzip" {
			t.Fatalf("%d: Content-Encoding %q, %s %q", i, resp.Header.Get("Content-Encoding"), TransformHeader, resp.Header.Get(TransformHeader))
		}
		if text := decoded(t, resp, body); strings.Contains(text, "a comment minification removes") {
			t.Errorf("%d: not minified: %q", i, text)
		}
	}
}

// TestTransformCompression_C03 checks compression alone: by type and size,
// honouring Accept-Encoding, never compressing twice, leaving alone what
// it must not touch.
func TestTransformCompression_C03(t *testing.T) {
	js := strings.Repeat("function add(a, b) { return a + b; }\n", 100)
	zjs := gzipped(t, []byte(js))
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "max-age=60")
		switch r.URL.Path {
		case "/app.js":
			h.Set("Content-Type", "application/javascript")
			_, _ = io.WriteString(w, js)
		case "/tiny.js":
			h.Set("Content-Type", "application/javascript")
			_, _ = io.WriteString(w, "a()")
		case "/pre.js": // the origin compressed it already
			h.Set("Content-Type", "application/javascript")
			h.Set("Content-Encoding", "gzip")
			_, _ = w.Write(zjs)
		case "/odd.js": // a coding the edge cannot undo
			h.Set("Content-Type", "application/javascript")
			h.Set("Content-Encoding", "zstd")
			_, _ = io.WriteString(w, "zstd bytes")
		case "/keep.js":
			h.Set("Content-Type", "application/javascript")
			h.Set("Cache-Control", "max-age=60, no-transform")
			_, _ = io.WriteString(w, js)
		case "/photo.png":
			h.Set("Content-Type", "image/png")
			_, _ = io.WriteString(w, js)
		}
	})
	e := newEdge(t, o.URL, withTransform(Transform{Codings: []transform.Coding{transform.Brotli, transform.Gzip}}))
	tests := []struct {
		path, accept string
		wantCoding   string
		wantVary     bool
		wantBody     []byte // exact bytes sent, when they must be the origin's
	}{
		{"/app.js", "gzip, br", "br", true, nil},
		{"/app.js", "gzip", "gzip", true, nil},
		{"/app.js", "identity", "", true, []byte(js)},
		{"/app.js", "br;q=0, gzip;q=0", "", true, []byte(js)},
		{"/tiny.js", "gzip, br", "", true, []byte("a()")},
		{"/pre.js", "gzip", "gzip", true, zjs}, // never compressed twice
		{"/pre.js", "identity", "", true, []byte(js)},
		{"/pre.js", "br", "br", true, nil},
		{"/odd.js", "gzip, br", "zstd", false, []byte("zstd bytes")},
		{"/keep.js", "gzip, br", "", false, []byte(js)},
		{"/photo.png", "gzip, br", "", false, []byte(js)},
	}
	for _, tt := range tests {
		for round := 0; round < 2; round++ { // a miss, then a hit
			resp, body := e.get(tt.path, "Accept-Encoding", tt.accept)
			if got := resp.Header.Get("Content-Encoding"); got != tt.wantCoding {
				t.Errorf("%s (%s) round %d: Content-Encoding %q, want %q", tt.path, tt.accept, round, got, tt.wantCoding)
				continue
			}
			if got := headerHasTokenFold(resp.Header, "Vary", "Accept-Encoding"); got != tt.wantVary {
				t.Errorf("%s (%s) round %d: Vary %q, want Accept-Encoding: %v", tt.path, tt.accept, round, resp.Header.Values("Vary"), tt.wantVary)
			}
			if tt.wantBody != nil && !bytes.Equal(body, tt.wantBody) {
				t.Errorf("%s (%s) round %d: body differs from what the origin sent", tt.path, tt.accept, round)
			}
			if tt.wantCoding == "br" || tt.wantCoding == "gzip" {
				if got := decoded(t, resp, body); got != js {
					t.Errorf("%s (%s) round %d: decoded body differs from the origin's", tt.path, tt.accept, round)
				}
			}
		}
	}
}

// TestTransformLargeBodyStreamsDecoded_C03: a gzip body over MaxSize is not
// buffered; a client that does not accept gzip gets it decoded as a
// stream, one that does gets the origin's bytes.
func TestTransformLargeBodyStreamsDecoded_C03(t *testing.T) {
	plain := bytes.Repeat([]byte("line of a large log file\n"), 40000) // 1 MB
	z := gzipped(t, plain)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Cache-Control", "max-age=60")
		_, _ = w.Write(z)
	})
	e := newEdge(t, o.URL, withTransform(Transform{Codings: []transform.Coding{transform.Gzip}, MaxSize: 4096}))
	resp, body := e.get("/big.log", "Accept-Encoding", "identity")
	if resp.Header.Get("Content-Encoding") != "" || !bytes.Equal(body, plain) {
		t.Errorf("identity client: Content-Encoding %q, %d bytes; want the decoded %d bytes", resp.Header.Get("Content-Encoding"), len(body), len(plain))
	}
	resp, body = e.get("/big.log", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || !bytes.Equal(body, z) {
		t.Errorf("gzip client: Content-Encoding %q, %d bytes; want the origin's %d gzip bytes", resp.Header.Get("Content-Encoding"), len(body), len(z))
	}
}

// TestTransformRangeFetchesAskIdentity_C03: slice fetches ask the origin for
// the identity coding, so an origin that gzips (and then ignores Range)
// still serves slices.
func TestTransformRangeFetchesAskIdentity_C03(t *testing.T) {
	body := randomBytes(3<<20, 7)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			t.Errorf("%s %s with Range %q asked for gzip", r.Method, r.URL.Path, r.Header.Get("Range"))
		}
		w.Header().Set("Content-Type", "text/plain")
		serveObject(w, r, body, `"big"`, "max-age=60")
	})
	e := newEdge(t, o.URL, withTransform(Transform{Codings: []transform.Coding{transform.Gzip}, OriginAcceptEncoding: "gzip"}),
		withDomain(func(d *Domain) { d.Range = RangeOn }))
	resp, got := e.get("/big.txt", "Range", "bytes=1048570-1048590", "Accept-Encoding", "identity")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, body[1048570:1048591]) {
		t.Errorf("range: status %d, %d bytes", resp.StatusCode, len(got))
	}
}

func TestSuffixETag(t *testing.T) {
	for in, want := range map[string]string{`"a"`: `"a-x"`, `W/"a"`: `W/"a-x"`, `""`: `"-x"`} {
		if got := suffixETag(in, "x"); got != want {
			t.Errorf("suffixETag(%s) = %s, want %s", in, got, want)
		}
	}
}

// TestTransformVariantFollowsRevalidation_C03: a cached variant is served
// with the stored response's current header, as each revalidation
// refreshes it, not with the header it had when the variant was made.
func TestTransformVariantFollowsRevalidation_C03(t *testing.T) {
	js := strings.Repeat("function add(a, b) { return a + b; }\n", 100)
	var gen atomic.Int64
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Origin-Gen", strconv.FormatInt(gen.Add(1), 10))
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Etag", `"js1"`)
		if r.Header.Get("If-None-Match") == `"js1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/javascript")
		_, _ = io.WriteString(w, js)
	})
	e := newEdge(t, o.URL, withTransform(Transform{Codings: []transform.Coding{transform.Gzip}}))
	for i := 1; i <= 4; i++ {
		resp, body := e.get("/app.js", "Accept-Encoding", "gzip")
		if i == 1 {
			e.waitFill()
		}
		if got, want := resp.Header.Get("X-Origin-Gen"), strconv.Itoa(i); got != want {
			t.Errorf("request %d (%s): X-Origin-Gen %q, want %q: the variant's header is not the stored response's", i, xcache(resp), got, want)
		}
		if resp.Header.Get("Content-Encoding") != "gzip" || decoded(t, resp, body) != js {
			t.Errorf("request %d: Content-Encoding %q or body wrong", i, resp.Header.Get("Content-Encoding"))
		}
	}
}
