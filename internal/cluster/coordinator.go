package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of a zero Coordinator.
const (
	// DefaultCallTimeout bounds each admin API call to a node.
	DefaultCallTimeout = 10 * time.Second
	// DefaultNodeTimeout bounds one node's part of a task.
	DefaultNodeTimeout = 30 * time.Minute
	// DefaultLagAfter is how long without progress makes a node lagging.
	DefaultLagAfter = time.Minute
	// DefaultRetryBackoff is the first wait before calling an unreachable
	// node again; it doubles up to MaxRetryBackoff.
	DefaultRetryBackoff = time.Second
	// MaxRetryBackoff bounds the wait between calls to an unreachable node.
	MaxRetryBackoff = 30 * time.Second
	// DefaultPollInterval is how often a node's task status is read while
	// it runs (a long poll: a finished task is seen at once).
	DefaultPollInterval = time.Second
	// DefaultHistory is how many finished cluster tasks are kept.
	DefaultHistory = 100
	// maxResubmits bounds how often a task a node forgot (it restarted) is
	// submitted to it again.
	maxResubmits = 3
)

// ErrClosed is returned when a task is submitted after Close.
var ErrClosed = errors.New("cluster: coordinator is closed")

// Coordinator runs cluster tasks: it submits one edge task per targeted
// node through the node's admin API, follows each, and keeps the
// aggregated status. Each task runs in goroutines of its own; Close
// cancels them and waits (the nodes' own tasks go on).
type Coordinator struct {
	// NodeID names the coordinating node in statuses.
	NodeID string
	// Nodes are the cluster's nodes, each with its admin API's base URL.
	Nodes []Node
	// Client makes the admin API calls. If nil, a client of its own.
	Client *http.Client
	// CallTimeout bounds each call. If zero, DefaultCallTimeout.
	CallTimeout time.Duration
	// NodeTimeout bounds one node's part of a task, from its turn (after
	// the nodes it waits for) to its end, retries included; a request may
	// set its own. If zero, DefaultNodeTimeout.
	NodeTimeout time.Duration
	// LagAfter: a running node that finished no URL for this long is
	// lagging. If zero, DefaultLagAfter.
	LagAfter time.Duration
	// RetryBackoff is the first wait before calling an unreachable node
	// again. If zero, DefaultRetryBackoff.
	RetryBackoff time.Duration
	// PollInterval is the long-poll wait of each status read. If zero,
	// DefaultPollInterval.
	PollInterval time.Duration
	// History is how many finished tasks are kept. If zero, DefaultHistory.
	History int
	// Logger receives node failures and task ends. If nil, discard.
	Logger *slog.Logger

	initOnce sync.Once
	log      *slog.Logger
	client   client
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup // one per running task

	mu       sync.Mutex // guards the fields below
	closed   bool
	tasks    map[string]*task
	finished []string // IDs of finished tasks still kept, oldest first
}

// task is one cluster task.
type task struct {
	id       string
	kind     Kind
	target   Target
	order    Order
	mode     string
	lagAfter time.Duration

	mu       sync.Mutex // guards created, finished, warnings and every nodeRun
	created  time.Time
	finished time.Time
	warnings []string
	nodes    []*nodeRun
	done     chan struct{} // closed when every node is final
}

func (c *Coordinator) init() {
	c.initOnce.Do(func() {
		c.log = c.Logger
		if c.log == nil {
			c.log = slog.New(slog.DiscardHandler)
		}
		hc := c.Client
		if hc == nil {
			hc = &http.Client{}
		}
		c.client = client{hc: hc}
		c.tasks = make(map[string]*task)
		c.ctx, c.cancel = context.WithCancel(context.Background())
	})
}

// Close cancels the running tasks (not the nodes' own) and waits for
// them. Their status stays readable. It is safe to call more than once.
func (c *Coordinator) Close() error {
	c.init()
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
	return nil
}

