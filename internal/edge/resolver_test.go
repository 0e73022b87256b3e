package edge

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/strata-cdn/strata/internal/resolve"
	"github.com/strata-cdn/strata/internal/resolve/dnstest"
)

// namedOrigin is an HTTP origin on one loopback address that says who it
// is: every body starts with its name. GET /slow sends "name:" and waits
// for release before the rest; an Upgrade request is switched and sent the
// name.
type namedOrigin struct {
	name     string
	conns    atomic.Int32 // connections accepted
	mu       sync.Mutex   // guards paths
	paths    []string
	started  chan struct{} // a /slow request arrived
	release  chan struct{} // lets /slow finish
	listener net.Listener
}

func (o *namedOrigin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	o.mu.Lock()
	o.paths = append(o.paths, r.Method+" "+r.URL.Path)
	o.mu.Unlock()
	if r.Header.Get("Upgrade") != "" {
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: test\r\nConnection: Upgrade\r\n\r\n" + o.name)
		brw.Flush()
		return
	}
	io.Copy(io.Discard, r.Body)
	w.Header().Set("Cache-Control", "no-store")
	if r.URL.Path == "/slow" {
		w.Header().Set("Content-Length", strconv.Itoa(len(o.name)+len(":part1part2")))
		io.WriteString(w, o.name+":part1")
		w.(http.Flusher).Flush()
		o.started <- struct{}{}
		<-o.release
		io.WriteString(w, "part2")
		return
	}
	io.WriteString(w, o.name)
}

func (o *namedOrigin) saw() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.paths...)
}

// originPair starts two origins, "one" on 127.0.0.1:P and "two" on
// 127.0.0.2:P (Linux routes all of 127/8 to the loopback), and returns
// them with P.
func originPair(t *testing.T) (one, two *namedOrigin, port int) {
	t.Helper()
	for range 20 {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
		if err != nil {
			l1.Close()
			continue
		}
		one, two = &namedOrigin{name: "one", listener: l1}, &namedOrigin{name: "two", listener: l2}
		for _, o := range []*namedOrigin{one, two} {
			o.started, o.release = make(chan struct{}, 1), make(chan struct{})
			srv := &http.Server{Handler: o, ConnState: func(_ net.Conn, st http.ConnState) {
				if st == http.StateNew {
					o.conns.Add(1)
				}
			}}
			go srv.Serve(o.listener)
			t.Cleanup(func() { srv.Close() })
		}
		return one, two, port
	}
	t.Fatal("no port free on both 127.0.0.1 and 127.0.0.2")
	return nil, nil, 0
}

// newDNSEdge starts an edge whose only origin is http://origin.test:port,
// resolved by a test DNS server with a TTL of 5 s, on the clock it returns.
func newDNSEdge(t *testing.T, port int) (*edge, *dnstest.Server, *clock, *syncBuffer) {
	t.Helper()
	dns := dnstest.Start(t)
	dns.Set("origin.test", 5, "127.0.0.1")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	e := newEdge(t, "http://origin.test:"+strconv.Itoa(port), func(h *Handler) {
		h.Resolver = &resolve.Resolver{Nameservers: []string{dns.Addr}, ConfPath: empty, HostsPath: empty, Now: clk.now, Logger: log}
		h.Logger = log
	})
	return e, dns, clk, logs
}

