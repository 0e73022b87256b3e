package resolve

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/strata-cdn/strata/internal/resolve/dnstest"
)

// clock is a settable time for the cache.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Unix(1_700_000_000, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newTestResolver returns a Resolver asking only srv, with empty
// resolv.conf and hosts files and the clock clk.
func newTestResolver(t *testing.T, srv *dnstest.Server, clk *clock) (*Resolver, *syncBuffer) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	r := &Resolver{
		Nameservers: []string{srv.Addr},
		ConfPath:    empty,
		HostsPath:   empty,
		Timeout:     2 * time.Second,
		Now:         clk.Now,
		Logger:      slog.New(slog.NewTextHandler(logs, nil)),
	}
	t.Cleanup(func() { r.Close() })
	return r, logs
}

func addrs(s ...string) []netip.Addr {
	var out []netip.Addr
	for _, a := range s {
		out = append(out, netip.MustParseAddr(a))
	}
	return out
}

func TestLookupTTLClamp_C01(t *testing.T) {
	tests := []struct {
		name     string
		ttl      uint32
		min, max time.Duration
		want     time.Duration
	}{
		{"ttl kept", 30, 0, 0, 30 * time.Second},
		{"zero raised to default floor", 0, 0, 0, DefaultMinTTL},
		{"days lowered to default ceiling", 86400, 0, 0, DefaultMaxTTL},
		{"configured floor", 2, 10 * time.Second, 0, 10 * time.Second},
		{"configured ceiling", 600, 0, time.Minute, time.Minute},
		{"ceiling below floor: floor wins", 600, 20 * time.Second, 5 * time.Second, 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := dnstest.Start(t)
			srv.Set("origin.test", tt.ttl, "192.0.2.1")
			clk := newClock()
			r, _ := newTestResolver(t, srv, clk)
			r.MinTTL, r.MaxTTL = tt.min, tt.max
			a, err := r.Lookup(context.Background(), "origin.test")
			if err != nil {
				t.Fatal(err)
			}
			if a.TTL != tt.want {
				t.Errorf("TTL = %v, want %v", a.TTL, tt.want)
			}
			// The answer is served from the cache until the TTL passes,
			// then asked again.
			clk.Advance(tt.want - time.Nanosecond)
			if _, err := r.Lookup(context.Background(), "origin.test"); err != nil {
				t.Fatal(err)
			}
			if got := srv.Queries("origin.test", "A"); got != 1 {
				t.Errorf("A queries before expiry = %d, want 1", got)
			}
			clk.Advance(time.Nanosecond)
			if _, err := r.Lookup(context.Background(), "origin.test"); err != nil {
				t.Fatal(err)
			}
			if got := srv.Queries("origin.test", "A"); got != 2 {
				t.Errorf("A queries at expiry = %d, want 2", got)
			}
		})
	}
}

func TestLookupFollowsChange_C01(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 5, "127.0.0.1", "::1")
	clk := newClock()
	r, logs := newTestResolver(t, srv, clk)
	a, err := r.Lookup(context.Background(), "Origin.Test")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(addrs("127.0.0.1", "::1"), a.Addrs, cmp.Comparer(func(x, y netip.Addr) bool { return x == y })); diff != "" {
		t.Errorf("addrs (-want +got):\n%s", diff)
	}
	if a.Source != SourceDNS || a.Stale {
		t.Errorf("source %q stale %v; want dns, fresh", a.Source, a.Stale)
	}
	srv.Set("origin.test", 5, "127.0.0.2")
	if a, _ := r.Lookup(context.Background(), "origin.test"); a.Addrs[0] != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("within the TTL got %v, want the cached 127.0.0.1", a.Addrs)
	}
	clk.Advance(5 * time.Second)
	a, err = r.Lookup(context.Background(), "origin.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Addrs) != 1 || a.Addrs[0] != netip.MustParseAddr("127.0.0.2") {
		t.Errorf("after the TTL got %v, want [127.0.0.2]", a.Addrs)
	}
	if p, ok := r.Peek("origin.test"); !ok || r.Remaining(p) != 5*time.Second {
		t.Errorf("Peek = %+v, %v; remaining %v, want 5s", p, ok, r.Remaining(p))
	}
	if !bytes.Contains([]byte(logs.String()), []byte("answer changed")) {
		t.Errorf("log %q does not report the changed answer", logs.String())
	}
}

