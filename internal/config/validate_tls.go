package config

import (
	"fmt"
	"strings"
)

// tls checks edge.tls_listen and each domain's tls. Like the rest of
// Validate it does no I/O: the files are read and the chains verified when
// the daemon starts or reloads (tlsstore), whose errors name the same key
// paths.
func (p *problems) tls(c *Config) {
	e := c.Edge
	anyCert := false
	for i, d := range c.Domains {
		path := fmt.Sprintf("domains[%d].tls", i)
		t := d.TLS
		if !t.Enabled() {
			if t.Key != "" || t.CompleteChain {
				p.add(path+".cert", "must be set when tls.key or tls.complete_chain is: the PEM file of the certificate chain")
			}
			continue
		}
		anyCert = true
		if e.TLSListen == "" {
			p.add(path, "edge.tls_listen is empty, so this certificate would never be served; set edge.tls_listen, e.g. \":8443\"")
		}
	}
	if e.TLSListen == "" {
		return
	}
	p.listen("edge.tls_listen", e.TLSListen)
	if !anyCert {
		p.add("edge.tls_listen", "no domain has a certificate, so HTTPS would have nothing to serve; add tls: {cert: FILE, key: FILE} to a domain, or leave edge.tls_listen empty")
	}
	if strings.HasSuffix(e.TLSListen, ":0") {
		return
	}
	others := map[string]string{c.S3.Listen: "s3.listen", c.Admin.Listen: "admin.listen", c.Edge.Listen: "edge.listen"}
	if c.Live.Enabled {
		others[c.Live.RTMPListen], others[c.Live.HTTPListen] = "live.rtmp_listen", "live.http_listen"
	}
	if other, dup := others[e.TLSListen]; dup {
		p.add("edge.tls_listen", "%q is also %s; give each listener its own port", e.TLSListen, other)
	}
}
