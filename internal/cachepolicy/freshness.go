package cachepolicy

import (
	"net/http"
	"time"

	"github.com/strata-cdn/strata/internal/httphdr"
)

// maxDuration is MaxDelta seconds, the cap on every lifetime and age.
const maxDuration = time.Duration(MaxDelta) * time.Second

// Entry is a stored response, as the freshness, age and reuse decisions
// need it.
type Entry struct {
	// Status is the stored response's status code.
	Status int
	// Header is the stored response header, hop-by-hop fields removed.
	Header http.Header
	// RequestTime is when the request that produced the response (or its
	// latest successful validation) was sent: request_time of RFC 9111
	// §4.2.3. Zero means unknown; the response delay is then taken as 0.
	RequestTime time.Time
	// ResponseTime is when that response was received: response_time of
	// RFC 9111 §4.2.3. It also stands in for a missing or invalid Date
	// (RFC 9110 §6.6.1).
	ResponseTime time.Time
}

// Sources of a freshness lifetime, returned by Lifetime.
const (
	SourceRule      Reason = "rule"      // Policy.TTL
	SourceSMaxAge   Reason = "s-maxage"  // §5.2.2.10
	SourceMaxAge    Reason = "max-age"   // §5.2.2.1
	SourceExpires   Reason = "expires"   // §5.3
	SourceHeuristic Reason = "heuristic" // §4.2.2
	SourceInvalid   Reason = "invalid"   // invalid freshness information: stale (§4.2.1)
	SourceNone      Reason = "none"      // no explicit or heuristic lifetime
)

// Lifetime returns the freshness lifetime of a stored response and where it
// came from (RFC 9111 §4.2.1), for this cache. The first that applies wins:
//
//  1. Policy.TTL, a cache rule overriding the origin;
//     then an invalid Age field (ValidAge) makes the response stale;
//  2. s-maxage, in a shared cache (a surrogate's Surrogate-Control
//     max-age replaces Cache-Control, see Policy.SurrogateTargets);
//  3. max-age;
//  4. Expires minus Date (the response time when Date is missing or
//     invalid); an invalid Expires, "0" above all, means already expired
//     (§5.3), as do several differing Expires lines (§4.2.1);
//  5. a heuristic (§4.2.2), only for a heuristically cacheable status or a
//     public response without the above: HeuristicFraction of the time
//     between Last-Modified and Date, at most HeuristicMax.
//
// An invalid max-age or s-maxage ("max-age=abc", or repeats that disagree)
// gives 0, as §4.2.1 encourages. The result is in [0, 2^31 s].
func (p Policy) Lifetime(e Entry) (time.Duration, Reason) {
	if p.TTL > 0 {
		return min(p.TTL, maxDuration), SourceRule
	}
	if !ValidAge(e.Header) {
		return 0, SourceInvalid
	}
	cc, _ := p.responseCC(e.Header)
	switch {
	case !p.Private && cc.SMaxAge.Set:
		return deltaLifetime(cc.SMaxAge, SourceSMaxAge)
	case cc.MaxAge.Set:
		return deltaLifetime(cc.MaxAge, SourceMaxAge)
	}
	if exp := e.Header.Values("Expires"); len(exp) > 0 {
		for _, v := range exp[1:] {
			if v != exp[0] {
				return 0, SourceInvalid
			}
		}
		t, err := httphdr.ParseHTTPDate(exp[0])
		if err != nil {
			return 0, SourceInvalid
		}
		return clampDuration(t.Sub(dateOf(e))), SourceExpires
	}
	if !heuristicStatus[e.Status] && !cc.Public {
		return 0, SourceNone
	}
	return p.heuristic(e)
}

// heuristic computes §4.2.2's suggested lifetime: a fraction of the time
// since the last modification, which is how long the resource has been
// stable. Without a valid Last-Modified there is nothing to go on: 0.
func (p Policy) heuristic(e Entry) (time.Duration, Reason) {
	frac, limit := p.HeuristicFraction, p.HeuristicMax
	if frac == 0 {
		frac = 0.1
	}
	if limit <= 0 {
		limit = 24 * time.Hour
	}
	if frac < 0 {
		return 0, SourceNone
	}
	lm, ok := singleDate(e.Header, "Last-Modified")
	if !ok {
		return 0, SourceNone
	}
	since := dateOf(e).Sub(lm)
	if since <= 0 {
		return 0, SourceHeuristic
	}
	d := float64(since) * frac
	if d >= float64(limit) {
		return clampDuration(limit), SourceHeuristic
	}
	return clampDuration(time.Duration(d)), SourceHeuristic
}

// deltaLifetime turns a max-age or s-maxage into a lifetime: invalid is
// stale.
func deltaLifetime(d Delta, src Reason) (time.Duration, Reason) {
	if !d.Valid() {
		return 0, SourceInvalid
	}
	return d.Duration(), src
}

// dateOf returns the response's Date, or the time it was received when
// Date is missing or invalid (RFC 9110 §6.6.1; RFC 9111 §4.2.3 date_value).
func dateOf(e Entry) time.Time {
	if t, ok := singleDate(e.Header, "Date"); ok {
		return t
	}
	return e.ResponseTime
}

// singleDate parses a date field that must hold one HTTP-date; repeated
// lines are accepted only when identical.
func singleDate(h http.Header, name string) (time.Time, bool) {
	vs := h.Values(name)
	if len(vs) == 0 {
		return time.Time{}, false
	}
	for _, v := range vs[1:] {
		if v != vs[0] {
			return time.Time{}, false
		}
	}
	t, err := httphdr.ParseHTTPDate(vs[0])
	return t, err == nil
}

// clampDuration limits d to [0, 2^31 s] (RFC 9111 §1.2.2).
func clampDuration(d time.Duration) time.Duration {
	return min(max(d, 0), maxDuration)
}
