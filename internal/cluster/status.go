package cluster

import (
	"fmt"
	"strings"
	"time"
)

// NodeState is the state of one node's part of a cluster task.
type NodeState string

// Node states. Waiting, submitting and running are not final; the others
// are.
const (
	// NodeWaiting: the node waits for the nodes before it (L2 before L1).
	NodeWaiting NodeState = "waiting"
	// NodeSubmitting: the coordinator is calling the node to start its
	// task, and calling again with backoff while it is unreachable.
	NodeSubmitting NodeState = "submitting"
	// NodeRunning: the node runs its task; the coordinator follows it.
	NodeRunning NodeState = "running"
	// NodeOK: the node's task finished and every URL is ok.
	NodeOK NodeState = "ok"
	// NodeFailed: URLs failed, the node refused the task, or it stayed
	// unreachable until its deadline.
	NodeFailed NodeState = "failed"
	// NodeTimedOut: the deadline passed before the node's task finished;
	// the task may go on on the node (its task_url says).
	NodeTimedOut NodeState = "timed_out"
	// NodeSkipped: a purge on an L2 failed, so the L1 nodes were not
	// purged (they would refill from the L2's old copy).
	NodeSkipped NodeState = "skipped"
)

// final reports whether s is a final state.
func (s NodeState) final() bool {
	return s == NodeOK || s == NodeFailed || s == NodeTimedOut || s == NodeSkipped
}

// TaskState is the state of a cluster task as a whole.
type TaskState string

// Task states.
const (
	TaskRunning TaskState = "running"
	TaskOK      TaskState = "ok"     // every node ok
	TaskFailed  TaskState = "failed" // done, and some node not ok
)

// URLState is a URL of a node's task that is running or failed.
type URLState struct {
	URL string `json:"url"`
	// Status is the HTTP status of the last attempt (prefetch).
	Status   int `json:"status,omitempty"`
	Attempts int `json:"attempts"`
	// For is how long the URL has been running, as the coordinator saw it.
	For   Duration `json:"for,omitempty"`
	Error string   `json:"error,omitempty"`
}

// maxListed bounds the running and failed URLs listed per node.
const maxListed = 20

// NodeStatus is one node's part of a cluster task.
type NodeStatus struct {
	ID     string    `json:"id"`
	Tier   string    `json:"tier"`
	Region string    `json:"region,omitempty"`
	Admin  string    `json:"admin"`
	State  NodeState `json:"state"`
	// WaitsFor lists the nodes this one waits for before it starts.
	WaitsFor []string `json:"waits_for,omitempty"`
	// TaskID and TaskURL are the node's own task, once it accepted it.
	TaskID  string `json:"task_id,omitempty"`
	TaskURL string `json:"task_url,omitempty"`
	// Started is when the node's turn came; Finished when it reached a
	// final state; Deadline is Started plus the node timeout.
	Started  time.Time `json:"started,omitzero"`
	Finished time.Time `json:"finished,omitzero"`
	Deadline time.Time `json:"deadline,omitzero"`
	// Total, Succeeded, Failed and Progress count the node's URLs.
	Total     int     `json:"total"`
	Succeeded int     `json:"succeeded"`
	Failed    int     `json:"failed"`
	Progress  float64 `json:"progress"`
	// LastProgress is when the node last finished a URL (or started);
	// SinceProgress is how long ago that is.
	LastProgress  time.Time `json:"last_progress,omitzero"`
	SinceProgress Duration  `json:"since_progress,omitempty"`
	// Running and Failures list URLs running and failed (at most 20 each;
	// MoreFailures counts the rest).
	Running      []URLState `json:"running,omitempty"`
	Failures     []URLState `json:"failures,omitempty"`
	MoreFailures int        `json:"more_failures,omitempty"`
	// LastError is the latest error seen on the node, LastErrorURL the URL
	// it concerns (empty for an error calling the node).
	LastError    string `json:"last_error,omitempty"`
	LastErrorURL string `json:"last_error_url,omitempty"`
	// Unreachable is set while calls to the node fail; FailedCalls counts
	// them in a row since UnreachableSince.
	Unreachable      bool      `json:"unreachable,omitempty"`
	UnreachableSince time.Time `json:"unreachable_since,omitzero"`
	FailedCalls      int       `json:"failed_calls,omitempty"`
	// Warning is a problem that does not stop the task (e.g. the admin
	// API answers as another node ID than configured).
	Warning string `json:"warning,omitempty"`
	// Lagging: not finished, and no progress for the coordinator's
	// lag_after.
	Lagging bool `json:"lagging"`
	// Verdict says in one line where the node stands and why.
	Verdict string `json:"verdict"`
}