// Purge starts a cluster purge and returns its first status.
func (c *Coordinator) Purge(req PurgeRequest) (TaskStatus, error) {
	body, items, err := req.check()
	if err != nil {
		return TaskStatus{}, err
	}
	mode := req.Mode
	if mode == "" {
		mode = "delete"
	}
	return c.start(KindPurge, req.Target, "", mode, body, items, time.Duration(req.NodeTimeout))
}

// Prefetch starts a cluster prefetch and returns its first status.
func (c *Coordinator) Prefetch(req PrefetchRequest) (TaskStatus, error) {
	body, err := req.check()
	if err != nil {
		return TaskStatus{}, err
	}
	order := req.Order
	if order == "" {
		order = OrderTiers
	}
	return c.start(KindPrefetch, req.Target, order, "", body, len(req.URLs), time.Duration(req.NodeTimeout))
}

// start plans a task on the targeted nodes and runs it.
func (c *Coordinator) start(kind Kind, target Target, order Order, mode string, body any, items int, nodeTimeout time.Duration) (TaskStatus, error) {
	c.init()
	nodes, err := Select(c.Nodes, target)
	if err != nil {
		return TaskStatus{}, err
	}
	if nodeTimeout <= 0 {
		nodeTimeout = orDefault(c.NodeTimeout, DefaultNodeTimeout)
	}
	deps := Plan(kind, order, nodes)
	tk := &task{
		id: newTaskID(kind), kind: kind, target: target, order: order, mode: mode,
		lagAfter: orDefault(c.LagAfter, DefaultLagAfter),
		created:  time.Now().UTC(), done: make(chan struct{}),
	}
	for i, n := range nodes {
		tk.nodes = append(tk.nodes, &nodeRun{node: n, waitsFor: deps[i], state: NodeWaiting, total: items, done: make(chan struct{})})
	}
	if kind == KindPurge {
		tk.warnings = purgeWarnings(c.Nodes, nodes)
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return TaskStatus{}, ErrClosed
	}
	c.tasks[tk.id] = tk
	c.wg.Add(1)
	c.mu.Unlock()
	snap := c.status(tk, true)
	go func() {
		defer c.wg.Done()
		c.run(tk, body, nodeTimeout)
	}()
	return snap, nil
}

// purgeWarnings warns of a purge of L1 nodes that leaves L2 nodes out:
// the L1 nodes may refill from the L2 nodes' old copies.
func purgeWarnings(all, picked []Node) []string {
	var l1, l2Left []string
	for _, n := range all {
		in := slices.ContainsFunc(picked, func(p Node) bool { return p.ID == n.ID })
		switch {
		case in && n.Tier == TierL1:
			l1 = append(l1, n.ID)
		case !in && n.Tier == TierL2:
			l2Left = append(l2Left, n.ID)
		}
	}
	if len(l1) == 0 || len(l2Left) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("L1 nodes are purged but not L2 nodes %s: an L1 may refill from an L2's old copy; purge the L2 nodes too (a cluster purge reaches L2 before L1)",
		strings.Join(l2Left, ", "))}
}

// run runs every node's part and marks the task finished.
func (c *Coordinator) run(tk *task, body any, nodeTimeout time.Duration) {
	var wg sync.WaitGroup
	for _, r := range tk.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.runNode(tk, r, body, nodeTimeout)
		}()
	}
	wg.Wait()
	tk.mu.Lock()
	tk.finished = time.Now().UTC()
	tk.mu.Unlock()
	close(tk.done)
	st := c.status(tk, false)
	if st.State == TaskOK {
		c.log.Info("cluster: task finished", "task", tk.id, "kind", tk.kind, "nodes", len(st.Summary))
	} else {
		c.log.Warn("cluster: task finished with failures", "task", tk.id, "kind", tk.kind, "failed_nodes", st.FailedNodes)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.finished = append(c.finished, tk.id)
	for len(c.finished) > orDefault(c.History, DefaultHistory) {
		delete(c.tasks, c.finished[0])
		c.finished = c.finished[1:]
	}
}

