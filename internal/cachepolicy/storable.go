package cachepolicy

import (
	"net/http"
	"time"
)

// Policy holds the settings of one cache, or of one cache rule within it.
// The zero value is a shared cache (a CDN edge) that follows RFC 9111 with
// the default heuristic.
type Policy struct {
	// Private makes the cache a private one (RFC 9111 §1, a browser's):
	// private responses may be stored, s-maxage and proxy-revalidate do
	// not apply and Authorization does not prevent storing. Zero: shared.
	Private bool

	// TTL, if positive, replaces the response's freshness lifetime: a cache
	// rule that overrides the origin (RFC 9111 §3 allows "a cache extension
	// that allows it to be cached"). It makes any understood final status
	// storable, but no-store, private and Authorization still prevent
	// storing, and no-cache still requires validation.
	TTL time.Duration

	// HeuristicFraction is the share of the time since Last-Modified used
	// as a heuristic freshness lifetime (RFC 9111 §4.2.2). If zero, 0.1 is
	// used; if negative, heuristic freshness is off.
	HeuristicFraction float64
	// HeuristicMax caps the heuristic lifetime. If zero, 24h is used.
	HeuristicMax time.Duration

	// IgnoreRequestDirectives makes Decide ignore the request's
	// Cache-Control (no-cache, max-age, min-fresh, max-stale,
	// stale-if-error, only-if-cached), as CDNs commonly do so that a client
	// cannot force origin fetches. RFC 9111 §5.2.1 leaves the request
	// directives advisory. Request no-store still prevents storing.
	IgnoreRequestDirectives bool

	// SurrogateTargets, if not empty, makes the cache a surrogate (Edge
	// Architecture Specification 1.0): it follows the Surrogate-Control
	// directives untargeted or targeted at one of these device tokens,
	// instead of Cache-Control (see SurrogateControlOf). Ignored by a
	// private cache.
	SurrogateTargets []string

	// RefuseSetCookie makes a shared cache refuse to store a response that
	// carries Set-Cookie (ReasonSetCookie), unless TTL (a cache rule) says
	// the content is shared. RFC 9111 §7.3 notes that Set-Cookie does not
	// inhibit caching; but such a response is often made for one client,
	// and a cache that replays it hands that client's cookie to everyone.
	// Varnish's built-in logic and most CDNs refuse it by default.
	RefuseSetCookie bool
}

// Reason says why a response is not stored, why a stored response is not
// served as it is, or where a freshness lifetime came from. The values are
// short tokens fit for an X-Cache field ("MISS reason=no-store").
type Reason string

// Reasons given by Storable.
const (
	ReasonMethod           Reason = "method" // not GET or HEAD (§3)
	ReasonStatus           Reason = "status-not-cacheable"
	ReasonNoFreshness      Reason = "no-freshness"       // understood status, not heuristically cacheable, no explicit lifetime (§3)
	ReasonNoStore          Reason = "no-store"           // response no-store (§5.2.2.5)
	ReasonRequestNoStore   Reason = "request-no-store"   // request no-store (§5.2.1.5)
	ReasonPrivate          Reason = "private"            // private in a shared cache (§5.2.2.7)
	ReasonAuthorization    Reason = "authorization"      // §3.5
	ReasonVaryStar         Reason = "vary-star"          // Vary: * never matches (§4.1)
	ReasonMustUnderstand   Reason = "must-understand"    // status not understood (§5.2.2.3)
	ReasonSurrogateNoStore Reason = "surrogate-no-store" // Surrogate-Control no-store (Policy.SurrogateTargets)
	ReasonSetCookie        Reason = "set-cookie"         // Set-Cookie (Policy.RefuseSetCookie)
	ReasonNone             Reason = ""                   // storable
)

// heuristicStatus lists the status codes that are heuristically cacheable
// (RFC 9110 §15.1, repeated in RFC 9111 §4.2.2).
var heuristicStatus = map[int]bool{
	200: true, 203: true, 204: true, 206: true, 300: true, 301: true,
	308: true, 404: true, 405: true, 410: true, 414: true, 501: true,
}

