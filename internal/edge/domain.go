package edge

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"strings"
	"time"
)

// RangeMode selects how a domain's range requests reach its origin.
type RangeMode int

const (
	// RangeOff fetches whole objects: a range request fills the cache with
	// the whole object and is served from it.
	RangeOff RangeMode = iota
	// RangeOn fetches a range request's aligned slices (each cached on its
	// own); a request for the whole object is fetched whole.
	RangeOn
	// RangeForce fetches every request in slices.
	RangeForce
)

// String names the mode as the configuration spells it.
func (m RangeMode) String() string {
	switch m {
	case RangeOff:
		return "off"
	case RangeOn:
		return "on"
	case RangeForce:
		return "force"
	}
	return "RangeMode(" + itoa(int64(m)) + ")"
}

// DefaultSliceSize is the slice size of a domain whose SliceSize is zero.
const DefaultSliceSize = 1 << 20

// maxSliceSize bounds a slice: a slice is held in memory while it is
// validated, before it is stored or served.
const maxSliceSize = 64 << 20

// CacheRule overrides the origin's caching for the requests it matches. The
// first rule of a domain that matches wins.
type CacheRule struct {
	// PathPrefix is the prefix of the request path the rule matches; empty
	// matches every path.
	PathPrefix string
	// Extensions lists file extensions (".js", any case) the rule matches;
	// empty matches every extension.
	Extensions []string
	// TTL, if positive, replaces the origin's freshness lifetime
	// (cachepolicy.Policy.TTL); zero keeps the origin's.
	TTL time.Duration
	// IgnoreVary lists request fields left out of the cache key even when
	// the origin's Vary names them (case C17: Vary: Cookie). Empty: none.
	IgnoreVary []string
}

// matches reports whether the rule applies to the request path p.
func (r *CacheRule) matches(p string) bool {
	if !strings.HasPrefix(p, r.PathPrefix) {
		return false
	}
	if len(r.Extensions) == 0 {
		return true
	}
	ext := path.Ext(p)
	for _, e := range r.Extensions {
		if strings.EqualFold(e, ext) || strings.EqualFold("."+e, ext) {
			return true
		}
	}
	return false
}

// Domain is one site the edge serves.
type Domain struct {
	// Host is the request Host the domain answers, compared without the
	// port and case-insensitively; "*" answers any host no other domain
	// claims.
	Host string
	// Origin is the origin's URL: scheme, host[:port] and an optional path
	// prefix put before every request path. It must not be nil.
	Origin *url.URL
	// Origins are further origins serving the same content, tried in turn
	// when Origin (or the one before) cannot be reached or answers 5xx, and
	// skipped while health scoring or HealthCheck marks them down
	// (parents.go, health.go). Empty: Origin alone.
	Origins []*url.URL
	// HealthCheck, if set, probes Origin and Origins actively (health.go).
	HealthCheck *HealthCheck
	// OriginHost is the Host header sent to the origin. Empty: the host of
	// Origin.
	OriginHost string
	// Range selects how range requests reach the origin. The zero value is
	// RangeOff.
	Range RangeMode
	// SliceSize is the size of the aligned slices fetched from the origin
	// in RangeOn and RangeForce. If zero, DefaultSliceSize is used; it is
	// capped at 64 MiB.
	SliceSize int64
	// Rules are the domain's cache rules; the first match wins. Empty: the
	// origin's headers alone decide.
	Rules []CacheRule
	// RequestHeaders edit the header of every request to the origin,
	// after the edge has added its own fields (headerrules.go, C12).
	RequestHeaders HeaderRules
	// ResponseHeaders edit the header of every response to the client
	// (C10).
	ResponseHeaders HeaderRules
	// CORS, if set, makes the edge own the domain's CORS (cors.go, C10).
	CORS *CORS
	// MaxUpload, if positive, is the largest request body forwarded to
	// the origin; a larger one is answered 413 (bodypolicy.go, C25).
	MaxUpload int64
	// Timeouts are the domain's time limits (timeouts.go).
	Timeouts Timeouts
	// Transform, if set, compresses and minifies responses at the edge
	// (transform.go, C03).
	Transform *Transform
}

// sliceSize returns the effective slice size.
func (d *Domain) sliceSize() int64 {
	switch {
	case d.SliceSize <= 0:
		return DefaultSliceSize
	case d.SliceSize > maxSliceSize:
		return maxSliceSize
	}
	return d.SliceSize
}

// rule returns the first rule matching the request path p, or nil.
func (d *Domain) rule(p string) *CacheRule {
	for i := range d.Rules {
		if d.Rules[i].matches(p) {
			return &d.Rules[i]
		}
	}
	return nil
}

// originHost returns the Host header sent to the origin.
func (d *Domain) originHost() string {
	if d.OriginHost != "" {
		return d.OriginHost
	}
	return d.Origin.Host
}

// domainFor returns the domain serving the request host hostport (port
// ignored), or nil.
func (h *Handler) domainFor(hostport string) *Domain {
	host := stripPort(hostport)
	var wildcard *Domain
	domains := h.domains() // reconfig.go
	for i := range domains {
		d := &domains[i]
		if d.Host == "*" {
			if wildcard == nil {
				wildcard = d
			}
			continue
		}
		if strings.EqualFold(stripPort(d.Host), host) {
			return d
		}
	}
	return wildcard
}

// stripPort returns the host of a host[:port] value, without the brackets of
// an IPv6 literal, lower-cased and without a trailing dot.
func stripPort(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	return strings.ToLower(host)
}

// ParseRangeMode reads a range mode as the configuration spells it: "off",
// "on" or "force" (any case).
func ParseRangeMode(s string) (RangeMode, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "off":
		return RangeOff, nil
	case "on":
		return RangeOn, nil
	case "force":
		return RangeForce, nil
	}
	return RangeOff, fmt.Errorf("edge: range mode %q: want off, on or force", s)
}
