package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// workload is one row of the report: an operation on objects of one size
// at a fixed concurrency.
type workload struct {
	op   string // "put" or "get"
	size int64  // object size in bytes
	conc int    // concurrent requests in flight
	set  int    // objects a GET workload reads; 0 means getSetSize(size)
}

// readSet is how many distinct objects a GET workload reads.
func (w workload) readSet() int {
	if w.set > 0 {
		return w.set
	}
	return getSetSize(w.size)
}

// tag names the workload in object keys, e.g. "4KiB".
func (w workload) tag() string { return formatSize(w.size) }

// label names the workload in the report, e.g. "PUT 4 KiB, c=8".
func (w workload) label() string {
	return fmt.Sprintf("%s %s, c=%d", strings.ToUpper(w.op), spaced(w.size), w.conc)
}

// opsRate reports whether the row is measured in operations per second
// (small objects, where request overhead dominates) rather than MiB/s.
func (w workload) opsRate() bool { return w.size < 1<<20 }

// spaced formats a size with a space before the unit: "4 KiB".
func spaced(n int64) string {
	s := formatSize(n)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i <= 0 {
		return s
	}
	return s[:i] + " " + s[i:]
}

// formatSize writes n with the largest binary unit that divides it.
func formatSize(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + "GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "KiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}

// parseSize reads "4KiB", "1MiB", "64MiB" or a plain byte count.
func parseSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
			if err != nil || n <= 0 {
				return 0, fmt.Errorf("size %q: want a positive number with KiB, MiB or GiB", s)
			}
			return n << u.shift, nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("size %q: want a positive number with KiB, MiB or GiB", s)
	}
	return n, nil
}

// parseWorkloads reads a comma-separated list of op/size/concurrency,
// e.g. "put/4KiB/8,get/4KiB/8".
func parseWorkloads(s string) ([]workload, error) {
	var out []workload
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		parts := strings.Split(item, "/")
		if len(parts) != 3 {
			return nil, fmt.Errorf("workload %q: want op/size/concurrency, e.g. put/1MiB/4", item)
		}
		op := strings.ToLower(parts[0])
		if op != "put" && op != "get" {
			return nil, fmt.Errorf("workload %q: op must be put or get", item)
		}
		size, err := parseSize(parts[1])
		if err != nil {
			return nil, fmt.Errorf("workload %q: %w", item, err)
		}
		if size > 1<<30 {
			return nil, fmt.Errorf("workload %q: objects over 1GiB are not supported", item)
		}
		conc, err := strconv.Atoi(parts[2])
		if err != nil || conc < 1 || conc > 256 {
			return nil, fmt.Errorf("workload %q: concurrency must be 1..256", item)
		}
		out = append(out, workload{op: op, size: size, conc: conc})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no workloads")
	}
	return out, nil
}

// poolSlack is how far object bodies are offset into the shared random
// pool: bodies at different offsets differ, so a server that returns
// another object's bytes fails verification.
const poolSlack = 64 << 10

// bodies hands out deterministic object contents of one size: body i is
// a window of a random pool at an offset chosen by i.
type bodies struct {
	size int64
	pool []byte
}

// newBodies builds the pool for objects of size bytes from a fixed seed,
// so every run and every server gets the same bytes.
func newBodies(size int64) *bodies {
	pool := make([]byte, size+poolSlack)
	_, _ = rand.NewChaCha8([32]byte{'s', '3', 'l', 'o', 'a', 'd'}).Read(pool)
	return &bodies{size: size, pool: pool}
}

// body returns the contents of object i. 4099 is odd, so the first 65536
// objects all start at different offsets.
func (b *bodies) body(i int) []byte {
	off := (i * 4099) % poolSlack
	return b.pool[off : int64(off)+b.size]
}

// getSetSize is how many distinct objects a GET workload reads, kept
// around 256MiB for large objects so that setup stays quick.
func getSetSize(size int64) int {
	n := int((256 << 20) / size)
	return max(4, min(n, 1024))
}

// putRing is how many distinct keys one PUT worker writes before it
// overwrites its own earlier keys, bounding disk use at about 256MiB per
// worker and run while keeping small-object PUTs as fresh creates.
func putRing(size int64) int {
	return max(4, int((256<<20)/size))
}

// limits bound one measured phase: whichever comes first ends it.
type limits struct {
	duration time.Duration
	maxOps   int64
}

// result is what one phase measured.
type result struct {
	ops      int64
	bytes    int64
	elapsed  time.Duration
	p50, p99 time.Duration
	// cpu and clientCPU are the server's and this program's CPU time
	// during the phase, and other the CPUs' worth of work the rest of the
	// machine did meanwhile; all are set only when otherKnown.
	cpu        time.Duration
	clientCPU  time.Duration
	other      float64
	otherKnown bool
	// lastPut holds, per PUT worker, the index of its last object (-1:
	// none), for readBack.
	lastPut []int
}

