package diag

import (
	"crypto/tls"
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// rst closes c with an RST instead of a FIN (SO_LINGER 0), as a filter
// that injects resets makes the client see.
func rst(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// resetOptions are the doctor's options for the URL u of a test peer
// reached as testHost through --resolve, with capture off: the tests
// that capture say so.
func resetOptions(t *testing.T, scheme string, ln net.Addr, path string) Options {
	t.Helper()
	host, port, _ := net.SplitHostPort(ln.String())
	return Options{URL: scheme + "://" + testHost + ":" + port + path,
		Resolve: []string{testHost + ":" + port + ":" + host}, NoCapture: true}
}

// listen opens a listener on 127.0.0.1:0 closed at the end of the test.
func listen(t *testing.T) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// acceptLoop runs serve on every connection ln accepts.
func acceptLoop(ln net.Listener, serve func(net.Conn)) {
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c)
		}
	}()
}

// tlsResetter is an HTTPS server that resets the handshake right after
// the ClientHello when the client asks for resetSNI, as a filter on SNI
// does, and serves any other name; hook, if set, runs on the connection
// before the reset.
func tlsResetter(t *testing.T, ln net.Listener, resetSNI string, hook func(net.Conn)) Options {
	t.Helper()
	srv := httptest.NewUnstartedServer(wellBehaved())
	srv.Listener.Close()
	srv.Listener = ln
	srv.TLS = &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) {
		if hello.ServerName == resetSNI {
			if hook != nil {
				hook(hello.Conn)
			}
			rst(hello.Conn)
			return nil, io.EOF
		}
		return nil, nil
	}}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return resetOptions(t, "https", ln.Addr(), "/obj.bin")
}

// hijacking serves HTTP on 127.0.0.1:0 and hands requests that match to
// cut with the raw connection, the request's head read.
func hijacking(t *testing.T, match func(*http.Request) bool, cut func(net.Conn)) net.Addr {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if match(r) {
			c, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			cut(c)
			return
		}
		wellBehaved().ServeHTTP(w, r)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	t.Cleanup(srv.Close)
	return srv.Listener.Addr()
}

// cutFinding asserts that rep has exactly one finding id, with the case
// and level, carrying a Cut.
func cutFinding(t *testing.T, rep Report, id, caseID string, level Level) (Finding, *Cut) {
	t.Helper()
	f := want(t, rep, id, caseID, level)
	if n := len(rep.Find(id)); n != 1 {
		t.Errorf("%d findings %s, want 1\n%s", n, id, dump(rep))
	}
	if f.Cut == nil {
		t.Fatalf("finding %s carries no Cut", id)
	}
	return f, f.Cut
}

// hasAll asserts that s contains every one of subs.
func hasAll(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s lacks %q:\n%s", what, sub, s)
		}
	}
}

func TestResetHealthy_C23(t *testing.T) {
	ln := listen(t)
	srv := httptest.NewUnstartedServer(wellBehaved())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	rep := run(t, resetOptions(t, "http", ln.Addr(), "/obj.bin"), "reset")
	f := want(t, rep, "reset.ok", "C23", OK)
	hasAll(t, "evidence", strings.Join(f.Evidence, "\n"), ln.Addr().String()+": answered 200")
	if got := ids(rep, Info); len(got) != 0 {
		t.Errorf("findings beyond reset.ok from a well-behaved server: %v", got)
	}
}

func TestResetRefused_C23(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr()
	ln.Close() // nothing listens: the kernel answers the SYN with an RST
	rep := run(t, resetOptions(t, "http", addr, "/obj.bin"), "reset")
	f, cut := cutFinding(t, rep, "reset.refused", "C23", Bad)
	hasAll(t, "summary", f.Summary, addr.String(), "refused: an RST answered the SYN", "in 3 of 3 attempts")
	if cut.Phase != phaseConnect || cut.Kind != kindRefused || cut.Pattern != "consistent" || cut.BytesSent != 0 {
		t.Errorf("cut = %+v, want connect/refused, consistent, nothing sent", cut)
	}
	hasAll(t, "fix", f.Fix, "listens on port")
	c := want(t, rep, "reset.capture", "C23", Info)
	hasAll(t, "capture advice", strings.Join(c.Evidence, "\n"),
		"tcpdump -ni any -w c23.pcap 'host 127.0.0.1 and port "+portOf(addr)+"'", "SYN-ACK", "IP ID")
}

func portOf(a net.Addr) string {
	_, p, _ := net.SplitHostPort(a.String())
	return p
}

