package diag

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// maxCNAMEs bounds the CNAME chain followed (and the queries sent).
const maxCNAMEs = 8

// dnsAnswer is the resolution of one name through one server.
type dnsAnswer struct {
	chain []string // the name, then each CNAME target, as FQDNs in lower case
	addrs []string // the A and AAAA addresses of the last name
	lines []string // the records, dig style, for evidence
	rcode int
}

// dnsServer returns the server the DNS check asks: Options.DNSServer or
// the first nameserver of /etc/resolv.conf.
func (p *prober) dnsServer() (string, error) {
	if p.opts.DNSServer != "" {
		return p.opts.DNSServer, nil
	}
	cfg, err := dns.ClientConfigFromFile("/etc/resolv.conf")
	if err != nil {
		return "", fmt.Errorf("read /etc/resolv.conf: %w", err)
	}
	if len(cfg.Servers) == 0 {
		return "", fmt.Errorf("no nameserver in /etc/resolv.conf")
	}
	return net.JoinHostPort(cfg.Servers[0], cfg.Port), nil
}

// lookup resolves name through server by hand, following CNAMEs, so that
// the chain itself is seen (a stub resolver hides it). It sends an A and
// an AAAA query per name it has to ask about, for at most maxCNAMEs names.
func (p *prober) lookup(ctx context.Context, server, name string) (dnsAnswer, error) {
	c := &dns.Client{Timeout: p.timeout}
	a := dnsAnswer{chain: []string{strings.ToLower(dns.Fqdn(name))}}
	cur := a.chain[0]
	addLine := func(rr dns.RR) {
		if l := strings.ReplaceAll(rr.String(), "\t", " "); !slices.Contains(a.lines, l) {
			a.lines = append(a.lines, l)
		}
	}
	for range maxCNAMEs {
		cnameOf, addrsOf := map[string]string{}, map[string][]string{}
		for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
			m := new(dns.Msg)
			m.SetQuestion(cur, qtype)
			qctx, cancel := context.WithTimeout(ctx, p.timeout)
			r, _, err := c.ExchangeContext(qctx, m, server)
			cancel()
			if err != nil {
				return a, fmt.Errorf("%s %s @%s: %w", dns.TypeToString[qtype], cur, server, err)
			}
			if a.rcode = r.Rcode; r.Rcode != dns.RcodeSuccess {
				return a, nil
			}
			for _, rr := range r.Answer {
				owner := strings.ToLower(rr.Header().Name)
				switch v := rr.(type) {
				case *dns.CNAME:
					cnameOf[owner] = strings.ToLower(v.Target)
				case *dns.A:
					addrsOf[owner] = append(addrsOf[owner], v.A.String())
				case *dns.AAAA:
					addrsOf[owner] = append(addrsOf[owner], v.AAAA.String())
				default:
					continue
				}
				addLine(rr)
			}
		}
		n := cur
		for t := cnameOf[n]; t != "" && !slices.Contains(a.chain, t) && len(a.chain) <= maxCNAMEs; t = cnameOf[n] {
			a.chain = append(a.chain, t)
			n = t
		}
		if len(addrsOf[n]) > 0 || n == cur {
			a.addrs = addrsOf[n]
			return a, nil
		}
		cur = n // the server gave the CNAME but not its target's records
	}
	return a, nil
}

// cnames returns the CNAME targets of the chain (without the name itself).
func (a dnsAnswer) cnames() []string { return a.chain[1:] }

// reaches reports whether the chain passes through want or a name under
// it (CDNs give each customer a name in their zone).
func (a dnsAnswer) reaches(want string) bool {
	want = strings.ToLower(dns.Fqdn(want))
	for _, n := range a.cnames() {
		if n == want || strings.HasSuffix(n, "."+want) {
			return true
		}
	}
	return false
}

// checkDNS follows the target's CNAME chain and checks that it reaches
// the CDN's name (--expect-cname) and that the addresses are the ones that
// name has. An answer without the CNAME, with addresses the CDN's name
// does not have, is what a hijacking resolver returns (C13).
func checkDNS(ctx context.Context, p *prober) []Finding {
	if net.ParseIP(p.host) != nil {
		return nil
	}
	server, err := p.dnsServer()
	if err != nil {
		return []Finding{{ID: "dns.skipped", Case: "C13", Level: Info, Summary: "not checked: " + err.Error()}}
	}
	got, err := p.lookup(ctx, server, p.host)
	if err != nil {
		return []Finding{{ID: "dns.error", Case: "C13", Level: Bad, Summary: "the DNS query fails: " + err.Error(),
			Fix: "check that the resolver " + server + " is reachable; compare with another resolver (dig @1.1.1.1 " + p.host + ")"}}
	}
	ev := append([]string{"server: " + server, "chain: " + strings.Join(got.chain, " → ")}, got.lines...)
	if got.rcode != dns.RcodeSuccess {
		return []Finding{{ID: "dns.rcode", Case: "C13", Level: Bad,
			Summary:  p.host + " does not resolve: " + dns.RcodeToString[got.rcode],
			Evidence: ev,
			Fix:      "check the DNS records of " + p.host + " at its authoritative servers"}}
	}
	if p.opts.ExpectCNAME == "" {
		return []Finding{{ID: "dns.chain", Case: "C13", Level: Info,
			Summary:  fmt.Sprintf("%s resolves through %d CNAME(s) to %s", p.host, len(got.cnames()), strings.Join(got.addrs, ", ")),
			Evidence: ev}}
	}
	want := strings.ToLower(dns.Fqdn(p.opts.ExpectCNAME))
	if got.reaches(want) {
		return []Finding{{ID: "dns.cname-ok", Case: "C13", Level: OK,
			Summary: "the CNAME chain reaches " + want, Evidence: ev}}
	}
	// Resolve the CDN's name through the same server: are the addresses
	// at least the CDN's?
	exp, err := p.lookup(ctx, server, want)
	if err == nil {
		ev = append(ev, "expected: "+strings.Join(exp.chain, " → ")+" = "+strings.Join(exp.addrs, ", "))
	}
	var foreign []string
	for _, a := range got.addrs {
		if err != nil || !slices.Contains(exp.addrs, a) {
			foreign = append(foreign, a)
		}
	}
	id, sum := "dns.cname-unexpected", fmt.Sprintf("the CNAME chain of %s does not reach %s", p.host, want)
	if len(got.cnames()) == 0 {
		id, sum = "dns.no-cname", fmt.Sprintf("%s answers with addresses and no CNAME; %s was expected", p.host, want)
	}
	if len(foreign) > 0 {
		sum += "; " + strings.Join(foreign, ", ") + " are not addresses of " + want + ": the record was changed, or this resolver's answer is hijacked (C13)"
	} else {
		sum += ", though the addresses are " + want + "'s (C13)"
	}
	lvl := Bad
	if len(foreign) == 0 {
		lvl = Warn
	}
	return []Finding{{ID: id, Case: "C13", Level: lvl, Summary: sum, Evidence: ev,
		Fix: fmt.Sprintf("check the record of %s at its DNS provider (it should be a CNAME to %s); if it is right there, send the ISP that runs %s: the name, the resolver address, the time (%s UTC), this answer, the expected CNAME %s, and the output of dig %s and dig @1.1.1.1 %s",
			p.host, want, server, time.Now().UTC().Format(time.DateTime), want, p.host, p.host)}}
}