// HeuristicallyCacheable reports whether status is cacheable by default
// (RFC 9110 §15.1): a response with it may be stored and given a heuristic
// lifetime without explicit freshness.
func HeuristicallyCacheable(status int) bool { return heuristicStatus[status] }

// understood reports whether this cache knows the caching semantics of the
// final status code: the codes RFC 9110 §15 defines. 304 is understood but
// is never stored as such: it only updates stored responses (§4.3.4).
func understood(status int) bool {
	switch {
	case status >= 200 && status <= 206, status >= 300 && status <= 308 && status != 306,
		status >= 400 && status <= 417, status == 421, status == 422, status == 426,
		status >= 500 && status <= 505:
		return true
	}
	return false
}

// Storable reports whether a cache may store resp, the response to req
// (RFC 9111 §3), and if not, why. Only req.Method and the two headers and
// resp.StatusCode are read. All of these must hold:
//
//   - the method is GET or HEAD (cacheable and understood, RFC 9110 §9.2.3);
//   - the status is final and understood; 304 only updates (§4.3.4);
//     must-understand with an unknown status forbids storing (§5.2.2.3);
//   - no-store is absent from the request and the response (§5.2.1.5,
//     §5.2.2.5), except that must-understand with an understood status
//     overrides the response's no-store (§5.2.2.3);
//   - a shared cache sees no private (§5.2.2.7; the qualified form is
//     treated as unqualified, as the section's note describes most caches
//     doing) and, for a request with Authorization, the response has
//     must-revalidate, public or s-maxage (§3.5);
//   - with Policy.RefuseSetCookie, the response has no Set-Cookie (or
//     Policy.TTL is set);
//   - the response is not Vary: * (it could never be reused, §4.1);
//   - the response has explicit freshness (max-age, s-maxage when shared,
//     Expires), public, a Policy.TTL, or a heuristically cacheable status.
//
// A surrogate (Policy.SurrogateTargets) reads the response's
// Surrogate-Control instead of its Cache-Control when that has max-age or
// no-store for it: no-store then forbids storing (ReasonSurrogateNoStore)
// and max-age allows it whatever Cache-Control says.
func (p Policy) Storable(req *http.Request, resp *http.Response) (bool, Reason) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		return false, ReasonMethod
	}
	status, rh := resp.StatusCode, resp.Header
	reqCC := CacheControlOf(req.Header)
	cc, surrogate := p.responseCC(rh)
	if status < 200 || status == http.StatusNotModified {
		return false, ReasonStatus
	}
	if cc.MustUnderstand && !understood(status) {
		return false, ReasonMustUnderstand
	}
	if reqCC.NoStore {
		return false, ReasonRequestNoStore
	}
	if cc.NoStore && surrogate {
		return false, ReasonSurrogateNoStore
	}
	if cc.NoStore && !(cc.MustUnderstand && understood(status)) {
		return false, ReasonNoStore
	}
	if !p.Private && cc.Private {
		return false, ReasonPrivate
	}
	if !p.Private && req.Header.Get("Authorization") != "" &&
		!cc.MustRevalidate && !cc.Public && !cc.SMaxAge.Set && !surrogate {
		return false, ReasonAuthorization
	}
	if p.RefuseSetCookie && !p.Private && p.TTL <= 0 && len(rh.Values("Set-Cookie")) > 0 {
		return false, ReasonSetCookie
	}
	if _, star := VaryFields(varyValue(rh)); star {
		return false, ReasonVaryStar
	}
	explicit := cc.MaxAge.Set || (!p.Private && cc.SMaxAge.Set) ||
		len(rh.Values("Expires")) > 0 || cc.Public || p.TTL > 0 ||
		(p.Private && cc.Private)
	switch {
	case explicit, heuristicStatus[status]:
	case understood(status):
		return false, ReasonNoFreshness
	default:
		// §3: a status the cache does not know may be stored only with
		// explicit freshness.
		return false, ReasonStatus
	}
	return true, ReasonNone
}

// HeaderToStore returns a copy of a response header as a cache stores it:
// without the hop-by-hop fields, which describe the connection it arrived
// on (RFC 9111 §3.1, RFC 9110 §7.6.1).
func HeaderToStore(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	RemoveHopByHop(out)
	return out
}
