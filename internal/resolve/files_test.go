package resolve

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestParseConf(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Conf
	}{
		{"empty: local server and defaults", "", Conf{Nameservers: []string{"127.0.0.1:53", "[::1]:53"}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"servers, search, options", "# comment\nnameserver 10.0.0.2\nnameserver 2001:db8::53 ; trailing\nsearch Corp.Example. example\noptions ndots:5 timeout:2 attempts:3 rotate\n",
			Conf{Nameservers: []string{"10.0.0.2:53", "[2001:db8::53]:53"}, Search: []string{"corp.example", "example"}, Ndots: 5, Timeout: 2 * time.Second, Attempts: 3}},
		{"at most three servers; bad ones skipped", "nameserver 1.1.1.1\nnameserver bogus\nnameserver 2.2.2.2\nnameserver 3.3.3.3\nnameserver 4.4.4.4\n",
			Conf{Nameservers: []string{"1.1.1.1:53", "2.2.2.2:53", "3.3.3.3:53"}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"domain then search: the last wins", "domain a.example\nsearch b.example\n",
			Conf{Nameservers: []string{"127.0.0.1:53", "[::1]:53"}, Search: []string{"b.example"}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2}},
		{"options capped", "options ndots:99 timeout:0 attempts:100 ndots:x\n",
			Conf{Nameservers: []string{"127.0.0.1:53", "[::1]:53"}, Ndots: 15, Timeout: time.Second, Attempts: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, ParseConf([]byte(tt.in))); diff != "" {
				t.Errorf("ParseConf (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCandidates(t *testing.T) {
	c := Conf{Search: []string{"corp.example"}, Ndots: 1}
	tests := []struct {
		name   string
		rooted bool
		ndots  int
		want   []string
	}{
		{"origin.test", false, 1, []string{"origin.test", "origin.test.corp.example"}},
		{"origin", false, 1, []string{"origin.corp.example", "origin"}},
		{"origin.test", false, 5, []string{"origin.test.corp.example", "origin.test"}},
		{"origin.test", true, 5, []string{"origin.test"}},
	}
	for _, tt := range tests {
		c.Ndots = tt.ndots
		if diff := cmp.Diff(tt.want, c.candidates(tt.name, tt.rooted)); diff != "" {
			t.Errorf("candidates(%q, rooted %v, ndots %d) (-want +got):\n%s", tt.name, tt.rooted, tt.ndots, diff)
		}
	}
}

func TestParseHosts(t *testing.T) {
	in := "127.0.0.1 localhost Localhost.\n::1 localhost ip6-localhost\n# 10.0.0.1 commented\n10.0.0.5 db db.internal # db\nnot-an-ip name\n::ffff:10.0.0.6 mapped\n10.0.0.7\n"
	got := ParseHosts([]byte(in))
	want := map[string][]netip.Addr{
		"localhost":     {netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")},
		"ip6-localhost": {netip.MustParseAddr("::1")},
		"db":            {netip.MustParseAddr("10.0.0.5")},
		"db.internal":   {netip.MustParseAddr("10.0.0.5")},
		"mapped":        {netip.MustParseAddr("10.0.0.6")},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("ParseHosts (-want +got):\n%s", diff)
	}
}

func FuzzParseConf(f *testing.F) {
	f.Add([]byte("nameserver 10.0.0.2\nsearch a.example\noptions ndots:2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := ParseConf(b)
		if len(c.Nameservers) == 0 || len(c.Nameservers) > maxNameservers+1 {
			t.Errorf("%d nameservers", len(c.Nameservers))
		}
		for _, ns := range c.Nameservers {
			if _, err := netip.ParseAddrPort(ns); err != nil {
				t.Errorf("nameserver %q is not ip:port: %v", ns, err)
			}
		}
		if c.Ndots < 0 || c.Ndots > 15 || c.Attempts < 1 || c.Attempts > 5 || c.Timeout < time.Second || c.Timeout > 30*time.Second {
			t.Errorf("options out of range: %+v", c)
		}
		for _, s := range c.Search {
			if s == "" || strings.HasSuffix(s, ".") || s != strings.ToLower(s) {
				t.Errorf("search domain %q not normalised", s)
			}
		}
	})
}

func FuzzParseHosts(f *testing.F) {
	f.Add([]byte("127.0.0.1 localhost\n::1 localhost # c\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for name, addrs := range ParseHosts(b) {
			if name == "" || name != strings.ToLower(name) || len(addrs) == 0 {
				t.Errorf("entry %q: %v", name, addrs)
			}
			for _, a := range addrs {
				if !a.IsValid() || a.Is4In6() {
					t.Errorf("entry %q: address %v", name, a)
				}
			}
		}
	})
}
