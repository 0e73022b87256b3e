// Command s3load measures S3 throughput of one or more servers on this
// machine with the same lean client, and prints a table of medians with
// the ratio of the first server to the second.
//
// The client sends path-style requests signed with AWS SigV4 and
// UNSIGNED-PAYLOAD over plain HTTP with keep-alive connections, so the
// cost per request is the server's, not an SDK's. Every GET body is
// compared byte for byte with what was stored, and each PUT phase reads
// back the last object of every worker, so a server that answers fast
// with wrong or missing bytes fails instead of looking fast.
//
// Each phase runs one workload (op/size/concurrency) against one server
// until -duration passes or -max-ops operations were started, whichever
// comes first. Runs interleave the servers, and the table reports the
// median of -runs phases per row. Only loopback endpoints are accepted.
//
// On a shared machine other work skews throughput, so, given each
// server's PID (-pid), s3load also measures from /proc the server's CPU
// time and the load of every other process during each phase: it waits
// for a quiet machine before a phase, measures a disturbed phase again,
// both within a bounded time budget, and prints a second table of
// throughput per second of server CPU time.
//
// Usage:
//
//	s3load -target strata=http://127.0.0.1:9000 \
//	       -target versitygw=http://127.0.0.1:7070 \
//	       -access AK -secret SK
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// defaultWorkloads are the rows of the standard report.
const defaultWorkloads = "put/4KiB/8,get/4KiB/8,put/1MiB/4,get/1MiB/4,put/64MiB/2,get/64MiB/2"

// target is one server under test.
type target struct {
	name     string
	endpoint string
	pid      int // server process, for its CPU time; 0 if not given
	c        *client
}

// targetFlags collects repeated -target name=url flags.
type targetFlags []target

func (t *targetFlags) String() string {
	var parts []string
	for _, x := range *t {
		parts = append(parts, x.name+"="+x.endpoint)
	}
	return strings.Join(parts, ",")
}

func (t *targetFlags) Set(s string) error {
	name, endpoint, ok := strings.Cut(s, "=")
	if !ok || name == "" || endpoint == "" {
		return fmt.Errorf("want name=http://127.0.0.1:port, got %q", s)
	}
	for _, x := range *t {
		if x.name == name {
			return fmt.Errorf("target %q given twice", name)
		}
	}
	*t = append(*t, target{name: name, endpoint: endpoint})
	return nil
}

// pidFlags collects repeated -pid name=PID flags.
type pidFlags map[string]int

func (p pidFlags) String() string { return fmt.Sprint(map[string]int(p)) }

func (p pidFlags) Set(s string) error {
	name, num, ok := strings.Cut(s, "=")
	pid, err := strconv.Atoi(num)
	if !ok || name == "" || err != nil || pid <= 0 {
		return fmt.Errorf("want name=PID, got %q", s)
	}
	p[name] = pid
	return nil
}

// options are the parsed command line.
type options struct {
	targets     targetFlags
	access      string
	secret      string
	region      string
	bucket      string
	workloads   []workload
	runs        int
	lim         limits
	warmup      time.Duration
	sync        bool
	quietWait   time.Duration
	retryBusy   int
	noiseBudget time.Duration
	timeout     time.Duration
}

