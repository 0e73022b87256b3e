package resolve

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"sync"

	"github.com/miekg/dns"
)

// maxCNAMEs bounds the CNAME chain followed.
const maxCNAMEs = 8

// ednsSize is the UDP payload size offered (EDNS0, RFC 6891): the size
// the DNS flag day 2020 settled on, which avoids fragmentation.
const ednsSize = 1232

// lookupDNS resolves name through conf: each candidate of the search list
// in turn until one has addresses. It returns the addresses and the
// smallest TTL of the records that led to them, in seconds.
func (r *Resolver) lookupDNS(ctx context.Context, conf *Conf, name string, rooted bool) ([]netip.Addr, uint32, error) {
	var firstErr error
	for _, fq := range conf.candidates(name, rooted) {
		addrs, ttl, err := r.lookupFQDN(ctx, conf, fq)
		if err == nil {
			return addrs, ttl, nil
		}
		if ctx.Err() != nil {
			return nil, 0, err
		}
		if !errors.Is(err, ErrNotFound) && firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		// A server failed for some candidate: the name may exist.
		return nil, 0, firstErr
	}
	return nil, 0, ErrNotFound
}

// lookupFQDN asks for the A and AAAA records of one absolute name, both
// at once. Addresses of one family are enough when the other's query
// fails (servers that mishandle AAAA exist); a failure of both is an
// error, NXDOMAIN or no records of either kind is ErrNotFound.
func (r *Resolver) lookupFQDN(ctx context.Context, conf *Conf, fq string) ([]netip.Addr, uint32, error) {
	type result struct {
		addrs []netip.Addr
		ttl   uint32
		err   error
	}
	var res [2]result
	var wg sync.WaitGroup
	for i, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res[i].addrs, res[i].ttl, res[i].err = r.queryChain(ctx, conf, fq, qt)
		}()
	}
	wg.Wait()
	var addrs []netip.Addr
	ttl := uint32(math.MaxUint32)
	var failed error
	for _, x := range res {
		switch {
		case x.err == nil && len(x.addrs) > 0:
			addrs = append(addrs, x.addrs...)
			ttl = min(ttl, x.ttl)
		case x.err != nil && errors.Is(x.err, ErrNotFound):
			return nil, 0, ErrNotFound // NXDOMAIN holds for every type
		case x.err != nil && failed == nil:
			failed = x.err
		}
	}
	if len(addrs) > 0 {
		return addrs, ttl, nil
	}
	if failed != nil {
		return nil, 0, failed
	}
	return nil, 0, ErrNotFound
}

// queryChain asks for the records of type qt of name, following CNAMEs,
// and asks again for a CNAME's target when the server did not include its
// records (RFC 1034 §3.6.2). No records (NODATA) is an empty result.
func (r *Resolver) queryChain(ctx context.Context, conf *Conf, name string, qt uint16) ([]netip.Addr, uint32, error) {
	ttl := uint32(math.MaxUint32)
	cur := strings.ToLower(dns.Fqdn(name))
	hops := 0
	for range maxCNAMEs {
		m, err := r.exchange(ctx, conf, cur, qt)
		if err != nil {
			return nil, 0, err
		}
		if m.Rcode == dns.RcodeNameError {
			return nil, 0, fmt.Errorf("%s: %w", strings.TrimSuffix(cur, "."), ErrNotFound)
		}
		cname := map[string]*dns.CNAME{}
		addrs := map[string][]dns.RR{}
		for _, rr := range m.Answer {
			owner := strings.ToLower(rr.Header().Name)
			switch v := rr.(type) {
			case *dns.CNAME:
				cname[owner] = v
			case *dns.A, *dns.AAAA:
				if rr.Header().Rrtype == qt {
					addrs[owner] = append(addrs[owner], rr)
				}
			}
		}
		asked := cur
		for len(addrs[cur]) == 0 && cname[cur] != nil {
			if hops++; hops > maxCNAMEs {
				return nil, 0, fmt.Errorf("%s: CNAME chain longer than %d", name, maxCNAMEs)
			}
			ttl = min(ttl, cname[cur].Hdr.Ttl)
			cur = strings.ToLower(cname[cur].Target)
		}
		if rrs := addrs[cur]; len(rrs) > 0 {
			var out []netip.Addr
			for _, rr := range rrs {
				ttl = min(ttl, rr.Header().Ttl)
				var a netip.Addr
				var ok bool
				switch v := rr.(type) {
				case *dns.A:
					a, ok = netip.AddrFromSlice(v.A.To4())
				case *dns.AAAA:
					a, ok = netip.AddrFromSlice(v.AAAA.To16())
				}
				if ok && a.IsValid() && !a.IsUnspecified() {
					out = append(out, a.Unmap())
				}
			}
			return out, ttl, nil
		}
		if cur == asked {
			return nil, 0, nil // NODATA
		}
		// The chain ends at a name the answer has no records for: ask it.
	}
	return nil, 0, fmt.Errorf("%s: CNAME chain longer than %d", name, maxCNAMEs)
}

// exchange sends one query to the servers of conf in turn, Attempts rounds,
// until one answers NOERROR or NXDOMAIN; a truncated UDP answer is asked
// again over TCP (RFC 7766 §5).
func (r *Resolver) exchange(ctx context.Context, conf *Conf, fqdn string, qt uint16) (*dns.Msg, error) {
	q := new(dns.Msg)
	q.SetQuestion(fqdn, qt)
	q.RecursionDesired = true
	q.SetEdns0(ednsSize, false)
	udp := &dns.Client{Net: "udp", Timeout: conf.Timeout, UDPSize: ednsSize}
	tcp := &dns.Client{Net: "tcp", Timeout: conf.Timeout}
	var last error
	for range max(conf.Attempts, 1) {
		for _, srv := range conf.Nameservers {
			qctx, cancel := context.WithTimeout(ctx, conf.Timeout)
			m, _, err := udp.ExchangeContext(qctx, q, srv)
			if err == nil && m.Truncated {
				m, _, err = tcp.ExchangeContext(qctx, q, srv)
			}
			cancel()
			switch {
			case err != nil:
				last = fmt.Errorf("%s %s @%s: %w", dns.TypeToString[qt], fqdn, srv, err)
				if ctx.Err() != nil {
					return nil, last
				}
				continue
			case len(m.Question) != 1 || !strings.EqualFold(m.Question[0].Name, fqdn) || m.Question[0].Qtype != qt:
				last = fmt.Errorf("%s %s @%s: answer to another question", dns.TypeToString[qt], fqdn, srv)
				continue
			case m.Rcode == dns.RcodeSuccess || m.Rcode == dns.RcodeNameError:
				return m, nil
			}
			last = fmt.Errorf("%s %s @%s: %s", dns.TypeToString[qt], fqdn, srv, dns.RcodeToString[m.Rcode])
		}
	}
	if last == nil {
		last = errors.New("no nameserver")
	}
	return nil, last
}
