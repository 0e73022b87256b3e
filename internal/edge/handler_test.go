package edge

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestUnknownHostIs404(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	e := newEdge(t, o.URL, withDomain(func(d *Domain) { d.Host = "www.example.test" }))
	resp, body := e.get("/x", "Host", "other.example.test:8080")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("status = %d, want 404", resp.StatusCode)
	}
	if !strings.Contains(string(body), `"other.example.test"`) || !strings.Contains(string(body), "no domain is configured") {
		t.Errorf("body = %q, want it to name the host and say no domain is configured", body)
	}
	checkEdgeHeaders(t, resp)
	resp, _ = e.get("/x", "Host", "WWW.example.test:9999")
	if resp.StatusCode == http.StatusNotFound {
		t.Errorf("host match must ignore port and case; got 404")
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

func TestForwardedRequest_C14(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Via", "1.1 origin-proxy")
		w.Header().Set("Cache-Control", "no-store")
		fmt.Fprint(w, "ok")
	})
	e := newEdge(t, o.URL+"/media", withDomain(func(d *Domain) { d.OriginHost = "origin.example.test" }))
	resp, _ := e.get("/a%2Fb/c.txt?x=1&y=2", "Connection", "X-Secret, keep-alive", "X-Secret", "s", "Te", "trailers", "X-Request-Id", "abc-123")
	checkEdgeHeaders(t, resp)
	reqs := o.requests()
	if len(reqs) != 1 {
		t.Fatalf("origin got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	for _, c := range []struct{ name, got, want string }{
		{"path", r.URL.EscapedPath(), "/media/a%2Fb/c.txt"},
		{"query", r.URL.RawQuery, "x=1&y=2"},
		{"Host", r.Host, "origin.example.test"},
		{"Via", r.Header.Get("Via"), "1.1 " + testNode},
		{"CDN-Loop", r.Header.Get("Cdn-Loop"), testNode},
		{"X-Request-Id", r.Header.Get("X-Request-Id"), "abc-123"},
		{"X-Secret (named by Connection)", r.Header.Get("X-Secret"), ""},
		{"TE", r.Header.Get("Te"), ""},
	} {
		if c.got != c.want {
			t.Errorf("origin request %s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if got := resp.Header.Values("Via"); len(got) != 2 || got[0] != "1.1 origin-proxy" {
		t.Errorf("response Via = %q, want the origin's element then ours", got)
	}
	if got := xcache(resp); got != "MISS reason=no-store" {
		t.Errorf("X-Cache = %q, want MISS reason=no-store", got)
	}
}

func TestLoopIs508_C06(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {})
	e := newEdge(t, o.URL, withDomain(func(d *Domain) { d.Host = "loop.example.test" }))
	// A domain whose origin is this edge itself: the forwarded request
	// comes back with our Via and CDN-Loop.
	e.h.Domains = append(e.h.Domains, Domain{Host: "self.example.test", Origin: mustURL(t, e.srv.URL), OriginHost: "self.example.test"})
	for _, tc := range []struct {
		name string
		hdr  []string
	}{
		{"via", []string{"Host", "loop.example.test", "Via", "1.1 other, 1.1 " + testNode + " (strata, 3ms)"}},
		{"cdn-loop", []string{"Host", "loop.example.test", "CDN-Loop", "other-cdn, " + testNode + "; v=1"}},
		{"origin routes back", []string{"Host", "self.example.test"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := e.get("/x", tc.hdr...)
			if resp.StatusCode != http.StatusLoopDetected {
				t.Fatalf("status = %d, want 508", resp.StatusCode)
			}
			for _, want := range []string{testNode, "routes back to this edge"} {
				if !strings.Contains(string(body), want) {
					t.Errorf("body %q does not contain %q", body, want)
				}
			}
			if !strings.Contains(string(body), "loop.example.test") && !strings.Contains(string(body), "self.example.test") {
				t.Errorf("body %q does not name the domain", body)
			}
			checkEdgeHeaders(t, resp)
		})
	}
	if n := o.gets.Load(); n != 0 {
		t.Errorf("origin GETs = %d, want 0", n)
	}
}

func TestCacheHitAndHead(t *testing.T) {
	body := randomBytes(5000, 1)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, body, `"v1"`, "max-age=600")
	})
	e := newEdge(t, o.URL)
	resp, got := e.get("/obj")
	if xcache(resp) != "MISS reason=not-cached" || !bytes.Equal(got, body) {
		t.Fatalf("first: X-Cache %q, body equal %v; want MISS reason=not-cached and the body", xcache(resp), bytes.Equal(got, body))
	}
	e.waitFill()
	resp, got = e.get("/obj")
	checkEdgeHeaders(t, resp)
	if xcache(resp) != "HIT" || !bytes.Equal(got, body) || resp.Header.Get("Age") == "" {
		t.Fatalf("second: X-Cache %q, Age %q, body equal %v; want HIT with Age", xcache(resp), resp.Header.Get("Age"), bytes.Equal(got, body))
	}
	resp, got = e.do(http.MethodHead, "/obj")
	if xcache(resp) != "HIT" || len(got) != 0 || resp.ContentLength != int64(len(body)) {
		t.Errorf("HEAD: X-Cache %q, Content-Length %d, body %d bytes; want HIT, %d, 0", xcache(resp), resp.ContentLength, len(got), len(body))
	}
	resp, _ = e.get("/obj", "If-None-Match", `"v1"`)
	if resp.StatusCode != http.StatusNotModified {
		t.Errorf("If-None-Match: status %d, want 304", resp.StatusCode)
	}
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

