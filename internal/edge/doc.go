// Package edge is Strata's caching reverse proxy: the CDN edge that fronts
// the object store or any HTTP origin, caching responses as RFC 9111
// describes in a cachestore.Store.
//
// A Handler routes each request by its Host to a Domain, forwards it to the
// domain's origin when the cache cannot answer, and says on every response
// what it did: Via names the node and the time spent, X-Request-Id identifies
// the exchange (and is passed to the origin), and X-Cache gives the outcome
// and, for a miss, why ("MISS reason=no-store", "MISS reason=vary-cookie").
//
// Ranges are served exactly per RFC 9110 §14 from cached whole objects. A
// domain can also fetch objects from the origin in aligned slices, each
// validated before it is stored (status, Content-Range, length and the same
// validator as its siblings), so that two versions of an object are never
// assembled (case A1); an origin that ignores Range is detected and its full
// body used (C08); and a response built from slices carries the object's
// full headers, never the checksum headers on a 206 (C07).
//
// Concurrent misses for one object share one origin fetch, which completes
// into the cache after its clients hang up, within a size bound (C09).
//
// Misses can go through parent edges (Handler.Parents), chosen by
// rendezvous hashing of the cache key, or to several origins per domain
// (Domain.Origins, with health checks); a failed attempt is retried on the
// next one, upstreams are health-scored, and every attempt is recorded in
// the X-Strata-Trace response field and the log (parents.go, case C18).
// Handler.Egress reports the local addresses the node fetches from, and
// SetDomains applies a reloaded configuration at once (C01).
//
// Tasks runs purge and prefetch tasks for the admin API (AdminHandler):
// purges delete entries or mark them stale (the next request revalidates),
// prefetches fetch URLs through the Handler as a client would, with
// per-URL timeouts and retries, and each task reports progress and per-URL
// results (C16).
//
// Per domain, the edge edits the header of requests to the origin and of
// responses to clients (headerrules.go: C10, C12), owns CORS from an
// allow-list (cors.go: reflected Origin, Vary: Origin, preflights answered
// at the edge, the origin's CORS fields dropped), applies a policy to GET
// and HEAD bodies and an upload limit (bodypolicy.go: C11, C25), proxies
// WebSocket and any Upgrade (upgrade.go: C02), and bounds the origin and
// the client in time, with longer limits for audio and video (timeouts.go:
// C22).
package edge