// TestPooledConnectionHonoursDNSTTL_C01: the origin's name moves from
// 127.0.0.1 to 127.0.0.2 without any configuration change. Within the TTL
// the edge keeps using its cached answer and its keep-alive connection;
// after the TTL the next request goes to the new address although a pooled
// connection to the old one exists, and a request in flight on the old one
// when the answer changed completes.
func TestPooledConnectionHonoursDNSTTL_C01(t *testing.T) {
	one, two, port := originPair(t)
	e, dns, clk, logs := newDNSEdge(t, port)

	// A slow request holds one connection to "one".
	type result struct {
		status int
		body   string
		err    error
	}
	slow := make(chan result, 1)
	go func() {
		resp, err := e.srv.Client().Get(e.srv.URL + "/slow")
		if err != nil {
			slow <- result{err: err}
			return
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		slow <- result{resp.StatusCode, string(b), err}
	}()
	select {
	case <-one.started:
	case <-time.After(20 * time.Second):
		t.Fatal("the slow request did not reach origin one")
	}
	// Two more requests share a second, keep-alive connection.
	for _, p := range []string{"/a", "/b"} {
		if _, body := e.get(p); string(body) != "one" {
			t.Fatalf("GET %s before the change: %q, want one", p, body)
		}
	}
	if got := one.conns.Load(); got != 2 {
		t.Fatalf("origin one accepted %d connections, want 2 (the slow one and a reused one)", got)
	}

	dns.Set("origin.test", 5, "127.0.0.2")
	if _, body := e.get("/c"); string(body) != "one" {
		t.Errorf("GET /c within the TTL: %q, want one (the answer is cached for its TTL)", body)
	}
	if got := dns.Queries("origin.test", "A"); got != 1 {
		t.Errorf("A queries within the TTL: %d, want 1", got)
	}

	clk.add(5 * time.Second) // the answer expires
	if _, body := e.get("/d"); string(body) != "two" {
		t.Errorf("GET /d after the TTL: %q, want two (the pooled connection to 127.0.0.1 must not be reused)", body)
	}
	if got := one.saw(); strings.Contains(strings.Join(got, ","), "/d") {
		t.Errorf("origin one received %v; /d must not reach it", got)
	}
	if got := one.conns.Load(); got != 2 {
		t.Errorf("origin one accepted %d connections, want still 2", got)
	}
	if !strings.Contains(logs.String(), "connection retired") {
		t.Errorf("the log does not say a connection was retired:\n%s", logs.String())
	}

	// The request in flight on the old address completes.
	close(one.release)
	select {
	case r := <-slow:
		if r.err != nil || r.status != 200 || r.body != "one:part1part2" {
			t.Errorf("in-flight request: %d %q %v; want 200 one:part1part2", r.status, r.body, r.err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the in-flight request did not complete")
	}
	// Its connection went back to the pool; it is not reused either.
	for _, p := range []string{"/e", "/f"} {
		if _, body := e.get(p); string(body) != "two" {
			t.Errorf("GET %s: %q, want two", p, body)
		}
	}
	if got := two.conns.Load(); got != 1 {
		t.Errorf("origin two accepted %d connections, want 1 (kept alive)", got)
	}
}

// TestStaleConnectionBodyRequestGoesThrough_C01: a request with a body is
// not refused on a connection whose address left the answer (net/http
// could not always send its body again); it goes to the old address,
// which still answers, and the next request without a body moves.
func TestStaleConnectionBodyRequestGoesThrough_C01(t *testing.T) {
	one, _, port := originPair(t)
	e, dns, clk, _ := newDNSEdge(t, port)
	if _, body := e.get("/a"); string(body) != "one" {
		t.Fatalf("GET /a: %q, want one", body)
	}
	dns.Set("origin.test", 5, "127.0.0.2")
	clk.add(5 * time.Second)
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/up", strings.NewReader("payload"))
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "one" {
		t.Errorf("POST /up: %d %q; want 200 from the pooled connection to one", resp.StatusCode, b)
	}
	if _, body := e.get("/b"); string(body) != "two" {
		t.Errorf("GET /b: %q, want two", body)
	}
	if got := one.saw(); strings.Join(got, ",") != "GET /a,POST /up" {
		t.Errorf("origin one received %v, want [GET /a POST /up]", got)
	}
}

// TestConfigChangeReResolves_C01: a configuration change (SetDomains)
// re-resolves the origin's name at once, without waiting for the TTL.
func TestConfigChangeReResolves_C01(t *testing.T) {
	_, _, port := originPair(t)
	e, dns, _, _ := newDNSEdge(t, port)
	if _, body := e.get("/a"); string(body) != "one" {
		t.Fatalf("GET /a: %q, want one", body)
	}
	dns.Set("origin.test", 300, "127.0.0.2")
	e.h.SetDomains(e.h.Domains)
	if _, body := e.get("/b"); string(body) != "two" {
		t.Errorf("GET /b after SetDomains: %q, want two", body)
	}
	eg := e.h.Egress()
	if len(eg.Upstreams) != 1 || eg.Upstreams[0].DNS == nil || strings.Join(eg.Upstreams[0].DNS.Addresses, ",") != "127.0.0.2" ||
		eg.Upstreams[0].DNS.TTLRemaining != 300 {
		t.Errorf("egress %+v; want origin.test resolved to 127.0.0.2 with 300s left", eg.Upstreams)
	}
}

// TestUpgradeDialUsesResolver_C01: an upgrade's connection is dialed
// through the same resolver and follows the name's answer.
func TestUpgradeDialUsesResolver_C01(t *testing.T) {
	_, _, port := originPair(t)
	e, dns, clk, _ := newDNSEdge(t, port)
	upgrade := func() string {
		t.Helper()
		c, err := net.Dial("tcp", e.srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(20 * time.Second))
		io.WriteString(c, "GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n")
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("status %d, want 101", resp.StatusCode)
		}
		b, _ := io.ReadAll(br)
		return string(b)
	}
	if got := upgrade(); got != "one" {
		t.Errorf("upgrade before the change reached %q, want one", got)
	}
	dns.Set("origin.test", 5, "127.0.0.2")
	clk.add(5 * time.Second)
	if got := upgrade(); got != "two" {
		t.Errorf("upgrade after the TTL reached %q, want two", got)
	}
}

func TestStartsBodylessRequest(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"GET /a HTTP/1.1\r\nHost: o\r\n\r\n", true},
		{"HEAD /a HTTP/1.1\r\nHost: o\r\nUser-Agent: x\r\n\r\n", true},
		{"POST /a HTTP/1.1\r\nHost: o\r\nContent-Length: 0\r\n\r\n", true},
		{"POST /a HTTP/1.1\r\nHost: o\r\nContent-Length: 7\r\n\r\npayload", false},
		{"POST /a HTTP/1.1\r\nHost: o\r\ntransfer-encoding: chunked\r\n\r\n", false},
		{"GET /a HTTP/1.1\r\nHost: o\r\n", false},           // head not whole
		{"payload that is not a request\r\n\r\n", false},    // a body
		{"GET /a HTTP/2\r\n\r\n", false},                    // not HTTP/1
		{"GE\"T /a HTTP/1.1\r\n\r\n", false},                // not a method
		{"GET /a HTTP/1.1\r\nbroken header\r\n\r\n", false}, // not a field
	}
	for _, tt := range tests {
		if got := startsBodylessRequest([]byte(tt.in)); got != tt.want {
			t.Errorf("startsBodylessRequest(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func FuzzStartsBodylessRequest(f *testing.F) {
	f.Add([]byte("GET /a HTTP/1.1\r\nHost: o\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if startsBodylessRequest(b) && !bytes.Contains(b, []byte("\r\n\r\n")) {
			t.Errorf("%q: a request head without its end", b)
		}
	})
}

// TestNetHTTPRetriesRefusedWrite_C01 pins the behaviour of net/http that
// the connection check relies on: a request without a body whose first
// write on a reused connection fails with nothing written is sent again on
// a new connection.
func TestNetHTTPRetriesRefusedWrite_C01(t *testing.T) {
	o := &namedOrigin{name: "one", started: make(chan struct{}, 1), release: make(chan struct{})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: o}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	var refuse atomic.Bool
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return &refusingConn{Conn: c, refuse: &refuse}, err
	}}
	defer tr.CloseIdleConnections()
	cl := &http.Client{Transport: tr}
	get := func() string {
		resp, err := cl.Get("http://" + ln.Addr().String() + "/x")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	get()
	refuse.Store(true) // the pooled connection refuses its next request
	if got := get(); got != "one" || dials.Load() != 2 {
		t.Errorf("got %q after %d dials; want the answer on a second connection", got, dials.Load())
	}
}

// refusingConn fails one write with nothing written while refuse is set.
type refusingConn struct {
	net.Conn
	refuse *atomic.Bool
}

func (c *refusingConn) Write(p []byte) (int, error) {
	if c.refuse.CompareAndSwap(true, false) {
		return 0, errAddressGone
	}
	return c.Conn.Write(p)
}

// TestTLSPooledConnectionHonoursDNSTTL_C01: the check reads requests in
// the clear under TLS (the transport's DialTLSContext), so an https
// origin's pooled connection is retired the same way.
func TestTLSPooledConnectionHonoursDNSTTL_C01(t *testing.T) {
	var port int
	var srvs [2]*httptest.Server
	for range 20 {
		l1, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port = l1.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", net.JoinHostPort("127.0.0.2", strconv.Itoa(port)))
		if err != nil {
			l1.Close()
			continue
		}
		for i, l := range []net.Listener{l1, l2} {
			name := []string{"one", "two"}[i]
			s := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, name)
			}))
			s.Listener.Close()
			s.Listener = l
			s.StartTLS() // its certificate names example.com
			t.Cleanup(s.Close)
			srvs[i] = s
		}
		break
	}
	dns := dnstest.Start(t)
	dns.Set("example.com", 5, "127.0.0.1")
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	r := &resolve.Resolver{Nameservers: []string{dns.Addr}, ConfPath: empty, HostsPath: empty, Now: clk.now}
	od := newOriginDialer(r, nil)
	od.tls = srvs[0].Client().Transport.(*http.Transport).TLSClientConfig
	var dials atomic.Int32
	tr := newTransport(od)
	tr.DialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return od.dialTLS(ctx, network, addr)
	}
	defer tr.CloseIdleConnections()
	get := func() string {
		t.Helper()
		resp, err := (&http.Client{Transport: tr}).Get("https://example.com:" + strconv.Itoa(port) + "/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if a, b := get(), get(); a != "one" || b != "one" || dials.Load() != 1 {
		t.Fatalf("before the change: %q %q over %d connections; want one one over 1", a, b, dials.Load())
	}
	dns.Set("example.com", 5, "127.0.0.2")
	clk.add(5 * time.Second)
	if got := get(); got != "two" || dials.Load() != 2 {
		t.Errorf("after the TTL: %q over %d connections; want two over a second one", got, dials.Load())
	}
}
