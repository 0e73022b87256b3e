package diag

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// ipPacket builds an IPv4 or IPv6 packet carrying a bare TCP header.
func ipPacket(src, dst netip.AddrPort, ttl, id int, df bool, flags byte) []byte {
	tcp := make([]byte, 20)
	binary.BigEndian.PutUint16(tcp[0:], src.Port())
	binary.BigEndian.PutUint16(tcp[2:], dst.Port())
	tcp[12] = 5 << 4
	tcp[13] = flags
	if src.Addr().Is4() {
		h := make([]byte, 20)
		h[0] = 0x45
		binary.BigEndian.PutUint16(h[2:], 40)
		binary.BigEndian.PutUint16(h[4:], uint16(id))
		if df {
			h[6] = 0x40
		}
		h[8], h[9] = byte(ttl), 6
		s, d := src.Addr().As4(), dst.Addr().As4()
		copy(h[12:], s[:])
		copy(h[16:], d[:])
		return append(h, tcp...)
	}
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], 20)
	h[6], h[7] = 6, byte(ttl)
	s, d := src.Addr().As16(), dst.Addr().As16()
	copy(h[8:], s[:])
	copy(h[24:], d[:])
	return append(h, tcp...)
}

var (
	server4 = netip.MustParseAddrPort("47.70.100.100:80")
	client4 = netip.MustParseAddrPort("192.168.2.75:58973")
	server6 = netip.MustParseAddrPort("[2001:db8::1]:443")
	client6 = netip.MustParseAddrPort("[2001:db8::2]:50000")
)

func TestParsePacket_C23(t *testing.T) {
	frag := ipPacket(server4, client4, 39, 0, false, tcpRST)
	frag[7] = 1 // a later fragment
	udp := ipPacket(server4, client4, 39, 0, false, tcpRST)
	udp[9] = 17
	v6udp := ipPacket(server6, client6, 50, 0, false, tcpRST)
	v6udp[6] = 17
	for _, tc := range []struct {
		name string
		in   []byte
		want packet
		ok   bool
	}{
		// The packets of C23: the SYN-ACK came with TTL 39, the RST with 178.
		{"synack", ipPacket(server4, client4, 39, 0, true, tcpSYN|tcpACK),
			packet{src: server4, dst: client4, ttl: 39, id: 0, df: true, flags: tcpSYN | tcpACK}, true},
		{"rst", ipPacket(server4, client4, 178, 34635, false, tcpRST),
			packet{src: server4, dst: client4, ttl: 178, id: 34635, flags: tcpRST}, true},
		{"ipv6", ipPacket(server6, client6, 50, 0, false, tcpRST|tcpACK),
			packet{src: server6, dst: client6, ttl: 50, id: -1, flags: tcpRST | tcpACK}, true},
		{"fragment", frag, packet{}, false},
		{"udp", udp, packet{}, false},
		{"ipv6 udp", v6udp, packet{}, false},
		{"short", ipPacket(server4, client4, 39, 0, false, tcpRST)[:30], packet{}, false},
		{"empty", nil, packet{}, false},
		{"version 5", []byte{0x50, 0, 0, 0}, packet{}, false},
	} {
		got, ok := parsePacket(tc.in)
		if ok != tc.ok {
			t.Errorf("%s: ok %v, want %v", tc.name, ok, tc.ok)
			continue
		}
		if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(packet{}), cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })); ok && diff != "" {
			t.Errorf("%s: (-want +got)\n%s", tc.name, diff)
		}
	}
}

func TestConnPacketsAndTTL_C23(t *testing.T) {
	other := netip.MustParseAddrPort("192.168.2.75:40000")
	pk := func(b []byte) packet {
		p, ok := parsePacket(b)
		if !ok {
			t.Fatal("test packet does not parse")
		}
		return p
	}
	synAck := pk(ipPacket(server4, client4, 39, 0, true, tcpSYN|tcpACK))
	for _, tc := range []struct {
		name          string
		pkts          []packet
		local         netip.AddrPort
		wantSyn       int // TTLs; 0 absent
		wantCut       int
		wantName      string
		injected, ook bool
	}{
		{"C23 capture", []packet{
			pk(ipPacket(server4, other, 60, 1, false, tcpRST)), // another connection
			synAck,
			pk(ipPacket(server4, client4, 178, 34635, false, tcpRST)),
		}, client4, 39, 178, "RST", true, true},
		{"server reset", []packet{synAck, pk(ipPacket(server4, client4, 38, 2, true, tcpRST|tcpACK))},
			client4, 39, 38, "RST", false, true},
		{"fin only", []packet{synAck, pk(ipPacket(server4, client4, 49, 3, true, tcpFIN|tcpACK))},
			client4, 39, 49, "FIN", true, true},
		{"rst over fin", []packet{synAck, pk(ipPacket(server4, client4, 39, 3, true, tcpFIN|tcpACK)),
			pk(ipPacket(server4, client4, 58, 0, true, tcpRST))}, client4, 39, 58, "RST", true, true},
		{"refused, any local port", []packet{pk(ipPacket(server4, client4, 50, 0, true, tcpRST|tcpACK))},
			netip.AddrPort{}, 0, 50, "RST", false, false},
		{"nothing", nil, client4, 0, 0, "RST", false, false},
	} {
		ev := connPackets(tc.pkts, server4, tc.local)
		ttl := func(p *packet) int {
			if p == nil {
				return 0
			}
			return p.ttl
		}
		inj, ok := ev.injected()
		if ttl(ev.synAck) != tc.wantSyn || ttl(ev.cut) != tc.wantCut || ev.cutName() != tc.wantName || inj != tc.injected || ok != tc.ook {
			t.Errorf("%s: SYN-ACK TTL %d, %s TTL %d, injected %v/%v; want %d, %s %d, %v/%v", tc.name,
				ttl(ev.synAck), ev.cutName(), ttl(ev.cut), inj, ok, tc.wantSyn, tc.wantName, tc.wantCut, tc.injected, tc.ook)
		}
	}
}

func TestHopGuessAndTcpdump_C23(t *testing.T) {
	for _, tc := range []struct {
		ttl  int
		want string
	}{{39, "25 hops from an initial 64"}, {64, "0 hops from an initial 64"}, {119, "9 hops from an initial 128"}, {178, "77 hops from an initial 255"}} {
		if got := hopGuess(tc.ttl); got != tc.want {
			t.Errorf("hopGuess(%d) = %q, want %q", tc.ttl, got, tc.want)
		}
	}
	for _, tc := range []struct{ addr, want string }{
		{"47.70.100.100:80", "tcpdump -ni any -w c23.pcap 'host 47.70.100.100 and port 80'"},
		{"[2001:db8::1]:443", "tcpdump -ni any -w c23.pcap 'host 2001:db8::1 and port 443'"},
	} {
		if got := tcpdumpLine(tc.addr); got != tc.want {
			t.Errorf("tcpdumpLine(%q) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// FuzzParsePacket: no input panics, and whatever parses is TCP with
// addresses of one family.
func FuzzParsePacket(f *testing.F) {
	f.Add(ipPacket(server4, client4, 178, 34635, false, tcpRST))
	f.Add(ipPacket(server6, client6, 50, 0, false, tcpSYN|tcpACK))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, ok := parsePacket(b)
		if !ok {
			return
		}
		if pk.src.Addr().Is4() != pk.dst.Addr().Is4() || pk.ttl < 0 || pk.ttl > 255 {
			t.Fatalf("parsed %v from %x", pk, b)
		}
		_ = pk.String()
	})
}