// runNode runs one node's part: wait for its predecessors, submit, follow.
func (c *Coordinator) runNode(tk *task, r *nodeRun, body any, nodeTimeout time.Duration) {
	for _, j := range r.waitsFor {
		select {
		case <-tk.nodes[j].done:
		case <-c.ctx.Done():
			c.end(tk, r, NodeFailed, "canceled: the coordinator shut down before this node's turn")
			return
		}
	}
	if tk.kind == KindPurge {
		var bad []string
		tk.mu.Lock()
		for _, j := range r.waitsFor {
			if p := tk.nodes[j]; p.state != NodeOK {
				bad = append(bad, fmt.Sprintf("%s (%s)", p.node.ID, p.state))
			}
		}
		tk.mu.Unlock()
		if len(bad) > 0 {
			c.end(tk, r, NodeSkipped, fmt.Sprintf("skipped: the purge did not succeed on L2 %s, and this L1 would refill from an old copy there; purge again once it is fixed", strings.Join(bad, ", ")))
			return
		}
	}
	now := time.Now()
	tk.mu.Lock()
	r.state, r.started, r.deadline, r.progressAt = NodeSubmitting, now.UTC(), now.Add(nodeTimeout).UTC(), now
	tk.mu.Unlock()
	ctx, cancel := context.WithDeadline(c.ctx, now.Add(nodeTimeout))
	defer cancel()
	for resubmit := 0; ; resubmit++ {
		id, ok := c.submit(ctx, tk, r, body)
		if !ok {
			return
		}
		if c.follow(ctx, tk, r, id) {
			return
		}
		if resubmit == maxResubmits {
			c.end(tk, r, NodeFailed, fmt.Sprintf("failed: the node forgot its task %d times (restarting?); last: %s", maxResubmits+1, r.callErr))
			return
		}
		c.log.Warn("cluster: node lost its task; submitting it again", "task", tk.id, "node", r.node.ID, "node_task", id)
	}
}

// submit starts the node's task, calling again with backoff while the
// node is unreachable. It returns false once the node is final.
func (c *Coordinator) submit(ctx context.Context, tk *task, r *nodeRun, body any) (string, bool) {
	tk.mu.Lock()
	r.state = NodeSubmitting
	tk.mu.Unlock()
	for attempt := 1; ; attempt++ {
		acc, err := c.client.submit(ctx, r.node, tk.kind, body, orDefault(c.CallTimeout, DefaultCallTimeout))
		if err == nil {
			tk.mu.Lock()
			r.state, r.taskID, r.total = NodeRunning, acc.ID, acc.Total
			r.snap = edgeStatus{}
			r.unreachable, r.failedCalls, r.callErr = time.Time{}, 0, ""
			tk.mu.Unlock()
			return acc.ID, true
		}
		if ctx.Err() != nil {
			c.stopped(tk, r, err)
			return "", false
		}
		// A 404 here means no task API at that address (a wrong admin URL).
		var ce *callError
		if errors.As(err, &ce) && (ce.refused() || ce.Status == http.StatusNotFound) {
			c.end(tk, r, NodeFailed, "failed: the node refused the task: "+ce.Msg)
			return "", false
		}
		if !c.callFailed(ctx, tk, r, err) {
			c.stopped(tk, r, err)
			return "", false
		}
	}
}

