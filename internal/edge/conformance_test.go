package edge

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Scenarios of the http-tests cache suite (conformance/run.sh) that the
// edge once failed, over real sockets. Each names the suite's test ids.

// TestNotModifiedWithoutValidatorsValidates: cc-resp-no-cache-revalidate,
// conditional-etag-strong-generate, 304-etag-update-response-ETag. A 304 to
// the edge's conditional request for one stored response validates it,
// whether it carries no validator or another ETag (RFC 9111 §4.3.3); the
// stored ETag is kept, the other fields are updated, and the origin is
// asked once, never again without conditions.
func TestNotModifiedWithoutValidatorsValidates(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nmETag  string // the 304's ETag, "" for none
		nmValue string
	}{
		{"no validator", "", "B"},
		{"other etag", `"ghijkl"`, "B"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get("If-None-Match") != "" {
					if r.Header.Get("If-None-Match") != `"abcdef"` {
						w.WriteHeader(http.StatusTeapot) // anything but 304: the test fails below
						return
					}
					if tc.nmETag != "" {
						w.Header().Set("Etag", tc.nmETag)
					}
					w.Header().Set("Test-Header", tc.nmValue)
					w.WriteHeader(http.StatusNotModified)
					return
				}
				w.Header().Set("Cache-Control", "no-cache")
				w.Header().Set("Etag", `"abcdef"`)
				w.Header().Set("Test-Header", "A")
				fmt.Fprint(w, "body-1")
			})
			e := newEdge(t, o.URL)
			e.get("/v")
			e.waitFill()
			resp, body := e.get("/v")
			if xcache(resp) != "REVALIDATED" || string(body) != "body-1" {
				t.Fatalf("revalidation: status %d X-Cache %q body %q, want REVALIDATED body-1", resp.StatusCode, xcache(resp), body)
			}
			if got := resp.Header.Get("Etag"); got != `"abcdef"` {
				t.Errorf("ETag = %q, want the stored \"abcdef\" kept", got)
			}
			if got := resp.Header.Get("Test-Header"); got != tc.nmValue {
				t.Errorf("Test-Header = %q, want %q from the 304", got, tc.nmValue)
			}
			e.waitFill()
			if n := len(o.requests()); n != 2 {
				t.Errorf("origin requests = %d, want 2 (no unconditional retry after the 304)", n)
			}
		})
	}
}

// TestInvalidAgeMakesStale: age-parse-nonnumeric, -negative, -float,
// -suffix, -suffix-twoline, -prefix-twoline, -dup-0, -dup-0-twoline,
// -parameter. An Age that is not exactly one delta-seconds makes the
// stored response stale (RFC 9111 §5.1, §4.2.1): the next request goes to
// the origin.
func TestInvalidAgeMakesStale(t *testing.T) {
	for _, ages := range [][]string{{"abc"}, {"-7200"}, {"7200.0"}, {"7200,0"}, {"7200", "0"}, {"0", "7200"}, {"0, 0"}, {"0", "0"}, {"7200;foo=bar"}} {
		t.Run(strings.Join(ages, "|"), func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "max-age=3600")
				w.Header()["Age"] = ages
				fmt.Fprint(w, "x")
			})
			e := newEdge(t, o.URL)
			e.get("/a")
			e.waitFill()
			resp, _ := e.get("/a")
			if xcache(resp) == "HIT" || o.gets.Load() != 2 {
				t.Errorf("Age %q: second request X-Cache %q, origin GETs %d; want it sent to the origin", ages, xcache(resp), o.gets.Load())
			}
		})
	}
	// A valid Age below max-age still allows a hit.
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Age", "10")
		fmt.Fprint(w, "x")
	})
	e := newEdge(t, o.URL)
	e.get("/a")
	e.waitFill()
	if resp, _ := e.get("/a"); xcache(resp) != "HIT" {
		t.Errorf("Age 10: X-Cache %q, want HIT", xcache(resp))
	}
}

