package diag

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// testZone answers A queries from records (dig-style lines), NXDOMAIN for
// unknown names and an empty NOERROR for other types.
func dnsServer(t *testing.T, records ...string) string {
	t.Helper()
	var rrs []dns.RR
	for _, s := range records {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatalf("record %q: %v", s, err)
		}
		rrs = append(rrs, rr)
	}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		name := strings.ToLower(q.Question[0].Name)
		known := false
		// Answer like a recursive resolver: the chain and the addresses.
		for hops := 0; hops < 10; hops++ {
			var next string
			for _, rr := range rrs {
				if !strings.EqualFold(rr.Header().Name, name) {
					continue
				}
				known = true
				switch v := rr.(type) {
				case *dns.CNAME:
					m.Answer = append(m.Answer, rr)
					next = v.Target
				default:
					if rr.Header().Rrtype == q.Question[0].Qtype {
						m.Answer = append(m.Answer, rr)
					}
				}
			}
			if next == "" {
				break
			}
			name = strings.ToLower(next)
		}
		if !known {
			m.Rcode = dns.RcodeNameError
		}
		w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { close(started) }}
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() { srv.Shutdown() })
	return pc.LocalAddr().String()
}

var testRecords = []string{
	"www.good.test. 60 IN CNAME www.good.test.cdn.test.",
	"www.good.test.cdn.test. 60 IN CNAME edge.cdn.test.",
	"edge.cdn.test. 60 IN A 127.0.0.1",
	"cdn.test. 60 IN A 127.0.0.1",
	"www.hijacked.test. 60 IN A 10.9.9.9",
	"www.moved.test. 60 IN CNAME other-cdn.test.",
	"other-cdn.test. 60 IN A 10.1.1.1",
}

func TestCNAMEChainReachesExpected_C13(t *testing.T) {
	srv := dnsServer(t, testRecords...)
	rep := run(t, Options{URL: "http://www.good.test/x", DNSServer: srv, ExpectCNAME: "cdn.test"}, "dns")
	f := want(t, rep, "dns.cname-ok", "C13", OK)
	if !containsAny(f.Evidence, "www.good.test. → www.good.test.cdn.test. → edge.cdn.test.") {
		t.Errorf("evidence lacks the chain: %q", f.Evidence)
	}

	rep = run(t, Options{URL: "http://www.good.test/x", DNSServer: srv}, "dns")
	f = want(t, rep, "dns.chain", "C13", Info)
	if !strings.Contains(f.Summary, "2 CNAME(s) to 127.0.0.1") {
		t.Errorf("summary %q, want the chain length and address", f.Summary)
	}
}

func TestHijackedAnswerWithoutCNAME_C13(t *testing.T) {
	srv := dnsServer(t, testRecords...)
	rep := run(t, Options{URL: "http://www.hijacked.test/x", DNSServer: srv, ExpectCNAME: "edge.cdn.test"}, "dns")
	f := want(t, rep, "dns.no-cname", "C13", Bad)
	if !strings.Contains(f.Summary, "10.9.9.9") || !strings.Contains(f.Fix, "ISP") {
		t.Errorf("finding does not name the foreign address and the ISP report: %+v", f)
	}

	rep = run(t, Options{URL: "http://www.moved.test/x", DNSServer: srv, ExpectCNAME: "edge.cdn.test"}, "dns")
	want(t, rep, "dns.cname-unexpected", "C13", Bad)
}

func TestTargetDoesNotResolve(t *testing.T) {
	srv := dnsServer(t, testRecords...)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := Run(ctx, Options{URL: "http://nx.test/x", DNSServer: srv, Timeout: 10 * time.Second})
	if !errors.Is(err, ErrResolve) {
		t.Fatalf("Run for a name that does not exist: err %v, want ErrResolve", err)
	}
}

func TestResolvePinSkipsDNSForHTTP(t *testing.T) {
	// --resolve makes an unresolvable name reachable, as with curl.
	u := serve(t, wellBehaved())
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(strings.TrimSuffix(u, "/obj.bin"), "http://"))
	rep := run(t, Options{URL: "http://nx.test:" + port + "/obj.bin", DNSServer: dnsServer(t),
		Resolve: []string{"nx.test:" + port + ":127.0.0.1"}}, "etag")
	want(t, rep, "etag.ok", "A1", OK)
}
