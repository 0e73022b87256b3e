package diag

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/strata-cdn/strata/internal/cachepolicy"
)

// sharedStorable reports whether a shared cache (a CDN) may store the
// baseline response, and if not, why (RFC 9111 §3).
func sharedStorable(p *prober, s *sample) (bool, cachepolicy.Reason) {
	req, _ := http.NewRequest(http.MethodGet, p.u.String(), nil)
	return cachepolicy.Policy{}.Storable(req, &http.Response{StatusCode: s.Status, Header: s.Header})
}

// checkVary flags what keeps a cacheable response from being shared:
// Vary: Cookie makes one cache entry per visitor, so a long cache rule
// still misses every time (C17); Set-Cookie on a cacheable response is
// either not cached or, worse, one visitor's cookie served to all.
func checkVary(_ context.Context, p *prober) []Finding {
	base, skip := p.needBase("vary", "C17")
	if base == nil {
		return skip
	}
	ok, why := sharedStorable(p, base)
	ev := append([]string{statusLine(base)}, headerLines(base.Header, "Cache-Control", "Expires", "Vary", "Set-Cookie")...)
	if !ok {
		return []Finding{{ID: "cache.not-storable", Case: "C17", Level: Info,
			Summary:  "a shared cache may not store this response (" + string(why) + "); every request goes to the origin unless a cache rule overrides it",
			Evidence: ev,
			Fix:      "if the content is static, send Cache-Control: public, max-age=N from the origin"}}
	}
	var out []Finding
	fields, _ := cachepolicy.VaryFields(strings.Join(base.Header.Values("Vary"), ","))
	for _, f := range fields {
		switch f {
		case "cookie", "user-agent", "authorization":
			out = append(out, Finding{ID: "cache.vary-" + f, Case: "C17", Level: Warn,
				Summary:  "a cacheable response has Vary: " + http.CanonicalHeaderKey(f) + ": every distinct " + f + " gets its own cache entry, so the hit ratio stays near zero whatever the cache rule says (C17)",
				Evidence: ev,
				Fix:      "drop " + http.CanonicalHeaderKey(f) + " from Vary at the origin, or have the CDN ignore or normalise that Vary field for this path"})
		}
	}
	if len(base.Header.Values("Set-Cookie")) > 0 {
		out = append(out, Finding{ID: "cache.set-cookie", Case: "C17", Level: Warn,
			Summary:  "a cacheable response sets a cookie: most CDNs then refuse to cache it, and one that caches it hands one visitor's cookie to everyone",
			Evidence: ev,
			Fix:      `do not set cookies on static content, or mark the response Cache-Control: private (or no-cache="Set-Cookie")`})
	}
	if len(out) == 0 {
		out = append(out, Finding{ID: "cache.ok", Case: "C17", Level: OK,
			Summary: "the response is cacheable and varies on nothing per-visitor", Evidence: ev})
	}
	return out
}

// Foreign origins for the CORS check: two, so that a cache that stored
// the first one's CORS answer can be caught serving it to the second.
const (
	corsOriginA = "https://a.strata-doctor.invalid"
	corsOriginB = "https://b.strata-doctor.invalid"
)

// checkCORS sends two requests with two foreign Origin fields. A cache that
// keyed the first answer without Vary: Origin serves the first origin's
// Access-Control-Allow-Origin to the second, which the browser refuses
// (C10).
func checkCORS(ctx context.Context, p *prober) []Finding {
	base, skip := p.needBase("cors", "C10")
	if base == nil {
		return skip
	}
	c := p.client(nil)
	defer c.CloseIdleConnections()
	a, err := p.get(ctx, c, "Origin", corsOriginA)
	if err != nil {
		return []Finding{probeFailed("cors", "C10", err)}
	}
	b, err := p.get(ctx, c, "Origin", corsOriginB)
	if err != nil {
		return []Finding{probeFailed("cors", "C10", err)}
	}
	corsLines := func(origin string, s *sample) []string {
		return append([]string{"Origin: " + origin + " → " + statusLine(s)},
			headerLines(s.Header, "Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Vary", "Age", "X-Cache")...)
	}
	ev := append(corsLines(corsOriginA, a), corsLines(corsOriginB, b)...)
	acaoA, acaoB := a.Header.Get("Access-Control-Allow-Origin"), b.Header.Get("Access-Control-Allow-Origin")
	cred := strings.EqualFold(b.Header.Get("Access-Control-Allow-Credentials"), "true")
	storable, _ := sharedStorable(p, b)
	varyOrigin := hasToken(b.Header, "Vary", "Origin")
	switch {
	case acaoB == corsOriginA:
		return []Finding{{ID: "cors.wrong-origin", Case: "C10", Level: Bad,
			Summary:  "a request from " + corsOriginB + " got the CORS answer meant for " + corsOriginA + ": a cache stored one origin's Access-Control-Allow-Origin and serves it to others, so browsers block pages on other origins (C10)",
			Evidence: ev,
			Fix:      "add Vary: Origin wherever Access-Control-Allow-Origin is reflected, or set CORS at the CDN from an allow-list (reflect allowed origins, add Vary: Origin) and drop the origin's CORS headers"}}
	case acaoB == "*" && cred:
		return []Finding{{ID: "cors.wildcard-credentials", Case: "C10", Level: Warn,
			Summary:  "Access-Control-Allow-Origin: * with Access-Control-Allow-Credentials: true: browsers refuse credentialed requests with it",
			Evidence: ev,
			Fix:      "reflect an allowed origin (with Vary: Origin) instead of * when credentials are allowed"}}
	case acaoB == corsOriginB && cred:
		return []Finding{{ID: "cors.reflect-credentials", Case: "C10", Level: Bad,
			Summary:  "any origin is reflected with credentials allowed: every web site can read this resource with the visitor's cookies",
			Evidence: ev,
			Fix:      "reflect only origins on an allow-list"}}
	case acaoB == corsOriginB && storable && !varyOrigin:
		return []Finding{{ID: "cors.reflect-no-vary", Case: "C10", Level: Warn,
			Summary:  "the Origin is reflected in a cacheable response without Vary: Origin: a cache will store one origin's answer and serve it to the others (C10)",
			Evidence: ev,
			Fix:      "add Vary: Origin to responses that reflect Origin, or answer Access-Control-Allow-Origin: * for public content"}}
	case acaoA != "" && acaoB != "" && acaoA != acaoB && !varyOrigin:
		return []Finding{{ID: "cors.inconsistent", Case: "C10", Level: Warn,
			Summary:  "two foreign origins got different Access-Control-Allow-Origin values without Vary: Origin",
			Evidence: ev,
			Fix:      "add Vary: Origin to responses whose CORS headers depend on Origin"}}
	}
	return []Finding{{ID: "cors.ok", Case: "C10", Level: OK,
		Summary: "CORS answers to foreign origins are consistent and safe to cache", Evidence: ev}}
}