// TestStoredFieldsKept: headers-store-Content-Range and
// 304-etag-update-response-Content-Range. A 200 that carries Content-Range
// keeps it, on the miss and on the hit (RFC 9111 §3.1).
func TestStoredFieldsKept(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Content-Range", "ANANANANA")
		fmt.Fprint(w, "x")
	})
	e := newEdge(t, o.URL)
	for i, want := range []string{"MISS reason=not-cached", "HIT"} {
		resp, _ := e.get("/cr")
		if i == 0 {
			e.waitFill()
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Range") != "ANANANANA" || !strings.HasPrefix(xcache(resp), strings.Fields(want)[0]) {
			t.Errorf("request %d: status %d Content-Range %q X-Cache %q; want 200, the origin's Content-Range, %s", i+1, resp.StatusCode, resp.Header.Get("Content-Range"), xcache(resp), want)
		}
	}
}

// TestSetCookieNotShared: headers-store-Set-Cookie (a deliberate
// deviation, docs/conformance.md). A response with Set-Cookie is not
// stored, so no client gets another's cookie; under a cache rule it is
// stored without the cookie.
func TestSetCookieNotShared(t *testing.T) {
	var mu sync.Mutex
	n := 0
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		v := n
		mu.Unlock()
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Set-Cookie", fmt.Sprintf("sid=%d", v))
		fmt.Fprint(w, "page")
	})
	e := newEdge(t, o.URL)
	for i := 1; i <= 2; i++ {
		resp, _ := e.get("/p")
		if got, want := resp.Header.Get("Set-Cookie"), fmt.Sprintf("sid=%d", i); got != want || xcache(resp) != "MISS reason=set-cookie" {
			t.Errorf("request %d: Set-Cookie %q X-Cache %q, want %q and MISS reason=set-cookie", i, got, xcache(resp), want)
		}
	}

	ruled := newEdge(t, o.URL, withDomain(func(d *Domain) {
		d.Rules = []CacheRule{{PathPrefix: "/static/", TTL: time.Hour}}
	}))
	first, _ := ruled.get("/static/p")
	ruled.waitFill()
	resp, body := ruled.get("/static/p")
	if first.Header.Get("Set-Cookie") == "" || xcache(resp) != "HIT" || resp.Header.Get("Set-Cookie") != "" || string(body) != "page" {
		t.Errorf("under a cache rule: first Set-Cookie %q; second X-Cache %q Set-Cookie %q body %q; want the cookie for the first client only, then a HIT without it",
			first.Header.Get("Set-Cookie"), xcache(resp), resp.Header.Get("Set-Cookie"), body)
	}
}

// TestSurrogateControl: surrogate-no-store-cc-fresh,
// surrogate-fresh-cc-nostore, surrogate-max-age-*. The edge advertises its
// device token, follows Surrogate-Control meant for it rather than
// Cache-Control, and never passes the field on.
func TestSurrogateControl(t *testing.T) {
	for _, tc := range []struct {
		name, cc, sc string
		cached       bool
	}{
		{"sc no-store beats cc max-age", "max-age=10000", "no-store", false},
		{"sc max-age beats cc no-store", "no-store", "max-age=10000;" + testNode, true},
		{"sc max-age for the product", "private", "max-age=10000;strata", true},
		{"sc max-age alone", "", "max-age=3600", true},
		{"sc for another node", "no-store", "max-age=3600;other-node", false},
		{"short sc beats long cc", "max-age=3600", "max-age=0", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var capability string
			var mu sync.Mutex
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				capability = r.Header.Get("Surrogate-Capability")
				mu.Unlock()
				if tc.cc != "" {
					w.Header().Set("Cache-Control", tc.cc)
				}
				w.Header().Set("Surrogate-Control", tc.sc)
				fmt.Fprint(w, "x")
			})
			e := newEdge(t, o.URL)
			resp, _ := e.get("/sc")
			if resp.Header.Get("Surrogate-Control") != "" {
				t.Errorf("Surrogate-Control %q passed on to the client", resp.Header.Get("Surrogate-Control"))
			}
			mu.Lock()
			if want := testNode + `="Surrogate/1.0"`; capability != want {
				t.Errorf("Surrogate-Capability = %q, want %q", capability, want)
			}
			mu.Unlock()
			e.waitFill()
			resp, _ = e.get("/sc")
			if cached := xcache(resp) == "HIT"; cached != tc.cached {
				t.Errorf("second request X-Cache %q, want cached %v", xcache(resp), tc.cached)
			}
			if resp.Header.Get("Surrogate-Control") != "" {
				t.Errorf("Surrogate-Control %q passed on from the cache", resp.Header.Get("Surrogate-Control"))
			}
		})
	}
}

