package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeS3 is a minimal path-style S3 server that keeps objects in memory.
// corrupt and dropPut make it misbehave as a broken server would.
type fakeS3 struct {
	corrupt bool // flip a byte in every GET body
	dropPut bool // store PUT bodies as empty

	mu      sync.Mutex // guards objects and unsigned
	objects map[string][]byte
	// unsigned counts requests without a SigV4 Authorization header or
	// with a payload hash other than UNSIGNED-PAYLOAD.
	unsigned int
}

func (f *fakeS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") ||
		r.Header.Get("X-Amz-Content-Sha256") != unsignedPayload {
		f.unsigned++
	}
	f.mu.Unlock()
	path := strings.TrimPrefix(r.URL.Path, "/")
	if !strings.Contains(path, "/") {
		return // bucket operations succeed
	}
	switch r.Method {
	case http.MethodPut:
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if f.dropPut {
			b = nil
		}
		f.mu.Lock()
		f.objects[path] = b
		f.mu.Unlock()
	case http.MethodGet:
		f.mu.Lock()
		b, ok := f.objects[path]
		f.mu.Unlock()
		if !ok {
			http.Error(w, "NoSuchKey", http.StatusNotFound)
			return
		}
		b = bytes.Clone(b)
		if f.corrupt && len(b) > 0 {
			b[len(b)/2] ^= 1
		}
		_, _ = w.Write(b)
	default:
		http.Error(w, "method", http.StatusMethodNotAllowed)
	}
}

func startFake(t *testing.T, f *fakeS3) *client {
	t.Helper()
	f.objects = map[string][]byte{}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := newClient(srv.URL, "AK", "SK", "us-east-1", 8)
	if err != nil {
		t.Fatalf("newClient(%q): %v", srv.URL, err)
	}
	t.Cleanup(c.close)
	return c
}

// A phase bounded by -max-ops completes exactly that many operations and
// signs every request with UNSIGNED-PAYLOAD.
func TestRunPhaseCountsOps(t *testing.T) {
	for _, w := range []workload{
		{op: "put", size: 4 << 10, conc: 4},
		{op: "get", size: 4 << 10, conc: 4, set: 16},
		{op: "put", size: 1 << 20, conc: 2},
		{op: "get", size: 1 << 20, conc: 2, set: 4},
	} {
		t.Run(w.label(), func(t *testing.T) {
			f := &fakeS3{}
			c := startFake(t, f)
			ctx := context.Background()
			b := newBodies(w.size)
			if err := c.createBucket(ctx, "bk"); err != nil {
				t.Fatalf("createBucket: %v", err)
			}
			if err := prepare(ctx, c, "bk", w, b); err != nil {
				t.Fatalf("prepare: %v", err)
			}
			res, err := runPhase(ctx, c, "bk", w, b, 1, limits{duration: time.Minute, maxOps: 40})
			if err != nil {
				t.Fatalf("runPhase: %v", err)
			}
			if res.ops != 40 || res.bytes != 40*w.size {
				t.Errorf("ops, bytes = %d, %d; want 40, %d", res.ops, res.bytes, 40*w.size)
			}
			if res.rate(w) <= 0 {
				t.Errorf("rate = %v, want > 0", res.rate(w))
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if f.unsigned != 0 {
				t.Errorf("%d requests without SigV4 UNSIGNED-PAYLOAD", f.unsigned)
			}
		})
	}
}

// A server that returns wrong bytes, or loses what was PUT, fails the
// phase instead of producing a figure.
func TestRunPhaseRejectsBrokenServer(t *testing.T) {
	tests := []struct {
		name string
		f    *fakeS3
		w    workload
	}{
		{"corrupt GET 4KiB", &fakeS3{corrupt: true}, workload{op: "get", size: 4 << 10, conc: 2, set: 8}},
		{"corrupt GET 1MiB", &fakeS3{corrupt: true}, workload{op: "get", size: 1 << 20, conc: 2, set: 4}},
		{"dropped PUT", &fakeS3{dropPut: true}, workload{op: "put", size: 4 << 10, conc: 2}},
		{"dropped PUT read by GET", &fakeS3{dropPut: true}, workload{op: "get", size: 4 << 10, conc: 2, set: 8}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := startFake(t, tt.f)
			ctx := context.Background()
			b := newBodies(tt.w.size)
			if err := prepare(ctx, c, "bk", tt.w, b); err != nil {
				t.Fatalf("prepare: %v", err)
			}
			_, err := measure(ctx, target{c: c}, "bk", tt.w, b, 1, limits{duration: time.Minute, maxOps: 20})
			if !errors.Is(err, errMismatch) {
				t.Errorf("measure error = %v, want %v", err, errMismatch)
			}
		})
	}
}

// Different objects of one size have different contents, so returning
// another object's bytes is caught.
func TestBodiesDiffer(t *testing.T) {
	b := newBodies(4 << 10)
	for i := 1; i < getSetSize(4<<10); i++ {
		if bytes.Equal(b.body(0), b.body(i)) {
			t.Fatalf("body(0) == body(%d)", i)
		}
	}
}

