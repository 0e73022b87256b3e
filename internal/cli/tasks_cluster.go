package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/strata-cdn/strata/internal/cluster"
)

// clusterTarget builds the target of a cluster task from the flags.
func (f *taskFlags) clusterTarget() cluster.Target {
	t := cluster.Target{Tier: f.tier, Region: f.region}
	for _, id := range strings.Split(f.nodes, ",") {
		if id = strings.TrimSpace(id); id != "" {
			t.Nodes = append(t.Nodes, id)
		}
	}
	return t
}

// submitClusterTask posts a cluster task to the coordinator at --admin,
// prints its ID and, with --wait, follows it, printing a line per node
// whenever that node's state changes. It returns the exit code: 1 names
// the nodes that failed, or (--wait-timeout) those not finished, lagging
// ones first.
func submitClusterTask(ctx context.Context, name, path string, body any, f *taskFlags, stdout, stderr io.Writer) int {
	c := newTaskClient(f)
	var acc cluster.Accepted
	if err := c.call(ctx, http.MethodPost, path, body, &acc, c.timeout); err != nil {
		fmt.Fprintf(stderr, "strata %s: %v\n", name, err)
		return ExitFail
	}
	if !f.asJSON {
		for _, w := range acc.Warnings {
			fmt.Fprintln(stderr, "warning:", w)
		}
	}
	if !f.wait {
		if f.asJSON {
			return printJSON(stdout, stderr, name, acc)
		}
		fmt.Fprintf(stdout, "cluster %s task %s started on %s; status: %s%s\n", acc.Kind, acc.ID, strings.Join(acc.Nodes, ", "), c.base, acc.StatusURL)
		return ExitOK
	}
	if !f.asJSON {
		fmt.Fprintf(stdout, "cluster %s task %s started on %s\n", acc.Kind, acc.ID, strings.Join(acc.Nodes, ", "))
	}
	wctx, cancel := f.waitContext(ctx)
	defer cancel()
	shown := map[string]string{} // node ID -> what its last line showed
	show := func(st cluster.TaskStatus) {
		if f.asJSON {
			return
		}
		for _, n := range st.Nodes {
			if k := nodeKey(n); shown[n.ID] != k {
				shown[n.ID] = k
				fmt.Fprintln(stdout, nodeLine(n))
			}
		}
	}
	st, err := followStatus(wctx, c, acc.StatusURL, func(st cluster.TaskStatus) bool {
		show(st)
		return st.Done
	})
	expired := err != nil && waitExpired(ctx, wctx)
	if err != nil && !expired {
		fmt.Fprintf(stderr, "strata %s: cluster task %s: %v\n", name, acc.ID, err)
		return ExitFail
	}
	if expired {
		// The last status may be a poll old: read it once more.
		var now cluster.TaskStatus
		if c.call(ctx, http.MethodGet, acc.StatusURL, nil, &now, c.timeout) == nil {
			st = now
			show(st)
		}
	}
	if f.asJSON {
		if code := printJSON(stdout, stderr, name, st); code != ExitOK {
			return code
		}
	}
	if expired {
		fmt.Fprintf(stderr, "strata %s: cluster task %s not finished after %v: %s\n", name, acc.ID, f.waitTimeout, unfinished(st))
		return ExitFail
	}
	if st.State != cluster.TaskOK {
		var bad []string
		for _, n := range st.Nodes {
			if n.State != cluster.NodeOK {
				bad = append(bad, n.ID+" ("+n.Verdict+")")
			}
		}
		fmt.Fprintf(stderr, "strata %s: cluster task %s failed on %s\n", name, acc.ID, strings.Join(bad, "; "))
		return ExitFail
	}
	if !f.asJSON {
		fmt.Fprintf(stdout, "cluster %s task %s: ok on every node (%d URLs)\n", acc.Kind, acc.ID, st.Total)
	}
	return ExitOK
}

// nodeKey is what a node's progress line depends on, less the clocks, so
// that a line is printed when something happened, not at every poll.
func nodeKey(n cluster.NodeStatus) string {
	return fmt.Sprintf("%s|%d|%d|%t|%t|%s", n.State, n.Succeeded, n.Failed, n.Lagging, n.Unreachable, n.LastError)
}

// nodeLine is one node's progress line: "l2-sg (l2, ap): LAGGING: …".
func nodeLine(n cluster.NodeStatus) string {
	where := n.Tier
	if n.Region != "" {
		where += ", " + n.Region
	}
	return fmt.Sprintf("%s (%s): %s", n.ID, where, n.Verdict)
}

// unfinished names the nodes of st not finished, lagging ones first, and
// those that failed.
func unfinished(st cluster.TaskStatus) string {
	var lag, other, failed []string
	for _, n := range st.Nodes {
		switch {
		case n.Lagging:
			lag = append(lag, n.ID+" ("+n.Verdict+")")
		case n.State == cluster.NodeWaiting || n.State == cluster.NodeSubmitting || n.State == cluster.NodeRunning:
			other = append(other, n.ID+" ("+n.Verdict+")")
		case n.State != cluster.NodeOK:
			failed = append(failed, n.ID+" ("+n.Verdict+")")
		}
	}
	var parts []string
	if len(lag) > 0 {
		parts = append(parts, "lagging: "+strings.Join(lag, "; "))
	}
	if len(other) > 0 {
		parts = append(parts, "unfinished: "+strings.Join(other, "; "))
	}
	if len(failed) > 0 {
		parts = append(parts, "failed: "+strings.Join(failed, "; "))
	}
	if len(parts) == 0 {
		return "no node reported"
	}
	return strings.Join(parts, "; ")
}