// TestStaleOnArrivalNotShared_C09: status-203-stale, status-404-stale,
// status-599-stale, cc-resp-no-cache-revalidate. A request that arrives
// after the header of a response it may not reuse as it is (stale on
// arrival, or no-cache: RFC 9111 §4.2, §5.2.2.4) is not answered by it,
// even while its fill is still being written to the cache: it waits for the
// response to be stored and validates it (a conditional request when there
// is a validator). One that arrives after a fresh response's header shares
// the fetch.
func TestStaleOnArrivalNotShared_C09(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		cc     string // "" for an Expires in the past
		etag   string
		second string // the second response's X-N and X-Cache
	}{
		{"203 expired", 203, "", "", "2 MISS reason=not-cached"},
		{"404 expired", 404, "", "", "2 MISS reason=not-cached"},
		{"200 no-cache validated", 200, "no-cache", `"nc"`, "2 REVALIDATED"},
		{"200 fresh", 200, "max-age=3600", "", "1 MISS reason=not-cached collapsed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			part := bytes.Repeat([]byte("a"), 100<<10)
			release := make(chan struct{})
			var once sync.Once
			free := func() { once.Do(func() { close(release) }) }
			var mu sync.Mutex
			n := 0
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				n++
				v := n
				mu.Unlock()
				if tc.cc != "" {
					w.Header().Set("Cache-Control", tc.cc)
				} else {
					w.Header().Set("Expires", time.Now().Add(-5000*time.Second).UTC().Format(http.TimeFormat))
				}
				if tc.etag != "" {
					w.Header().Set("Etag", tc.etag)
					if r.Header.Get("If-None-Match") == tc.etag {
						w.Header().Set("X-N", fmt.Sprint(v))
						w.WriteHeader(http.StatusNotModified)
						return
					}
				}
				w.Header().Set("X-N", fmt.Sprint(v))
				// The first part is larger than the edge's write buffer, so
				// the edge's client gets the header at once.
				w.Header().Set("Content-Length", fmt.Sprint(len(part)+4))
				w.WriteHeader(tc.status)
				w.Write(part)
				w.(http.Flusher).Flush()
				if v == 1 {
					<-release // the first fill stays in flight
				}
				io.WriteString(w, "rest")
			})
			e := newEdge(t, o.URL)
			t.Cleanup(free) // before the edge's and the origin's Close, which wait for the fill
			waiting := make(chan string, 1)
			testHookFillWaits = func(key string) { waiting <- key }
			t.Cleanup(func() { testHookFillWaits = nil })

			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/st", nil)
			first, err := e.srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			// The first response's header is with its client: its fill is
			// ready, and in flight until release.
			type result struct {
				resp *http.Response
				body []byte
			}
			got := make(chan result, 1)
			collapsed := strings.Contains(tc.second, "collapsed")
			if collapsed {
				// Its header comes from the first fill at once; the body
				// follows the release.
				resp, err := e.srv.Client().Do(req.Clone(req.Context()))
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					got <- result{resp, body}
				}()
			} else {
				go func() {
					resp, err := e.srv.Client().Do(req.Clone(req.Context()))
					if err != nil {
						got <- result{&http.Response{StatusCode: 0, Header: http.Header{"X-N": {err.Error()}}}, nil}
						return
					}
					body, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					got <- result{resp, body}
				}()
				select {
				case <-waiting: // the second request waits for the first fill
				case r := <-got:
					t.Fatalf("second response before the first fill ended: X-N %q X-Cache %q", r.resp.Header.Get("X-N"), xcache(r.resp))
				case <-time.After(20 * time.Second):
					t.Fatal("the second request neither waited nor was answered")
				}
			}
			free()
			b, _ := io.ReadAll(first.Body)
			first.Body.Close()
			if !bytes.Equal(b, append(part, "rest"...)) {
				t.Errorf("first body: %d bytes, want %d", len(b), len(part)+4)
			}
			r := <-got
			if g := r.resp.Header.Get("X-N") + " " + xcache(r.resp); r.resp.StatusCode != tc.status || g != tc.second || len(r.body) != len(part)+4 {
				t.Errorf("second response: status %d, X-N and X-Cache %q, %d bytes; want %d, %q, %d bytes",
					r.resp.StatusCode, g, len(r.body), tc.status, tc.second, len(part)+4)
			}
			if tc.etag != "" {
				reqs := o.requests()
				if len(reqs) != 2 || reqs[1].Header.Get("If-None-Match") != tc.etag {
					t.Errorf("origin requests %d, want 2, the second with If-None-Match %s", len(reqs), tc.etag)
				}
			}
		})
	}
}

