package diag

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// cdnMarkers are response headers that CDNs add. An origin whose direct
// answer carries them is itself behind a CDN (C06).
var cdnMarkers = []string{"Via", "X-Cache", "Cf-Ray", "X-Amz-Cf-Id", "X-Served-By", "Eagleid", "X-Swift-Cachetime", "X-Cdn-Request-Id", "Cdn-Loop"}

// originVariant is one request header a CDN adds on its way to the origin.
type originVariant struct {
	name, value string
}

// originVariants are the headers checked one by one (C12). The reference
// request carries Accept-Encoding: gzip, as a CDN forwards a browser's.
func (p *prober) originVariants() []originVariant {
	proto := "http"
	if p.tls {
		proto = "https"
	}
	return []originVariant{
		{"Via", "1.1 strata-doctor"},
		{"X-Forwarded-For", "203.0.113.7"},
		{"X-Forwarded-Proto", proto},
		{"Accept-Encoding", ""}, // removed: what a CDN that strips it sends
	}
}

// originTarget parses Options.Origin into a scheme and a dial address.
func (p *prober) originTarget() (scheme, addr string, err error) {
	o := p.opts.Origin
	scheme = p.u.Scheme
	if strings.Contains(o, "://") {
		u, err := url.Parse(o)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", "", fmt.Errorf("--origin %q: want host:port or an http(s) URL", o)
		}
		scheme, o = u.Scheme, u.Host
	}
	if _, _, err := net.SplitHostPort(o); err != nil {
		port := "80"
		if scheme == "https" {
			port = "443"
		}
		o = net.JoinHostPort(strings.Trim(o, "[]"), port)
	}
	return scheme, o, nil
}

// checkOrigin asks the origin directly for the same URL (same path and
// Host), once plainly and once with and without each header a CDN adds,
// and reports the headers that change the answer (C12, C03); it flags an
// origin that is itself behind a CDN (C06) and a CDN body that differs
// from the origin's (A2).
func checkOrigin(ctx context.Context, p *prober) []Finding {
	if p.opts.Origin == "" {
		return nil
	}
	scheme, addr, err := p.originTarget()
	if err != nil {
		return []Finding{{ID: "origin.bad-address", Case: "C12", Level: Warn, Summary: err.Error(),
			Fix: "pass --origin as host:port or http://host:port"}}
	}
	c := p.client(func(ctx context.Context, network, _ string) (net.Conn, error) {
		d := net.Dialer{Timeout: p.timeout, Resolver: p.resolver}
		return d.DialContext(ctx, network, addr)
	})
	defer c.CloseIdleConnections()
	target := *p.u
	target.Scheme = scheme
	ask := func(limit int64, kv ...string) (*sample, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, target.String(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("User-Agent", p.opts.UserAgent)
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				req.Header.Del(kv[i])
				continue
			}
			req.Header.Set(kv[i], kv[i+1])
		}
		return p.do(c, req, limit)
	}
	where := "origin " + addr + " (Host: " + p.u.Host + ")"
	plain, err := ask(p.maxBody)
	if err != nil {
		return []Finding{{ID: "origin.unreachable", Case: "C12", Level: Warn,
			Summary: "the " + where + " does not answer: " + err.Error(),
			Fix:     "check the origin address; the checks of the origin did not run"}}
	}
	var out []Finding
	out = append(out, p.originIdentity(plain, where)...)
	if p.base != nil && !p.base.Truncated && !plain.Truncated && plain.Status == p.base.Status &&
		plain.Header.Get("Content-Encoding") == p.base.Header.Get("Content-Encoding") &&
		!bytes.Equal(plain.SHA256, p.base.SHA256) {
		// A dynamic page differs every time; ask once more to tell.
		if again, err := ask(p.maxBody); err == nil && bytes.Equal(again.SHA256, plain.SHA256) {
			out = append(out, Finding{ID: "origin.body-differs", Case: "A2", Level: Warn,
				Summary:  "the body served at the URL differs from the origin's: a cache on the way serves another version, or something transforms it (A2)",
				Evidence: []string{"via the URL: " + itoa(p.base.Len) + " bytes, sha256 " + p.base.BodyHash(), where + ": " + itoa(plain.Len) + " bytes, sha256 " + plain.BodyHash()},
				Fix:      "purge the URL in the CDN; if the body still differs, look for an intermediary cache (see the identity findings) or a transformation (minify, image optimisation)"})
		}
	}

	ref, err := ask(probeBody, "Accept-Encoding", "gzip")
	if err != nil {
		return append(out, probeFailed("origin", "C12", err))
	}
	ref2, err := ask(probeBody, "Accept-Encoding", "gzip")
	if err != nil {
		return append(out, probeFailed("origin", "C12", err))
	}
	stable := bytes.Equal(ref.SHA256, ref2.SHA256) // over the same prefix when truncated
	describe := func(s *sample) string {
		enc := s.Header.Get("Content-Encoding")
		if enc == "" {
			enc = "identity"
		}
		return fmt.Sprintf("%s, Content-Encoding %s, %d bytes, sha256 %s", statusLine(s), enc, s.Len, s.BodyHash())
	}
	refEv := "reference (Accept-Encoding: gzip): " + describe(ref)
	changed := false
	for _, v := range p.originVariants() {
		s, err := ask(probeBody, "Accept-Encoding", "gzip", v.name, v.value)
		if err != nil {
			out = append(out, probeFailed("origin", "C12", err))
			continue
		}
		label := "with " + v.name + ": " + v.value
		if v.value == "" {
			label = "without " + v.name
		}
		ev := []string{refEv, label + ": " + describe(s)}
		if !stable {
			ev = append(ev, "the origin's body differs between identical requests, so bodies are not compared")
		}
		switch {
		case s.Status != ref.Status:
			changed = true
			out = append(out, Finding{ID: "origin.header-changes-status", Case: "C12", Level: Bad,
				Summary:  fmt.Sprintf("the origin answers %d to a plain request but %d %s: the CDN's requests get another answer than direct ones (C12)", ref.Status, s.Status, label),
				Evidence: ev,
				Fix:      "make the origin answer the same whatever " + v.name + " says (a WAF rule or server config keyed on it), or have the CDN remove " + v.name + " towards this origin"})
		case v.value == "":
			// Without Accept-Encoding another encoding and body are due.
		case s.Header.Get("Content-Encoding") != ref.Header.Get("Content-Encoding"):
			changed = true
			sum := fmt.Sprintf("the origin's Content-Encoding changes %s (C03)", label)
			fix := "make the origin's compression independent of " + v.name + ", or have the CDN remove it towards the origin"
			if v.name == "Via" {
				sum = "the origin stops compressing when the request has Via: nginx's gzip_proxied does this, so through a CDN the origin sends uncompressed bodies (C03)"
				fix = "set gzip_proxied any in the origin's nginx, or have the CDN compress at the edge or remove Via towards the origin"
			}
			out = append(out, Finding{ID: "origin.header-changes-encoding", Case: "C03", Level: Warn, Summary: sum, Evidence: ev, Fix: fix})
		case stable && !bytes.Equal(s.SHA256, ref.SHA256):
			changed = true
			out = append(out, Finding{ID: "origin.header-changes-body", Case: "C12", Level: Warn,
				Summary:  "the origin's body changes " + label + " (C12)",
				Evidence: ev,
				Fix:      "make the origin's content independent of " + v.name + ", or have the CDN remove it towards the origin"})
		}
	}
	if !changed {
		out = append(out, Finding{ID: "origin.consistent", Case: "C12", Level: OK,
			Summary: "the origin answers the same with and without the headers a CDN adds", Evidence: []string{refEv}})
	}
	return out
}

