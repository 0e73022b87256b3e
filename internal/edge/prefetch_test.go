package edge

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestPrefetchFillsCache: after a prefetch task is done, every URL is a HIT
// and the origin saw each one once.
func TestPrefetchFillsCache(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL)
	a := newAdmin(t, e, TasksOptions{})
	paths := []string{"/a.js", "/b.css", "/c/d.png?v=2"}
	var urls []string
	for _, p := range paths {
		urls = append(urls, "http://a.test"+p)
	}
	st := a.run("/edge/prefetch", PrefetchRequest{URLs: urls, Concurrency: 2})
	for i, it := range st.Items {
		if it.Status != 200 || it.Attempts != 1 || !strings.HasPrefix(it.XCache, "MISS") || it.Bytes != int64(len("body of "+strings.Split(paths[i], "?")[0])) {
			t.Errorf("item %s: %+v, want status 200, 1 attempt, a MISS and the body's length", it.URL, it)
		}
	}
	for _, p := range paths {
		resp, _ := e.get(p, "Host", "a.test")
		if xcache(resp) != "HIT" {
			t.Errorf("%s after prefetch: X-Cache %q, want HIT", p, xcache(resp))
		}
		if n := o.getsOf(strings.Split(p, "?")[0]); n != 1 {
			t.Errorf("origin GETs of %s = %d, want 1", p, n)
		}
	}
}

// TestPrefetchFailuresAndStatus_C16: one task whose URLs succeed, succeed
// on a retry, always fail with 500, and hang. The status endpoint shows
// progress, per-URL state, status, attempts and an error that says what
// went wrong (a timeout named as such), field by field.
func TestPrefetchFailuresAndStatus_C16(t *testing.T) {
	var flaky atomic.Int64
	release := make(chan struct{})
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/flaky":
			if flaky.Add(1) == 1 {
				http.Error(w, "warming up", http.StatusInternalServerError)
				return
			}
		case "/broken":
			http.Error(w, "database down", http.StatusInternalServerError)
			return
		case "/hang":
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		serveObject(w, r, []byte("ok"), `"v1"`, "max-age=60")
	})
	e := newEdge(t, o.URL)
	t.Cleanup(func() { close(release) }) // before the edge closes: its fill waits on /hang
	a := newAdmin(t, e, TasksOptions{})
	urls := []string{"http://a.test/fine", "http://a.test/flaky", "http://a.test/broken", "http://a.test/hang"}
	acc := a.submit("/edge/prefetch", map[string]any{"urls": urls, "concurrency": 4, "timeout": "300ms"})
	if acc.Kind != KindPrefetch || acc.Total != 4 {
		t.Errorf("accepted %+v, want kind prefetch, total 4", acc)
	}
	st, raw := a.wait(acc)

	// The JSON field names are the API.
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"id", "kind", "node", "created", "finished", "done", "total", "succeeded", "failed", "progress", "items"} {
		if _, ok := m[k]; !ok {
			t.Errorf("status JSON lacks %q: %s", k, raw)
		}
	}
	for _, c := range []struct {
		field string
		got   any
		want  any
	}{
		{"id", m["id"], acc.ID},
		{"kind", m["kind"], "prefetch"},
		{"node", m["node"], testNode},
		{"done", m["done"], true},
		{"total", m["total"], 4.0},
		{"succeeded", m["succeeded"], 2.0},
		{"failed", m["failed"], 2.0},
		{"progress", m["progress"], 1.0},
	} {
		if c.got != c.want {
			t.Errorf("status %s = %v, want %v", c.field, c.got, c.want)
		}
	}
	items, _ := m["items"].([]any)
	if len(items) != 4 {
		t.Fatalf("items: %s", raw)
	}
	for _, k := range []string{"url", "state", "status", "attempts", "duration", "x_cache", "bytes"} {
		if _, ok := items[0].(map[string]any)[k]; !ok {
			t.Errorf("item JSON lacks %q: %v", k, items[0])
		}
	}
	if _, err := time.ParseDuration(items[0].(map[string]any)["duration"].(string)); err != nil {
		t.Errorf("item duration: %v", err)
	}

	want := []TaskItem{
		{URL: urls[0], State: ItemOK, Status: 200, XCache: "MISS", Bytes: 2, Attempts: 1},
		{URL: urls[1], State: ItemOK, Status: 200, XCache: "MISS", Bytes: 2, Attempts: 2},
		{URL: urls[2], State: ItemFailed, Status: 500, XCache: "MISS", Bytes: int64(len("database down\n")), Attempts: 3},
		{URL: urls[3], State: ItemFailed, Attempts: 3},
	}
	if diff := cmp.Diff(want, st.Items, cmpopts.IgnoreFields(TaskItem{}, "Duration", "Error", "XCache")); diff != "" {
		t.Errorf("items (-want +got):\n%s", diff)
	}
	for i, wantErr := range []string{"", "", "edge answered 500: database down", "no response: timed out after 300ms"} {
		got := st.Items[i].Error
		if (wantErr == "") != (got == "") || !strings.Contains(got, wantErr) {
			t.Errorf("item %s error = %q, want %q", urls[i], got, wantErr)
		}
	}
	for _, it := range st.Items[:3] {
		if !strings.HasPrefix(it.XCache, "MISS") {
			t.Errorf("%s: X-Cache %q, want the edge's MISS", it.URL, it.XCache)
		}
	}
	if n := o.getsOf("/broken"); n != 3 {
		t.Errorf("origin GETs of /broken = %d, want 3 (two retries)", n)
	}
	if d := time.Duration(st.Items[3].Duration); d < 900*time.Millisecond {
		t.Errorf("hang item took %v, want at least 3 x 300ms", d)
	}

	// The list shows the task without items.
	code, out := a.get("/edge/tasks")
	var list TaskList
	if err := json.Unmarshal(out, &list); code != 200 || err != nil || len(list.Tasks) != 1 || list.Tasks[0].ID != acc.ID || list.Tasks[0].Items != nil || list.Node != testNode {
		t.Errorf("GET /edge/tasks: %d %s", code, out)
	}
}

