// Package cachepolicy makes the decisions of an HTTP cache as RFC 9111
// defines them, for Strata's edge (a shared cache) and anything else that
// stores HTTP responses:
//
//   - Cache-Control parsing for requests and responses (ParseCacheControl,
//     RFC 9111 §5.2);
//   - whether a response may be stored, and why not (Policy.Storable, §3);
//   - freshness lifetime (Policy.Lifetime, §4.2.1, §4.2.2) and current age
//     (CurrentAge, §4.2.3);
//   - what to do with a stored response for a new request: serve it, serve
//     it stale while revalidating, or revalidate first (Policy.Decide, §4,
//     §4.2.4, §5.2.1, RFC 5861); an invalid Age makes a response stale
//     (ValidAge, §5.1);
//   - validation: the conditional request (ValidationHeaders, §4.3.1), the
//     stored responses a 304 selects (SelectForUpdate, §4.3.4), the merge
//     of its header fields (MergeNotModified, §3.2), and the update of the
//     one response a conditional request was made for (UpdateValidated,
//     §4.3.3);
//   - Surrogate-Control for a cache that is a surrogate (SurrogateControlOf,
//     Policy.SurrogateTargets; Edge Architecture Specification 1.0), and
//     the CDN default of not storing responses that set cookies
//     (Policy.RefuseSetCookie);
//   - the secondary cache key from Vary (VaryKey, §4.1), with fields ignored
//     or normalised by cache rules (case C17);
//   - which URIs an unsafe request invalidates (Invalidates, §4.4);
//   - hop-by-hop fields, which are never forwarded or stored (RFC 9110
//     §7.6.1).
//
// The package is pure: it performs no I/O, starts no goroutines, does not
// log and never reads the clock; the caller passes the current time and the
// request and response times it recorded.
package cachepolicy