// identityFields are headers by which CDNs and object stores say who
// answered: a request ID or a node. A response with none of them may come
// from a middlebox (C14).
var identityFields = []string{
	"Via", "X-Request-Id", "X-Amz-Request-Id", "X-Amz-Cf-Id", "X-Oss-Request-Id", "X-Cos-Request-Id",
	"Cf-Ray", "X-Served-By", "X-Cache", "X-Swift-Cachetime", "Eagleid", "X-Trace-Id", "X-Cdn-Request-Id",
	"X-Ms-Request-Id", "X-Goog-Generation", "X-Timer", "Server-Timing",
}

// checkIdentity flags a response that carries no identity of the CDN that
// should serve it: another device answered (C14). With Age but no Via, an
// unidentified cache answered, the kind that serves stale files (A2); an
// Age beyond the response's lifetime means a cache ignored it.
func checkIdentity(_ context.Context, p *prober) []Finding {
	base, skip := p.needBase("identity", "C14")
	if base == nil {
		return skip
	}
	var out []Finding
	ids := headerLines(base.Header, identityFields...)
	ev := append([]string{statusLine(base)}, headerLines(base.Header, "Server", "Age", "Cache-Control", "Date")...)
	ev = append(ev, ids...)
	if len(ids) == 0 {
		lvl, fix := Warn, "check that the CDN adds Via and a request ID; if it does, something on the client's network answered: compare with another network and switch to HTTPS"
		if p.tls {
			lvl = Info
			fix = "have the CDN send Via with its node and a request ID on every response, so that each answer can be traced"
		}
		out = append(out, Finding{ID: "identity.missing", Case: "C14", Level: lvl,
			Summary:  "the response carries no Via, request ID or cache header: nothing shows which server answered; a middlebox on the path answers like this (C14)",
			Evidence: ev, Fix: fix})
	} else {
		out = append(out, Finding{ID: "identity.ok", Case: "C14", Level: OK,
			Summary: "the response says who served it", Evidence: ids})
	}
	ageStr := base.Header.Get("Age")
	if ageStr == "" {
		return out
	}
	age, err := strconv.ParseInt(strings.TrimSpace(ageStr), 10, 64)
	if err != nil || age < 0 {
		return append(out, Finding{ID: "cache.bad-age", Case: "A2", Level: Warn,
			Summary: "the Age header is not a number of seconds (RFC 9111 §5.1)", Evidence: ev,
			Fix: "a cache on the path sends a broken Age; identify it by its Server or Via"})
	}
	if base.Header.Get("Via") == "" {
		out = append(out, Finding{ID: "cache.age-without-via", Case: "A2", Level: Warn,
			Summary:  fmt.Sprintf("a cache answered (Age: %d) without identifying itself in Via: an unknown cache, such as an ISP's, can keep serving old versions (A2)", age),
			Evidence: ev,
			Fix:      "compare the body with the origin's (--origin); for release files use content-addressed names and HTTPS so that intermediaries cannot serve stale copies"})
	}
	cc := cachepolicy.CacheControlOf(base.Header)
	life := cc.SMaxAge
	if !life.Valid() {
		life = cc.MaxAge
	}
	if life.Valid() && age > life.Secs+60 && !cc.StaleWhileRevalidate.Valid() && !cc.StaleIfError.Valid() {
		out = append(out, Finding{ID: "cache.stale", Case: "A2", Level: Warn,
			Summary:  fmt.Sprintf("the response is %ds old but may be cached for %ds: a cache on the path ignores the freshness lifetime (A2)", age, life.Secs),
			Evidence: ev,
			Fix:      "purge the cache that answered; if it is not yours (an ISP's), report it and use versioned file names"})
	}
	return out
}