func TestRangesFromCache(t *testing.T) {
	body := randomBytes(10000, 2)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Md5", "x")
		serveObject(w, r, body, `"v1"`, "max-age=600")
	})
	e := newEdge(t, o.URL)
	e.get("/obj")
	e.waitFill()
	for _, tc := range []struct {
		name, rng, ifRange string
		status             int
		want               []byte
		contentRange       string
	}{
		{"single", "bytes=100-199", "", 206, body[100:200], "bytes 100-199/10000"},
		{"suffix", "bytes=-10", "", 206, body[9990:], "bytes 9990-9999/10000"},
		{"open", "bytes=9000-", "", 206, body[9000:], "bytes 9000-9999/10000"},
		{"if-range match", "bytes=0-9", `"v1"`, 206, body[:10], "bytes 0-9/10000"},
		{"if-range unquoted match (A1)", "bytes=0-9", `v1`, 206, body[:10], "bytes 0-9/10000"},
		{"if-range mismatch", "bytes=0-9", `"v0"`, 200, body, ""},
		{"unsatisfiable", "bytes=20000-", "", 416, nil, "bytes */10000"},
		{"invalid", "bytes=abc", "", 200, body, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := []string{"Range", tc.rng}
			if tc.ifRange != "" {
				hdr = append(hdr, "If-Range", tc.ifRange)
			}
			resp, got := e.get("/obj", hdr...)
			if resp.StatusCode != tc.status {
				t.Fatalf("status = %d, want %d", resp.StatusCode, tc.status)
			}
			if tc.want != nil && !bytes.Equal(got, tc.want) {
				t.Errorf("body: got %d bytes, want %d (equal: false)", len(got), len(tc.want))
			}
			if g := resp.Header.Get("Content-Range"); g != tc.contentRange {
				t.Errorf("Content-Range = %q, want %q", g, tc.contentRange)
			}
			if md5 := resp.Header.Get("Content-Md5"); (resp.StatusCode == 200) != (md5 != "") {
				t.Errorf("status %d with Content-MD5 %q: checksums belong on 200 only (C07)", resp.StatusCode, md5)
			}
		})
	}
	t.Run("multipart", func(t *testing.T) {
		resp, got := e.get("/obj", "Range", "bytes=0-9,5000-5009")
		if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges; boundary=") {
			t.Fatalf("status %d, Content-Type %q; want 206 multipart/byteranges", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !bytes.Contains(got, body[5000:5010]) || !strings.Contains(string(got), "Content-Range: bytes 5000-5009/10000") {
			t.Errorf("multipart body lacks the second part")
		}
	})
	if n := o.gets.Load(); n != 1 {
		t.Errorf("origin GETs = %d, want 1", n)
	}
}

func TestConcurrentColdRequestsOneFetch_C09(t *testing.T) {
	body := randomBytes(300<<10, 3)
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Content-Length", fmt.Sprint(len(body)))
		w.Write(body[:1000])
		w.(http.Flusher).Flush()
		<-release
		w.Write(body[1000:])
	})
	e := newEdge(t, o.URL)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan string, n)
	started := make(chan struct{}, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			started <- struct{}{}
			resp, err := e.srv.Client().Get(e.srv.URL + "/big")
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			var buf bytes.Buffer
			if _, err := buf.ReadFrom(resp.Body); err != nil || !bytes.Equal(buf.Bytes(), body) {
				errs <- fmt.Sprintf("body: %d bytes, err %v", buf.Len(), err)
			}
		}()
	}
	for i := 0; i < n; i++ {
		<-started
	}
	close(release)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := o.gets.Load(); got != 1 {
		t.Errorf("origin fetches = %d, want exactly 1 for %d concurrent cold requests", got, n)
	}
}
