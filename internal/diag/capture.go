package diag

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strconv"
)

// TCP flags (RFC 9293 §3.1).
const (
	tcpFIN = 0x01
	tcpSYN = 0x02
	tcpRST = 0x04
	tcpACK = 0x10
)

// ttlSlack is how many hops the TTL of a reset may differ from the
// SYN-ACK's and still be taken for the server's: a route may change
// between two packets of one connection, but rarely by more.
const ttlSlack = 3

// maxPackets bounds what one capture reads.
const maxPackets = 64

// errNoCapture: packet capture is not possible here.
var errNoCapture = errors.New("packet capture needs Linux and root (CAP_NET_RAW)")

// packet is what the reset check keeps of one captured IP packet that
// carries TCP.
type packet struct {
	src, dst netip.AddrPort
	ttl      int // IPv4 TTL or IPv6 hop limit
	id       int // IPv4 identification; -1 for IPv6, which has none
	df       bool
	flags    byte
}

// parsePacket decodes an IPv4 or IPv6 packet carrying a TCP segment
// (RFC 791 §3.1, RFC 8200 §3, RFC 9293 §3.1). IPv6 extension headers and
// IPv4 fragments other than the first are not decoded: control segments
// never need them.
func parsePacket(b []byte) (packet, bool) {
	var (
		pk           packet
		tcp          []byte
		src, dst     netip.Addr
		protoTCP     = byte(6)
		okSrc, okDst bool
	)
	if len(b) == 0 {
		return pk, false
	}
	switch b[0] >> 4 {
	case 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl+14 || b[9] != protoTCP {
			return pk, false
		}
		if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
			return pk, false // a later fragment: no TCP header
		}
		pk.ttl, pk.id, pk.df = int(b[8]), int(binary.BigEndian.Uint16(b[4:6])), b[6]&0x40 != 0
		src, okSrc = netip.AddrFromSlice(b[12:16])
		dst, okDst = netip.AddrFromSlice(b[16:20])
		tcp = b[ihl:]
	case 6:
		if len(b) < 40+14 || b[6] != protoTCP {
			return pk, false
		}
		pk.ttl, pk.id = int(b[7]), -1
		src, okSrc = netip.AddrFromSlice(b[8:24])
		dst, okDst = netip.AddrFromSlice(b[24:40])
		tcp = b[40:]
	default:
		return pk, false
	}
	if !okSrc || !okDst {
		return pk, false
	}
	pk.src = netip.AddrPortFrom(src, binary.BigEndian.Uint16(tcp[0:2]))
	pk.dst = netip.AddrPortFrom(dst, binary.BigEndian.Uint16(tcp[2:4]))
	pk.flags = tcp[13]
	return pk, true
}

// String describes a packet for evidence, as Wireshark names its fields.
func (pk packet) String() string {
	s := "TTL " + strconv.Itoa(pk.ttl) + " (" + hopGuess(pk.ttl) + ")"
	if pk.id >= 0 {
		s += ", IP ID " + strconv.Itoa(pk.id)
		if pk.df {
			s += ", DF"
		}
	}
	return s
}

// hopGuess says how far a packet came, assuming the sender started from
// the nearest common initial TTL at or above the one seen (64 for Linux,
// 128 for Windows, 255 for many routers).
func hopGuess(ttl int) string {
	for _, initial := range []int{64, 128, 255} {
		if ttl <= initial {
			return fmt.Sprintf("%d hops from an initial %d", initial-ttl, initial)
		}
	}
	return "no common initial TTL"
}

// ttlEvidence is what a capture showed of one connection: the server's
// SYN-ACK and the RST (or FIN) that cut it.
type ttlEvidence struct {
	synAck, cut *packet
}

// connPackets picks, from captured packets, the SYN-ACK and the first RST
// (or else FIN) sent by remote to local: packets of other connections are
// ignored. An invalid local (a connection refused before the client
// learnt its port) matches any.
func connPackets(pkts []packet, remote, local netip.AddrPort) ttlEvidence {
	var ev ttlEvidence
	var fin *packet
	for i := range pkts {
		pk := &pkts[i]
		if pk.src != remote || local.IsValid() && pk.dst != local {
			continue
		}
		switch {
		case pk.flags&(tcpSYN|tcpACK) == tcpSYN|tcpACK && ev.synAck == nil:
			ev.synAck = pk
		case pk.flags&tcpRST != 0 && ev.cut == nil:
			ev.cut = pk
		case pk.flags&tcpFIN != 0 && fin == nil:
			fin = pk
		}
	}
	if ev.cut == nil {
		ev.cut = fin
	}
	return ev
}

// injected reports whether the cut's TTL is too far from the SYN-ACK's to
// come from the same sender; ok is false when a packet is missing.
func (ev ttlEvidence) injected() (yes, ok bool) {
	if ev.synAck == nil || ev.cut == nil {
		return false, false
	}
	d := ev.synAck.ttl - ev.cut.ttl
	return d > ttlSlack || d < -ttlSlack, true
}

// cutName names the packet that cut the connection.
func (ev ttlEvidence) cutName() string {
	if ev.cut != nil && ev.cut.flags&tcpRST == 0 {
		return "FIN"
	}
	return "RST"
}

// tcpdumpLine is the command that captures the connections to addr
// ("ip:port") for the reset evidence.
func tcpdumpLine(addr string) string {
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "tcpdump -ni any -w c23.pcap 'host " + hostOf(addr) + "'"
	}
	return fmt.Sprintf("tcpdump -ni any -w c23.pcap 'host %s and port %d'", ap.Addr().Unmap(), ap.Port())
}
