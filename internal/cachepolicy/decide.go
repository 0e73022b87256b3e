package cachepolicy

import (
	"net/http"
	"strconv"
	"time"
)

// Action is what a cache does with a stored response for a new request.
type Action int

// Actions returned by Policy.Decide.
const (
	_ Action = iota
	// Fresh: serve the stored response (RFC 9111 §4.2).
	Fresh
	// StaleServe: serve the stale response without revalidating; the
	// client accepts it (max-stale, §5.2.1.2).
	StaleServe
	// StaleServeAndRevalidate: serve the stale response now and revalidate
	// in the background (stale-while-revalidate, RFC 5861 §3).
	StaleServeAndRevalidate
	// MustRevalidate: send a conditional request (ValidationHeaders) and
	// serve only after a 304, or the new response (§4.3). If the attempt
	// fails with an error, Decision.StaleOnError says whether the stored
	// response may stand in.
	MustRevalidate
	// GatewayTimeout: the client sent only-if-cached and the stored
	// response cannot be used without the origin: answer 504 (§5.2.1.7).
	GatewayTimeout
)

// String names the action, for logs and test messages.
func (a Action) String() string {
	switch a {
	case Fresh:
		return "Fresh"
	case StaleServe:
		return "StaleServe"
	case StaleServeAndRevalidate:
		return "StaleServeAndRevalidate"
	case MustRevalidate:
		return "MustRevalidate"
	case GatewayTimeout:
		return "GatewayTimeout"
	}
	return "Action(" + strconv.Itoa(int(a)) + ")"
}

// Reasons given by Decide.
const (
	ReasonFresh                Reason = "fresh"
	ReasonExpired              Reason = "expired"                // stale, nothing allows serving it
	ReasonNoCache              Reason = "no-cache"               // response no-cache, qualified or not (§5.2.2.4)
	ReasonRequestNoCache       Reason = "request-no-cache"       // §5.2.1.4
	ReasonRequestMaxAge        Reason = "request-max-age"        // older than the request's max-age (§5.2.1.1)
	ReasonMinFresh             Reason = "min-fresh"              // not fresh enough for min-fresh (§5.2.1.3)
	ReasonMaxStale             Reason = "max-stale"              // stale within the request's max-stale (§5.2.1.2)
	ReasonStaleWhileRevalidate Reason = "stale-while-revalidate" // RFC 5861 §3
	ReasonMustRevalidate       Reason = "must-revalidate"        // stale and must-revalidate (§5.2.2.2)
	ReasonProxyRevalidate      Reason = "proxy-revalidate"       // stale and proxy-revalidate, shared (§5.2.2.8)
	ReasonSMaxAge              Reason = "s-maxage"               // stale and s-maxage, shared (§5.2.2.10)
	ReasonOnlyIfCached         Reason = "only-if-cached"         // §5.2.1.7
)

// Decision is the outcome of Policy.Decide.
type Decision struct {
	Action Action
	// Reason says why; for MustRevalidate it is the X-Cache miss reason.
	Reason Reason
	// Age is the stored response's current age (§4.2.3), for the Age
	// field of the response served (FormatAge).
	Age time.Duration
	// Lifetime is its freshness lifetime and LifetimeSource where that came
	// from (§4.2.1).
	Lifetime       time.Duration
	LifetimeSource Reason
	// StaleOnError reports whether the stored response may be served if
	// the revalidation fails with an error (the origin unreachable, or 500,
	// 502, 503, 504): it is still fresh, or stale within stale-if-error of
	// the response or request (RFC 5861 §4) or the request's max-stale,
	// and no directive forbids serving it stale (§4.2.4, §4.3.3).
	StaleOnError bool
}