// TestSuffixRangeForwarded: partial-store-partial-reuse-partial and its
// -byterange, -absent, -suffix variants. A suffix range for an object the
// edge does not hold is forwarded as it is, in one origin request (no
// HEAD); the 206 keeps its Content-Range (RFC 9110 §15.3.7) and is stored
// as a partial response that later ranges within it are served from (RFC
// 9111 §3.3). A range it does not cover goes to the slices.
func TestSuffixRangeForwarded(t *testing.T) {
	body := []byte("0123456789")
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, body, `"sfx"`, "max-age=3600")
	})
	e := newEdge(t, o.URL, slicedDomain(RangeOn))
	resp, got := e.get("/f", "Range", "bytes=-5")
	if resp.StatusCode != 206 || string(got) != "56789" || resp.Header.Get("Content-Range") != "bytes 5-9/10" {
		t.Fatalf("suffix: status %d body %q Content-Range %q; want 206 56789 bytes 5-9/10", resp.StatusCode, got, resp.Header.Get("Content-Range"))
	}
	reqs := o.requests()
	if len(reqs) != 1 || reqs[0].Method != http.MethodGet || reqs[0].Header.Get("Range") != "bytes=-5" {
		t.Fatalf("origin saw %d requests (first %s Range %q), want one GET with Range bytes=-5", len(reqs), reqs[0].Method, reqs[0].Header.Get("Range"))
	}
	for _, tc := range []struct{ rng, body, cr string }{
		{"bytes=-5", "56789", "bytes 5-9/10"},
		{"bytes=6-8", "678", "bytes 6-8/10"},
		{"bytes=6-", "6789", "bytes 6-9/10"},
		{"bytes=-1", "9", "bytes 9-9/10"},
	} {
		resp, got := e.get("/f", "Range", tc.rng)
		if resp.StatusCode != 206 || string(got) != tc.body || resp.Header.Get("Content-Range") != tc.cr || xcache(resp) != "HIT" {
			t.Errorf("%s from the partial response: status %d body %q Content-Range %q X-Cache %q; want 206 %q %q HIT",
				tc.rng, resp.StatusCode, got, resp.Header.Get("Content-Range"), xcache(resp), tc.body, tc.cr)
		}
	}
	if n := len(o.requests()); n != 1 {
		t.Errorf("origin requests = %d after ranges within the partial response, want 1", n)
	}
	// Bytes 0-1 are not held: the slices fetch them.
	resp, got = e.get("/f", "Range", "bytes=0-1")
	if resp.StatusCode != 206 || string(got) != "01" || resp.Header.Get("Content-Range") != "bytes 0-1/10" {
		t.Errorf("range outside: status %d body %q Content-Range %q", resp.StatusCode, got, resp.Header.Get("Content-Range"))
	}
}

