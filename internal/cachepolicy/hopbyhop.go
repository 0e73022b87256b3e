package cachepolicy

import (
	"net/http"
	"strings"
)

// hopByHop lists the fields that describe one connection rather than the
// message (RFC 9110 §7.6.1), in canonical form: Connection and the fields
// it names, plus those a proxy must treat as connection-specific even when
// Connection does not name them — Keep-Alive, Proxy-Connection (a non-
// standard relic still sent by clients), TE, Transfer-Encoding, Upgrade —
// and the proxy authentication pair (RFC 9110 §11.7.1, §11.7.2), which
// belongs to the hop that demanded it. Trailer is included as
// net/http/httputil does: the trailers of one hop are not those of the next.
var hopByHop = []string{
	"Connection",
	"Keep-Alive",
	"Proxy-Authenticate",
	"Proxy-Authorization",
	"Proxy-Connection",
	"Te",
	"Trailer",
	"Transfer-Encoding",
	"Upgrade",
}

// HopByHopFields returns the canonical names of the fields of h that are
// hop-by-hop: the fixed set of RFC 9110 §7.6.1 plus every field named in
// h's Connection field lines. The result is what a proxy removes before
// forwarding either way and what a cache never stores (RFC 9111 §3.1); a
// Connection: close from an origin therefore never reaches, or closes, the
// client's connection (case C19).
func HopByHopFields(h http.Header) []string {
	out := append([]string(nil), hopByHop...)
	for _, line := range h.Values("Connection") {
		for _, opt := range strings.Split(line, ",") {
			opt = trimOWS(opt)
			if !isToken(opt) {
				continue
			}
			opt = http.CanonicalHeaderKey(opt)
			if !contains(out, opt) {
				out = append(out, opt)
			}
		}
	}
	return out
}

// IsHopByHop reports whether the field name is hop-by-hop whatever
// Connection says (RFC 9110 §7.6.1). Fields named only in a Connection
// field need HopByHopFields.
func IsHopByHop(name string) bool {
	return contains(hopByHop, http.CanonicalHeaderKey(name))
}

// RemoveHopByHop deletes from h, in place, every field HopByHopFields
// names. It is the one mutating helper of the package, for a proxy about to
// forward a header it owns.
func RemoveHopByHop(h http.Header) {
	for _, f := range HopByHopFields(h) {
		h.Del(f)
	}
}

// contains reports whether s holds v.
func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}
