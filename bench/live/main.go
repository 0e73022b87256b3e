// Command live is the load client of bench/live.sh: it opens many
// concurrent HTTP-FLV viewers of one live stream and reports whether
// delivery stays real-time for all of them.
//
// The publisher sends in real time (ffmpeg -re), so a tag's media
// timestamp maps to the wall-clock time it reached the server. The client
// first plays the stream with one reference viewer, alone, and takes that
// mapping (the smallest wall time minus media time over the calibration,
// i.e. the least delayed tag). It then opens the viewers, waits for the
// warm-up, and samples every viewer through the measuring window: a
// viewer's lag is how far its newest media timestamp trails the live edge
// (now, mapped to media time). A viewer keeps pace when its lag never
// exceeds the tolerance and its connection did not end. It prints one
// JSON line:
//
//	{"viewers":400,"connected":400,"failed":0,"ok":400,"lag_p50_s":0.04,
//	 "lag_max_s":0.12,"mbit_s":812.5,"client_cpu_pct":38.1}
//
// Usage:
//
//	live -url http://127.0.0.1:8081/live/bench/s.flv -viewers 400 \
//	     -warmup 3s -measure 10s -tolerance 1s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// viewer is one HTTP-FLV connection's progress.
type viewer struct {
	newest    atomic.Int64 // newest media timestamp received, ms; -1 before the first tag
	bytes     atomic.Int64
	failed    atomic.Bool
	connected atomic.Bool
	err       atomic.Value // error that ended it early
}

// result is the client's report.
type result struct {
	Viewers    int     `json:"viewers"`
	Connected  int     `json:"connected"`
	Failed     int     `json:"failed"`
	OK         int     `json:"ok"`
	LagP50     float64 `json:"lag_p50_s"`
	LagMax     float64 `json:"lag_max_s"`
	MbitPerSec float64 `json:"mbit_s"`
	// ClientCPU is this client's CPU use over the window, in percent of
	// one CPU: near 100 means the client, not the server, may be the limit.
	ClientCPU  float64 `json:"client_cpu_pct"`
	FirstError string  `json:"first_error,omitempty"`
}

func main() {
	url := flag.String("url", "", "HTTP-FLV URL of the stream")
	n := flag.Int("viewers", 10, "concurrent viewers")
	warmup := flag.Duration("warmup", 3*time.Second, "time after all viewers connected before measuring")
	measure := flag.Duration("measure", 10*time.Second, "measuring window")
	tolerance := flag.Duration("tolerance", time.Second, "how far a viewer may trail the live edge")
	calibrate := flag.Duration("calibrate", 2*time.Second, "how long the reference viewer plays alone")
	connectTimeout := flag.Duration("connect-timeout", 15*time.Second, "bound on connecting every viewer")
	flag.Parse()
	if *url == "" || *n < 1 {
		fmt.Fprintln(os.Stderr, "live: -url and -viewers >= 1 are required")
		os.Exit(2)
	}
	res, err := run(*url, *n, *calibrate, *warmup, *measure, *tolerance, *connectTimeout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "live:", err)
		os.Exit(1)
	}
	_ = json.NewEncoder(os.Stdout).Encode(res)
}