func TestResetOnConnect_C23(t *testing.T) {
	ln := listen(t)
	acceptLoop(ln, rst) // reset right after accept, before reading anything
	rep := run(t, resetOptions(t, "http", ln.Addr(), "/obj.bin"), "reset")
	f, cut := cutFinding(t, rep, "reset.on-connect", "C23", Bad)
	hasAll(t, "summary", f.Summary, "cut as soon as they are established, whatever the client sends", "3 of 3")
	if cut.Verdict != verdictConnect || cut.Kind != kindReset || cut.Failures != 3 || cut.BytesReceived != 0 {
		t.Errorf("cut = %+v, want verdict on-connect, reset 3 times, nothing received", cut)
	}
	// Either an attempt was reset before it could send (the dial itself
	// failed), or a connection that sent nothing was reset.
	hasAll(t, "evidence", strings.Join(f.Evidence, "\n"), "reset with nothing sent")
}

func TestResetTLSHandshakeNameFiltered_C23_C15(t *testing.T) {
	opts := tlsResetter(t, listen(t), testHost, nil)
	rep := run(t, opts, "reset")
	f, cut := cutFinding(t, rep, "reset.tls-handshake", "C15", Bad)
	hasAll(t, "summary", f.Summary, "TLS handshake", "SNI "+testHost, "reset after the ClientHello", "3 of 3",
		"a middlebox filtering on the name likely injected the reset")
	if cut.Phase != phaseTLS || cut.Kind != kindReset || cut.Verdict != verdictName || cut.Pattern != "consistent" {
		t.Errorf("cut = %+v, want tls-handshake/reset, name-filtered, consistent", cut)
	}
	if cut.BytesSent < 100 || cut.BytesReceived != 0 {
		t.Errorf("sent %d, received %d bytes: want a ClientHello out and nothing back", cut.BytesSent, cut.BytesReceived)
	}
	var probes []string
	for _, c := range cut.Compared {
		probes = append(probes, c.Probe)
		if !c.Answered {
			t.Errorf("comparison %q was cut: %s", c.Probe, c.Result)
		}
	}
	if got, wantP := strings.Join(probes, "; "), "with SNI "+altSNI+"; without SNI"; got != wantP {
		t.Errorf("comparisons %q, want %q", got, wantP)
	}
	hasAll(t, "evidence", strings.Join(f.Evidence, "\n"), "phase: tls-handshake, reset", "after connect", "received 0 bytes",
		"attempts: 3, cut: 3 (consistent)", "without SNI: the handshake completes")
	hasAll(t, "fix", f.Fix, "another network", "operator")
}

func TestResetTLSHandshakeEveryName_C23_C15(t *testing.T) {
	ln := listen(t)
	// Resets every handshake after its first bytes, whatever the name; a
	// silent connection is left alone.
	acceptLoop(ln, func(c net.Conn) {
		var b [1]byte
		c.Read(b[:])
		rst(c)
	})
	opts := resetOptions(t, "https", ln.Addr(), "/obj.bin")
	opts.Timeout = 2 * time.Second // the silent connection waits a quarter of it
	rep := run(t, opts, "reset")
	f, cut := cutFinding(t, rep, "reset.tls-handshake", "C15", Bad)
	hasAll(t, "summary", f.Summary, "another name and no SNI are cut too: not a filter on the name")
	if cut.Verdict != verdictNotName {
		t.Errorf("verdict %q, want %q; compared %+v", cut.Verdict, verdictNotName, cut.Compared)
	}
	if strings.Contains(f.Summary, "middlebox") {
		t.Errorf("summary blames a middlebox for a node that cuts every handshake: %q", f.Summary)
	}
}

func TestResetAfterRequest_C23(t *testing.T) {
	for _, tc := range []struct {
		name        string
		match       func(*http.Request) bool
		path        string
		wantVerdict string
		wantSummary string
	}{
		{"host", func(r *http.Request) bool { return strings.HasPrefix(r.Host, testHost) }, "/obj.bin",
			verdictName, "with another Host it is answered: a middlebox filtering on the name likely injected the reset"},
		{"keyword", func(r *http.Request) bool { return strings.Contains(r.URL.Path, "forbidden") }, "/forbidden.bin",
			verdictKeyword, "GET / is answered: a middlebox filtering on the URL (a keyword in it) likely injected the reset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := hijacking(t, tc.match, rst)
			rep := run(t, resetOptions(t, "http", addr, tc.path), "reset")
			f, cut := cutFinding(t, rep, "reset.request", "C23", Bad)
			hasAll(t, "summary", f.Summary, "reset after the request was sent", "3 of 3", tc.wantSummary)
			if cut.Phase != phaseRequest || cut.Kind != kindReset || cut.Verdict != tc.wantVerdict {
				t.Errorf("cut = %+v, want request/reset, %s", cut, tc.wantVerdict)
			}
			if cut.BytesSent == 0 || cut.BytesReceived != 0 {
				t.Errorf("sent %d, received %d: want the request out and nothing back", cut.BytesSent, cut.BytesReceived)
			}
			hasAll(t, "fix", f.Fix, "HTTPS hides the Host and the path")
		})
	}
}

