package main

import (
	"context"
	"fmt"
	"io"
	"time"
)

// runner drives the measured runs: every workload against every target,
// -runs times, each phase started on a quiet machine where possible and
// measured again when other work disturbed it.
type runner struct {
	o      *options
	rep    *report
	pools  map[int64]*bodies
	stderr io.Writer
	// budget is what is left of the time that waiting for quiet and
	// retrying disturbed phases may add, so that a busy machine delays
	// the run by a bounded amount.
	budget time.Duration
}

// runAll measures every row; it returns false when ctx ended first.
func (rn *runner) runAll(ctx context.Context) bool {
	o := rn.o
	for r := 1; r <= o.runs; r++ {
		for wi, w := range o.workloads {
			// Alternate which server goes first, so neither always
			// inherits the other's leftovers.
			order := make([]target, len(o.targets))
			copy(order, o.targets)
			if r%2 == 0 {
				for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
					order[i], order[j] = order[j], order[i]
				}
			}
			for _, t := range order {
				if ctx.Err() != nil {
					return false
				}
				if rn.rep.failed(wi, t.name) {
					continue
				}
				res, err := rn.phase(ctx, t, w, r)
				if err != nil {
					fmt.Fprintf(rn.stderr, "run %d/%d %-18s %-10s FAIL: %v\n", r, o.runs, w.label(), t.name, err)
					rn.rep.fail(wi, t.name, err)
					continue
				}
				cpu := ""
				if res.otherKnown {
					cpu = fmt.Sprintf(", CPU: server %.2fs, s3load %.2fs, others %.2f CPUs",
						res.cpu.Seconds(), res.clientCPU.Seconds(), res.other)
				}
				fmt.Fprintf(rn.stderr, "run %d/%d %-18s %-10s %10s  (%d ops in %.2fs, p50 %s, p99 %s%s)\n",
					r, o.runs, w.label(), t.name, formatRate(w, res.rate(w)),
					res.ops, res.elapsed.Seconds(), roundDur(res.p50), roundDur(res.p99), cpu)
				rn.rep.add(wi, t.name, res)
			}
		}
	}
	return ctx.Err() == nil
}

// phase measures w on t for run r. When other processes used more than
// quietBelow CPUs meanwhile, it measures again (-retry-busy times at most,
// within the budget) and keeps the least disturbed try.
func (rn *runner) phase(ctx context.Context, t target, w workload, r int) (result, error) {
	best, err := rn.try(ctx, t, w, r)
	if err != nil {
		return result{}, err
	}
	for retry := 1; retry <= rn.o.retryBusy; retry++ {
		if !best.otherKnown || best.other <= quietBelow || rn.budget <= 0 {
			break
		}
		start := time.Now()
		// A fresh key space per try keeps small PUTs creates, not
		// overwrites, as in the first try.
		res, err := rn.try(ctx, t, w, r+100*retry)
		rn.budget -= time.Since(start)
		if err != nil {
			return result{}, err
		}
		fmt.Fprintf(rn.stderr, "note: %s on %s measured again: other load %.2f CPU, now %.2f\n",
			w.label(), t.name, best.other, res.other)
		if res.other < best.other {
			best = res
		}
	}
	return best, nil
}

// try prepares the machine and measures one phase.
func (rn *runner) try(ctx context.Context, t target, w workload, r int) (result, error) {
	if rn.o.sync {
		flushDirty()
	}
	if wait := min(rn.o.quietWait, rn.budget); wait > 0 {
		load, waited := waitQuiet(ctx, wait)
		rn.budget -= waited
		if load >= quietBelow {
			fmt.Fprintf(rn.stderr, "note: machine still busy (%.2f CPUs) after waiting %s\n", load, waited.Round(time.Millisecond))
		}
	}
	return measure(ctx, t, rn.o.bucket, w, rn.pools[w.size], r, rn.o.lim)
}

// measure runs one phase against t, with the server's CPU time and the
// rest of the machine's load when its PID is known, then checks what a
// PUT phase stored.
func measure(ctx context.Context, t target, bucket string, w workload, b *bodies, run int, lim limits) (result, error) {
	ol := startOther(t.pid)
	res, err := runPhase(ctx, t.c, bucket, w, b, run, lim)
	if err != nil {
		return result{}, err
	}
	if m, ok := ol.stop(); ok {
		res.cpu, res.clientCPU, res.other, res.otherKnown = m.server, m.client, m.other, true
	}
	if err := readBack(ctx, t.c, bucket, w, b, run, res); err != nil {
		return result{}, err
	}
	return res, nil
}
