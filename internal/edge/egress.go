package edge

import (
	"net"
	"net/http"
	"sort"
	"time"

	"github.com/strata-cdn/strata/internal/jsonapi"
)

// egressSeen is what the edge observed of its connections to one upstream.
type egressSeen struct {
	kind  string
	local map[string]time.Time // local IP -> last seen
}

// sawEgress records that a fetch to u went out from the local address la.
func (t *tierTransport) sawEgress(u upstream, la net.Addr) {
	ip := la.String()
	if ta, ok := la.(*net.TCPAddr); ok {
		ip = ta.IP.String()
	} else if h, _, err := net.SplitHostPort(ip); err == nil {
		ip = h
	}
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e := t.egress[u.name]
	if e == nil {
		e = &egressSeen{kind: u.kind, local: map[string]time.Time{}}
		t.egress[u.name] = e
	}
	e.local[ip] = now
}

// Egress is the answer of GET /edge/egress: the addresses this node fetches
// from, so that an origin (or its firewall or WAF) can allow-list them
// (case C18).
type Egress struct {
	Node string `json:"node"`
	// Addresses are the local IP addresses the node's upstream connections
	// were seen to use, sorted.
	Addresses []string `json:"addresses"`
	// Upstreams lists each configured parent and origin with the local
	// addresses seen towards it (empty until the first fetch).
	Upstreams []EgressUpstream `json:"upstreams"`
}

// EgressUpstream is one parent or origin of an Egress report.
type EgressUpstream struct {
	Kind string `json:"kind"` // "parent" or "origin"
	// Upstream is the host[:port] fetched from.
	Upstream string `json:"upstream"`
	// Domain is the domain whose origin it is (empty for a parent).
	Domain string `json:"domain,omitempty"`
	// Down reports that health scoring currently skips it.
	Down bool `json:"down"`
	// LocalAddresses are the local IPs seen on connections to it.
	LocalAddresses []string   `json:"local_addresses"`
	LastSeen       *time.Time `json:"last_seen,omitempty"`
	// DNS is the cached answer for the upstream's name: the addresses it
	// is fetched from (case C01). Absent before the first fetch, and when
	// the Handler's Resolver does not dial for its transport.
	DNS *EgressDNS `json:"dns,omitempty"`
}

// EgressDNS is the current DNS answer for an upstream's name.
type EgressDNS struct {
	// Addresses the name resolves to, in the order they are tried.
	Addresses []string `json:"addresses"`
	// Source is "dns", "hosts" or "literal".
	Source string `json:"source"`
	// TTL is the answer's lifetime in seconds when it was resolved;
	// TTLRemaining, the seconds until it is asked again (0: on the next
	// connection or request).
	TTL          int64 `json:"ttl"`
	TTLRemaining int64 `json:"ttl_remaining"`
	// Stale reports an answer kept because re-resolution failed.
	Stale bool `json:"stale,omitempty"`
}

// egressDNS returns the resolver's cached answer for upstream (host[:port]).
func (h *Handler) egressDNS(upstream string) *EgressDNS {
	host := upstream
	if hh, _, err := net.SplitHostPort(upstream); err == nil {
		host = hh
	}
	a, ok := h.resolver.Peek(host)
	if !ok {
		return nil
	}
	d := &EgressDNS{Addresses: make([]string, 0, len(a.Addrs)), Source: string(a.Source), Stale: a.Stale,
		TTL: int64(a.TTL / time.Second), TTLRemaining: int64((h.resolver.Remaining(a) + time.Second - 1) / time.Second)}
	for _, ip := range a.Addrs {
		d.Addresses = append(d.Addresses, ip.String())
	}
	return d
}

// Egress reports the node's upstreams and the local addresses it fetches
// from.
func (h *Handler) Egress() Egress {
	h.init()
	t := h.tier
	out := Egress{Node: h.nodeID, Addresses: []string{}, Upstreams: []EgressUpstream{}}
	now := h.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	all := map[string]bool{}
	add := func(kind, name, domain string) {
		eu := EgressUpstream{Kind: kind, Upstream: name, Domain: domain, LocalAddresses: []string{}}
		if hs := t.health[kind+" "+name]; hs != nil {
			eu.Down = hs.probeDown || now.Before(hs.downUntil)
		}
		if e := t.egress[name]; e != nil {
			for ip, at := range e.local {
				eu.LocalAddresses = append(eu.LocalAddresses, ip)
				if eu.LastSeen == nil || at.After(*eu.LastSeen) {
					at := at
					eu.LastSeen = &at
				}
			}
			sort.Strings(eu.LocalAddresses)
		}
		eu.DNS = h.egressDNS(name)
		out.Upstreams = append(out.Upstreams, eu)
	}
	for _, p := range h.Parents {
		add("parent", p.Host, "")
	}
	domains := h.domains()
	for i := range domains {
		d := &domains[i]
		add("origin", d.Origin.Host, d.Host)
		for _, o := range d.Origins {
			add("origin", o.Host, d.Host)
		}
	}
	for _, e := range t.egress {
		for ip := range e.local {
			all[ip] = true
		}
	}
	for ip := range all {
		out.Addresses = append(out.Addresses, ip)
	}
	sort.Strings(out.Addresses)
	return out
}

// EgressHandler serves GET /edge/egress (docs/admin-api.md), to be mounted
// on the admin listener.
func (h *Handler) EgressHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /edge/egress", func(w http.ResponseWriter, r *http.Request) {
		jsonapi.Write(w, http.StatusOK, h.Egress())
	})
	return mux
}
