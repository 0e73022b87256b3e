package edge

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"sync"
	"time"
)

// Defaults of a zero TasksOptions.
const (
	// DefaultTaskHistory is how many finished tasks a Tasks keeps.
	DefaultTaskHistory = 100
	// DefaultRetryBackoff is the wait before a prefetch's first retry; it
	// doubles before each further one.
	DefaultRetryBackoff = 500 * time.Millisecond
	// MaxTaskURLs bounds the URLs of one task.
	MaxTaskURLs = 10000
)

// ErrTasksClosed is returned when a task is submitted after Close.
var ErrTasksClosed = errors.New("edge: task manager is closed")

// ErrInvalidTask wraps every reason a purge or prefetch request is refused
// (the admin API answers 400 with it).
var ErrInvalidTask = errors.New("invalid task")

// TaskKind names what a task does.
type TaskKind string

// Task kinds.
const (
	KindPurge    TaskKind = "purge"
	KindPrefetch TaskKind = "prefetch"
)

// ItemState is the state of one URL (or prefix, or domain) of a task.
type ItemState string

// Item states: pending until a worker takes it, running while it is worked
// on (across retries), then ok or failed.
const (
	ItemPending ItemState = "pending"
	ItemRunning ItemState = "running"
	ItemOK      ItemState = "ok"
	ItemFailed  ItemState = "failed"
)

// Duration is a time.Duration that reads and writes JSON as a Go duration
// string ("1.5s").
type Duration time.Duration

