package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/strata-cdn/strata/internal/edge"
)

// defaultAdmin is the admin API the task commands talk to when neither
// --admin nor STRATA_ADMIN says otherwise.
const defaultAdmin = "http://127.0.0.1:9090"

// taskFlags are the flags purge and prefetch share.
type taskFlags struct {
	admin       string
	wait        bool
	waitTimeout time.Duration // 0: wait until the task is done
	asJSON      bool
	file        string
	timeout     time.Duration // of each admin API call

	// Cluster tasks (tasks_cluster.go).
	cluster     bool
	tier        string
	region      string
	nodes       string // comma-separated node IDs
	nodeTimeout time.Duration
}

func (f *taskFlags) register(fs *flag.FlagSet) {
	admin := os.Getenv("STRATA_ADMIN")
	if admin == "" {
		admin = defaultAdmin
	}
	fs.StringVar(&f.admin, "admin", admin, "base `URL` of the node's admin API (default from STRATA_ADMIN)")
	fs.BoolVar(&f.wait, "wait", false, "wait for the task to finish, showing progress; exit 1 if any URL failed")
	fs.BoolVar(&f.asJSON, "json", false, "print the task's status as JSON")
	fs.StringVar(&f.file, "file", "", "read more URLs from `FILE`, one a line (- for standard input)")
	fs.DurationVar(&f.timeout, "api-timeout", 30*time.Second, "time limit of each admin API call")
	fs.DurationVar(&f.waitTimeout, "wait-timeout", 0, "with --wait, give up after `D` and exit 1 naming what is unfinished (0: until done)")
	fs.BoolVar(&f.cluster, "cluster", false, "run the task on the nodes of the cluster (cluster.nodes of the node at --admin), L2 before L1")
	fs.StringVar(&f.tier, "tier", "", "with --cluster: only the nodes of this tier (`l1` or l2)")
	fs.StringVar(&f.region, "region", "", "with --cluster: only the nodes of this `region`")
	fs.StringVar(&f.nodes, "nodes", "", "with --cluster: only these nodes (`IDs`, comma-separated)")
	fs.DurationVar(&f.nodeTimeout, "node-timeout", 0, "with --cluster: deadline of each node's part (0: the coordinator's cluster.node_timeout)")
}

// checkCluster reports cluster flags given without --cluster.
func (f *taskFlags) checkCluster() error {
	if !f.cluster && (f.tier != "" || f.region != "" || f.nodes != "" || f.nodeTimeout != 0) {
		return errors.New("--tier, --region, --nodes and --node-timeout need --cluster")
	}
	if f.nodeTimeout < 0 || f.waitTimeout < 0 {
		return errors.New("--node-timeout and --wait-timeout must not be negative")
	}
	return nil
}

// parseInterleaved parses flags that may come before or after the
// positional arguments and returns the positional ones. ok is false when
// parsing failed (code is then the exit code).
func parseInterleaved(fs *flag.FlagSet, args []string) (pos []string, code int, ok bool) {
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, ExitOK, false
			}
			return nil, ExitUsage, false
		}
		if fs.NArg() == 0 {
			return pos, 0, true
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// readURLFile returns the non-empty, non-comment lines of name ("-" is
// standard input).
func readURLFile(name string, stdin io.Reader) ([]string, error) {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		r = f
	}
	var out []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, l)
		}
	}
	return out, sc.Err()
}

// taskClient talks to the edge task API of one node.
type taskClient struct {
	base    string
	hc      *http.Client
	timeout time.Duration
	poll    time.Duration // the ?wait= of each status read
}

func newTaskClient(f *taskFlags) *taskClient {
	// A status read must come back well within --wait-timeout.
	poll := 2 * time.Second
	if f.waitTimeout > 0 {
		poll = max(min(poll, f.waitTimeout/4), 100*time.Millisecond)
	}
	return &taskClient{base: strings.TrimRight(f.admin, "/"), hc: &http.Client{}, timeout: f.timeout, poll: poll}
}

// call sends one request and decodes a 2xx JSON answer into out; an error
// answer becomes an error carrying the API's message.
func (c *taskClient) call(ctx context.Context, method, path string, body, out any, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("admin API at %s: %w", c.base, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("admin API at %s: reading the answer: %w", c.base, err)
	}
	if resp.StatusCode/100 != 2 {
		var ae edge.APIError
		if json.Unmarshal(raw, &ae) == nil && ae.Error != "" {
			return fmt.Errorf("admin API answered %s: %s", resp.Status, ae.Error)
		}
		return fmt.Errorf("admin API answered %s: %s", resp.Status, strings.TrimSpace(string(raw)))
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("admin API at %s: %w", c.base, err)
	}
	return nil
}