func TestCheckLoopback(t *testing.T) {
	tests := []struct {
		endpoint string
		ok       bool
	}{
		{"http://127.0.0.1:9000", true},
		{"http://127.1.2.3:9000", true},
		{"http://localhost:9000", true},
		{"http://[::1]:9000", true},
		{"http://10.0.0.1:9000", false},
		{"http://192.168.1.10:9000", false},
		{"http://example.com:9000", false},
		{"https://127.0.0.1:9000", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.endpoint)
		if err != nil {
			t.Fatal(err)
		}
		if got := checkLoopback(u) == nil; got != tt.ok {
			t.Errorf("checkLoopback(%q) ok = %v, want %v", tt.endpoint, got, tt.ok)
		}
	}
}

func TestParseWorkloads(t *testing.T) {
	got, err := parseWorkloads(defaultWorkloads)
	if err != nil {
		t.Fatalf("parseWorkloads(default): %v", err)
	}
	want := []string{
		"PUT 4 KiB, c=8", "GET 4 KiB, c=8", "PUT 1 MiB, c=4",
		"GET 1 MiB, c=4", "PUT 64 MiB, c=2", "GET 64 MiB, c=2",
	}
	var labels []string
	for _, w := range got {
		labels = append(labels, w.label())
	}
	if diff := cmp.Diff(want, labels); diff != "" {
		t.Errorf("labels (-want +got):\n%s", diff)
	}
	for _, bad := range []string{"", "put/4KiB", "del/4KiB/8", "put/0KiB/8", "put/4KiB/0", "put/2GiB/1", "put/x/1"} {
		if _, err := parseWorkloads(bad); err == nil {
			t.Errorf("parseWorkloads(%q) succeeded, want an error", bad)
		}
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []float64
		want float64
		ok   bool
	}{
		{nil, 0, false},
		{[]float64{5}, 5, true},
		{[]float64{9, 1, 5}, 5, true},
		{[]float64{4, 1, 3, 2}, 2.5, true},
	}
	for _, tt := range tests {
		got, ok := median(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("median(%v) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestParseStat(t *testing.T) {
	// A name with spaces and parentheses, as proc(5) allows.
	stat := "4242 (my (odd) srv) S 1 4242 4242 0 -1 4194560 1000 0 0 0 250 75 0 0 20 0 9 0 100 1000000 500\n"
	got, err := parseStat([]byte(stat))
	if err != nil {
		t.Fatalf("parseStat: %v", err)
	}
	if want := 325 * clockTick; got != want {
		t.Errorf("parseStat = %v, want %v", got, want)
	}
	for _, bad := range []string{"", "1 (x) S 1 2", "1 (x) S 1 2 3 4 5 6 7 8 9 10 u s"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) succeeded, want an error", bad)
		}
	}
	if _, err := cpuTime(os.Getpid()); err != nil {
		t.Errorf("cpuTime(self): %v", err)
	}
}

// The whole program against two servers prints one table row per
// workload with a ratio, and exits 0; a broken server makes it exit 1
// and say FAIL.
func TestRunPrintsTable(t *testing.T) {
	good := httptest.NewServer(&fakeS3{objects: map[string][]byte{}})
	defer good.Close()
	bad := httptest.NewServer(&fakeS3{objects: map[string][]byte{}, corrupt: true})
	defer bad.Close()
	args := func(second string) []string {
		return []string{
			"-target", "a=" + good.URL, "-target", "b=" + second,
			"-pid", "a=" + strconv.Itoa(os.Getpid()),
			"-access", "AK", "-secret", "SK",
			"-workloads", "put/4KiB/2,get/4KiB/2",
			"-runs", "1", "-duration", "1m", "-max-ops", "10", "-warmup", "0", "-sync=false", "-quiet-wait", "0", "-retry-busy", "0",
		}
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), args(good.URL), &out, &errOut); code != 0 {
		t.Fatalf("run = %d, want 0; stderr:\n%s", code, errOut.String())
	}
	for _, want := range []string{"| workload ", "| PUT 4 KiB, c=2 ", "| GET 4 KiB, c=2 ", "ratio = a / b"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	errOut.Reset()
	if code := run(context.Background(), args(bad.URL), &out, &errOut); code != 1 {
		t.Errorf("run against a corrupting server = %d, want 1", code)
	}
	if !strings.Contains(out.String(), "FAIL") {
		t.Errorf("output lacks FAIL:\n%s", out.String())
	}
}

func TestParseProcStat(t *testing.T) {
	// user nice system idle iowait irq softirq steal guest guest_nice
	stat := "cpu  100 5 50 9000 40 3 2 1 7 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n"
	got, err := parseProcStat([]byte(stat))
	if err != nil {
		t.Fatalf("parseProcStat: %v", err)
	}
	if want := (100 + 5 + 50 + 3 + 2 + 1) * clockTick; got != want {
		t.Errorf("parseProcStat = %v, want %v", got, want)
	}
	if _, err := parseProcStat([]byte("intr 1 2 3\n")); err == nil {
		t.Error("parseProcStat(no cpu line) succeeded, want an error")
	}
}