func run(url string, n int, calibrate, warmup, measure, tolerance, connectTimeout time.Duration) (result, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second}).DialContext,
		MaxIdleConnsPerHost: -1,
		DisableCompression:  true,
		ReadBufferSize:      64 << 10,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	// The reference viewer, alone: off = min(wall - media time), in ms
	// since start.
	start := time.Now()
	var offMu sync.Mutex
	off := int64(math.MaxInt64)
	ref := &viewer{}
	ref.newest.Store(-1)
	refCtx, refCancel := context.WithCancel(ctx)
	refDone := make(chan error, 1)
	go func() {
		refDone <- watchFn(refCtx, client, url, ref, func(ts uint32) {
			d := time.Since(start).Milliseconds() - int64(ts)
			offMu.Lock()
			off = min(off, d)
			offMu.Unlock()
		})
	}()
	deadline := time.Now().Add(connectTimeout)
	for ref.newest.Load() < 0 {
		if ref.failed.Load() || time.Now().After(deadline) {
			refCancel()
			return result{}, fmt.Errorf("the reference viewer got no tag within %v: %v", connectTimeout, <-refDone)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(calibrate)
	refCancel()
	<-refDone
	offMu.Lock()
	edgeOff := off
	offMu.Unlock()
	// lag of a viewer whose newest media timestamp is ts, now.
	lag := func(ts int64) float64 {
		return float64(time.Since(start).Milliseconds()-edgeOff-ts) / 1000
	}

	vs := make([]*viewer, n)
	var wg sync.WaitGroup
	for i := range vs {
		v := &viewer{}
		v.newest.Store(-1)
		vs[i] = v
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := watch(ctx, client, url, v); err != nil && ctx.Err() == nil {
				v.err.Store(err)
				v.failed.Store(true)
			}
		}()
	}
	// Wait until every viewer got its first tag (or failed).
	deadline = time.Now().Add(connectTimeout)
	for {
		ready := 0
		for _, v := range vs {
			if v.newest.Load() >= 0 || v.failed.Load() {
				ready++
			}
		}
		if ready == n {
			break
		}
		if time.Now().After(deadline) {
			return result{}, fmt.Errorf("only %d of %d viewers received a tag within %v", ready, n, connectTimeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(warmup)
	var bytes0 int64
	for _, v := range vs {
		bytes0 += v.bytes.Load()
	}
	worst := make([]float64, n) // each viewer's largest lag in the window
	for i := range worst {
		worst[i] = math.Inf(-1)
	}
	w0, cpu0 := time.Now(), cpuTime()
	for time.Since(w0) < measure {
		for i, v := range vs {
			worst[i] = max(worst[i], lag(v.newest.Load()))
		}
		time.Sleep(250 * time.Millisecond)
	}
	for i, v := range vs {
		worst[i] = max(worst[i], lag(v.newest.Load()))
	}
	wall, cpu := time.Since(w0), cpuTime()-cpu0
	res := result{Viewers: n}
	var lags []float64
	var bytes1 int64
	for i, v := range vs {
		bytes1 += v.bytes.Load()
		if v.connected.Load() {
			res.Connected++
		}
		if v.failed.Load() {
			res.Failed++
			if res.FirstError == "" {
				if e, ok := v.err.Load().(error); ok {
					res.FirstError = e.Error()
				}
			}
			continue
		}
		lags = append(lags, worst[i])
		if worst[i] <= tolerance.Seconds() {
			res.OK++
		}
	}
	cancel()
	wg.Wait()
	sort.Float64s(lags)
	if len(lags) > 0 {
		res.LagP50 = round(lags[len(lags)/2])
		res.LagMax = round(lags[len(lags)-1])
	}
	res.MbitPerSec = round(float64(bytes1-bytes0) * 8 / 1e6 / wall.Seconds())
	res.ClientCPU = round(100 * cpu.Seconds() / wall.Seconds())
	return res, nil
}

// cpuTime is the CPU time (user and system) this process used so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func round(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }

// watch plays url as one viewer until ctx ends or the stream does.
func watch(ctx context.Context, client *http.Client, url string, v *viewer) error {
	return watchFn(ctx, client, url, v, nil)
}

// watchFn is watch that also calls each(ts) for every media tag.
func watchFn(ctx context.Context, client *http.Client, url string, v *viewer, each func(ts uint32)) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s: %s", resp.Status, b)
	}
	v.connected.Store(true)
	return readTags(bufio.NewReaderSize(resp.Body, 64<<10), func(ts uint32, size int) {
		if int64(ts) > v.newest.Load() {
			v.newest.Store(int64(ts))
		}
		if each != nil {
			each(ts)
		}
		v.bytes.Add(int64(size) + 15)
	})
}

// errNotFLV: the stream does not start with an FLV header.
var errNotFLV = errors.New("not an FLV stream")

// readTags reads an FLV stream (FLV spec v10.1 §E.2-E.4) and calls tag
// with every audio and video tag's timestamp and data size, skipping the
// data, until the stream ends (io.EOF is returned as an error: a live
// viewer's stream should not end).
func readTags(r *bufio.Reader, tag func(ts uint32, size int)) error {
	var hdr [13]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return fmt.Errorf("flv header: %w", err)
	}
	if string(hdr[:3]) != "FLV" {
		return errNotFLV
	}
	if skip := int(hdr[5])<<24 | int(hdr[6])<<16 | int(hdr[7])<<8 | int(hdr[8]) - 9; skip > 0 {
		if _, err := r.Discard(skip); err != nil {
			return err
		}
	}
	var th [11]byte
	for {
		if _, err := io.ReadFull(r, th[:]); err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("stream ended: %w", io.EOF)
			}
			return err
		}
		size := int(th[1])<<16 | int(th[2])<<8 | int(th[3])
		ts := uint32(th[7])<<24 | uint32(th[4])<<16 | uint32(th[5])<<8 | uint32(th[6])
		if _, err := r.Discard(size + 4); err != nil {
			return err
		}
		if typ := th[0] & 0x1f; typ == 8 || typ == 9 {
			tag(ts, size)
		}
	}
}