// submitTask posts a task, prints its ID and, with --wait, follows it to
// the end. It returns the exit code.
func submitTask(ctx context.Context, name, path string, body any, f *taskFlags, stdout, stderr io.Writer) int {
	c := newTaskClient(f)
	var acc edge.TaskAccepted
	if err := c.call(ctx, http.MethodPost, path, body, &acc, c.timeout); err != nil {
		fmt.Fprintf(stderr, "strata %s: %v\n", name, err)
		return ExitFail
	}
	if !f.wait {
		if f.asJSON {
			return printJSON(stdout, stderr, name, acc)
		}
		fmt.Fprintf(stdout, "%s task %s started (%d items); status: %s%s\n", acc.Kind, acc.ID, acc.Total, c.base, acc.StatusURL)
		return ExitOK
	}
	if !f.asJSON {
		fmt.Fprintf(stdout, "%s task %s started (%d items)\n", acc.Kind, acc.ID, acc.Total)
	}
	wctx, cancel := f.waitContext(ctx)
	defer cancel()
	st, err := c.follow(wctx, acc, func(st edge.TaskStatus) {
		if !f.asJSON {
			fmt.Fprintln(stdout, progressLine(st))
		}
	})
	if err != nil && waitExpired(ctx, wctx) {
		fmt.Fprintf(stderr, "strata %s: task %s not finished after %v: %s\n", name, acc.ID, f.waitTimeout, progressLine(st))
		return ExitFail
	}
	if err != nil {
		fmt.Fprintf(stderr, "strata %s: task %s: %v\n", name, acc.ID, err)
		return ExitFail
	}
	if f.asJSON {
		if code := printJSON(stdout, stderr, name, st); code != ExitOK {
			return code
		}
	} else {
		printFailures(stdout, st)
	}
	if st.Failed > 0 {
		return ExitFail
	}
	return ExitOK
}

// follow long-polls the task's status until it is done, calling show
// whenever the progress changed.
func (c *taskClient) follow(ctx context.Context, acc edge.TaskAccepted, show func(edge.TaskStatus)) (edge.TaskStatus, error) {
	last := ""
	return followStatus(ctx, c, acc.StatusURL, func(st edge.TaskStatus) bool {
		if line := progressLine(st); line != last {
			last = line
			show(st)
		}
		return st.Done
	})
}

// followStatus long-polls statusURL (an edge or a cluster task) until
// check, called with each status, reports it done, or ctx ends; it
// returns the last status read.
func followStatus[T any](ctx context.Context, c *taskClient, statusURL string, check func(T) bool) (T, error) {
	// The server answers as soon as the task is done.
	var last T
	for {
		var st T
		if err := c.call(ctx, http.MethodGet, statusURL+"?wait="+c.poll.String(), nil, &st, c.timeout+c.poll); err != nil {
			return last, err
		}
		last = st
		if check(st) {
			return st, nil
		}
		if err := ctx.Err(); err != nil {
			return st, err
		}
	}
}

// progressLine is one line of progress: how far, what failed so far, and
// which URLs are in progress, with their attempts and last error (C16: the
// status says which URL lags and why).
func progressLine(st edge.TaskStatus) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %3.0f%% (%d/%d done, %d ok, %d failed)", st.Node, st.ID, 100*st.Progress,
		st.Succeeded+st.Failed, st.Total, st.Succeeded, st.Failed)
	if st.Done {
		b.WriteString(" finished")
		if st.Canceled {
			b.WriteString(" (canceled: the node shut down)")
		}
		return b.String()
	}
	n := 0
	for _, it := range st.Items {
		if it.State != edge.ItemRunning {
			continue
		}
		if n == 3 {
			b.WriteString(", ...")
			break
		}
		if n == 0 {
			b.WriteString("; running: ")
		} else {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s (attempt %d", it.URL, it.Attempts)
		if it.Error != "" {
			fmt.Fprintf(&b, ", last error: %s", it.Error)
		}
		b.WriteString(")")
		n++
	}
	return b.String()
}

// printFailures lists the failed items of a finished task.
func printFailures(w io.Writer, st edge.TaskStatus) {
	if st.Error != "" {
		fmt.Fprintf(w, "warning: %s\n", st.Error)
	}
	for _, it := range st.Items {
		if it.State != edge.ItemFailed {
			continue
		}
		status := ""
		if it.Status != 0 {
			status = fmt.Sprintf(" status %d,", it.Status)
		}
		fmt.Fprintf(w, "FAILED %s:%s %d attempt(s), %v: %s\n", it.URL, status, it.Attempts, time.Duration(it.Duration).Round(time.Millisecond), it.Error)
	}
}

// waitContext bounds a --wait by --wait-timeout.
func (f *taskFlags) waitContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if f.waitTimeout > 0 {
		return context.WithTimeout(ctx, f.waitTimeout)
	}
	return context.WithCancel(ctx)
}

// waitExpired reports whether wctx ended by --wait-timeout rather than
// the command being interrupted.
func waitExpired(ctx, wctx context.Context) bool {
	return ctx.Err() == nil && errors.Is(wctx.Err(), context.DeadlineExceeded)
}

func printJSON(stdout, stderr io.Writer, name string, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "strata %s: %v\n", name, err)
		return ExitFail
	}
	return ExitOK
}
