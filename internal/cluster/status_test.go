package cluster

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestAggregate_C16: a cluster task's status names the lagging node, its
// progress, how long it has not progressed, and the URL and reason of its
// last error; a waiting L1 says which lagging L2 holds it up; finished
// nodes say how they ended.
func TestAggregate_C16(t *testing.T) {
	t0 := time.Date(2025, 1, 2, 3, 0, 0, 0, time.UTC)
	now := t0.Add(15 * time.Minute)
	l2sg := &nodeRun{
		node: Node{ID: "l2-sg", Admin: "http://10.0.0.4:9090", Tier: TierL2, Region: "ap"}, state: NodeRunning,
		taskID: "prefetch-1", started: t0, deadline: t0.Add(time.Hour), total: 50, progressAt: t0.Add(3 * time.Minute),
		snap: edgeStatus{Node: "l2-sg", Total: 50, Succeeded: 39, Items: []edgeItem{
			{URL: "http://cdn.test/a", State: "ok", Attempts: 1},
			{URL: "http://cdn.test/big.zip", State: "running", Attempts: 3, Error: "no response: timed out after 1m0s (0 bytes received) (retrying in 2s)"},
		}},
		runningSeen: map[string]time.Time{"http://cdn.test/big.zip": t0.Add(2 * time.Minute)},
	}
	l1eu := &nodeRun{
		node: Node{ID: "l1-eu", Admin: "http://10.0.0.1:9090", Tier: TierL1, Region: "eu"}, state: NodeOK,
		taskID: "prefetch-2", started: t0, finished: t0.Add(1500 * time.Millisecond), total: 50, progressAt: t0.Add(time.Second),
		snap: edgeStatus{Node: "l1-eu", Total: 50, Succeeded: 50, Done: true},
	}
	l1sg := &nodeRun{
		node: Node{ID: "l1-sg", Admin: "http://10.0.0.2:9090", Tier: TierL1, Region: "ap"}, state: NodeWaiting,
		waitsFor: []int{0}, total: 50,
	}
	l2x := &nodeRun{
		node: Node{ID: "l2-x", Admin: "http://10.0.0.9:9090", Tier: TierL2}, state: NodeSubmitting,
		started: t0.Add(10 * time.Minute), deadline: t0.Add(40 * time.Minute), progressAt: t0.Add(10 * time.Minute), total: 50,
		unreachable: t0.Add(10 * time.Minute), failedCalls: 7, callErr: "POST http://10.0.0.9:9090/edge/prefetch: dial tcp 10.0.0.9:9090: connect: connection refused",
	}
	l2bad := &nodeRun{
		node: Node{ID: "l2-bad", Admin: "http://10.0.0.8:9090", Tier: TierL2}, state: NodeFailed,
		taskID: "prefetch-3", started: t0, finished: t0.Add(time.Minute), total: 2,
		snap: edgeStatus{Total: 2, Succeeded: 1, Failed: 1, Done: true, Items: []edgeItem{
			{URL: "http://cdn.test/a", State: "ok", Attempts: 1},
			{URL: "http://cdn.test/missing", State: "failed", Status: 404, Attempts: 1, Error: "edge answered 404: Not Found"},
		}},
	}
	nodes := []*nodeRun{l2sg, l1eu, l1sg, l2x, l2bad}
	st := TaskStatus{ID: "cluster-prefetch-1", Kind: KindPrefetch}
	for _, r := range nodes {
		st.Nodes = append(st.Nodes, r.view(now, time.Minute, nodes))
	}
	summarize(&st)

	want := []string{
		"l2-sg: LAGGING: 78% (39/50), no progress for 12m0s; last error on http://cdn.test/big.zip: no response: timed out after 1m0s (0 bytes received) (retrying in 2s)",
		"l1-eu: ok: 100% (50/50) in 2s",
		"l1-sg: waiting for l2-sg to finish first; held up by l2-sg (lagging)",
		"l2-x: LAGGING: 0% (0/50), no progress for 5m0s; unreachable for 5m0s (7 failed calls, retrying until 2025-01-02T03:40:00Z): POST http://10.0.0.9:9090/edge/prefetch: dial tcp 10.0.0.9:9090: connect: connection refused",
		"l2-bad: failed: 1 of 2 URLs failed; http://cdn.test/missing (status 404): edge answered 404: Not Found",
	}
	if diff := cmp.Diff(want, st.Summary); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"l2-sg", "l2-x"}, st.Lagging); diff != "" {
		t.Errorf("lagging (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"l2-bad"}, st.FailedNodes); diff != "" {
		t.Errorf("failed nodes (-want +got):\n%s", diff)
	}
	if st.Done || st.State != TaskRunning {
		t.Errorf("done %v state %q, want a running task", st.Done, st.State)
	}
	if got, want := st.Total, 202; got != want {
		t.Errorf("total %d, want %d", got, want)
	}
	sg := st.Nodes[0]
	if !sg.Lagging || time.Duration(sg.SinceProgress) != 12*time.Minute || sg.LastErrorURL != "http://cdn.test/big.zip" ||
		sg.TaskURL != "http://10.0.0.4:9090/edge/tasks/prefetch-1" || len(sg.Running) != 1 || time.Duration(sg.Running[0].For) != 13*time.Minute {
		t.Errorf("l2-sg status: %+v", sg)
	}
	if st.Nodes[1].Lagging || st.Nodes[2].Lagging {
		t.Errorf("a finished or waiting node is lagging: %+v", st.Nodes[1:3])
	}

	// Not yet lagging: progress a moment ago; a running URL without error
	// is named with how long it runs.
	l2sg.progressAt = now.Add(-10 * time.Second)
	l2sg.snap.Items[1].Error = ""
	v := l2sg.view(now, time.Minute, nodes)
	if want := "running: 78% (39/50); http://cdn.test/big.zip running for 13m0s (attempt 3)"; v.Lagging || v.Verdict != want {
		t.Errorf("verdict %q (lagging %v), want %q", v.Verdict, v.Lagging, want)
	}
}

func TestAggregateDone_C16(t *testing.T) {
	st := TaskStatus{Nodes: []NodeStatus{
		{ID: "a", State: NodeOK, Total: 2, Succeeded: 2},
		{ID: "b", State: NodeOK, Total: 2, Succeeded: 2},
	}}
	summarize(&st)
	if !st.Done || st.State != TaskOK || st.Progress != 1 {
		t.Errorf("all ok: done %v state %q progress %v", st.Done, st.State, st.Progress)
	}
	st = TaskStatus{Nodes: []NodeStatus{
		{ID: "a", State: NodeOK, Total: 2, Succeeded: 2},
		{ID: "b", State: NodeSkipped, Total: 2, Verdict: "skipped: …"},
	}}
	summarize(&st)
	if !st.Done || st.State != TaskFailed || !strings.HasPrefix(st.Summary[1], "b: skipped") {
		t.Errorf("one skipped: done %v state %q summary %q", st.Done, st.State, st.Summary)
	}
}

func TestBackoff(t *testing.T) {
	for _, tt := range []struct {
		n    int
		want time.Duration
	}{{1, time.Second}, {2, 2 * time.Second}, {5, 16 * time.Second}, {6, 30 * time.Second}, {1000, 30 * time.Second}} {
		if got := backoff(time.Second, tt.n); got != tt.want {
			t.Errorf("backoff(1s, %d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}
