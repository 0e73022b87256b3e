package resolve

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults of resolv.conf(5) for what a file leaves out.
const (
	defaultNdots    = 1
	defaultTimeout  = 5 * time.Second
	defaultAttempts = 2
	maxNameservers  = 3 // MAXNS of resolv.conf(5): later lines are ignored
)

// Conf is what the resolver uses of /etc/resolv.conf (resolv.conf(5)).
type Conf struct {
	// Nameservers are the servers asked, in order, as host:port. A file
	// without any yields the local server on 127.0.0.1:53 and [::1]:53, as
	// the C library does.
	Nameservers []string
	// Search lists the domains appended to a name with fewer than Ndots
	// dots (after trying it as it is when it has at least Ndots), lower
	// case, without the trailing dot.
	Search []string
	// Ndots, Timeout (per query) and Attempts (rounds over all servers)
	// are the file's options, or their defaults 1, 5s and 2.
	Ndots    int
	Timeout  time.Duration
	Attempts int
}

// ParseConf reads the keywords of a resolv.conf file that matter to a stub
// resolver: nameserver (at most three), search and domain (the last one
// wins, as resolv.conf(5) says), and the options ndots, timeout and
// attempts (capped at 15, 30 and 5 like glibc). Unknown lines are ignored.
func ParseConf(b []byte) Conf {
	c := Conf{Ndots: defaultNdots, Timeout: defaultTimeout, Attempts: defaultAttempts}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexAny(line, "#;"); i >= 0 {
			line = line[:i]
		}
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) < 2 || len(c.Nameservers) >= maxNameservers {
				continue
			}
			if a, err := netip.ParseAddr(f[1]); err == nil {
				c.Nameservers = append(c.Nameservers, net.JoinHostPort(a.String(), "53"))
			}
		case "domain":
			c.Search = nil
			if len(f) > 1 {
				c.Search = searchNames(f[1:2])
			}
		case "search":
			c.Search = searchNames(f[1:])
		case "options":
			for _, o := range f[1:] {
				k, v, ok := strings.Cut(o, ":")
				if !ok {
					continue
				}
				n, err := strconv.Atoi(v)
				if err != nil || n < 0 {
					continue
				}
				switch k {
				case "ndots":
					c.Ndots = min(n, 15)
				case "timeout":
					c.Timeout = time.Duration(max(min(n, 30), 1)) * time.Second
				case "attempts":
					c.Attempts = max(min(n, 5), 1)
				}
			}
		}
	}
	if len(c.Nameservers) == 0 {
		c.Nameservers = []string{"127.0.0.1:53", "[::1]:53"}
	}
	return c
}

// searchNames normalises search domains, dropping the root and names that
// cannot be a domain.
func searchNames(names []string) []string {
	var out []string
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if n == "" || len(n) > 253 || strings.Contains(n, "..") || strings.HasPrefix(n, ".") {
			continue
		}
		out = append(out, n)
	}
	return out
}

// candidates returns the names to ask for name, in order (resolv.conf(5),
// ndots): a rooted name (trailing dot) only as it is; a name with at least
// ndots dots as it is first, then with each search domain; a shorter name
// with the search domains first.
func (c *Conf) candidates(name string, rooted bool) []string {
	if rooted || len(c.Search) == 0 {
		return []string{name}
	}
	var searched []string
	for _, s := range c.Search {
		if len(name)+1+len(s) <= 253 {
			searched = append(searched, name+"."+s)
		}
	}
	if strings.Count(name, ".") >= c.Ndots {
		return append([]string{name}, searched...)
	}
	return append(searched, name)
}

// nameserverAddr turns a configured nameserver, "ip" or "ip:port" (IPv6 in
// brackets with a port), into host:port.
func nameserverAddr(s string) (string, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), "53"), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.String(), true
	}
	return "", false
}
