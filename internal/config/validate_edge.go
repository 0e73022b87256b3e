package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// SliceAlign is the unit slice sizes are multiples of.
const SliceAlign = 64 * KiB

// edge checks the edge and domains sections.
func (p *problems) edge(c *Config) {
	if c.Edge.Cache.Memory <= 0 {
		p.add("edge.cache.memory", "must be positive, e.g. \"256MiB\"")
	}
	if c.Edge.Cache.Disk < 0 {
		p.add("edge.cache.disk", "must not be negative; 0 turns the disk tier off")
	}
	if strings.ContainsRune(c.Edge.AccessLog, 0) || (c.Edge.AccessLog != "" && strings.TrimSpace(c.Edge.AccessLog) == "") {
		p.add("edge.access_log", "%q is not a path; write a file path, \"-\" for standard error, or \"off\"", c.Edge.AccessLog)
	}
	if c.Edge.Cache.BackgroundFill < 0 {
		p.add("edge.cache.background_fill", "must not be negative; 0 stops a fetch when its last client leaves")
	}
	if c.Edge.Cache.MaxEntry <= 0 {
		p.add("edge.cache.max_entry", "must be positive, e.g. \"1GiB\"")
	}
	hosts := map[string]int{}
	for i, d := range c.Domains {
		path := fmt.Sprintf("domains[%d]", i)
		host := strings.ToLower(d.Host)
		switch {
		case host == "":
			p.add(path+".host", "must not be empty; write the site's host name, or \"*\" for any host")
		case host != "*" && (strings.ContainsAny(host, "/: ") || strings.HasPrefix(host, ".")):
			p.add(path+".host", "%q is not a host name; write a bare name such as \"www.example.com\" (no scheme, port or path)", d.Host)
		}
		if j, dup := hosts[host]; dup && host != "" {
			p.add(path+".host", "%q is also domains[%d].host; each host has one domain", d.Host, j)
		}
		hosts[host] = i
		p.origin(path+".origin", d.Origin)
		switch d.Range {
		case "off", "on", "force":
		default:
			p.add(path+".range", "%q is not a range mode; use off, on or force", d.Range)
		}
		if d.SliceSize <= 0 || d.SliceSize%SliceAlign != 0 {
			p.add(path+".slice_size", "%v: must be a positive multiple of 64KiB, e.g. \"1MiB\"", d.SliceSize)
		}
		p.domainRules(path, d) // edge_rules.go
		for j, r := range d.CacheRules {
			rp := fmt.Sprintf("%s.cache_rules[%d]", path, j)
			if r.PathPrefix != "" && !strings.HasPrefix(r.PathPrefix, "/") {
				p.add(rp+".path_prefix", "%q must start with \"/\"", r.PathPrefix)
			}
			for k, e := range r.Extensions {
				if !strings.HasPrefix(e, ".") || len(e) < 2 {
					p.add(fmt.Sprintf("%s.extensions[%d]", rp, k), "%q must be a file extension with its dot, e.g. \".js\"", e)
				}
			}
			if r.TTL < 0 {
				p.add(rp+".ttl", "must not be negative; 0 keeps the origin's freshness")
			}
		}
	}
	p.edgeTiers(c)    // parents, origins, health checks (edge_tiers.go)
	p.edgeResolver(c) // edge.resolver (edge_resolver.go)
	// An origin that is itself a domain of this deployment makes requests
	// circle through the edge (case C06).
	for i, d := range c.Domains {
		u, err := url.Parse(d.Origin)
		if err != nil || u.Host == "" {
			continue
		}
		oh := strings.ToLower(u.Hostname())
		if j, ok := hosts[oh]; ok {
			p.add(fmt.Sprintf("domains[%d].origin", i), "%q is served by this deployment itself (domains[%d]); requests would loop through the edge (case C06): point the origin at the real server", d.Origin, j)
		}
	}
}

// origin checks an origin URL.
func (p *problems) origin(path, s string) {
	u, err := url.Parse(s)
	switch {
	case s == "":
		p.add(path, "must not be empty; write the origin's URL, e.g. \"http://10.0.0.5:8000\"")
	case err != nil:
		p.add(path, "%q is not a URL: %v", s, err)
	case u.Scheme != "http" && u.Scheme != "https":
		p.add(path, "%q: scheme must be http or https", s)
	case u.Host == "":
		p.add(path, "%q has no host; write e.g. \"http://10.0.0.5:8000/prefix\"", s)
	case u.RawQuery != "" || u.Fragment != "":
		p.add(path, "%q: an origin URL has no query or fragment", s)
	default:
		if _, port, err := net.SplitHostPort(u.Host); err == nil && port == "" {
			p.add(path, "%q: empty port", s)
		}
	}
}
