package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/cluster"
)

// stallOrigin serves cacheable objects; while held, it stalls /big.zip
// (before any header) until released, and says when a request stalls.
type stallOrigin struct {
	srv     *httptest.Server
	stalled chan struct{} // closed at the first stalled request
	release chan struct{} // closed by the test
	once    sync.Once
}

func newStallOrigin(t *testing.T, hold bool) *stallOrigin {
	o := &stallOrigin{stalled: make(chan struct{}), release: make(chan struct{})}
	if !hold {
		close(o.release)
	}
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big.zip" {
			select {
			case <-o.release:
			default:
				o.once.Do(func() { close(o.stalled) })
				select {
				case <-o.release:
				case <-r.Context().Done():
					return
				}
			}
		}
		w.Header().Set("Cache-Control", "max-age=600")
		w.Header().Set("ETag", `"v1"`)
		io.WriteString(w, "content of "+r.URL.Path)
	}))
	t.Cleanup(o.srv.Close)
	t.Cleanup(func() {
		select {
		case <-o.release:
		default:
			close(o.release)
		}
	})
	return o
}

// clusterStatus reads a cluster task's status from the coordinator,
// waiting up to wait for it to finish.
func clusterStatus(t *testing.T, admin, id string, wait time.Duration) cluster.TaskStatus {
	t.Helper()
	resp, body := httpGet(t, fmt.Sprintf("%s/cluster/tasks/%s?wait=%s", admin, id, wait))
	var st cluster.TaskStatus
	if err := json.Unmarshal([]byte(body), &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /cluster/tasks/%s: %d %s (%v)", id, resp.StatusCode, body, err)
	}
	return st
}

// xcacheOf gets url with Host through an edge and returns its X-Cache.
func xcacheOf(t *testing.T, edgeURL, host, path string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", edgeURL+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s%s: %v", edgeURL, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(b) != "content of "+path {
		t.Fatalf("GET %s%s: %d %q", edgeURL, path, resp.StatusCode, b)
	}
	return resp.Header.Get("X-Cache")
}