// MarshalJSON writes d as a string like "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string ("30s") or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err2 := json.Unmarshal(b, &secs); err2 != nil {
			return fmt.Errorf("duration: want a string like \"30s\" or a number of seconds, got %s", b)
		}
		if secs != secs || secs > float64(math.MaxInt64/int64(time.Second)) || secs < float64(math.MinInt64/int64(time.Second)) {
			return fmt.Errorf("duration: %s seconds is out of range", b)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// TaskItem is the progress of one URL of a task (or the prefix or domain
// of a purge by prefix or domain).
type TaskItem struct {
	URL   string    `json:"url"`
	State ItemState `json:"state"`
	// Status is the status of the last response (prefetch).
	Status int `json:"status,omitempty"`
	// XCache is the edge's X-Cache of the last response (prefetch).
	XCache string `json:"x_cache,omitempty"`
	// Bytes is the body length of the last response (prefetch).
	Bytes int64 `json:"bytes,omitempty"`
	// Entries is the number of cache entries deleted (purge, mode delete).
	Entries int `json:"entries,omitempty"`
	// Attempts counts the attempts made so far.
	Attempts int `json:"attempts"`
	// Duration is the time spent on the item, over every attempt.
	Duration Duration `json:"duration"`
	// Error says why the last attempt failed.
	Error string `json:"error,omitempty"`
}

// TaskStatus is a snapshot of a task, as the status endpoint reports it.
type TaskStatus struct {
	ID   string   `json:"id"`
	Kind TaskKind `json:"kind"`
	// Node is the NodeID of the edge that runs the task.
	Node string `json:"node"`
	// Mode is the purge mode (purge tasks only).
	Mode     PurgeMode `json:"mode,omitempty"`
	Created  time.Time `json:"created"`
	Finished time.Time `json:"finished,omitzero"`
	// Done is set once every item is ok or failed. Canceled is set too
	// when items failed because the node shut down meanwhile.
	Done     bool `json:"done"`
	Canceled bool `json:"canceled,omitempty"`
	// Total, Succeeded and Failed count the items.
	Total     int `json:"total"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	// Progress is the fraction of items finished, 0..1.
	Progress float64 `json:"progress"`
	// Error is a task-level problem (e.g. stale marks not persisted).
	Error string `json:"error,omitempty"`
	// Items has one entry per URL (or the one prefix or domain); list
	// views leave it out.
	Items []TaskItem `json:"items,omitempty"`
}

// TasksOptions configure a Tasks.
type TasksOptions struct {
	// MarksPath is the file that keeps the stale marks of "stale" purges
	// across restarts. Empty keeps them in memory only.
	MarksPath string
	// History is how many finished tasks are kept for the status
	// endpoint; older ones are forgotten (running tasks always are kept).
	// If zero, DefaultTaskHistory.
	History int
	// RetryBackoff is the wait before a prefetch's first retry, doubled
	// before each further one. If zero, DefaultRetryBackoff.
	RetryBackoff time.Duration
	// Logger receives task failures. If nil, the Handler's Logger is used.
	Logger *slog.Logger
}

// Tasks runs purge and prefetch tasks on a Handler and keeps their status.
// Each task runs in goroutines of its own; Close cancels them and waits.
// The Handler's Close closes its Tasks first.
type Tasks struct {
	h    *Handler
	opts TasksOptions
	log  *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex // guards the fields below
	closed   bool
	tasks    map[string]*task
	finished []string // IDs of finished tasks still kept, oldest first

	saveMu sync.Mutex // one writer of the marks file at a time
}

// task is one task and its live status.
type task struct {
	mu   sync.Mutex // guards st
	st   TaskStatus
	done chan struct{} // closed when st.Done is set
}

// NewTasks returns the task manager of h, loading the stale marks kept in
// opts.MarksPath. A Handler has at most one.
func NewTasks(h *Handler, opts TasksOptions) (*Tasks, error) {
	h.init()
	if opts.History <= 0 {
		opts.History = DefaultTaskHistory
	}
	if opts.RetryBackoff <= 0 {
		opts.RetryBackoff = DefaultRetryBackoff
	}
	t := &Tasks{h: h, opts: opts, log: opts.Logger, tasks: make(map[string]*task)}
	if t.log == nil {
		t.log = h.log
	}
	h.mu.Lock()
	has := h.tasks != nil
	h.mu.Unlock()
	if has {
		return nil, errors.New("edge: the handler already has a task manager")
	}
	t.ctx, t.cancel = context.WithCancel(context.Background())
	if opts.MarksPath != "" {
		f, err := loadMarks(opts.MarksPath)
		if err != nil {
			return nil, err
		}
		for _, p := range h.marks.restore(f) {
			h.deletePrefix(p)
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.tasks != nil {
		return nil, errors.New("edge: the handler already has a task manager")
	}
	h.tasks = t
	return t, nil
}

// Close cancels the running tasks and waits for them. Their status stays
// readable. It is safe to call more than once.
func (t *Tasks) Close() error {
	t.mu.Lock()
	t.closed = true
	t.mu.Unlock()
	t.cancel()
	t.wg.Wait()
	return nil
}

// start registers a task with one item per target and runs it with run,
// which must finish every item (itemDone) before returning.
func (t *Tasks) start(kind TaskKind, mode PurgeMode, targets []string, run func(ctx context.Context, tk *task)) (TaskStatus, error) {
	tk := &task{done: make(chan struct{})}
	tk.st = TaskStatus{
		ID: newTaskID(kind), Kind: kind, Node: t.h.nodeID, Mode: mode,
		Created: time.Now().UTC(), Total: len(targets),
		Items: make([]TaskItem, len(targets)),
	}
	for i, u := range targets {
		tk.st.Items[i] = TaskItem{URL: u, State: ItemPending}
	}
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return TaskStatus{}, ErrTasksClosed
	}
	t.tasks[tk.st.ID] = tk
	t.wg.Add(1)
	t.mu.Unlock()
	snap := tk.status(true)
	go func() {
		defer t.wg.Done()
		run(t.ctx, tk)
		t.finish(tk)
	}()
	return snap, nil
}

// finish marks tk done and applies the history bound.
func (t *Tasks) finish(tk *task) {
	tk.mu.Lock()
	tk.st.Done = true
	tk.st.Finished = time.Now().UTC()
	for i := range tk.st.Items {
		// Items a canceled task never reached.
		if it := &tk.st.Items[i]; it.State == ItemPending || it.State == ItemRunning {
			it.State, it.Error = ItemFailed, "canceled: the node is shutting down"
			tk.st.Failed++
		}
	}
	// Items failed as the node shut down: the task did not run its course.
	tk.st.Canceled = t.ctx.Err() != nil && tk.st.Failed > 0
	id, failed := tk.st.ID, tk.st.Failed
	tk.mu.Unlock()
	close(tk.done)
	if failed > 0 {
		t.log.Warn("edge: task finished with failures", "task", id, "failed", failed)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.finished = append(t.finished, id)
	for len(t.finished) > t.opts.History {
		delete(t.tasks, t.finished[0])
		t.finished = t.finished[1:]
	}
}

// update changes item i of tk under its lock.
func (tk *task) update(i int, fn func(it *TaskItem)) {
	tk.mu.Lock()
	fn(&tk.st.Items[i])
	tk.mu.Unlock()
}

// itemDone records the end of item i: ok when err is nil.
func (tk *task) itemDone(i int, took time.Duration, err error) {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	it := &tk.st.Items[i]
	it.Duration = Duration(took)
	if err != nil {
		it.State, it.Error = ItemFailed, err.Error()
		tk.st.Failed++
		return
	}
	it.State, it.Error = ItemOK, ""
	tk.st.Succeeded++
}

// status returns a copy of the task's status; items only when withItems.
func (tk *task) status(withItems bool) TaskStatus {
	tk.mu.Lock()
	defer tk.mu.Unlock()
	st := tk.st
	switch {
	case st.Total > 0:
		st.Progress = float64(st.Succeeded+st.Failed) / float64(st.Total)
	case st.Done:
		st.Progress = 1
	}
	if withItems {
		st.Items = slices.Clone(st.Items)
	} else {
		st.Items = nil
	}
	return st
}

// Task returns the status of the task id, and false when it is unknown
// (never started here, or dropped from the history).
func (t *Tasks) Task(id string) (TaskStatus, bool) {
	t.mu.Lock()
	tk := t.tasks[id]
	t.mu.Unlock()
	if tk == nil {
		return TaskStatus{}, false
	}
	return tk.status(true), true
}

// Wait waits until task id is done or ctx ends, and returns its status.
func (t *Tasks) Wait(ctx context.Context, id string) (TaskStatus, error) {
	t.mu.Lock()
	tk := t.tasks[id]
	t.mu.Unlock()
	if tk == nil {
		return TaskStatus{}, fmt.Errorf("edge: unknown task %q", id)
	}
	select {
	case <-tk.done:
	case <-ctx.Done():
	}
	return tk.status(true), ctx.Err()
}

// List returns the kept tasks, newest first, without their items.
func (t *Tasks) List() []TaskStatus {
	t.mu.Lock()
	all := make([]*task, 0, len(t.tasks))
	for _, tk := range t.tasks {
		all = append(all, tk)
	}
	t.mu.Unlock()
	out := make([]TaskStatus, 0, len(all))
	for _, tk := range all {
		out = append(out, tk.status(false))
	}
	slices.SortFunc(out, func(a, b TaskStatus) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	return out
}

// newTaskID returns a fresh task ID: the kind and 12 random hex digits.
func newTaskID(kind TaskKind) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return string(kind) + "-" + hex.EncodeToString(b[:])
}
