package diag

import (
	"net"
	"net/http"
	"strings"
	"testing"
)

// FuzzParseResolve checks that every accepted --resolve entry yields dial
// addresses that split back into the host and port given.
func FuzzParseResolve(f *testing.F) {
	for _, s := range []string{"a.test:443:127.0.0.1", "a.test:80:[::1]", "a:1:1.2.3.4,5.6.7.8", "a::", ":::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		from, to, err := ParseResolve(s)
		if err != nil {
			return
		}
		host, port, err := net.SplitHostPort(from)
		if err != nil || host == "" || port == "" {
			t.Fatalf("ParseResolve(%q): from %q does not split: %v", s, from, err)
		}
		if len(to) == 0 {
			t.Fatalf("ParseResolve(%q): no addresses", s)
		}
		for _, a := range to {
			ip, p, err := net.SplitHostPort(a)
			if err != nil || p != port || net.ParseIP(ip) == nil {
				t.Fatalf("ParseResolve(%q): to %q is not an IP with port %s", s, a, port)
			}
		}
	})
}

// FuzzViaHops checks that Via parsing never panics and that a header
// always shares each of its own hops with itself.
func FuzzViaHops(f *testing.F) {
	for _, s := range []string{"1.1 strata-l1-a (strata)", "1.0 fred, 1.1 p.example.net", "", ",,", "HTTP/2 x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h := http.Header{"Via": {s}}
		hops := viaHops(h)
		if len(hops) > 0 && sharedVia(h, h) == "" {
			t.Fatalf("Via %q: hops %q but none shared with itself", s, hops)
		}
		for _, hop := range hops {
			if hop != strings.ToLower(hop) || strings.ContainsAny(hop, " \t,") {
				t.Fatalf("Via %q: hop %q not a lower-case token", s, hop)
			}
		}
	})
}
