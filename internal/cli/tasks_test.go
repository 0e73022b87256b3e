package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/cachestore"
	"github.com/strata-cdn/strata/internal/edge"
)

// taskNode is an edge with its admin API, both on 127.0.0.1, in front of
// an origin that serves "/broken" as a 500 and anything else cacheable.
type taskNode struct {
	t      *testing.T
	edge   *httptest.Server
	admin  *httptest.Server
	origin *httptest.Server
}

func newTaskNode(t *testing.T) *taskNode {
	t.Helper()
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/broken" {
			http.Error(w, "database down", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("Etag", `"v1"`)
		fmt.Fprint(w, "hello from "+r.URL.Path)
	}))
	t.Cleanup(o.Close)
	store, err := cachestore.Open(cachestore.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(o.URL)
	h := &edge.Handler{NodeID: "cli-test-node", Domains: []edge.Domain{{Host: "a.test", Origin: u}}, Cache: store, TempDir: t.TempDir()}
	tasks, err := edge.NewTasks(h, edge.TasksOptions{RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	n := &taskNode{t: t, origin: o, edge: httptest.NewServer(h), admin: httptest.NewServer(tasks.AdminHandler())}
	t.Cleanup(func() {
		n.admin.Close()
		n.edge.Close()
		h.Close()
		store.Close()
	})
	return n
}

// xcache gets path of host a.test through the edge and returns X-Cache.
func (n *taskNode) xcache(path string) string {
	n.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.edge.URL+path, nil)
	req.Host = "a.test"
	resp, err := n.edge.Client().Do(req)
	if err != nil {
		n.t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.Header.Get("X-Cache")
}

func (n *taskNode) run(stdin string, args ...string) (code int, stdout, stderr string) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var out, errb bytes.Buffer
	args = append([]string{args[0], "--admin", n.admin.URL}, args[1:]...)
	switch args[0] {
	case "purge":
		code = purgeWithStdin(ctx, args[1:], strings.NewReader(stdin), &out, &errb)
	case "prefetch":
		code = prefetchWithStdin(ctx, args[1:], strings.NewReader(stdin), &out, &errb)
	}
	return code, out.String(), errb.String()
}

// TestPrefetchAndPurgeCommands_C16: prefetch --wait shows progress and the
// failed URL with its status and error, exits 1; the good URL is then a
// HIT; purge --wait empties it again.
func TestPrefetchAndPurgeCommands_C16(t *testing.T) {
	n := newTaskNode(t)
	code, out, errs := n.run("", "prefetch", "--wait", "--retries", "0", "--concurrency", "2", "http://a.test/app.js", "http://a.test/broken")
	if code != ExitFail {
		t.Fatalf("prefetch with a failing URL: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitFail, out, errs)
	}
	for _, want := range []string{
		"prefetch task prefetch-",
		"cli-test-node prefetch-",
		"100% (2/2 done, 1 ok, 1 failed) finished",
		"FAILED http://a.test/broken: status 500, 1 attempt(s)",
		"edge answered 500: database down",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("prefetch output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "FAILED http://a.test/app.js") {
		t.Errorf("the good URL is reported failed:\n%s", out)
	}
	if xc := n.xcache("/app.js"); xc != "HIT" {
		t.Errorf("after prefetch: X-Cache %q, want HIT", xc)
	}

	code, out, errs = n.run("", "purge", "http://a.test/app.js", "--wait")
	if code != ExitOK || !strings.Contains(out, "100% (1/1 done, 1 ok, 0 failed) finished") {
		t.Fatalf("purge --wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if xc := n.xcache("/app.js"); !strings.HasPrefix(xc, "MISS") {
		t.Errorf("after purge: X-Cache %q, want MISS", xc)
	}
}

func TestPurgeCommandWithoutWaitAndJSON(t *testing.T) {
	n := newTaskNode(t)
	code, out, errs := n.run("", "purge", "--domain", "a.test", "--mode", "stale")
	if code != ExitOK || !strings.Contains(out, "purge task purge-") || !strings.Contains(out, n.admin.URL+"/edge/tasks/purge-") {
		t.Errorf("purge: exit %d, stdout %q, stderr %q; want the task id and status URL", code, out, errs)
	}
	code, out, errs = n.run("http://a.test/1\n# comment\n\nhttp://a.test/2\n", "purge", "--wait", "--json", "--file", "-")
	var st edge.TaskStatus
	if err := json.Unmarshal([]byte(out), &st); err != nil || code != ExitOK {
		t.Fatalf("purge --json: exit %d, %v\nstdout:\n%s\nstderr:\n%s", code, err, out, errs)
	}
	if !st.Done || st.Total != 2 || st.Succeeded != 2 || st.Items[1].URL != "http://a.test/2" || st.Mode != edge.PurgeDelete {
		t.Errorf("purge --json status: %+v", st)
	}
}

func TestTaskCommandErrors(t *testing.T) {
	n := newTaskNode(t)
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"purge nothing", []string{"purge"}, ExitUsage, "exactly one of them"},
		{"purge two", []string{"purge", "--domain", "a.test", "http://a.test/x"}, ExitUsage, "exactly one of them"},
		{"purge mode", []string{"purge", "--mode", "soft", "http://a.test/x"}, ExitUsage, `--mode "soft"`},
		{"prefetch nothing", []string{"prefetch"}, ExitUsage, "at least one URL"},
		{"bad flag", []string{"prefetch", "--bogus"}, ExitUsage, "flag provided but not defined"},
		{"refused", []string{"purge", "http://b.test/x"}, ExitFail, `admin API answered 400 Bad Request: invalid task: "http://b.test/x": no domain of this edge serves host "b.test"`},
	} {
		code, _, errs := n.run("", tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want %d and %q", tc.name, code, errs, tc.code, tc.want)
		}
	}
	var out, errb bytes.Buffer
	code := Main(context.Background(), []string{"prefetch", "--admin", "http://127.0.0.1:1", "http://a.test/x"}, &out, &errb)
	if code != ExitFail || !strings.Contains(errb.String(), "admin API at http://127.0.0.1:1") {
		t.Errorf("unreachable admin: exit %d, stderr %q", code, errb.String())
	}
}
