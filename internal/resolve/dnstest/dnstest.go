// Package dnstest is a DNS server for tests: it listens on 127.0.0.1 (UDP
// and TCP on one port) and answers from records the test sets and changes
// while it runs, so that code resolving names can be tested against a
// real server whose answers move.
package dnstest

import (
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// Mode selects how the server answers.
type Mode int

// The modes of a Server.
const (
	Answer   Mode = iota // answer from the records (NXDOMAIN for unknown names)
	ServFail             // answer SERVFAIL to everything
	Drop                 // answer nothing (the client times out)
)

// Server is a running test DNS server. Its methods are safe for concurrent
// use.
type Server struct {
	// Addr is the server's address, 127.0.0.1:port, for UDP and TCP.
	Addr string

	mu       sync.Mutex // guards the fields below
	records  map[string][]dns.RR
	mode     Mode
	truncate bool
	queries  map[string]int // "name TYPE" -> queries received
	hold     chan struct{}  // while non-nil, answers wait for it to close
	received chan string    // each query's "name TYPE", if set
}

// Start runs a server until the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	s := &Server{records: map[string][]dns.RR{}, queries: map[string]int{}}
	var pc net.PacketConn
	var ln net.Listener
	for range 20 { // find a port free for both UDP and TCP
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatalf("dnstest: %v", err)
		}
		if ln, err = net.Listen("tcp", pc.LocalAddr().String()); err == nil {
			break
		}
		pc.Close()
		pc = nil
	}
	if pc == nil {
		t.Fatal("dnstest: no port free for both UDP and TCP")
	}
	s.Addr = pc.LocalAddr().String()
	for _, srv := range []*dns.Server{{PacketConn: pc, Handler: s}, {Listener: ln, Handler: s}} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		done := make(chan struct{})
		go func() {
			defer close(done)
			_ = srv.ActivateAndServe()
		}()
		<-started
		t.Cleanup(func() {
			s.Release()
			_ = srv.Shutdown()
			<-done
		})
	}
	return s
}

// Set replaces the address records of name (A for IPv4, AAAA for IPv6)
// with addrs, each with the given TTL in seconds. No addresses: the name
// has no records (NXDOMAIN).
func (s *Server) Set(name string, ttl uint32, addrs ...string) {
	var rrs []dns.RR
	owner := dns.Fqdn(strings.ToLower(name))
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip4 := ip.To4(); ip4 != nil {
			rrs = append(rrs, &dns.A{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: ip4})
		} else {
			rrs = append(rrs, &dns.AAAA{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: ttl}, AAAA: ip})
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(rrs) == 0 {
		delete(s.records, owner)
		return
	}
	s.records[owner] = rrs
}

// SetCNAME makes name an alias of target.
func (s *Server) SetCNAME(name string, ttl uint32, target string) {
	owner := dns.Fqdn(strings.ToLower(name))
	rr := &dns.CNAME{Hdr: dns.RR_Header{Name: owner, Rrtype: dns.TypeCNAME, Class: dns.ClassINET, Ttl: ttl}, Target: dns.Fqdn(strings.ToLower(target))}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.records[owner] = []dns.RR{rr}
}

// SetMode changes how the server answers.
func (s *Server) SetMode(m Mode) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.mode = m
}

// Truncate makes UDP answers empty with the TC bit set, so that clients
// must ask again over TCP.
func (s *Server) Truncate(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.truncate = on
}

// Hold makes answers wait until Release.
func (s *Server) Hold() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold == nil {
		s.hold = make(chan struct{})
	}
}

// Release lets held answers go.
func (s *Server) Release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hold != nil {
		close(s.hold)
		s.hold = nil
	}
}

// Received returns a channel that receives "name TYPE" (e.g. "origin.test.
// A") for every query from now on; it holds 1024, then drops.
func (s *Server) Received() <-chan string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.received == nil {
		s.received = make(chan string, 1024)
	}
	return s.received
}

// Queries returns how many queries for name and type ("A", "AAAA") the
// server received.
func (s *Server) Queries(name, qtype string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queries[dns.Fqdn(strings.ToLower(name))+" "+qtype]
}

// ServeDNS answers one query.
func (s *Server) ServeDNS(w dns.ResponseWriter, q *dns.Msg) {
	if len(q.Question) != 1 {
		return
	}
	qn := strings.ToLower(q.Question[0].Name)
	qt := q.Question[0].Qtype
	key := qn + " " + dns.TypeToString[qt]
	_, udp := w.RemoteAddr().(*net.UDPAddr)
	s.mu.Lock()
	s.queries[key]++
	mode, hold, trunc := s.mode, s.hold, s.truncate && udp
	if s.received != nil {
		select {
		case s.received <- key:
		default:
		}
	}
	m := new(dns.Msg)
	m.SetReply(q)
	m.Authoritative = true
	// Follow CNAMEs within the zone, as a recursive server would.
	name := qn
	for range 10 {
		rrs, ok := s.records[name]
		if !ok {
			if name == qn {
				m.Rcode = dns.RcodeNameError
			}
			break
		}
		next := ""
		for _, rr := range rrs {
			if rr.Header().Rrtype == qt || rr.Header().Rrtype == dns.TypeCNAME {
				m.Answer = append(m.Answer, dns.Copy(rr))
			}
			if c, ok := rr.(*dns.CNAME); ok {
				next = c.Target
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	switch {
	case mode == Drop:
		return
	case mode == ServFail:
		m.Answer, m.Rcode = nil, dns.RcodeServerFailure
	case trunc:
		m.Answer, m.Truncated = nil, true
	}
	_ = w.WriteMsg(m)
}
