package cachepolicy

import (
	"net/http"
	"net/url"
	"strings"
)

// Invalidates returns the URIs whose stored responses a cache invalidates
// after forwarding a request with the given method to target (an absolute
// URI) and receiving a response with status and header (RFC 9111 §4.4):
//
//   - nothing for a safe method (GET, HEAD, OPTIONS, TRACE; RFC 9110
//     §9.2.1) or an error status; a "non-error status" is 2xx or 3xx;
//   - otherwise the target URI (MUST), and the URIs in Location and
//     Content-Location, resolved against it, when they share its origin
//     (scheme, host and port; RFC 9110 §4.3.1). Another origin's URIs are
//     never invalidated: that would let one site purge another's entries.
//
// Methods whose safety is unknown count as unsafe. The URIs are normalised
// (RFC 3986 §6.2.2, §6.2.3): scheme and host lower-cased, the scheme's
// default port and the fragment dropped; each appears once, the target
// first.
func Invalidates(method string, status int, target *url.URL, header http.Header) []*url.URL {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return nil
	}
	if status < 200 || status > 399 || target == nil || !target.IsAbs() {
		return nil
	}
	base := normalizeURL(*target)
	out := []*url.URL{&base}
	for _, name := range []string{"Location", "Content-Location"} {
		v := trimOWS(header.Get(name))
		if v == "" {
			continue
		}
		ref, err := url.Parse(v)
		if err != nil {
			continue
		}
		u := normalizeURL(*base.ResolveReference(ref))
		if !sameOrigin(&u, &base) {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o.String() == u.String()
		}
		if !dup {
			out = append(out, &u)
		}
	}
	return out
}

// sameOrigin compares the origins of two absolute URIs (RFC 9110 §4.3.1):
// scheme and host case-insensitively, and the port with the scheme's
// default filled in.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		portOf(a) == portOf(b)
}

// portOf returns the URI's port, or its scheme's default.
func portOf(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}

// normalizeURL lower-cases scheme and host and drops the default port and
// the fragment, so that equal URIs compare equal as strings.
func normalizeURL(u url.URL) url.URL {
	u.Scheme = strings.ToLower(u.Scheme)
	host, port := strings.ToLower(u.Hostname()), u.Port()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" && port != portOf(&url.URL{Scheme: u.Scheme}) {
		host += ":" + port
	}
	u.Host = host
	u.Fragment, u.RawFragment = "", ""
	return u
}
