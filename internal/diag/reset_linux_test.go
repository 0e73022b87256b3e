//go:build linux

package diag

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"testing"
)

// setHops sets the TTL (IPv6: hop limit) of the packets fd sends.
func setHops(fd int, v6 bool, ttl int) error {
	if v6 {
		return syscall.SetsockoptInt(fd, syscall.IPPROTO_IPV6, syscall.IPV6_UNICAST_HOPS, ttl)
	}
	return syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_TTL, ttl)
}

// setTTL sets the TTL of the packets c sends from now on.
func setTTL(t *testing.T, c syscall.Conn, v6 bool, ttl int) {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Error(err)
		return
	}
	var serr error
	if err := rc.Control(func(fd uintptr) { serr = setHops(int(fd), v6, ttl) }); err != nil || serr != nil {
		t.Errorf("set IP_TTL %d: %v %v", ttl, err, serr)
	}
}

// TestResetCaptureTTL_C23 captures, as root, the SYN-ACK and the RST of a
// handshake reset on its SNI. The listener sends its SYN-ACK with TTL 52;
// the injected case then resets with TTL 178, as the RST of C23 came, the
// server's own case with the listener's 52.
func TestResetCaptureTTL_C23(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("packet capture needs root")
	}
	c, err := openCapture(netip.MustParseAddrPort("127.0.0.1:1"))
	if err != nil {
		t.Skipf("no packet capture here: %v", err)
	}
	c.close()
	for _, tc := range []struct {
		name     string
		addr     string
		rstTTL   int // 0 keeps the listener's
		wantID   string
		level    Level
		wantText string
		nodeText string
	}{
		{"injected", "127.0.0.1:0", 178, "reset.injected", Bad,
			"did not come from the server (SYN-ACK TTL 52, RST TTL 178): a middlebox injected it",
			"a middlebox filtering on the name (its TTL is not the server's) likely injected the reset"},
		{"server", "127.0.0.1:0", 0, "reset.from-server", Info,
			"carries the server's TTL (SYN-ACK TTL 52, RST TTL 52)",
			"but the RST carries the server's TTL: the server, or a device as far away, filtering on the name likely sent the reset"},
		{"injected-ipv6", "[::1]:0", 178, "reset.injected", Bad,
			"did not come from the server (SYN-ACK TTL 52, RST TTL 178): a middlebox injected it",
			"(its TTL is not the server's)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v6 := strings.HasPrefix(tc.addr, "[")
			lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
				var serr error
				err := rc.Control(func(fd uintptr) { serr = setHops(int(fd), v6, 52) })
				if err != nil {
					return err
				}
				return serr
			}}
			ln, err := lc.Listen(context.Background(), "tcp", tc.addr)
			if err != nil {
				t.Skipf("cannot listen on %s: %v", tc.addr, err)
			}
			t.Cleanup(func() { ln.Close() })
			opts := tlsResetter(t, ln, testHost, func(c net.Conn) {
				if tc.rstTTL != 0 {
					setTTL(t, c.(syscall.Conn), v6, tc.rstTTL)
				}
			})
			opts.NoCapture = false
			rep := run(t, opts, "reset")
			f := want(t, rep, tc.wantID, "C23", tc.level)
			hasAll(t, "summary", f.Summary, tc.wantText)
			if f.Cut == nil || f.Cut.SynAckTTL != 52 || f.Cut.CutTTL != max(tc.rstTTL, 52) || f.Cut.Injected != (tc.rstTTL != 0) {
				t.Errorf("cut = %+v, want SYN-ACK TTL 52, RST TTL %d", f.Cut, max(tc.rstTTL, 52))
			}
			node, _ := cutFinding(t, rep, "reset.tls-handshake", "C15", Bad)
			hasAll(t, "summary", node.Summary, tc.nodeText)
			hasAll(t, "evidence", strings.Join(node.Evidence, "\n"),
				"captured SYN-ACK: TTL 52 (12 hops from an initial 64)", "captured RST: TTL")
			if !v6 {
				hasAll(t, "evidence", strings.Join(node.Evidence, "\n"), "IP ID")
			}
			if got := rep.Find("reset.capture"); len(got) != 0 {
				t.Errorf("capture advice although the doctor captured: %+v", got)
			}
		})
	}
}
