//go:build linux

package diag

import (
	"encoding/binary"
	"fmt"
	"net/netip"

	"golang.org/x/sys/unix"
)

// captureSnap is how many bytes of a packet the capture keeps: the IP and
// TCP headers.
const captureSnap = 128

// rawCapture is a packet socket that sees only the control segments (SYN,
// FIN, RST) that one remote address and port sends to this host. The
// kernel filters (classic BPF, attached before anything is read), so no
// other traffic reaches the doctor; the socket is closed after one
// connection.
type rawCapture struct {
	fd     int
	remote netip.AddrPort
}

// openCapture starts capturing what remote sends. It fails with
// errNoCapture's reason when the host does not allow packet sockets (not
// root).
func openCapture(remote netip.AddrPort) (*rawCapture, error) {
	remote = netip.AddrPortFrom(remote.Addr().Unmap(), remote.Port())
	proto := uint16(unix.ETH_P_IP)
	if remote.Addr().Is6() {
		proto = unix.ETH_P_IPV6
	}
	// SOCK_DGRAM: packets arrive from their IP header on, whatever the
	// link layer.
	fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, int(htons(proto)))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errNoCapture, err)
	}
	prog := captureFilter(remote)
	if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER,
		&unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("diag: attach capture filter: %w", err)
	}
	c := &rawCapture{fd: fd, remote: remote}
	c.read() // what arrived before the filter was attached
	return c, nil
}

// read returns the packets queued so far, without waiting: the kernel
// hands a packet to packet sockets before TCP processes it, so once a
// connection has seen its reset, the reset is already queued here.
func (c *rawCapture) read() []packet {
	var out []packet
	buf := make([]byte, captureSnap)
	for range maxPackets {
		n, from, err := unix.Recvfrom(c.fd, buf, unix.MSG_DONTWAIT)
		if err != nil {
			break
		}
		// On loopback a packet passes twice, out and in: keep it once.
		if ll, ok := from.(*unix.SockaddrLinklayer); ok && ll.Pkttype == unix.PACKET_OUTGOING {
			continue
		}
		if pk, ok := parsePacket(buf[:min(n, len(buf))]); ok && pk.src == c.remote {
			out = append(out, pk)
		}
	}
	return out
}

// close ends the capture.
func (c *rawCapture) close() { unix.Close(c.fd) }

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// captureFilter is the classic BPF program that keeps the TCP segments
// from remote with SYN, FIN or RST set, truncated to captureSnap bytes.
// Offsets count from the IP header (SOCK_DGRAM).
func captureFilter(remote netip.AddrPort) []unix.SockFilter {
	const (
		ldB   = unix.BPF_LD | unix.BPF_B | unix.BPF_ABS
		ldH   = unix.BPF_LD | unix.BPF_H | unix.BPF_ABS
		ldW   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		ldHX  = unix.BPF_LD | unix.BPF_H | unix.BPF_IND
		ldBX  = unix.BPF_LD | unix.BPF_B | unix.BPF_IND
		ldxIH = unix.BPF_LDX | unix.BPF_B | unix.BPF_MSH // X = 4*(pkt[k]&0xf)
		jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		jset  = unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K
	)
	type ins struct {
		code uint16
		k    uint32
		drop bool // a jump: on match fall through, else drop (jset: on set, drop)
	}
	var p []ins
	a := remote.Addr()
	flags := uint32(tcpSYN | tcpFIN | tcpRST)
	if a.Is4() {
		ip := a.As4()
		p = []ins{
			{ldB, 9, false}, {jeq, 6, true}, // TCP
			{ldW, 12, false}, {jeq, binary.BigEndian.Uint32(ip[:]), true}, // source address
			{ldH, 6, false}, {jset, 0x1fff, true}, // no later fragments
			{ldxIH, 0, false},
			{ldHX, 0, false}, {jeq, uint32(remote.Port()), true}, // source port
			{ldBX, 13, false}, // TCP flags
		}
	} else {
		ip := a.As16()
		p = []ins{{ldB, 6, false}, {jeq, 6, true}}
		for i := 0; i < 16; i += 4 {
			p = append(p, ins{ldW, uint32(8 + i), false}, ins{jeq, binary.BigEndian.Uint32(ip[i:]), true})
		}
		p = append(p, ins{ldH, 40, false}, ins{jeq, uint32(remote.Port()), true}, ins{ldB, 53, false})
	}
	// The last test keeps control segments: the accept follows it, the
	// drop follows the accept.
	out := make([]unix.SockFilter, 0, len(p)+3)
	n := len(p) + 1 // index of the accept; the drop is n+1
	for i, in := range p {
		f := unix.SockFilter{Code: in.code, K: in.k}
		if in.drop {
			toDrop := uint8(n + 1 - (i + 1))
			if in.code == jset {
				f.Jt = toDrop
			} else {
				f.Jf = toDrop
			}
		}
		out = append(out, f)
	}
	out = append(out,
		unix.SockFilter{Code: jset, K: flags, Jt: 0, Jf: 1},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: captureSnap},
		unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: 0},
	)
	return out
}
