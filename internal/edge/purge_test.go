package edge

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

// cachedOrigin serves "<path> v<n>" (n counting the GETs of that path) with
// an ETag per version and a long freshness lifetime.
func cachedOrigin(t *testing.T) *origin {
	return newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		serveObject(w, r, []byte("body of "+r.URL.Path), `"`+strings.ReplaceAll(r.URL.Path, "/", "_")+`"`, "max-age=3600")
	})
}

// warm gets path through the edge twice (a miss, then a hit) for host.
func (e *edge) warm(host, path string) {
	e.t.Helper()
	resp, _ := e.get(path, "Host", host)
	if !strings.HasPrefix(xcache(resp), "MISS") {
		e.t.Fatalf("%s%s: first X-Cache %q, want MISS", host, path, xcache(resp))
	}
	e.waitFill()
	if resp, _ = e.get(path, "Host", host); xcache(resp) != "HIT" {
		e.t.Fatalf("%s%s: second X-Cache %q, want HIT", host, path, xcache(resp))
	}
}

func TestPurgeURLDeletes(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL)
	a := newAdmin(t, e, TasksOptions{})
	e.warm("www.a.test", "/x.js")
	e.warm("www.a.test", "/y.js")

	st := a.run("/edge/purge", PurgeRequest{URLs: []string{"http://www.a.test/x.js"}})
	if st.Kind != KindPurge || st.Mode != PurgeDelete || st.Total != 1 || st.Items[0].Entries != 1 {
		t.Errorf("purge status: kind %q mode %q total %d entries %d; want purge, delete, 1, 1", st.Kind, st.Mode, st.Total, st.Items[0].Entries)
	}
	resp, body := e.get("/x.js", "Host", "www.a.test")
	if !strings.HasPrefix(xcache(resp), "MISS") || string(body) != "body of /x.js" {
		t.Errorf("after purge: X-Cache %q body %q, want a MISS with the body", xcache(resp), body)
	}
	if n := o.getsOf("/x.js"); n != 2 {
		t.Errorf("origin GETs of /x.js = %d, want 2 (the purge sends the next request to the origin)", n)
	}
	if resp, _ := e.get("/y.js", "Host", "www.a.test"); xcache(resp) != "HIT" {
		t.Errorf("/y.js after purging /x.js: X-Cache %q, want HIT", xcache(resp))
	}
}

func TestPurgePrefixAndDomain(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL, func(h *Handler) {
		u := mustURL(t, o.URL)
		h.Domains = []Domain{{Host: "a.test", Origin: u}, {Host: "b.test", Origin: u}}
	})
	a := newAdmin(t, e, TasksOptions{})
	all := []struct{ host, path string }{
		{"a.test", "/static/1.css"}, {"a.test", "/static/2.css"}, {"a.test", "/staticx"}, {"a.test", "/other"},
		{"b.test", "/static/1.css"}, {"b.test", "/other"},
	}
	for _, c := range all {
		e.warm(c.host, c.path)
	}
	check := func(step string, purged map[string]bool) {
		t.Helper()
		for _, c := range all {
			resp, _ := e.do(http.MethodHead, c.path, "Host", c.host)
			hit := xcache(resp) == "HIT"
			if want := !purged[c.host+c.path]; hit != want {
				t.Errorf("%s: %s%s X-Cache %q, want cached %v", step, c.host, c.path, xcache(resp), want)
			}
		}
	}
	a.run("/edge/purge", PurgeRequest{Prefix: "http://a.test/static/"})
	check("prefix", map[string]bool{"a.test/static/1.css": true, "a.test/static/2.css": true})
	a.run("/edge/purge", PurgeRequest{Domain: "B.test"})
	check("domain", map[string]bool{"a.test/static/1.css": true, "a.test/static/2.css": true, "b.test/static/1.css": true, "b.test/other": true})
}

// TestPurgeStaleRevalidates: a "stale" purge keeps the body but makes the
// next request revalidate with the origin: a conditional GET, a 304, and
// the stored body served as REVALIDATED; after it, hits again.
func TestPurgeStaleRevalidates(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL)
	a := newAdmin(t, e, TasksOptions{})
	e.warm("a.test", "/page")
	a.run("/edge/purge", PurgeRequest{URLs: []string{"http://a.test/page"}, Mode: PurgeStale})

	resp, body := e.get("/page", "Host", "a.test")
	if xcache(resp) != "REVALIDATED" || string(body) != "body of /page" {
		t.Errorf("after stale purge: X-Cache %q body %q, want REVALIDATED and the body", xcache(resp), body)
	}
	reqs := o.requests()
	if last := reqs[len(reqs)-1]; last.Header.Get("If-None-Match") != `"_page"` {
		t.Errorf("revalidation If-None-Match = %q, want %q", last.Header.Get("If-None-Match"), `"_page"`)
	}
	if resp, _ := e.get("/page", "Host", "a.test"); xcache(resp) != "HIT" {
		t.Errorf("after revalidation: X-Cache %q, want HIT", xcache(resp))
	}
	if n := o.getsOf("/page"); n != 2 {
		t.Errorf("origin GETs = %d, want 2 (fill, revalidation)", n)
	}
}