// TaskStatus is a cluster task as GET /cluster/tasks/{id} reports it.
type TaskStatus struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// Coordinator is the node that runs the cluster task.
	Coordinator string `json:"coordinator"`
	Target      Target `json:"target"`
	// Order is the prefetch order; Mode the purge mode.
	Order    Order     `json:"order,omitempty"`
	Mode     string    `json:"mode,omitempty"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
	// Done is set once every node is in a final state.
	Done  bool      `json:"done"`
	State TaskState `json:"state"`
	// Total, Succeeded, Failed and Progress count URLs over every node.
	Total     int     `json:"total"`
	Succeeded int     `json:"succeeded"`
	Failed    int     `json:"failed"`
	Progress  float64 `json:"progress"`
	// Lagging and FailedNodes name the nodes lagging now and the nodes
	// that ended other than ok.
	Lagging     []string `json:"lagging,omitempty"`
	FailedNodes []string `json:"failed_nodes,omitempty"`
	Warnings    []string `json:"warnings,omitempty"`
	// Summary has one line per node: "<id>: <verdict>".
	Summary []string     `json:"summary"`
	Nodes   []NodeStatus `json:"nodes,omitempty"`
}

// nodeRun is the coordinator's record of one node's part of a task. The
// task's mutex guards it.
type nodeRun struct {
	node     Node
	waitsFor []int
	state    NodeState
	total    int // items expected, then as the node reports

	taskID      string
	started     time.Time
	finished    time.Time
	deadline    time.Time
	snap        edgeStatus // the node's last status
	progressAt  time.Time  // when the done count last changed (or started)
	runningSeen map[string]time.Time

	callErr     string // the last failed call
	unreachable time.Time
	failedCalls int

	reason  string // why the node failed, timed out or was skipped
	warning string
	done    chan struct{} // closed on a final state
}

// view returns the node's status at now.
func (r *nodeRun) view(now time.Time, lagAfter time.Duration, nodes []*nodeRun) NodeStatus {
	ns := NodeStatus{
		ID: r.node.ID, Tier: r.node.Tier, Region: r.node.Region, Admin: r.node.Admin,
		State: r.state, TaskID: r.taskID, Started: r.started, Finished: r.finished, Deadline: r.deadline,
		Total: r.total, Succeeded: r.snap.Succeeded, Failed: r.snap.Failed,
		LastProgress: r.progressAt, Warning: r.warning,
	}
	for _, j := range r.waitsFor {
		ns.WaitsFor = append(ns.WaitsFor, nodes[j].node.ID)
	}
	if r.taskID != "" {
		ns.TaskURL = taskURL(r.node, r.taskID)
	}
	if r.snap.Total > 0 {
		ns.Total = r.snap.Total
	}
	done := ns.Succeeded + ns.Failed
	switch {
	case ns.Total > 0:
		ns.Progress = float64(done) / float64(ns.Total)
	case r.snap.Done:
		ns.Progress = 1
	}
	if !r.unreachable.IsZero() {
		ns.Unreachable, ns.UnreachableSince, ns.FailedCalls = true, r.unreachable, r.failedCalls
	}
	for _, it := range r.snap.Items {
		switch it.State {
		case itemRunning:
			if len(ns.Running) < maxListed {
				us := URLState{URL: it.URL, Status: it.Status, Attempts: it.Attempts, Error: it.Error}
				if t, ok := r.runningSeen[it.URL]; ok {
					us.For = Duration(now.Sub(t))
				}
				ns.Running = append(ns.Running, us)
			}
			if it.Error != "" {
				ns.LastError, ns.LastErrorURL = it.Error, it.URL
			}
		case itemFailed:
			if len(ns.Failures) < maxListed {
				ns.Failures = append(ns.Failures, URLState{URL: it.URL, Status: it.Status, Attempts: it.Attempts, Error: it.Error})
			} else {
				ns.MoreFailures++
			}
			if ns.LastErrorURL == "" {
				ns.LastError, ns.LastErrorURL = it.Error, it.URL
			}
		}
	}
	if r.snap.Error != "" && ns.LastError == "" {
		ns.LastError = r.snap.Error
	}
	if r.callErr != "" && (ns.Unreachable || ns.LastError == "") {
		ns.LastError, ns.LastErrorURL = r.callErr, ""
	}
	if !r.progressAt.IsZero() && !r.state.final() {
		ns.SinceProgress = Duration(now.Sub(r.progressAt))
		ns.Lagging = r.state != NodeWaiting && lagAfter > 0 && now.Sub(r.progressAt) >= lagAfter
	}
	ns.Verdict = verdict(ns, r.reason, now)
	return ns
}

// verdict says in one line where a node stands and why.
func verdict(ns NodeStatus, reason string, now time.Time) string {
	count := fmt.Sprintf("%.0f%% (%d/%d)", 100*ns.Progress, ns.Succeeded+ns.Failed, ns.Total)
	var b strings.Builder
	switch ns.State {
	case NodeWaiting:
		fmt.Fprintf(&b, "waiting for %s to finish first", strings.Join(ns.WaitsFor, ", "))
	case NodeSubmitting, NodeRunning:
		switch {
		case ns.Lagging:
			fmt.Fprintf(&b, "LAGGING: %s, no progress for %s", count, human(time.Duration(ns.SinceProgress)))
		case ns.State == NodeSubmitting:
			b.WriteString("starting its task")
		default:
			b.WriteString("running: " + count)
		}
		switch {
		case ns.Unreachable:
			fmt.Fprintf(&b, "; unreachable for %s (%d failed calls, retrying until %s): %s",
				human(now.Sub(ns.UnreachableSince)), ns.FailedCalls,
				ns.Deadline.UTC().Format(time.RFC3339), ns.LastError)
		case ns.LastErrorURL != "":
			fmt.Fprintf(&b, "; last error on %s: %s", ns.LastErrorURL, ns.LastError)
		case len(ns.Running) > 0:
			r := ns.Running[0]
			fmt.Fprintf(&b, "; %s running for %s (attempt %d)", r.URL, human(time.Duration(r.For)), r.Attempts)
		}
	case NodeOK:
		fmt.Fprintf(&b, "ok: %s in %s", count, human(ns.Finished.Sub(ns.Started)))
	case NodeFailed, NodeTimedOut, NodeSkipped:
		switch {
		case reason != "":
			b.WriteString(reason)
		case len(ns.Failures) > 0:
			f := ns.Failures[0]
			fmt.Fprintf(&b, "failed: %d of %d URLs failed; %s", ns.Failed, ns.Total, f.URL)
			if f.Status != 0 {
				fmt.Fprintf(&b, " (status %d)", f.Status)
			}
			fmt.Fprintf(&b, ": %s", f.Error)
		default:
			b.WriteString("failed: " + ns.LastError)
		}
	}
	if ns.Warning != "" {
		b.WriteString(" (warning: " + ns.Warning + ")")
	}
	return b.String()
}

// summarize fills the task-wide fields of st from its nodes.
func summarize(st *TaskStatus) {
	byID := make(map[string]*NodeStatus, len(st.Nodes))
	for i := range st.Nodes {
		byID[st.Nodes[i].ID] = &st.Nodes[i]
	}
	st.Done = true
	for i := range st.Nodes {
		ns := &st.Nodes[i]
		st.Total += ns.Total
		st.Succeeded += ns.Succeeded
		st.Failed += ns.Failed
		if !ns.State.final() {
			st.Done = false
		}
		if ns.Lagging {
			st.Lagging = append(st.Lagging, ns.ID)
		}
		if ns.State.final() && ns.State != NodeOK {
			st.FailedNodes = append(st.FailedNodes, ns.ID)
		}
		// A waiting node names which of its predecessors holds it up.
		if ns.State == NodeWaiting {
			var holding []string
			for _, id := range ns.WaitsFor {
				if p := byID[id]; p != nil && p.Lagging {
					holding = append(holding, id)
				}
			}
			if len(holding) > 0 {
				ns.Verdict += "; held up by " + strings.Join(holding, ", ") + " (lagging)"
			}
		}
	}
	if st.Total > 0 {
		st.Progress = float64(st.Succeeded+st.Failed) / float64(st.Total)
	}
	switch {
	case !st.Done:
		st.State = TaskRunning
	case len(st.FailedNodes) > 0:
		st.State = TaskFailed
	default:
		st.State = TaskOK
		st.Progress = 1
	}
	st.Summary = make([]string, len(st.Nodes))
	for i, ns := range st.Nodes {
		st.Summary[i] = ns.ID + ": " + ns.Verdict
	}
}

// human rounds d for a message: milliseconds under a second, whole
// seconds above.
func human(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