func TestLookupSingleflight_C01(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 60, "192.0.2.1")
	r, _ := newTestResolver(t, srv, newClock())
	const n = 10
	var missed sync.WaitGroup
	missed.Add(n)
	r.testHookLookup = func(string) { missed.Done() }
	srv.Hold()
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := r.Lookup(context.Background(), "origin.test")
			errs <- err
		}()
	}
	missed.Wait() // every lookup missed the cache and is about to resolve
	srv.Release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if a, aaaa := srv.Queries("origin.test", "A"), srv.Queries("origin.test", "AAAA"); a != 1 || aaaa != 1 {
		t.Errorf("%d lookups sent %d A and %d AAAA queries, want 1 and 1", n, a, aaaa)
	}
}

func TestStaleIfError_C01(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 10, "192.0.2.1")
	clk := newClock()
	r, logs := newTestResolver(t, srv, clk)
	r.StaleGrace = 2 * time.Minute
	ctx := context.Background()
	if _, err := r.Lookup(ctx, "origin.test"); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(dnstest.ServFail)
	clk.Advance(10 * time.Second)
	a, err := r.Lookup(ctx, "origin.test")
	if err != nil {
		t.Fatalf("re-resolution failed and no stale answer: %v", err)
	}
	if !a.Stale || a.Addrs[0] != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("got %+v, want the last answer marked stale", a)
	}
	if !bytes.Contains([]byte(logs.String()), []byte("stale-if-error")) {
		t.Errorf("log %q does not report the stale answer", logs.String())
	}
	// Served stale, the name is asked again only every StaleRetry.
	q := srv.Queries("origin.test", "A")
	clk.Advance(StaleRetry - time.Second)
	if _, err := r.Lookup(ctx, "origin.test"); err != nil {
		t.Fatal(err)
	}
	if got := srv.Queries("origin.test", "A"); got != q {
		t.Errorf("queries within StaleRetry: %d, want %d", got, q)
	}
	// Past the grace (counted from the expiry), the failure is the answer.
	clk.Advance(2*time.Minute - StaleRetry + 2*time.Second)
	if _, err := r.Lookup(ctx, "origin.test"); err == nil {
		t.Error("past the grace: got an answer, want the failure")
	}
	// The server recovers: a fresh answer.
	srv.SetMode(dnstest.Answer)
	clk.Advance(DefaultMinTTL) // the failure is cached for MinTTL
	if a, err := r.Lookup(ctx, "origin.test"); err != nil || a.Stale {
		t.Errorf("after recovery: %+v, %v; want a fresh answer", a, err)
	}
}

func TestStaleNotUsedForNXDOMAIN_C01(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 10, "192.0.2.1")
	clk := newClock()
	r, _ := newTestResolver(t, srv, clk)
	if _, err := r.Lookup(context.Background(), "origin.test"); err != nil {
		t.Fatal(err)
	}
	srv.Set("origin.test", 0) // the name is deleted
	clk.Advance(10 * time.Second)
	if _, err := r.Lookup(context.Background(), "origin.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound (NXDOMAIN is an answer, RFC 8767 §4)", err)
	}
}

func TestStaleIfTimeout_C01(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 10, "192.0.2.1")
	clk := newClock()
	r, _ := newTestResolver(t, srv, clk)
	r.Timeout = 100 * time.Millisecond
	if _, err := r.Lookup(context.Background(), "origin.test"); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(dnstest.Drop)
	clk.Advance(10 * time.Second)
	if a, err := r.Lookup(context.Background(), "origin.test"); err != nil || !a.Stale {
		t.Errorf("server silent: %+v, %v; want the stale answer", a, err)
	}
}

func TestStaleGraceOff(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 10, "192.0.2.1")
	clk := newClock()
	r, _ := newTestResolver(t, srv, clk)
	r.StaleGrace = -1
	if _, err := r.Lookup(context.Background(), "origin.test"); err != nil {
		t.Fatal(err)
	}
	srv.SetMode(dnstest.ServFail)
	clk.Advance(10 * time.Second)
	if _, err := r.Lookup(context.Background(), "origin.test"); err == nil {
		t.Error("stale grace off: got an answer, want the failure")
	}
}

