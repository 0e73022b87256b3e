package diag

import (
	"context"
	"fmt"
	"time"
)

// Thresholds above which a phase of the baseline request is called slow.
const (
	slowDNS       = time.Second
	slowConnect   = time.Second
	slowHandshake = time.Second // C05: a client blocked on OCSP looks like this
	slowFirstByte = 3 * time.Second
)

// checkTiming reports the baseline request's phases in curl's names, and
// which phase is slow.
func checkTiming(_ context.Context, p *prober) []Finding {
	if p.base == nil {
		return []Finding{{ID: "http.failed", Level: Bad,
			Summary:  "the request to " + p.u.String() + " failed",
			Evidence: []string{fmt.Sprint(p.baseErr)},
			Fix:      "see the tls, dns and reset findings for the cause; check that the server listens on " + p.targetAddr()}}
	}
	t := p.timing
	var ev []string
	for _, f := range t.Fields() {
		ev = append(ev, fmt.Sprintf("%s: %.6f", f.Name, f.Value.Seconds()))
	}
	ev = append(ev, "status: "+statusLine(p.base), "size_download: "+itoa(p.base.Len))
	out := []Finding{{ID: "timing", Level: Info,
		Summary:  fmt.Sprintf("%s in %.3fs (first byte at %.3fs)", statusLine(p.base), t.Total.Seconds(), t.StartTransfer.Seconds()),
		Evidence: ev}}
	slow := func(id, caseID, what string, d, limit time.Duration, fix string) {
		if d > limit {
			out = append(out, Finding{ID: id, Case: caseID, Level: Warn,
				Summary:  fmt.Sprintf("%s took %.3fs", what, d.Seconds()),
				Evidence: ev, Fix: fix})
		}
	}
	slow("timing.slow-dns", "", "the DNS lookup", t.NameLookup, slowDNS,
		"check the resolver the client uses and the TTLs of the records in the CNAME chain")
	slow("timing.slow-connect", "", "the TCP connection", t.Connect-t.NameLookup, slowConnect,
		"the network path to the node is slow or lossy: compare with another network, and with the tls per-node findings")
	if t.AppConnect > 0 {
		slow("timing.slow-tls", "C05", "the TLS handshake", t.AppConnect-t.Connect, slowHandshake,
			"enable OCSP stapling and send the full chain; a slow handshake often waits on OCSP or on intermediate fetches")
		slow("timing.slow-first-byte", "", "waiting for the first byte", t.StartTransfer-t.AppConnect, slowFirstByte,
			"the server (or its origin, on a cache miss) is slow to answer; repeat to see whether a cached answer is faster")
	} else {
		slow("timing.slow-first-byte", "", "waiting for the first byte", t.StartTransfer-t.Connect, slowFirstByte,
			"the server (or its origin, on a cache miss) is slow to answer; repeat to see whether a cached answer is faster")
	}
	if p.base.Status >= 300 && p.base.Status < 400 {
		if loc := p.base.Header.Get("Location"); loc != "" {
			out = append(out, Finding{ID: "http.redirect", Level: Info,
				Summary:  "the URL redirects; the checks examine the redirect itself",
				Evidence: []string{statusLine(p.base), "Location: " + loc},
				Fix:      "run doctor on " + loc})
		}
	}
	return out
}
