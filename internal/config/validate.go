package config

import (
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Validate reports every problem of c at once as an *Error, or nil.
func (c *Config) Validate() error {
	if probs := c.validate(); len(probs) > 0 {
		return &Error{Problems: probs}
	}
	return nil
}

func (c *Config) validate() []Problem {
	var p problems
	if strings.TrimSpace(c.NodeID) == "" {
		p.add("node_id", "must not be empty; name this node, e.g. \"l1-a\"")
	} else if strings.ContainsAny(c.NodeID, " ,;()\"\t\r\n") {
		p.add("node_id", "%q contains a space or one of ,;()\" which would break the Via and Server headers; use letters, digits, '-', '.' or '_'", c.NodeID)
	}
	if strings.TrimSpace(c.DataDir) == "" {
		p.add("data_dir", "must not be empty; set a directory for object data, e.g. \"./strata-data\"")
	}
	if c.ShutdownTimeout < 0 {
		p.add("shutdown_timeout", "must not be negative")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		p.add("log.level", "%q is not a level; use debug, info, warn or error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		p.add("log.format", "%q is not a format; use text or json", c.Log.Format)
	}
	p.listen("s3.listen", c.S3.Listen)
	p.listen("admin.listen", c.Admin.Listen)
	p.listen("edge.listen", c.Edge.Listen)
	listeners := map[string]string{}
	for _, l := range []struct{ path, addr string }{{"s3.listen", c.S3.Listen}, {"admin.listen", c.Admin.Listen}, {"edge.listen", c.Edge.Listen}} {
		if other, dup := listeners[l.addr]; dup && !strings.HasSuffix(l.addr, ":0") {
			p.add(l.path, "%q is also %s; give each listener its own port", l.addr, other)
		}
		listeners[l.addr] = l.path
	}
	if c.S3.Region == "" {
		p.add("s3.region", "must not be empty; clients sign for a region, e.g. \"us-east-1\"")
	}
	for i, d := range c.S3.Domains {
		if d == "" || strings.ContainsAny(d, ":/ ") {
			p.add(fmt.Sprintf("s3.domains[%d]", i), "%q is not a domain name; write a bare name such as \"s3.example.com\" (no scheme, port or path)", d)
		}
	}
	if c.S3.MaxObjectSize <= 0 {
		p.add("s3.max_object_size", "must be positive, e.g. \"5TiB\"")
	}
	if c.S3.MinPartSize <= 0 {
		p.add("s3.min_part_size", "must be positive, e.g. \"5MiB\"")
	}
	if c.S3.InlineMax < 0 || c.S3.InlineMax > 16*MiB {
		p.add("s3.inline_max", "must be from 0 (off) to 16MiB: an inlined object is held in memory while it is received and written twice by the catalog; the default is 128KiB")
	}
	if c.S3.SendTimeout <= 0 {
		p.add("s3.send_timeout", "must be positive, e.g. \"30s\"")
	}
	if c.S3.LifecycleDay <= 0 {
		p.add("s3.lifecycle_day", "must be positive; \"24h\" is a real day, shorter only for tests")
	}
	if c.S3.MinSendRate < 0 {
		p.add("s3.min_send_rate", "must not be negative; 0 turns the check off")
	}
	for key, nets := range map[string][]string{"deny_networks": c.S3.Callback.DenyNetworks, "allow_networks": c.S3.Callback.AllowNetworks} {
		if _, i, err := Prefixes(nets); err != nil {
			p.add(fmt.Sprintf("s3.callback.%s[%d]", key, i), "%q is not a network; write a CIDR prefix (\"10.0.0.0/8\", \"fd00::/8\") or an address", nets[i])
		}
	}
	seen := map[string]int{}
	for i, b := range c.S3.Buckets {
		path := fmt.Sprintf("s3.buckets[%d].name", i)
		if b.Name == "" {
			p.add(path, "must not be empty")
			continue
		}
		if j, dup := seen[b.Name]; dup {
			p.add(path, "%q is declared twice (also s3.buckets[%d]); keep one", b.Name, j)
		}
		seen[b.Name] = i
	}
	p.edge(c)
	p.live(c)
	p.tls(c)
	p.cluster(c) // cluster.go
	return p
}

type problems []Problem

func (p *problems) add(path, format string, args ...any) {
	*p = append(*p, Problem{Path: path, Msg: fmt.Sprintf(format, args...)})
}

// listen checks a host:port listen address.
func (p *problems) listen(path, addr string) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		p.add(path, "%q is not host:port; write e.g. \":9000\" (every address) or \"127.0.0.1:9000\"", addr)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		p.add(path, "port %q is not a number from 0 to 65535", port)
	}
	if host != "" && net.ParseIP(host) == nil && host != "localhost" {
		p.add(path, "host %q is not an IP address; listen on an address (or leave it empty for every address)", host)
	}
}