// TestPassedThrough206KeepsContentRange: a 206 the edge does not store (a
// malformed one: its Content-Range and body length disagree, as in the
// suite's partial tests; or a no-store one) reaches the client with the
// origin's Content-Range.
func TestPassedThrough206KeepsContentRange(t *testing.T) {
	for _, tc := range []struct{ name, cc, cr, body string }{
		{"inconsistent", "max-age=3600", "bytes 4-9/10", "01234"},
		{"no-store", "no-store", "bytes 5-9/10", "56789"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", tc.cc)
				w.Header().Set("Content-Range", tc.cr)
				w.WriteHeader(http.StatusPartialContent)
				io.WriteString(w, tc.body)
			})
			e := newEdge(t, o.URL, slicedDomain(RangeOn))
			for i := 0; i < 2; i++ {
				resp, got := e.get("/g", "Range", "bytes=-5")
				if resp.StatusCode != 206 || string(got) != tc.body || resp.Header.Get("Content-Range") != tc.cr {
					t.Errorf("request %d: status %d body %q Content-Range %q; want 206 %q %q", i+1, resp.StatusCode, got, resp.Header.Get("Content-Range"), tc.body, tc.cr)
				}
			}
			if n := len(o.requests()); n != 2 {
				t.Errorf("origin requests = %d, want 2 (one per client request, nothing stored)", n)
			}
		})
	}
}

// TestIfModifiedSinceWithoutLastModified: conditional-lm-fresh-no-lm. A
// fresh stored response without Last-Modified answers If-Modified-Since
// from its Date (RFC 9111 §4.3.2): 304 when the date is not later.
func TestIfModifiedSinceWithoutLastModified(t *testing.T) {
	date := time.Now().UTC().Truncate(time.Second)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=10000")
		w.Header().Set("Date", date.Format(http.TimeFormat))
		fmt.Fprint(w, "x")
	})
	e := newEdge(t, o.URL)
	e.get("/ims")
	e.waitFill()
	for _, tc := range []struct {
		ims  time.Time
		want int
	}{
		{date.Add(-3000 * time.Second), http.StatusOK},
		{date, http.StatusNotModified},
	} {
		resp, _ := e.get("/ims", "If-Modified-Since", tc.ims.Format(http.TimeFormat))
		if resp.StatusCode != tc.want || xcache(resp) != "HIT" {
			t.Errorf("If-Modified-Since %v (Date %v): status %d X-Cache %q, want %d HIT", tc.ims, date, resp.StatusCode, xcache(resp), tc.want)
		}
	}
	// If-Unmodified-Since needs a modification date: ignored without one.
	if resp, _ := e.get("/ims", "If-Unmodified-Since", date.Add(-time.Hour).Format(http.TimeFormat)); resp.StatusCode != http.StatusOK {
		t.Errorf("If-Unmodified-Since without Last-Modified: status %d, want 200", resp.StatusCode)
	}
}

// TestVaryingFillShared: vary-cache-key. The first response for a URL
// varies (Vary: Foo); a request that arrives while it is still being
// fetched, with the same Foo, shares that fetch although the first request
// was looked up before the edge knew the URL varies.
func TestVaryingFillShared(t *testing.T) {
	part := bytes.Repeat([]byte("v"), 100<<10)
	release := make(chan struct{})
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=3600")
		w.Header().Set("Vary", "Foo")
		w.Header().Set("Content-Length", fmt.Sprint(len(part)+4))
		w.Write(part)
		w.(http.Flusher).Flush()
		<-release
		io.WriteString(w, "rest")
	})
	e := newEdge(t, o.URL)
	t.Cleanup(free)
	do := func(other string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/vk", nil)
		req.Header.Set("Foo", "1")
		req.Header.Set("Other", other)
		resp, err := e.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	first := do("2")
	second := do("3") // the first fill is ready (its header is out) and in flight
	free()
	for i, resp := range []*http.Response{first, second} {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if len(b) != len(part)+4 {
			t.Errorf("response %d: %d bytes, want %d", i+1, len(b), len(part)+4)
		}
	}
	if n := o.gets.Load(); n != 1 || !strings.HasSuffix(xcache(second), "collapsed") {
		t.Errorf("origin GETs %d, second X-Cache %q; want 1 fetch shared (collapsed)", n, xcache(second))
	}
}
