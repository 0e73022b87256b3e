package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// events is the order in which fake nodes saw things happen.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	e.log = append(e.log, s)
	e.mu.Unlock()
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.log)
}

// fakeNode serves the edge task API (POST /edge/purge and /edge/prefetch,
// GET /edge/tasks/{id}) with behaviour the test sets.
type fakeNode struct {
	id  string
	srv *httptest.Server
	ev  *events

	mu          sync.Mutex
	failSubmits int           // answer 503 to this many submissions first
	refuse      string        // answer 400 with this to submissions
	loseOnce    bool          // answer 404 to the first status read
	release     chan struct{} // tasks finish once closed; nil: at once
	itemErr     string        // error of the held URL while held
	failURL     string        // this URL fails
	tasks       map[string][]string
	n           int
	reported    map[string]bool
}

func newFakeNode(t *testing.T, id string, ev *events) *fakeNode {
	f := &fakeNode{id: id, ev: ev, tasks: map[string][]string{}, reported: map[string]bool{}}
	mux := http.NewServeMux()
	submit := func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			URLs   []string `json:"urls"`
			Prefix string   `json:"prefix"`
			Domain string   `json:"domain"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("%s: request body: %v", id, err)
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		switch {
		case f.failSubmits > 0:
			f.failSubmits--
			http.Error(w, `{"error":"the node is shutting down; no new tasks"}`, http.StatusServiceUnavailable)
			return
		case f.refuse != "":
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": f.refuse})
			return
		}
		f.n++
		tid := fmt.Sprintf("task-%s-%d", id, f.n)
		items := body.URLs
		if len(items) == 0 {
			items = []string{body.Prefix + body.Domain}
		}
		f.tasks[tid] = items
		f.ev.add("submit " + id)
		w.WriteHeader(http.StatusAccepted)
		json.NewEncoder(w).Encode(map[string]any{"id": tid, "total": len(items), "status_url": "/edge/tasks/" + tid})
	}
	mux.HandleFunc("POST /edge/purge", submit)
	mux.HandleFunc("POST /edge/prefetch", submit)
	mux.HandleFunc("GET /edge/tasks/{id}", func(w http.ResponseWriter, r *http.Request) {
		tid := r.PathValue("id")
		f.mu.Lock()
		defer f.mu.Unlock()
		items, ok := f.tasks[tid]
		if !ok || f.loseOnce {
			f.loseOnce = false
			delete(f.tasks, tid)
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"error": "unknown task " + tid})
			return
		}
		held := false
		if f.release != nil {
			select {
			case <-f.release:
			default:
				held = true
			}
		}
		st := edgeStatus{ID: tid, Node: id, Total: len(items)}
		for i, u := range items {
			it := edgeItem{URL: u, State: "ok", Attempts: 1}
			switch {
			case held && i == len(items)-1:
				it.State, it.Error = "running", f.itemErr
			case u == f.failURL:
				it.State, it.Status, it.Error = "failed", 404, "edge answered 404: Not Found"
				st.Failed++
			default:
				st.Succeeded++
			}
			st.Items = append(st.Items, it)
		}
		st.Done = !held
		if st.Done && !f.reported[tid] {
			f.reported[tid] = true
			f.ev.add("done " + id)
		}
		json.NewEncoder(w).Encode(st)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeNode) node(tier, region string) Node {
	return Node{ID: f.id, Admin: f.srv.URL, Tier: tier, Region: region}
}

// newCoordinator returns a coordinator with short waits, closed at the
// end of the test.
func newCoordinator(t *testing.T, nodes ...Node) *Coordinator {
	c := &Coordinator{NodeID: "coord", Nodes: nodes, RetryBackoff: 5 * time.Millisecond, PollInterval: 5 * time.Millisecond,
		CallTimeout: 5 * time.Second, LagAfter: time.Hour}
	t.Cleanup(func() { c.Close() })
	return c
}

// waitTask waits for the task to finish (30s safety net).
func waitTask(t *testing.T, c *Coordinator, id string) TaskStatus {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := c.Wait(ctx, id)
	if err != nil {
		t.Fatalf("task %s not done: %v; summary %q", id, err, st.Summary)
	}
	return st
}

// waitFor polls the task's status until cond holds (30s safety net).
func waitFor(t *testing.T, c *Coordinator, id string, what string, cond func(TaskStatus) bool) TaskStatus {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, _ := c.Task(id)
		if cond(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("task %s: no %s after 30s; summary %q", id, what, st.Summary)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		c.Wait(ctx, id)
		cancel()
	}
}

// TestClusterPurgeOrder_C16: a cluster purge reaches every L2 before any
// L1, and an L2 that fails keeps the L1 nodes from being purged.
func TestClusterPurgeOrder_C16(t *testing.T) {
	ev := &events{}
	l2a, l2b := newFakeNode(t, "l2-a", ev), newFakeNode(t, "l2-b", ev)
	l1a, l1b := newFakeNode(t, "l1-a", ev), newFakeNode(t, "l1-b", ev)
	l2b.release = make(chan struct{}) // l2-b holds its purge until released
	c := newCoordinator(t, l1a.node(TierL1, "eu"), l2a.node(TierL2, "eu"), l1b.node(TierL1, "ap"), l2b.node(TierL2, "ap"))

	st, err := c.Purge(PurgeRequest{URLs: []string{"http://cdn.test/a", "http://cdn.test/b"}})
	if err != nil {
		t.Fatal(err)
	}
	// l2-a finishes; the L1 nodes, of every region, wait for l2-b.
	waitFor(t, c, st.ID, "l2-a ok", func(st TaskStatus) bool { return st.Nodes[1].State == NodeOK })
	mid, _ := c.Task(st.ID)
	for _, i := range []int{0, 2} {
		if n := mid.Nodes[i]; n.State != NodeWaiting || !strings.Contains(n.Verdict, "waiting for l2-a, l2-b") {
			t.Errorf("%s while l2-b purges: %s %q, want waiting for both L2", n.ID, n.State, n.Verdict)
		}
	}
	close(l2b.release)
	st = waitTask(t, c, st.ID)
	if st.State != TaskOK {
		t.Fatalf("state %q, summary %q", st.State, st.Summary)
	}
	log := ev.list()
	last2 := max(slices.Index(log, "done l2-a"), slices.Index(log, "done l2-b"))
	for _, l1 := range []string{"submit l1-a", "submit l1-b"} {
		if i := slices.Index(log, l1); i < last2 || last2 < 0 {
			t.Errorf("events %q: %q before both L2 purges were done", log, l1)
		}
	}

	// An L2 that refuses: the L1 nodes are skipped, naming it.
	l2a.refuse = `"http://cdn.test/a": no domain of this edge serves host "cdn.test"`
	st, err = c.Purge(PurgeRequest{URLs: []string{"http://cdn.test/a"}})
	if err != nil {
		t.Fatal(err)
	}
	st = waitTask(t, c, st.ID)
	if st.State != TaskFailed || st.Nodes[1].State != NodeFailed || !strings.Contains(st.Nodes[1].Verdict, "refused the task") ||
		!strings.Contains(st.Nodes[1].Verdict, "no domain of this edge serves") {
		t.Errorf("l2-a: %s %q; want failed, refused, with the node's reason", st.Nodes[1].State, st.Nodes[1].Verdict)
	}
	for _, i := range []int{0, 2} {
		if n := st.Nodes[i]; n.State != NodeSkipped || !strings.Contains(n.Verdict, "l2-a (failed)") {
			t.Errorf("%s: %s %q; want skipped naming l2-a", n.ID, n.State, n.Verdict)
		}
	}
	if diff := slices.Compare(st.FailedNodes, []string{"l1-a", "l2-a", "l1-b"}); diff != 0 {
		t.Errorf("failed nodes %q", st.FailedNodes)
	}
}

// TestClusterPrefetchLagging_C16: a node whose task does not progress is
// reported lagging with the URL and the node's error; an L1 of another
// region completes meanwhile, the L1 of the lagging L2's region waits; a
// release lets everything complete.
func TestClusterPrefetchLagging_C16(t *testing.T) {
	ev := &events{}
	l2sg, l1sg, l1eu := newFakeNode(t, "l2-sg", ev), newFakeNode(t, "l1-sg", ev), newFakeNode(t, "l1-eu", ev)
	l2sg.release = make(chan struct{})
	l2sg.itemErr = "no response: timed out after 1s (0 bytes received) (retrying in 500ms)"
	c := newCoordinator(t, l2sg.node(TierL2, "ap"), l1sg.node(TierL1, "ap"), l1eu.node(TierL1, "eu"))
	c.LagAfter = 50 * time.Millisecond

	st, err := c.Prefetch(PrefetchRequest{URLs: []string{"http://cdn.test/a.css", "http://cdn.test/big.zip"}})
	if err != nil {
		t.Fatal(err)
	}
	st = waitFor(t, c, st.ID, "lagging l2-sg and l1-eu ok", func(st TaskStatus) bool {
		return len(st.Lagging) == 1 && st.Nodes[0].Succeeded == 1 && st.Nodes[2].State == NodeOK
	})
	sg := st.Nodes[0]
	for _, want := range []string{"LAGGING: 50% (1/2), no progress for", "last error on http://cdn.test/big.zip: no response: timed out after 1s"} {
		if !strings.Contains(sg.Verdict, want) {
			t.Errorf("l2-sg verdict %q, want %q in it", sg.Verdict, want)
		}
	}
	if st.Lagging[0] != "l2-sg" || st.Nodes[1].State != NodeWaiting || !strings.Contains(st.Nodes[1].Verdict, "held up by l2-sg (lagging)") {
		t.Errorf("lagging %q; l1-sg %s %q", st.Lagging, st.Nodes[1].State, st.Nodes[1].Verdict)
	}
	close(l2sg.release)
	st = waitTask(t, c, st.ID)
	if st.State != TaskOK || len(st.Lagging) != 0 {
		t.Errorf("after release: state %q lagging %q summary %q", st.State, st.Lagging, st.Summary)
	}
	log := ev.list()
	if slices.Index(log, "submit l1-sg") < slices.Index(log, "done l2-sg") {
		t.Errorf("events %q: l1-sg started before l2-sg was done", log)
	}
}

// TestClusterUnreachableRetries_C16: calls to a node that fails are
// retried with backoff and the status says so; a node never reachable
// fails at its deadline, naming the error; a node that forgot its task
// gets it again.
func TestClusterUnreachableRetries_C16(t *testing.T) {
	ev := &events{}
	flaky, lost := newFakeNode(t, "flaky", ev), newFakeNode(t, "lost", ev)
	flaky.failSubmits = 3
	lost.loseOnce = true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	deadAddr := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused

	notStrata := httptest.NewServer(http.NotFoundHandler()) // a wrong admin URL
	defer notStrata.Close()
	c := newCoordinator(t, flaky.node(TierL2, ""), lost.node(TierL2, ""), Node{ID: "dead", Admin: deadAddr, Tier: TierL2},
		Node{ID: "wrong", Admin: notStrata.URL, Tier: TierL1})

	st, err := c.Prefetch(PrefetchRequest{URLs: []string{"http://cdn.test/a"}, NodeTimeout: Duration(300 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	st = waitTask(t, c, st.ID)
	if n := st.Nodes[0]; n.State != NodeOK {
		t.Errorf("flaky: %s %q, want ok after retries", n.State, n.Verdict)
	}
	if n := st.Nodes[1]; n.State != NodeOK || lost.n != 2 {
		t.Errorf("lost: %s %q after %d submissions, want ok after 2", n.State, n.Verdict, lost.n)
	}
	if n := st.Nodes[2]; n.State != NodeFailed || !strings.Contains(n.Verdict, "failed: unreachable; gave up after 300ms (") ||
		!strings.Contains(n.Verdict, "connection refused") {
		t.Errorf("dead: %s %q, want failed naming the refused connection", n.State, n.Verdict)
	}
	if n := st.Nodes[3]; n.State != NodeFailed || !strings.Contains(n.Verdict, "refused the task: POST "+notStrata.URL+"/edge/prefetch answered 404 Not Found") {
		t.Errorf("wrong: %s %q, want failed at once, naming the 404", n.State, n.Verdict)
	}
}

// TestClusterNodeTimeout_C16: a node whose task outlives its deadline ends
// timed out, with its progress, last error and the node's task URL.
func TestClusterNodeTimeout_C16(t *testing.T) {
	slow := newFakeNode(t, "slow", &events{})
	slow.release = make(chan struct{})
	slow.itemErr = "body cut after 10 bytes"
	c := newCoordinator(t, slow.node(TierL2, ""))
	st, err := c.Prefetch(PrefetchRequest{URLs: []string{"http://cdn.test/a", "http://cdn.test/b"}, NodeTimeout: Duration(200 * time.Millisecond)})
	if err != nil {
		t.Fatal(err)
	}
	st = waitTask(t, c, st.ID)
	n := st.Nodes[0]
	for _, want := range []string{"timed out after 200ms at 50% (1/2); last error on http://cdn.test/b: body cut after 10 bytes; the node's task may go on: " + slow.srv.URL + "/edge/tasks/task-slow-1"} {
		if n.State != NodeTimedOut || !strings.Contains(n.Verdict, want) {
			t.Errorf("slow: %s %q, want timed_out with %q", n.State, n.Verdict, want)
		}
	}
}