// follow reads the node's task status until it is done (true) or the node
// no longer knows the task (false: submit it again).
func (c *Coordinator) follow(ctx context.Context, tk *task, r *nodeRun, id string) bool {
	poll := orDefault(c.PollInterval, DefaultPollInterval)
	for {
		began := time.Now()
		st, err := c.client.status(ctx, r.node, id, poll, orDefault(c.CallTimeout, DefaultCallTimeout))
		switch {
		case err == nil:
			if c.observe(tk, r, st) {
				return true
			}
			// The node holds a status read for up to poll; one that
			// answers at once must not be read in a busy loop.
			if rest := poll - time.Since(began); rest > 0 && !sleep(ctx, rest) {
				c.stopped(tk, r, nil)
				return true
			}
			continue
		case errors.Is(err, errLost):
			tk.mu.Lock()
			r.callErr = err.Error()
			tk.mu.Unlock()
			return false
		case ctx.Err() != nil:
			c.stopped(tk, r, err)
			return true
		}
		var ce *callError
		if errors.As(err, &ce) && ce.refused() {
			c.end(tk, r, NodeFailed, "failed: the node refused the status read: "+ce.Msg)
			return true
		}
		if !c.callFailed(ctx, tk, r, err) {
			c.stopped(tk, r, err)
			return true
		}
	}
}

// observe records a status of the node's task; it returns true when the
// task is done (the node is then final).
func (c *Coordinator) observe(tk *task, r *nodeRun, st edgeStatus) bool {
	now := time.Now()
	tk.mu.Lock()
	if st.Succeeded+st.Failed != r.snap.Succeeded+r.snap.Failed {
		r.progressAt = now
	}
	if r.runningSeen == nil {
		r.runningSeen = make(map[string]time.Time)
	}
	running := make(map[string]bool)
	for _, it := range st.Items {
		if it.State == itemRunning {
			running[it.URL] = true
			if _, ok := r.runningSeen[it.URL]; !ok {
				r.runningSeen[it.URL] = now
			}
		}
	}
	for u := range r.runningSeen {
		if !running[u] {
			delete(r.runningSeen, u)
		}
	}
	r.snap = st
	r.unreachable, r.failedCalls, r.callErr = time.Time{}, 0, ""
	if st.Node != "" && st.Node != r.node.ID {
		r.warning = fmt.Sprintf("the admin API at %s answers as node %q, not %q: check cluster.nodes", r.node.Admin, st.Node, r.node.ID)
	}
	tk.mu.Unlock()
	if !st.Done {
		return false
	}
	switch {
	case st.Canceled:
		c.end(tk, r, NodeFailed, fmt.Sprintf("failed: the node shut down during its task (%d of %d URLs ok)", st.Succeeded, st.Total))
	case st.Failed > 0:
		c.end(tk, r, NodeFailed, "")
	default:
		c.end(tk, r, NodeOK, "")
	}
	return true
}

// callFailed records a failed call and waits before the next one; it
// returns false when ctx ended meanwhile.
func (c *Coordinator) callFailed(ctx context.Context, tk *task, r *nodeRun, err error) bool {
	tk.mu.Lock()
	if r.unreachable.IsZero() {
		r.unreachable = time.Now().UTC()
	}
	r.failedCalls++
	r.callErr = err.Error()
	n := r.failedCalls
	tk.mu.Unlock()
	c.log.Debug("cluster: call to node failed", "task", tk.id, "node", r.node.ID, "calls", n, "err", err)
	return sleep(ctx, backoff(orDefault(c.RetryBackoff, DefaultRetryBackoff), n))
}

// stopped ends the node when its context ended: the coordinator closing,
// or the node's deadline.
func (c *Coordinator) stopped(tk *task, r *nodeRun, err error) {
	if c.ctx.Err() != nil {
		c.end(tk, r, NodeFailed, "canceled: the coordinator shut down; the node's own task may go on")
		return
	}
	tk.mu.Lock()
	v := r.view(time.Now(), 0, tk.nodes)
	state, limit := r.state, r.deadline.Sub(r.started)
	tk.mu.Unlock()
	if state == NodeSubmitting {
		msg := r.callErr
		if msg == "" && err != nil {
			msg = err.Error()
		}
		c.end(tk, r, NodeFailed, fmt.Sprintf("failed: unreachable; gave up after %s (%d failed calls): %s", human(limit), v.FailedCalls, msg))
		return
	}
	reason := fmt.Sprintf("timed out after %s at %.0f%% (%d/%d)", human(limit), 100*v.Progress, v.Succeeded+v.Failed, v.Total)
	if v.LastError != "" {
		if v.LastErrorURL != "" {
			reason += "; last error on " + v.LastErrorURL + ": " + v.LastError
		} else {
			reason += "; last error: " + v.LastError
		}
	} else if len(v.Running) > 0 {
		reason += "; still running " + v.Running[0].URL
	}
	reason += "; the node's task may go on: " + v.TaskURL
	c.end(tk, r, NodeTimedOut, reason)
}