// TestCloseCancelsPrefetch: Close ends a running prefetch at once; the task
// is done, canceled, and its unfinished item failed with the reason.
func TestCloseCancelsPrefetch(t *testing.T) {
	release := make(chan struct{})
	arrived := make(chan struct{}, 1)
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	e := newEdge(t, o.URL)
	t.Cleanup(func() { close(release) })
	a := newAdmin(t, e, TasksOptions{})
	acc := a.submit("/edge/prefetch", PrefetchRequest{URLs: []string{"http://a.test/slow"}, Timeout: Duration(time.Hour)})
	<-arrived
	a.tasks.Close()
	st, ok := a.tasks.Task(acc.ID)
	if !ok || !st.Done || !st.Canceled || st.Failed != 1 || !strings.Contains(st.Items[0].Error, "canceled") {
		t.Errorf("after Close: %+v", st)
	}
	if code, out := a.post("/edge/prefetch", PrefetchRequest{URLs: []string{"http://a.test/x"}}); code != http.StatusServiceUnavailable {
		t.Errorf("prefetch after Close: %d %s, want 503", code, out)
	}
}

// TestTaskHistoryBound: only the last History finished tasks are kept.
func TestTaskHistoryBound(t *testing.T) {
	o := cachedOrigin(t)
	e := newEdge(t, o.URL)
	a := newAdmin(t, e, TasksOptions{History: 2})
	var ids []string
	for range 3 {
		ids = append(ids, a.run("/edge/purge", PurgeRequest{Domain: "a.test"}).ID)
	}
	if _, ok := a.tasks.Task(ids[0]); ok {
		t.Errorf("oldest task %s still kept with History 2", ids[0])
	}
	got := a.tasks.List()
	if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
		t.Errorf("List = %v, want the last two, newest first", got)
	}
}