func TestResetMidBody_C23(t *testing.T) {
	const sent = 5000
	for _, tc := range []struct {
		name     string
		cut      func(net.Conn)
		wantKind string
		wantSum  string
	}{
		{"rst", rst, kindReset, "reset mid-body after 5000 of 100000 body bytes"},
		{"fin", func(c net.Conn) { c.Close() }, kindClosed, "closed mid-body after 5000 of 100000 body bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := hijacking(t, func(*http.Request) bool { return true }, func(c net.Conn) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n"+strings.Repeat("x", sent))
				tc.cut(c)
			})
			rep := run(t, resetOptions(t, "http", addr, "/obj.bin"), "reset")
			f, cut := cutFinding(t, rep, "reset.body", "C23", Bad)
			hasAll(t, "summary", f.Summary, tc.wantSum, "3 of 3")
			if cut.Phase != phaseBody || cut.Kind != tc.wantKind || cut.BytesReceived < sent || cut.Pattern != "consistent" {
				t.Errorf("cut = %+v, want body/%s after >= %d bytes, consistent", cut, tc.wantKind, sent)
			}
		})
	}
}

func TestResetIntermittent_C23(t *testing.T) {
	var n atomic.Int32
	addr := hijacking(t, func(*http.Request) bool { return n.Add(1) == 1 }, rst)
	rep := run(t, resetOptions(t, "http", addr, "/obj.bin"), "reset")
	f, cut := cutFinding(t, rep, "reset.request", "C23", Warn)
	hasAll(t, "summary", f.Summary, "in 1 of 3 attempts (intermittent)")
	if cut.Pattern != "intermittent" || cut.Verdict != "" || len(cut.Compared) != 0 {
		t.Errorf("cut = %+v, want intermittent and no comparison", cut)
	}
}

func TestResetJSON_C23(t *testing.T) {
	opts := tlsResetter(t, listen(t), testHost, nil)
	rep := run(t, opts, "reset")
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Findings []struct {
			ID  string         `json:"id"`
			Cut map[string]any `json:"cut"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	for _, f := range got.Findings {
		if f.ID != "reset.tls-handshake" {
			continue
		}
		for _, k := range []string{"addr", "phase", "kind", "since_connect", "bytes_sent", "bytes_received", "attempts", "failures", "pattern", "verdict", "compared"} {
			if _, ok := f.Cut[k]; !ok {
				t.Errorf("JSON cut lacks %q: %v", k, f.Cut)
			}
		}
		if f.Cut["phase"] != phaseTLS || f.Cut["verdict"] != verdictName {
			t.Errorf("JSON cut = %v", f.Cut)
		}
		return
	}
	t.Fatalf("no reset.tls-handshake in JSON:\n%s", b)
}

func TestFailKind_C23(t *testing.T) {
	ln := listen(t)
	addr := ln.Addr().String()
	ln.Close()
	_, refused := net.Dial("tcp", addr)
	for _, tc := range []struct {
		err  error
		want string
	}{
		{nil, kindOK},
		{refused, kindRefused},
		{&net.OpError{Op: "read", Err: &timeoutErr{}}, kindTimeout},
		{io.EOF, kindClosed},
		{io.ErrUnexpectedEOF, kindClosed},
		{&net.OpError{Op: "dial", Err: strconvErr()}, kindOther},
	} {
		if got := failKind(tc.err); got != tc.want {
			t.Errorf("failKind(%v) = %q, want %q", tc.err, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (*timeoutErr) Error() string   { return "i/o timeout" }
func (*timeoutErr) Timeout() bool   { return true }
func (*timeoutErr) Temporary() bool { return true }

func strconvErr() error { _, err := strconv.Atoi("x"); return err }

func TestResetPerNode_C23(t *testing.T) {
	// Two nodes on one port: 127.0.0.1 serves, nothing listens on
	// 127.0.0.2.
	ln := listen(t)
	srv := httptest.NewUnstartedServer(wellBehaved())
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	port := portOf(ln.Addr())
	opts := resetOptions(t, "http", ln.Addr(), "/obj.bin")
	opts.Resolve = []string{testHost + ":" + port + ":127.0.0.1,127.0.0.2"}
	rep := run(t, opts, "reset")
	f, cut := cutFinding(t, rep, "reset.refused", "C23", Bad)
	if cut.Addr != "127.0.0.2:"+port {
		t.Errorf("cut at %s, want 127.0.0.2:%s", cut.Addr, port)
	}
	hasAll(t, "summary", f.Summary, "127.0.0.2:"+port)
	ok := want(t, rep, "reset.ok", "C23", OK)
	hasAll(t, "reset.ok", ok.Summary+"\n"+strings.Join(ok.Evidence, "\n"), "1 of 2 addresses", "127.0.0.1:"+port+": answered 200")
}
