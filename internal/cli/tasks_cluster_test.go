package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/cluster"
)

// TestClusterCommands_C16: --cluster submits to the coordinator at
// --admin; --wait prints a line per node and exits 1 naming a failed
// node; cluster flags without --cluster are usage errors.
func TestClusterCommands_C16(t *testing.T) {
	l2, l1 := newTaskNode(t), newTaskNode(t)
	c := &cluster.Coordinator{NodeID: "coord", PollInterval: 10 * time.Millisecond, RetryBackoff: 10 * time.Millisecond, Nodes: []cluster.Node{
		{ID: "cli-test-node", Admin: l1.admin.URL, Tier: cluster.TierL1, Region: "eu"},
		{ID: "l2", Admin: l2.admin.URL, Tier: cluster.TierL2, Region: "eu"},
	}}
	coord := httptest.NewServer(c.AdminHandler())
	t.Cleanup(func() { coord.Close(); c.Close() })
	run := func(args ...string) (int, string, string) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		var out, errb bytes.Buffer
		args = append([]string{args[0], "--admin", coord.URL}, args[1:]...)
		code := Main(ctx, args, &out, &errb)
		return code, out.String(), errb.String()
	}

	l2.xcache("/a")
	l1.xcache("/a")
	code, out, errs := run("purge", "--cluster", "--wait", "http://a.test/a")
	// Both nodes answer as "cli-test-node": the l2 entry gets a warning.
	if code != ExitOK || !strings.Contains(out, "cli-test-node (l1, eu): ok: 100% (1/1)") || !strings.Contains(out, `l2 (l2, eu): ok: 100% (1/1)`) ||
		!strings.Contains(out, `answers as node "cli-test-node", not "l2"`) || !strings.Contains(out, "ok on every node") {
		t.Errorf("purge --cluster --wait: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}
	if xc := l1.xcache("/a"); !strings.HasPrefix(xc, "MISS") {
		t.Errorf("l1 after the cluster purge: X-Cache %q, want MISS", xc)
	}

	code, out, errs = run("prefetch", "--cluster", "--tier", "l2", "--wait", "--retries", "0", "http://a.test/broken")
	if code != ExitFail || !strings.Contains(errs, "cluster task") || !strings.Contains(errs, "failed on l2 (failed: 1 of 1 URLs failed; http://a.test/broken (status 500)") ||
		strings.Contains(out, "cli-test-node (") {
		t.Errorf("prefetch --cluster --tier l2 of a broken URL: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}

	code, out, _ = run("prefetch", "--cluster", "--nodes", "l2", "http://a.test/b")
	if code != ExitOK || !strings.Contains(out, "cluster prefetch task cluster-prefetch-") || !strings.Contains(out, "started on l2; status: "+coord.URL+"/cluster/tasks/") {
		t.Errorf("prefetch --cluster without --wait: exit %d, stdout %q", code, out)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"purge", "--tier", "l2", "http://a.test/x"}, ExitUsage, "need --cluster"},
		{[]string{"prefetch", "--order", "parallel", "http://a.test/x"}, ExitUsage, "--order needs --cluster"},
		{[]string{"prefetch", "--cluster", "--order", "random", "http://a.test/x"}, ExitUsage, `--order "random"`},
		{[]string{"purge", "--cluster", "--region", "us", "http://a.test/x"}, ExitFail, "no node matches region us"},
	} {
		code, _, errs := run(tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want %d and %q", tc.args, code, errs, tc.code, tc.want)
		}
	}
}
