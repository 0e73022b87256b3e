package edge

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CORS makes the edge answer for a domain's cross-origin resource sharing
// (Fetch standard, §3.2): it reflects an allowed request Origin, answers
// preflights itself, and drops the origin's own Access-Control-* response
// fields, so that a response cached for a page of origin A never reaches a
// page of origin B with A's header (C10).
type CORS struct {
	// AllowOrigins lists the allowed origins: exact ones
	// ("https://app.example.com", compared case-insensitively), patterns
	// with a leading "*." ("https://*.example.com" or "*.example.com",
	// matching any subdomain, not the bare domain), or "*" for any origin.
	AllowOrigins []string
	// AllowMethods answers a preflight's Access-Control-Request-Method.
	// Empty: GET, HEAD, POST.
	AllowMethods []string
	// AllowHeaders lists the request fields a preflight may ask for; empty
	// reflects what the preflight asks.
	AllowHeaders []string
	// ExposeHeaders is sent as Access-Control-Expose-Headers.
	ExposeHeaders []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true.
	AllowCredentials bool
	// MaxAge is the preflight's Access-Control-Max-Age; zero sends none.
	MaxAge time.Duration
}

// allowed reports whether the request origin o is on the allow-list.
func (c *CORS) allowed(o string) bool {
	if o == "" || o == "null" {
		return false
	}
	o = strings.ToLower(o)
	scheme, host, ok := strings.Cut(o, "://")
	if !ok || host == "" || strings.ContainsAny(host, "/?#@ \\") {
		return false // an origin is scheme://host[:port] (RFC 6454 §6.1)
	}
	for _, a := range c.AllowOrigins {
		a = strings.ToLower(strings.TrimSuffix(a, "/"))
		switch {
		case a == "*" || a == o:
			return true
		case strings.Contains(a, "*."):
			as, ah, hasScheme := strings.Cut(a, "://")
			if !hasScheme {
				ah, as = as, ""
			}
			if as != "" && as != scheme {
				continue
			}
			suffix := strings.TrimPrefix(ah, "*") // ".example.com[:port]"
			if strings.HasSuffix(host, suffix) && len(host) > len(suffix) {
				return true
			}
		}
	}
	return false
}

// isCORSField reports whether the response field k is a CORS field the
// edge owns.
func isCORSField(k string) bool {
	return strings.HasPrefix(http.CanonicalHeaderKey(k), "Access-Control-")
}

// decorate rewrites the CORS fields of the response header out for r:
// the origin's are dropped, and an allowed Origin is reflected.
func (c *CORS) decorate(r *http.Request, out http.Header) {
	for k := range out {
		if isCORSField(k) {
			delete(out, k)
		}
	}
	addVary(out, "Origin")
	o := r.Header.Get("Origin")
	if !c.allowed(o) {
		return
	}
	out.Set("Access-Control-Allow-Origin", o)
	if c.AllowCredentials {
		out.Set("Access-Control-Allow-Credentials", "true")
	}
	if len(c.ExposeHeaders) > 0 {
		out.Set("Access-Control-Expose-Headers", strings.Join(c.ExposeHeaders, ", "))
	}
}

// addVary adds field to out's Vary unless it is listed already (or Vary is
// "*").
func addVary(out http.Header, field string) {
	if headerHasTokenFold(out, "Vary", field) || headerHasTokenFold(out, "Vary", "*") {
		return
	}
	out.Add("Vary", field)
}

// isPreflight reports whether r is a CORS preflight request.
func isPreflight(r *http.Request) bool {
	return r.Method == http.MethodOptions && r.Header.Get("Origin") != "" &&
		r.Header.Get("Access-Control-Request-Method") != ""
}

// servePreflight answers a preflight at the edge: 204 with the allowed
// methods and fields when the Origin and method are allowed, else 403 with
// a body that says why.
func (x *exchange) servePreflight() {
	c := x.dom.CORS
	o := x.r.Header.Get("Origin")
	if !c.allowed(o) {
		x.fail(http.StatusForbidden, "MISS reason=cors-preflight",
			"origin "+strconv.Quote(o)+" is not allowed by the CORS allow-list of domain "+strconv.Quote(x.dom.Host))
		return
	}
	methods := c.AllowMethods
	if len(methods) == 0 {
		methods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	}
	m := x.r.Header.Get("Access-Control-Request-Method")
	ok := false
	for _, am := range methods {
		if strings.EqualFold(am, m) {
			ok = true
		}
	}
	if !ok {
		x.fail(http.StatusForbidden, "MISS reason=cors-preflight",
			"method "+strconv.Quote(m)+" is not allowed by the CORS configuration of domain "+strconv.Quote(x.dom.Host))
		return
	}
	hdr := http.Header{}
	hdr.Set("Access-Control-Allow-Methods", strings.Join(methods, ", "))
	if len(c.AllowHeaders) > 0 {
		hdr.Set("Access-Control-Allow-Headers", strings.Join(c.AllowHeaders, ", "))
	} else if rh := x.r.Header.Get("Access-Control-Request-Headers"); rh != "" {
		hdr.Set("Access-Control-Allow-Headers", rh)
	}
	if c.MaxAge > 0 {
		hdr.Set("Access-Control-Max-Age", strconv.FormatInt(int64(c.MaxAge/time.Second), 10))
	}
	hdr.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	hdr.Set("Cache-Control", "no-store")
	// Written directly, not through writeHead, whose editResponse
	// would drop the fields above as if they were the origin's.
	out := x.w.Header()
	c.decorate(x.r, out)
	for k, v := range hdr {
		out[k] = v
	}
	x.dom.ResponseHeaders.apply(out)
	out.Set("Via", x.via())
	out.Set("X-Cache", "HIT reason=cors-preflight")
	out.Set("X-Request-Id", x.id)
	x.wrote = true
	x.w.WriteHeader(http.StatusNoContent)
}