// Decide says what to do with e, a stored response selected for a request
// with header req (the caller matched URL, method and VaryKey), at now
// (RFC 9111 §4). In order:
//
//  1. a response no-cache, qualified or not, requires validation
//     (§5.2.2.4; the qualified form is treated as unqualified, which the
//     section's note says most caches do);
//  2. a request no-cache requires validation (§5.2.1.4), as does an age
//     above the request's max-age (§5.2.1.1);
//  3. a fresh response (lifetime > age, §4.2) is served, unless the
//     request's min-fresh asks for more remaining freshness (§5.2.1.3);
//  4. a stale response is served if the request's max-stale covers its
//     staleness (§5.2.1.2), or served while revalidating within the
//     response's stale-while-revalidate (RFC 5861 §3); else it must be
//     revalidated;
//  5. but never without validation under must-revalidate or, in a shared
//     cache, proxy-revalidate or s-maxage (§4.2.4, §5.2.2.2, §5.2.2.8,
//     §5.2.2.10). s-maxage only implies proxy-revalidate, so the
//     response's explicit stale-while-revalidate and stale-if-error still
//     apply under it (the common "s-maxage=N, stale-while-revalidate=M"
//     of CDN origins); a client's max-stale does not.
//
// A request with only-if-cached that would need the origin gets
// GatewayTimeout (§5.2.1.7). Policy.IgnoreRequestDirectives skips the
// request's directives.
func (p Policy) Decide(e Entry, req http.Header, now time.Time) Decision {
	cc, _ := p.responseCC(e.Header)
	var rc CacheControl
	if !p.IgnoreRequestDirectives {
		rc = CacheControlOf(req)
	}
	age := CurrentAge(e, now)
	life, src := p.Lifetime(e)
	d := Decision{Age: age, Lifetime: life, LifetimeSource: src}
	fresh := life > age
	var staleness time.Duration
	if !fresh {
		staleness = age - life
	}

	// forbid names the directive that forbids serving this response stale.
	var forbid Reason
	switch {
	case cc.NoCache:
		forbid = ReasonNoCache
	case cc.MustRevalidate:
		forbid = ReasonMustRevalidate
	case !p.Private && cc.ProxyRevalidate:
		forbid = ReasonProxyRevalidate
	case !p.Private && cc.SMaxAge.Set:
		forbid = ReasonSMaxAge
	}
	within := func(dl Delta) bool { return dl.Valid() && staleness <= dl.Duration() }
	// The response's own stale-while-revalidate and stale-if-error are the
	// origin's explicit permission (RFC 5861 §1), which overrides the
	// proxy-revalidate that s-maxage only implies; explicit no-cache,
	// must-revalidate and proxy-revalidate override them.
	originAllows := forbid == "" || forbid == ReasonSMaxAge
	d.StaleOnError = !cc.NoCache && (fresh ||
		(originAllows && within(cc.StaleIfError)) ||
		(forbid == "" && (within(rc.StaleIfError) || within(rc.MaxStale))))

	switch {
	case cc.NoCache:
		d.Action, d.Reason = MustRevalidate, ReasonNoCache
	case rc.NoCache:
		d.Action, d.Reason = MustRevalidate, ReasonRequestNoCache
	case rc.MaxAge.Set && (!rc.MaxAge.Valid() || age > rc.MaxAge.Duration()):
		// An invalid max-age in a request is read as the most restrictive
		// one, 0 (§4.2.1's advice for invalid freshness information).
		d.Action, d.Reason = MustRevalidate, ReasonRequestMaxAge
	case fresh && rc.MinFresh.Valid() && life-age < rc.MinFresh.Duration():
		d.Action, d.Reason = MustRevalidate, ReasonMinFresh
	case fresh:
		d.Action, d.Reason = Fresh, ReasonFresh
	case forbid == "" && within(rc.MaxStale):
		d.Action, d.Reason = StaleServe, ReasonMaxStale
	case originAllows && within(cc.StaleWhileRevalidate):
		d.Action, d.Reason = StaleServeAndRevalidate, ReasonStaleWhileRevalidate
	case forbid != "":
		d.Action, d.Reason = MustRevalidate, forbid
	default:
		d.Action, d.Reason = MustRevalidate, ReasonExpired
	}
	if d.Action == MustRevalidate && rc.OnlyIfCached {
		d.Action, d.Reason = GatewayTimeout, ReasonOnlyIfCached
	}
	return d
}

// IsRevalidationError reports whether a response status received while
// revalidating counts as an error for stale-if-error (RFC 5861 §4: 500,
// 502, 503 and 504); the caller also treats an unreachable origin as one.
// A cache may then serve the stored response when Decision.StaleOnError
// allows, and must forward anything else (RFC 9111 §4.3.3).
func IsRevalidationError(status int) bool {
	switch status {
	case http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}
