package config

import (
	"fmt"
	"net/netip"
)

// EdgeResolver configures how the edge resolves the names of its origins
// and parents (case C01): DNS answers are cached for their TTL, clamped to
// [min_ttl, max_ttl], and a pooled connection whose address left its
// name's answer is not reused. Zero values take the defaults (docs/config.md).
type EdgeResolver struct {
	// Nameservers, "ip" or "ip:port", replace those of /etc/resolv.conf.
	Nameservers []string `yaml:"nameservers"`
	// MinTTL and MaxTTL clamp the lifetime of a DNS answer. Default 1s
	// and 5m.
	MinTTL Duration `yaml:"min_ttl"`
	MaxTTL Duration `yaml:"max_ttl"`
	// StaleGrace is how long after its expiry an answer is still used
	// while re-resolution fails (stale-if-error). Default 1h; negative:
	// never.
	StaleGrace Duration `yaml:"stale_grace"`
}

// edgeResolver checks edge.resolver.
func (p *problems) edgeResolver(c *Config) {
	r := c.Edge.Resolver
	for i, s := range r.Nameservers {
		if _, err := netip.ParseAddr(s); err == nil {
			continue
		}
		if ap, err := netip.ParseAddrPort(s); err == nil && ap.Port() != 0 {
			continue
		}
		p.add(fmt.Sprintf("edge.resolver.nameservers[%d]", i), "%q is not an IP address or ip:port; write e.g. \"10.0.0.2\", \"10.0.0.2:5353\" or \"[2001:db8::53]:53\" (a nameserver cannot be a name)", s)
	}
	if r.MinTTL < 0 {
		p.add("edge.resolver.min_ttl", "must not be negative; 0 = 1s")
	}
	if r.MaxTTL < 0 {
		p.add("edge.resolver.max_ttl", "must not be negative; 0 = 5m")
	}
	if r.MinTTL > 0 && r.MaxTTL > 0 && r.MaxTTL < r.MinTTL {
		p.add("edge.resolver.max_ttl", "%v is shorter than edge.resolver.min_ttl %v", r.MaxTTL.D(), r.MinTTL.D())
	}
}