// end puts the node in a final state.
func (c *Coordinator) end(tk *task, r *nodeRun, state NodeState, reason string) {
	tk.mu.Lock()
	if r.state.final() {
		tk.mu.Unlock()
		return
	}
	r.state, r.reason, r.finished = state, reason, time.Now().UTC()
	v := r.view(time.Now(), 0, tk.nodes)
	tk.mu.Unlock()
	close(r.done)
	if state != NodeOK {
		c.log.Warn("cluster: node did not complete its task", "task", tk.id, "node", r.node.ID, "state", state, "verdict", v.Verdict)
	}
}

// status returns the task's status; nodes' details only when withNodes.
func (c *Coordinator) status(tk *task, withNodes bool) TaskStatus {
	now := time.Now()
	tk.mu.Lock()
	st := TaskStatus{
		ID: tk.id, Kind: tk.kind, Coordinator: c.NodeID, Target: tk.target, Order: tk.order, Mode: tk.mode,
		Created: tk.created, Finished: tk.finished, Warnings: slices.Clone(tk.warnings),
		Nodes: make([]NodeStatus, len(tk.nodes)),
	}
	for i, r := range tk.nodes {
		st.Nodes[i] = r.view(now, tk.lagAfter, tk.nodes)
	}
	tk.mu.Unlock()
	summarize(&st)
	if !withNodes {
		st.Nodes = nil
	}
	return st
}

// Task returns the status of cluster task id, and false when it is unknown.
func (c *Coordinator) Task(id string) (TaskStatus, bool) {
	c.init()
	c.mu.Lock()
	tk := c.tasks[id]
	c.mu.Unlock()
	if tk == nil {
		return TaskStatus{}, false
	}
	return c.status(tk, true), true
}

// Wait waits until task id is done or ctx ends, and returns its status.
func (c *Coordinator) Wait(ctx context.Context, id string) (TaskStatus, error) {
	c.init()
	c.mu.Lock()
	tk := c.tasks[id]
	c.mu.Unlock()
	if tk == nil {
		return TaskStatus{}, fmt.Errorf("cluster: unknown task %q", id)
	}
	select {
	case <-tk.done:
	case <-ctx.Done():
	}
	return c.status(tk, true), ctx.Err()
}

// List returns the kept tasks, newest first, with their summaries but
// without the nodes' details.
func (c *Coordinator) List() []TaskStatus {
	c.init()
	c.mu.Lock()
	all := make([]*task, 0, len(c.tasks))
	for _, tk := range c.tasks {
		all = append(all, tk)
	}
	c.mu.Unlock()
	out := make([]TaskStatus, 0, len(all))
	for _, tk := range all {
		out = append(out, c.status(tk, false))
	}
	slices.SortFunc(out, func(a, b TaskStatus) int {
		if d := b.Created.Compare(a.Created); d != 0 {
			return d
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

// backoff is the wait after the n-th failed call in a row: first, doubled
// each time, at most MaxRetryBackoff.
func backoff(first time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < MaxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, MaxRetryBackoff)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// orDefault returns v, or def when v is zero or negative.
func orDefault[T time.Duration | int](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// newTaskID returns a fresh cluster task ID: "cluster-", the kind and 12
// random hex digits.
func newTaskID(kind Kind) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "cluster-" + string(kind) + "-" + hex.EncodeToString(b[:])
}