// originIdentity flags an origin whose direct answer carries CDN headers:
// it is served by a CDN itself, and by the same one if its Via names the
// same nodes as the answer at the URL, a loop in the making (C06).
func (p *prober) originIdentity(plain *sample, where string) []Finding {
	marks := headerLines(plain.Header, cdnMarkers...)
	if len(marks) == 0 {
		return []Finding{{ID: "origin.direct", Case: "C06", Level: OK, Summary: "the origin answers directly, without CDN headers"}}
	}
	ev := append([]string{where + ":"}, marks...)
	if p.base != nil {
		ev = append(ev, "via the URL:")
		ev = append(ev, headerLines(p.base.Header, "Via")...)
		if shared := sharedVia(p.base.Header, plain.Header); shared != "" {
			return []Finding{{ID: "origin.loop", Case: "C06", Level: Bad,
				Summary:  "the origin's direct answer passed through the same CDN node (" + shared + ") that serves the URL: the CDN's origin is the CDN itself, so requests loop (C06)",
				Evidence: ev,
				Fix:      "point the CDN's origin at the real server (an address or a name not served by this CDN)"}}
		}
	}
	return []Finding{{ID: "origin.behind-cdn", Case: "C06", Level: Warn,
		Summary:  "the origin's direct answer carries CDN headers: the origin is itself behind a CDN; if it is the same CDN, requests will loop (C06)",
		Evidence: ev,
		Fix:      "use the origin server's own address as the CDN's origin, not a name served by a CDN"}}
}

// sharedVia returns a received-by pseudonym (RFC 9110 §7.6.3) present in
// the Via of both headers, or "".
func sharedVia(a, b http.Header) string {
	seen := map[string]bool{}
	for _, hop := range viaHops(a) {
		seen[hop] = true
	}
	for _, hop := range viaHops(b) {
		if seen[hop] {
			return hop
		}
	}
	return ""
}

// viaHops returns the received-by part of each Via hop:
// Via = #( received-protocol RWS received-by [ RWS comment ] ).
func viaHops(h http.Header) []string {
	var out []string
	for _, v := range h.Values("Via") {
		for _, hop := range strings.Split(v, ",") {
			f := strings.Fields(hop)
			if len(f) >= 2 {
				out = append(out, strings.ToLower(f[1]))
			}
		}
	}
	return out
}