// parseFlags reads and checks the command line.
func parseFlags(args []string, stderr io.Writer) (*options, error) {
	fs := flag.NewFlagSet("s3load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := &options{}
	fs.Var(&o.targets, "target", "server to measure, name=http://127.0.0.1:port (repeat; ratio = first / second)")
	pids := pidFlags{}
	fs.Var(pids, "pid", "server process of a target, name=PID, to report throughput per server CPU-second (repeat)")
	fs.StringVar(&o.access, "access", os.Getenv("S3LOAD_ACCESS_KEY"), "access key (default $S3LOAD_ACCESS_KEY)")
	fs.StringVar(&o.secret, "secret", os.Getenv("S3LOAD_SECRET_KEY"), "secret key (default $S3LOAD_SECRET_KEY)")
	fs.StringVar(&o.region, "region", "us-east-1", "region to sign for")
	fs.StringVar(&o.bucket, "bucket", "s3load", "bucket to use (created if missing)")
	wl := fs.String("workloads", defaultWorkloads, "comma-separated op/size/concurrency rows")
	fs.IntVar(&o.runs, "runs", 3, "measured runs per row; the table shows their median")
	fs.DurationVar(&o.lim.duration, "duration", 4*time.Second, "length of one phase")
	fs.Int64Var(&o.lim.maxOps, "max-ops", 100000, "operations per phase at most")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "unmeasured phase per row and server before the runs (0: none)")
	fs.BoolVar(&o.sync, "sync", true, "flush dirty pages to disk (sync(2)) before each phase")
	fs.DurationVar(&o.quietWait, "quiet-wait", 5*time.Second, "before each phase, wait up to this long for other load on the machine to drop below 0.25 CPU (0: don't)")
	fs.IntVar(&o.retryBusy, "retry-busy", 2, "measure a phase again, up to this many times, when other load exceeded 0.25 CPU; the quietest try counts")
	fs.DurationVar(&o.noiseBudget, "noise-budget", 75*time.Second, "total time that -quiet-wait waits and -retry-busy retries may add to the run")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Minute, "stop everything after this long")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if len(o.targets) == 0 {
		return nil, errors.New("no -target given")
	}
	if o.access == "" || o.secret == "" {
		return nil, errors.New("-access and -secret are required")
	}
	if o.runs < 1 || o.lim.duration <= 0 || o.lim.maxOps < 1 {
		return nil, errors.New("-runs, -duration and -max-ops must be positive")
	}
	for name, pid := range pids {
		found := false
		for i := range o.targets {
			if o.targets[i].name == name {
				o.targets[i].pid, found = pid, true
			}
		}
		if !found {
			return nil, fmt.Errorf("-pid %s=%d: no -target named %s", name, pid, name)
		}
	}
	var err error
	if o.workloads, err = parseWorkloads(*wl); err != nil {
		return nil, err
	}
	return o, nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run is the whole program; it returns the exit code: 0 when every phase
// succeeded, 1 when some failed, 2 for a bad command line.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintln(stderr, "s3load:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()

	maxConc := 1
	for _, w := range o.workloads {
		maxConc = max(maxConc, w.conc)
	}
	for i := range o.targets {
		t := &o.targets[i]
		if t.c, err = newClient(t.endpoint, o.access, o.secret, o.region, maxConc*2); err != nil {
			fmt.Fprintf(stderr, "s3load: %s: %v\n", t.name, err)
			return 2
		}
		defer t.c.close()
	}

	pools := map[int64]*bodies{}
	for _, w := range o.workloads {
		if pools[w.size] == nil {
			pools[w.size] = newBodies(w.size)
		}
	}

	rep := newReport(o.workloads, o.targets)
	for _, t := range o.targets {
		if err := t.c.createBucket(ctx, o.bucket); err != nil {
			fmt.Fprintf(stderr, "s3load: %s: %v\n", t.name, err)
			return 1
		}
		for wi, w := range o.workloads {
			if err := prepare(ctx, t.c, o.bucket, w, pools[w.size]); err != nil {
				fmt.Fprintf(stderr, "s3load: %s: %v\n", t.name, err)
				rep.fail(wi, t.name, err)
			}
		}
	}

	if o.warmup > 0 {
		wlim := limits{duration: o.warmup, maxOps: o.lim.maxOps}
		for wi, w := range o.workloads {
			for _, t := range o.targets {
				if rep.failed(wi, t.name) {
					continue
				}
				if _, err := measure(ctx, t, o.bucket, w, pools[w.size], 0, wlim); err != nil {
					fmt.Fprintf(stderr, "warmup  %-18s %-10s FAIL: %v\n", w.label(), t.name, err)
					rep.fail(wi, t.name, err)
				}
			}
		}
	}

	rn := &runner{o: o, rep: rep, pools: pools, stderr: stderr, budget: o.noiseBudget}
	if !rn.runAll(ctx) {
		fmt.Fprintln(stderr, "s3load: stopped:", context.Cause(ctx))
		rep.print(stdout, o)
		return 1
	}
	rep.print(stdout, o)
	if rep.anyFailed() {
		return 1
	}
	return 0
}

// roundDur shortens a latency for display.
func roundDur(d time.Duration) time.Duration {
	switch {
	case d >= 100*time.Millisecond:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}