// rate is the phase's figure: ops/s for small objects, MiB/s otherwise.
func (r result) rate(w workload) float64 {
	secs := r.elapsed.Seconds()
	if secs <= 0 {
		return 0
	}
	if w.opsRate() {
		return float64(r.ops) / secs
	}
	return float64(r.bytes) / (1 << 20) / secs
}

// cpuRate is the phase's figure per second of server CPU time, the
// throughput one fully used core would give; ok is false when the CPU
// time is unknown or too short to measure.
func (r result) cpuRate(w workload) (v float64, ok bool) {
	secs := r.cpu.Seconds()
	if !r.otherKnown || secs < 5*clockTick.Seconds() {
		return 0, false
	}
	if w.opsRate() {
		return float64(r.ops) / secs, true
	}
	return float64(r.bytes) / (1 << 20) / secs, true
}

// getKey names object k of a GET workload's read set.
func getKey(w workload, k int) string { return fmt.Sprintf("get/%s/%d", w.tag(), k) }

// prepare stores the objects a GET workload reads; PUT workloads need
// nothing. It is not timed.
func prepare(ctx context.Context, c *client, bucket string, w workload, b *bodies) error {
	if w.op != "get" {
		return nil
	}
	n := w.readSet()
	var next atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range min(w.conc, 4) {
		wg.Go(func() {
			for {
				k := int(next.Add(1) - 1)
				if k >= n || ctx.Err() != nil {
					return
				}
				if err := c.put(ctx, bucket, getKey(w, k), b.body(k)); err != nil {
					once.Do(func() { firstErr = fmt.Errorf("prepare %s: %w", w.label(), err) })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

// runPhase drives one workload against one server for one run and
// returns what it measured. The first failed request ends the phase with
// an error: a row with errors is not a measurement.
func runPhase(ctx context.Context, c *client, bucket string, w workload, b *bodies, run int, lim limits) (result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		claimed  atomic.Int64 // operations started, bounded by lim.maxOps
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
	)
	fail := func(err error) {
		once.Do(func() { firstErr = err; cancel() })
	}
	lat := make([][]time.Duration, w.conc)
	lastPut := make([]int, w.conc) // per worker: index of its last PUT, or -1
	n := w.readSet()
	ring := putRing(w.size)
	start := time.Now()
	deadline := start.Add(lim.duration)
	for wk := range w.conc {
		lastPut[wk] = -1
		wg.Go(func() {
			buf := make([]byte, 256<<10)
			var mine []time.Duration
			defer func() { lat[wk] = mine }()
			for j := 0; ; j++ {
				if ctx.Err() != nil || !time.Now().Before(deadline) {
					return
				}
				i := claimed.Add(1) - 1
				if i >= lim.maxOps {
					return
				}
				t0 := time.Now()
				var err error
				if w.op == "put" {
					// Each worker owns its keys, so no two writes to one key
					// are ever in flight and the last write is known.
					idx := wk*ring + j%ring
					err = c.put(ctx, bucket, putKey(w, run, idx), b.body(idx))
					if err == nil {
						lastPut[wk] = idx
					}
				} else {
					k := int(i % int64(n))
					err = c.get(ctx, bucket, getKey(w, k), b.body(k), buf)
				}
				if err != nil {
					fail(err)
					return
				}
				mine = append(mine, time.Since(t0))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if firstErr != nil {
		return result{}, firstErr
	}
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return result{}, fmt.Errorf("%s: no operation completed", w.label())
	}
	slices.Sort(all)
	ops := int64(len(all))
	res := result{
		ops:     ops,
		bytes:   ops * w.size,
		elapsed: elapsed,
		p50:     all[len(all)/2],
		p99:     all[min(len(all)-1, len(all)*99/100)],
	}
	if w.op == "put" {
		res.lastPut = lastPut
	}
	return res, nil
}

// readBack reads each PUT worker's last object and compares it with what
// was sent: a server that accepts PUTs and drops the bytes must not look
// fast. It runs after the measured phase and is not timed.
func readBack(ctx context.Context, c *client, bucket string, w workload, b *bodies, run int, res result) error {
	buf := make([]byte, 256<<10)
	for _, idx := range res.lastPut {
		if idx < 0 {
			continue
		}
		if err := c.get(ctx, bucket, putKey(w, run, idx), b.body(idx), buf); err != nil {
			return fmt.Errorf("read back after PUT: %w", err)
		}
	}
	return nil
}

// putKey names object idx written by a PUT workload in one run.
func putKey(w workload, run, idx int) string {
	return fmt.Sprintf("put/%s/r%d/%d", w.tag(), run, idx)
}
