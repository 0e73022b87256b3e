package cachepolicy

import (
	"net/http"
	"strings"
)

// SurrogateCapability is the capability a surrogate advertises for its
// device token in the Surrogate-Capability request field (Edge
// Architecture Specification 1.0, W3C Note 2001, §2.1):
//
//	Surrogate-Capability: strata="Surrogate/1.0"
const SurrogateCapability = `"Surrogate/1.0"`

// SurrogateControlOf returns the directives of h's Surrogate-Control field
// (Edge Architecture Specification 1.0 §2.2) that apply to a surrogate known
// by one of targets (device tokens, compared without regard to case), and
// whether any apply. §2.3: a directive may be targeted at one device by
// appending ";token"; a surrogate follows the directives targeted at it if
// there are any, else the untargeted ones, and never those targeted at
// another device.
//
// Directives are read with the grammar of Cache-Control (ParseCacheControl):
// max-age and no-store are those the specification defines, and the
// stale-while-revalidate and stale-if-error extensions that CDNs accept
// there work too. The syntax is read strictly, as the specification writes
// it: "max-age =60" and "max-age= 60" are not directives. A max-age's
// freshness extension ("max-age=60+30") is read and dropped.
func SurrogateControlOf(h http.Header, targets []string) (cc CacheControl, ok bool) {
	var mine, general []string
	for _, el := range splitList(strings.Join(h.Values("Surrogate-Control"), ", ")) {
		dir, target, targeted := cutTarget(el)
		if dir == "" || !strictDirective(dir) {
			continue
		}
		dir = dropExtension(dir)
		switch {
		case !targeted:
			general = append(general, dir)
		case matchesTarget(target, targets):
			mine = append(mine, dir)
		}
	}
	chosen := general
	if len(mine) > 0 {
		chosen = mine
	}
	if len(chosen) == 0 {
		return CacheControl{}, false
	}
	return ParseCacheControl(strings.Join(chosen, ", ")), true
}

// cutTarget splits a Surrogate-Control element at the ";" that introduces
// its device token, ignoring any inside a quoted-string.
func cutTarget(el string) (dir, target string, targeted bool) {
	inQuote := false
	for i := 0; i < len(el); i++ {
		switch c := el[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			return trimOWS(el[:i]), trimOWS(el[i+1:]), true
		}
	}
	return trimOWS(el), "", false
}

// strictDirective reports whether a directive has no whitespace around its
// "=" (Edge Architecture §2.2 writes directive = name "=" value).
func strictDirective(dir string) bool {
	name, arg, has := strings.Cut(dir, "=")
	return !has || (trimOWS(name) == name && trimOWS(arg) == arg && arg != "")
}

// dropExtension removes the freshness extension of "max-age=N+M".
func dropExtension(dir string) string {
	name, arg, has := strings.Cut(dir, "=")
	if !has || !strings.EqualFold(name, "max-age") {
		return dir
	}
	if n, ext, plus := strings.Cut(arg, "+"); plus && isDigits(n) && isDigits(ext) {
		return name + "=" + n
	}
	return dir
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func matchesTarget(target string, targets []string) bool {
	for _, t := range targets {
		if t != "" && strings.EqualFold(t, target) {
			return true
		}
	}
	return false
}

// responseCC returns the response directives this cache follows for a
// stored or received response header, and whether they come from
// Surrogate-Control. A surrogate (Policy.SurrogateTargets) that finds
// Surrogate-Control directives for itself with max-age or no-store follows
// them instead of Cache-Control, which then speaks only to the caches after
// it (browsers): Surrogate-Control no-store prevents storing even a fresh
// response, and its max-age allows storing and sets the lifetime even under
// Cache-Control no-store or private (Edge Architecture §2.2, §3, as CDNs
// that read the field do).
func (p Policy) responseCC(h http.Header) (CacheControl, bool) {
	if len(p.SurrogateTargets) > 0 && !p.Private {
		if sc, ok := SurrogateControlOf(h, p.SurrogateTargets); ok && (sc.MaxAge.Set || sc.NoStore) {
			return sc, true
		}
	}
	return CacheControlOf(h), false
}