// TestClusterPrefetchLaggingAndPurge_C16: three nodes — an overseas L2
// (l2-sg) whose origin route stalls /big.zip, an L1 behind it (l1-sg), and
// an L1 of another region fetching from the origin directly (l1-eu, the
// coordinator). A cluster prefetch reports l2-sg lagging with the URL and
// the reason while l1-eu completes and l1-sg waits for its parent; the CLI
// gives up after --wait-timeout naming l2-sg; releasing the origin lets
// everything complete. A cluster purge then reaches every node, L2 before
// L1, and no node serves the object from its cache any more.
func TestClusterPrefetchLaggingAndPurge_C16(t *testing.T) {
	const host = "cdn.e2e.test"
	sgOrigin := newStallOrigin(t, true) // the slow route from the overseas L2
	euOrigin := newStallOrigin(t, false)
	dom := func(o string) string {
		return fmt.Sprintf("domains:\n  - {host: %s, origin: %q, range: \"off\"}\n", host, o)
	}
	l2sg := startNode(t, nodeConfig{nodeID: "l2-sg", extra: dom(sgOrigin.srv.URL)})
	l1sg := startNode(t, nodeConfig{nodeID: "l1-sg", extra: dom(sgOrigin.srv.URL), edgeextra: fmt.Sprintf("  parents: [%q]\n", l2sg.Edge)})
	l1eu := startNode(t, nodeConfig{nodeID: "l1-eu", extra: dom(euOrigin.srv.URL) + fmt.Sprintf(`cluster:
  lag_after: 1s
  retry_backoff: 100ms
  nodes:
    - {id: l2-sg, admin: %q, tier: l2, region: ap}
    - {id: l1-sg, admin: %q, tier: l1, region: ap}
    - {id: l1-eu, tier: l1, region: eu}
`, l2sg.Admin, l1sg.Admin)})
	coord := l1eu.Admin
	big, css := "http://"+host+"/big.zip", "http://"+host+"/a.css"

	// A cluster prefetch of both URLs on every node.
	resp, err := http.Post(coord+"/cluster/prefetch", "application/json",
		strings.NewReader(fmt.Sprintf(`{"urls": [%q, %q], "timeout": "1s", "retries": 10}`, css, big)))
	if err != nil {
		t.Fatal(err)
	}
	var acc cluster.Accepted
	err = json.NewDecoder(resp.Body).Decode(&acc)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusAccepted || strings.Join(acc.Nodes, ",") != "l2-sg,l1-sg,l1-eu" {
		t.Fatalf("POST /cluster/prefetch: %d %+v %v", resp.StatusCode, acc, err)
	}
	select {
	case <-sgOrigin.stalled:
	case <-time.After(20 * time.Second):
		t.Fatal("l2-sg never asked the origin for /big.zip")
	}
	// l2-sg lags: no progress for lag_after, its failed attempt named.
	var st cluster.TaskStatus
	for deadline := time.Now().Add(20 * time.Second); ; {
		st = clusterStatus(t, coord, acc.ID, 250*time.Millisecond)
		if len(st.Lagging) == 1 && strings.Contains(st.Nodes[0].Verdict, "timed out") && st.Nodes[2].State == cluster.NodeOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no lagging l2-sg with a timed-out attempt after 20s; summary:\n%s", strings.Join(st.Summary, "\n"))
		}
	}
	sg, l1s, eu := st.Nodes[0], st.Nodes[1], st.Nodes[2]
	if st.Lagging[0] != "l2-sg" || !sg.Lagging || sg.Succeeded != 1 || sg.LastErrorURL != big ||
		!strings.HasPrefix(sg.Verdict, "LAGGING: 50% (1/2), no progress for ") ||
		!strings.Contains(sg.Verdict, "last error on "+big+": no response: timed out after 1s") {
		t.Errorf("l2-sg: lagging %v, %d ok, verdict %q; want lagging at 1/2 naming %s and the timeout", sg.Lagging, sg.Succeeded, sg.Verdict, big)
	}
	if l1s.State != cluster.NodeWaiting || !strings.Contains(l1s.Verdict, "held up by l2-sg (lagging)") {
		t.Errorf("l1-sg: %s %q; want waiting, held up by l2-sg", l1s.State, l1s.Verdict)
	}
	if eu.State != cluster.NodeOK || eu.Succeeded != 2 {
		t.Errorf("l1-eu: %s %q; want ok with both URLs", eu.State, eu.Verdict)
	}

	// The CLI gives up after --wait-timeout, naming the lagging node.
	code, out, errs := runStrata(t, "prefetch", "--cluster", "--admin", coord, "--tier", "l2", "--wait", "--wait-timeout", "2s", "--timeout", "1s", big)
	if code != 1 || !strings.Contains(errs, "not finished after 2s") || !strings.Contains(errs, "l2-sg (") || !strings.Contains(out, "l2-sg (l2, ap): ") {
		t.Errorf("strata prefetch --cluster --wait-timeout: exit %d, want 1 naming l2-sg\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}

	// Released, l2-sg completes, then l1-sg fills from it.
	close(sgOrigin.release)
	st = clusterStatus(t, coord, acc.ID, 30*time.Second)
	if !st.Done || st.State != cluster.TaskOK || len(st.Lagging) != 0 {
		t.Fatalf("after release: done %v state %q; summary:\n%s", st.Done, st.State, strings.Join(st.Summary, "\n"))
	}
	if sg, l1s := st.Nodes[0], st.Nodes[1]; l1s.Started.Before(sg.Finished) {
		t.Errorf("l1-sg started %v, before l2-sg finished %v", l1s.Started, sg.Finished)
	}
	for _, n := range []*node{l2sg, l1sg, l1eu} {
		if xc := xcacheOf(t, n.Edge, host, "/big.zip"); xc != "HIT" {
			t.Errorf("%s after the prefetch: X-Cache %q, want HIT", n.Edge, xc)
		}
	}

	// A region: only l1-eu.
	code, out, errs = runStrata(t, "prefetch", "--cluster", "--admin", coord, "--region", "eu", "--wait", css)
	if code != 0 || !strings.Contains(out, "l1-eu (l1, eu): ok: 100% (1/1)") || strings.Contains(out, "l2-sg") {
		t.Errorf("strata prefetch --cluster --region eu --wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}

	// A cluster purge reaches every node, L2 first.
	code, out, errs = runStrata(t, "purge", "--cluster", "--admin", coord, "--wait", "--json", big)
	var pst cluster.TaskStatus
	if err := json.Unmarshal([]byte(out), &pst); code != 0 || err != nil || pst.State != cluster.TaskOK || len(pst.Nodes) != 3 {
		t.Fatalf("strata purge --cluster --wait --json: exit %d (%v)\nstdout:\n%s\nstderr:\n%s", code, err, out, errs)
	}
	// Each node's own task says when it ran: the L1 purges began after the
	// L2 purge had finished.
	type edgeTask struct {
		Created  time.Time `json:"created"`
		Finished time.Time `json:"finished"`
		Done     bool      `json:"done"`
		Items    []struct {
			Entries int `json:"entries"`
		} `json:"items"`
	}
	tasks := map[string]edgeTask{}
	for _, n := range pst.Nodes {
		_, body := httpGet(t, n.TaskURL)
		var et edgeTask
		if err := json.Unmarshal([]byte(body), &et); err != nil || !et.Done {
			t.Fatalf("%s: GET %s: %s (%v)", n.ID, n.TaskURL, body, err)
		}
		if len(et.Items) != 1 || et.Items[0].Entries == 0 {
			t.Errorf("%s: purge removed %+v entries, want some", n.ID, et.Items)
		}
		tasks[n.ID] = et
	}
	for _, l1 := range []string{"l1-sg", "l1-eu"} {
		if tasks[l1].Created.Before(tasks["l2-sg"].Finished) {
			t.Errorf("%s's purge began %v, before l2-sg's finished %v", l1, tasks[l1].Created, tasks["l2-sg"].Finished)
		}
	}
	// No node serves it from its cache any more (l2-sg first, since l1-sg
	// refills from it).
	for _, n := range []*node{l2sg, l1sg, l1eu} {
		if xc := xcacheOf(t, n.Edge, host, "/big.zip"); !strings.HasPrefix(xc, "MISS") {
			t.Errorf("%s after the cluster purge: X-Cache %q, want MISS", n.Edge, xc)
		}
	}

	// Progress lines name each node.
	code, out, errs = runStrata(t, "purge", "--cluster", "--admin", coord, "--tier", "l1", "--wait", big)
	if code != 0 || !strings.Contains(out, "l1-sg (l1, ap): ok") || !strings.Contains(errs, "warning: L1 nodes are purged but not L2 nodes l2-sg") {
		t.Errorf("strata purge --cluster --tier l1: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
}