func TestLookupSources(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("a.test", 60, "192.0.2.7", "2001:db8::7")
	srv.SetCNAME("www.test", 30, "cdn.test")
	srv.SetCNAME("cdn.test", 300, "a.test")
	srv.Set("only.example", 60, "192.0.2.9")
	clk := newClock()
	r, _ := newTestResolver(t, srv, clk)
	dir := t.TempDir()
	hosts := filepath.Join(dir, "hosts")
	if err := os.WriteFile(hosts, []byte("192.0.2.50 pinned.test # comment\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("search example\noptions ndots:1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r.HostsPath, r.ConfPath = hosts, conf
	tests := []struct {
		host   string
		want   []string
		ttl    time.Duration
		source Source
	}{
		{"a.test", []string{"192.0.2.7", "2001:db8::7"}, 60 * time.Second, SourceDNS},
		{"www.test", []string{"192.0.2.7", "2001:db8::7"}, 30 * time.Second, SourceDNS}, // the chain's smallest TTL
		{"pinned.test", []string{"192.0.2.50"}, FixedTTL, SourceHosts},
		{"localhost", []string{"127.0.0.1", "::1"}, FixedTTL, SourceHosts},
		{"192.0.2.99", []string{"192.0.2.99"}, FixedTTL, SourceLiteral},
		{"[2001:db8::1]", []string{"2001:db8::1"}, FixedTTL, SourceLiteral},
		{"only", []string{"192.0.2.9"}, 60 * time.Second, SourceDNS}, // search list
	}
	for _, tt := range tests {
		a, err := r.Lookup(context.Background(), tt.host)
		if err != nil {
			t.Errorf("%s: %v", tt.host, err)
			continue
		}
		var got []string
		for _, x := range a.Addrs {
			got = append(got, x.String())
		}
		if diff := cmp.Diff(tt.want, got); diff != "" || a.TTL != tt.ttl || a.Source != tt.source {
			t.Errorf("%s: addrs (-want +got) %s; ttl %v want %v; source %q want %q", tt.host, diff, a.TTL, tt.ttl, a.Source, tt.source)
		}
	}
	if _, err := r.Lookup(context.Background(), "missing.test"); !errors.Is(err, ErrNotFound) {
		t.Errorf("missing.test: err = %v, want ErrNotFound", err)
	}
}

func TestLookupTruncatedRetriesTCP(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("big.test", 60, "192.0.2.1")
	srv.Truncate(true)
	r, _ := newTestResolver(t, srv, newClock())
	a, err := r.Lookup(context.Background(), "big.test")
	if err != nil || len(a.Addrs) != 1 {
		t.Fatalf("got %+v, %v; want the answer over TCP", a, err)
	}
}

func TestExpireReResolves_C01(t *testing.T) {
	srv := dnstest.Start(t)
	srv.Set("origin.test", 300, "192.0.2.1")
	r, _ := newTestResolver(t, srv, newClock())
	if _, err := r.Lookup(context.Background(), "origin.test"); err != nil {
		t.Fatal(err)
	}
	srv.Set("origin.test", 300, "192.0.2.2")
	r.Expire()
	a, err := r.Lookup(context.Background(), "origin.test")
	if err != nil || a.Addrs[0] != netip.MustParseAddr("192.0.2.2") {
		t.Errorf("after Expire: %+v, %v; want 192.0.2.2", a, err)
	}
}

func TestDialFallbackAndCurrent_C01(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	port := ln.Addr().(*net.TCPAddr).Port
	srv := dnstest.Start(t)
	// 127.0.0.3 refuses (nothing listens there): the dial falls back.
	srv.Set("origin.test", 5, "127.0.0.3", "127.0.0.1")
	clk := newClock()
	r, _ := newTestResolver(t, srv, clk)
	d := &Dialer{Resolver: r, Timeout: 10 * time.Second}
	c, err := d.Dial(context.Background(), "tcp", net.JoinHostPort("origin.test", strconv.Itoa(port)))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.Addr(); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("connected to %v, want 127.0.0.1 after 127.0.0.3 refused", got)
	}
	ctx := context.Background()
	if !c.Current(ctx) {
		t.Error("Current = false while the answer lives")
	}
	srv.Set("origin.test", 5, "127.0.0.2")
	if !c.Current(ctx) {
		t.Error("Current = false before the TTL passed; want the cached answer honoured")
	}
	clk.Advance(5 * time.Second)
	if c.Current(ctx) {
		t.Error("Current = true after the TTL with the address gone from the answer")
	}
	if _, err := d.Dial(ctx, "tcp6", net.JoinHostPort("origin.test", strconv.Itoa(port))); err == nil {
		t.Error("tcp6 dial of an IPv4-only name succeeded")
	}
}