// TestPurgeStaleSlicedObject: a stale mark covers an object cached in
// slices: its metadata is revalidated with a HEAD and the slices, still
// the same version, are served.
func TestPurgeStaleSlicedObject(t *testing.T) {
	body := randomBytes(3*testSlice, 11)
	o := storeLikeOrigin(t, body)
	e := newEdge(t, o.URL, slicedDomain(RangeOn))
	a := newAdmin(t, e, TasksOptions{})
	if resp, _ := e.get("/v.bin", "Range", "bytes=0-99"); resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("range: %d", resp.StatusCode)
	}
	if resp, _ := e.get("/v.bin", "Range", "bytes=0-99"); xcache(resp) != "HIT" {
		t.Fatalf("second range: X-Cache %q, want HIT", xcache(resp))
	}
	heads := o.heads.Load()
	a.run("/edge/purge", PurgeRequest{Prefix: "http://any.test/", Mode: PurgeStale})
	resp, got := e.get("/v.bin", "Range", "bytes=10-19")
	if xcache(resp) != "REVALIDATED" || string(got) != string(body[10:20]) {
		t.Errorf("after stale purge: X-Cache %q, want REVALIDATED with the bytes", xcache(resp))
	}
	if o.heads.Load() != heads+1 {
		t.Errorf("origin HEADs = %d, want %d (one revalidation)", o.heads.Load(), heads+1)
	}
}

// TestStaleMarksSurviveRestart: stale marks are saved in MarksPath and a
// new task manager over the same cache honours them.
func TestStaleMarksSurviveRestart(t *testing.T) {
	o := cachedOrigin(t)
	dir := t.TempDir()
	marks := filepath.Join(t.TempDir(), "marks.json")
	e := newEdgeAt(t, dir, o.URL)
	a := newAdmin(t, e, TasksOptions{MarksPath: marks})
	e.warm("a.test", "/p")
	a.run("/edge/purge", PurgeRequest{Domain: "a.test", Mode: PurgeStale})
	e.close()

	e2 := newEdgeAt(t, dir, o.URL)
	newAdmin(t, e2, TasksOptions{MarksPath: marks})
	if resp, _ := e2.get("/p", "Host", "a.test"); xcache(resp) != "REVALIDATED" {
		t.Errorf("after restart: X-Cache %q, want REVALIDATED", xcache(resp))
	}
}

// TestStaleMarkBoundDeletes: a prefix mark pushed out by newer ones
// deletes what it covered rather than forgetting it.
func TestStaleMarkBoundDeletes(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL)
	e.warm("a.test", "/first/x")
	e.h.markStale(purgeTarget{prefix: "*/first/"})
	for i := range maxPrefixMarks {
		e.h.markStale(purgeTarget{prefix: fmt.Sprintf("*/p%d/", i)})
	}
	if got := e.h.marks.count.Load(); got != maxPrefixMarks {
		t.Errorf("marks = %d, want %d", got, maxPrefixMarks)
	}
	if resp, _ := e.get("/first/x", "Host", "a.test"); !strings.HasPrefix(xcache(resp), "MISS") {
		t.Errorf("entry under an evicted mark: X-Cache %q, want MISS (deleted)", xcache(resp))
	}
}

func TestPurgeRejectsBadRequests(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL, withDomain(func(d *Domain) { d.Host = "a.test" }))
	a := newAdmin(t, e, TasksOptions{})
	for _, tc := range []struct {
		name, path string
		body       any
		want       string
	}{
		{"nothing", "/edge/purge", map[string]any{}, "exactly one of urls, prefix and domain"},
		{"two selectors", "/edge/purge", PurgeRequest{URLs: []string{"http://a.test/x"}, Domain: "a.test"}, "exactly one"},
		{"mode", "/edge/purge", PurgeRequest{Domain: "a.test", Mode: "soft"}, `mode "soft"`},
		{"relative", "/edge/purge", PurgeRequest{URLs: []string{"/x"}}, "not an absolute http or https URL"},
		{"unknown host", "/edge/purge", PurgeRequest{URLs: []string{"http://b.test/x"}}, `no domain of this edge serves host "b.test"`},
		{"unknown domain", "/edge/purge", PurgeRequest{Domain: "b.test"}, "no domain of this edge serves it"},
		{"unknown field", "/edge/purge", map[string]any{"url": "http://a.test/x"}, `unknown field "url"`},
		{"prefetch none", "/edge/prefetch", PrefetchRequest{}, "no urls"},
		{"concurrency", "/edge/prefetch", PrefetchRequest{URLs: []string{"http://a.test/x"}, Concurrency: 1000}, "concurrency 1000"},
		{"timeout", "/edge/prefetch", map[string]any{"urls": []string{"http://a.test/x"}, "timeout": "soon"}, "duration"},
	} {
		code, out := a.post(tc.path, tc.body)
		var ae APIError
		_ = json.Unmarshal(out, &ae)
		if code != http.StatusBadRequest || !strings.Contains(ae.Error, tc.want) {
			t.Errorf("%s: %d %s, want 400 with an error containing %q", tc.name, code, out, tc.want)
		}
	}
	if code, out := a.get("/edge/tasks/purge-000000000000"); code != http.StatusNotFound || !strings.Contains(string(out), "unknown task") {
		t.Errorf("unknown task: %d %s, want 404 unknown task", code, out)
	}
}
