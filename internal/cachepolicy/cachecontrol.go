package cachepolicy

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// MaxDelta is the largest delta-seconds value the package represents:
// RFC 9111 §1.2.2 tells a cache to read any larger value, and any overflowing
// calculation, as 2147483648 (2^31) seconds.
const MaxDelta = 1 << 31

// Delta is the argument of a directive whose value is delta-seconds
// (RFC 9111 §1.2.2): max-age, s-maxage, max-stale, min-fresh,
// stale-while-revalidate and stale-if-error.
type Delta struct {
	// Set reports that the directive is present.
	Set bool
	// Invalid reports that the directive is present but its argument is not
	// delta-seconds (missing, negative, not digits: "max-age=abc"), or that
	// it appears more than once with different arguments. RFC 9111 §4.2.1
	// lets a cache use the first occurrence or treat the response as stale;
	// this package takes the stale side, the most restrictive reading.
	Invalid bool
	// Secs is the argument, in [0, MaxDelta]; meaningful only when Valid.
	Secs int64
}

// Valid reports whether the directive is present with a usable argument.
func (d Delta) Valid() bool { return d.Set && !d.Invalid }

// Duration returns the argument as a duration (0 unless Valid).
func (d Delta) Duration() time.Duration {
	if !d.Valid() {
		return 0
	}
	return time.Duration(d.Secs) * time.Second
}

// CacheControl holds the directives of a Cache-Control field (RFC 9111
// §5.2). One type serves requests (§5.2.1) and responses (§5.2.2): several
// directives exist in both, and the caller knows which message it parsed.
type CacheControl struct {
	MaxAge  Delta // max-age: request §5.2.1.1, response §5.2.2.1
	SMaxAge Delta // s-maxage: response §5.2.2.10 (shared caches only)
	// MaxStale is the request's max-stale (§5.2.1.2). Without an argument
	// the client accepts any staleness, represented as MaxDelta.
	MaxStale             Delta
	MinFresh             Delta // min-fresh: request §5.2.1.3
	StaleWhileRevalidate Delta // stale-while-revalidate: response, RFC 5861 §3
	StaleIfError         Delta // stale-if-error: request and response, RFC 5861 §4

	// NoCache is set by no-cache (request §5.2.1.4, response §5.2.2.4).
	// NoCacheFields lists the field names of the response's qualified form
	// (no-cache="Set-Cookie"), canonicalised, in order of appearance.
	NoCache       bool
	NoCacheFields []string
	// Private is set by private (§5.2.2.7); PrivateFields lists the field
	// names of its qualified form.
	Private       bool
	PrivateFields []string

	NoStore         bool // no-store: request §5.2.1.5, response §5.2.2.5
	NoTransform     bool // no-transform: request §5.2.1.6, response §5.2.2.6
	OnlyIfCached    bool // only-if-cached: request §5.2.1.7
	MustRevalidate  bool // must-revalidate: response §5.2.2.2
	MustUnderstand  bool // must-understand: response §5.2.2.3
	ProxyRevalidate bool // proxy-revalidate: response §5.2.2.8
	Public          bool // public: response §5.2.2.9
	Immutable       bool // immutable: response, RFC 8246

	// Extensions holds the directives this package does not know
	// (§5.2.3), by lower-case name, with their unquoted argument ("" when
	// there is none). The first occurrence of a name wins.
	Extensions map[string]string
}

// CacheControlOf parses every Cache-Control field line of h as one list
// (RFC 9110 §5.3: field lines of a list field combine in order).
func CacheControlOf(h http.Header) CacheControl {
	return ParseCacheControl(strings.Join(h.Values("Cache-Control"), ", "))
}

// ParseCacheControl parses a Cache-Control field value (RFC 9111 §5.2):
//
//	Cache-Control   = #cache-directive
//	cache-directive = token [ "=" ( token / quoted-string ) ]
//
// Directive names are case-insensitive. Arguments are accepted in token or
// quoted-string form for every directive, as §5.2 asks of recipients, so
// max-age="60" is max-age=60 and no-cache=Set-Cookie is a one-field list.
// Parsing never fails: list elements that are not directives are skipped,
// and bad arguments mark the directive Invalid (see Delta). A boolean
// directive given an argument still counts (it only ever restricts).
func ParseCacheControl(s string) CacheControl {
	var cc CacheControl
	for _, el := range splitList(s) {
		name, arg, hasArg, ok := splitDirective(el)
		if !ok {
			continue
		}
		switch name {
		case "max-age":
			cc.MaxAge = mergeDelta(cc.MaxAge, parseDelta(arg, hasArg))
		case "s-maxage":
			cc.SMaxAge = mergeDelta(cc.SMaxAge, parseDelta(arg, hasArg))
		case "max-stale":
			d := Delta{Set: true, Secs: MaxDelta} // §5.2.1.2: no argument, any staleness
			if hasArg {
				d = parseDelta(arg, true)
			}
			cc.MaxStale = mergeDelta(cc.MaxStale, d)
		case "min-fresh":
			cc.MinFresh = mergeDelta(cc.MinFresh, parseDelta(arg, hasArg))
		case "stale-while-revalidate":
			cc.StaleWhileRevalidate = mergeDelta(cc.StaleWhileRevalidate, parseDelta(arg, hasArg))
		case "stale-if-error":
			cc.StaleIfError = mergeDelta(cc.StaleIfError, parseDelta(arg, hasArg))
		case "no-cache":
			cc.NoCache = true
			cc.NoCacheFields = appendFields(cc.NoCacheFields, arg)
		case "private":
			cc.Private = true
			cc.PrivateFields = appendFields(cc.PrivateFields, arg)
		case "no-store":
			cc.NoStore = true
		case "no-transform":
			cc.NoTransform = true
		case "only-if-cached":
			cc.OnlyIfCached = true
		case "must-revalidate":
			cc.MustRevalidate = true
		case "must-understand":
			cc.MustUnderstand = true
		case "proxy-revalidate":
			cc.ProxyRevalidate = true
		case "public":
			cc.Public = true
		case "immutable":
			cc.Immutable = true
		default:
			if cc.Extensions == nil {
				cc.Extensions = make(map[string]string)
			}
			if _, dup := cc.Extensions[name]; !dup {
				cc.Extensions[name] = arg
			}
		}
	}
	return cc
}

// String formats the directives as a Cache-Control field value, in a fixed
// order; ParseCacheControl reads it back to an equal value. An Invalid delta
// is written with the argument "invalid" so that it stays invalid.
func (cc CacheControl) String() string {
	var b []string
	flag := func(on bool, name string) {
		if on {
			b = append(b, name)
		}
	}
	delta := func(d Delta, name string) {
		switch {
		case !d.Set:
		case d.Invalid:
			b = append(b, name+"=invalid")
		default:
			b = append(b, name+"="+strconv.FormatInt(d.Secs, 10))
		}
	}
	fields := func(on bool, fs []string, name string) {
		switch {
		case !on:
		case len(fs) == 0:
			b = append(b, name)
		default:
			b = append(b, name+`="`+strings.Join(fs, ", ")+`"`)
		}
	}
	delta(cc.MaxAge, "max-age")
	delta(cc.SMaxAge, "s-maxage")
	delta(cc.MaxStale, "max-stale")
	delta(cc.MinFresh, "min-fresh")
	delta(cc.StaleWhileRevalidate, "stale-while-revalidate")
	delta(cc.StaleIfError, "stale-if-error")
	fields(cc.NoCache, cc.NoCacheFields, "no-cache")
	fields(cc.Private, cc.PrivateFields, "private")
	flag(cc.NoStore, "no-store")
	flag(cc.NoTransform, "no-transform")
	flag(cc.OnlyIfCached, "only-if-cached")
	flag(cc.MustRevalidate, "must-revalidate")
	flag(cc.MustUnderstand, "must-understand")
	flag(cc.ProxyRevalidate, "proxy-revalidate")
	flag(cc.Public, "public")
	flag(cc.Immutable, "immutable")
	names := make([]string, 0, len(cc.Extensions))
	for n := range cc.Extensions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		switch v := cc.Extensions[n]; {
		case v == "":
			b = append(b, n)
		case isToken(v):
			b = append(b, n+"="+v)
		default:
			b = append(b, n+"="+quote(v))
		}
	}
	return strings.Join(b, ", ")
}

// parseDelta reads a delta-seconds argument (RFC 9111 §1.2.2):
// delta-seconds = 1*DIGIT. Values past 2^31 are clamped to it.
func parseDelta(arg string, hasArg bool) Delta {
	if !hasArg || arg == "" {
		return Delta{Set: true, Invalid: true}
	}
	var n int64
	for i := 0; i < len(arg); i++ {
		c := arg[i]
		if c < '0' || c > '9' {
			return Delta{Set: true, Invalid: true}
		}
		if n < MaxDelta {
			n = n*10 + int64(c-'0')
		}
	}
	if n > MaxDelta {
		n = MaxDelta
	}
	return Delta{Set: true, Secs: n}
}

// mergeDelta combines a repeated directive: equal repeats are harmless;
// differing ones make the directive Invalid (RFC 9111 §4.2.1 allows the
// first occurrence or "stale"; we choose the restrictive one).
func mergeDelta(old, d Delta) Delta {
	if !old.Set {
		return d
	}
	if old == d {
		return old
	}
	return Delta{Set: true, Invalid: true}
}

// appendFields adds the field names of a qualified no-cache or private
// argument (§5.2.2.4, §5.2.2.7: a quoted list of field-names) to fs,
// canonicalised and without repeats. Elements that are not tokens are
// dropped.
func appendFields(fs []string, arg string) []string {
	for _, f := range strings.Split(arg, ",") {
		f = trimOWS(f)
		if !isToken(f) {
			continue
		}
		f = http.CanonicalHeaderKey(f)
		dup := false
		for _, g := range fs {
			dup = dup || g == f
		}
		if !dup {
			fs = append(fs, f)
		}
	}
	return fs
}

// splitDirective splits one list element into its lower-cased name and its
// argument, unquoted. OWS around "=" is tolerated. ok is false when the
// name is not a token or a quoted argument is malformed; a quoted argument
// followed by anything is malformed.
func splitDirective(el string) (name, arg string, hasArg, ok bool) {
	name, arg, hasArg = strings.Cut(el, "=")
	name = strings.ToLower(trimOWS(name))
	if !isToken(name) {
		return "", "", false, false
	}
	if !hasArg {
		return name, "", false, true
	}
	arg = trimOWS(arg)
	if strings.HasPrefix(arg, `"`) {
		v, rest, ok := unquote(arg)
		if !ok || rest != "" {
			// Keep the directive (it may restrict) but with an argument
			// that no delta or field list accepts.
			return name, "\x00", true, true
		}
		return name, v, true, true
	}
	if !isToken(arg) {
		return name, "\x00", true, true
	}
	return name, arg, true, true
}

// splitList splits a comma-separated list (RFC 9110 §5.6.1), ignoring
// commas inside quoted-strings; elements are trimmed and empty ones dropped.
func splitList(s string) []string {
	var out []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++ // quoted-pair: skip the escaped octet
		case c == '"':
			inQuote = !inQuote
		case c == ',' && !inQuote:
			if el := trimOWS(s[start:i]); el != "" {
				out = append(out, el)
			}
			start = i + 1
		}
	}
	if start < len(s) {
		if el := trimOWS(s[start:]); el != "" {
			out = append(out, el)
		}
	}
	return out
}

// unquote reads a quoted-string (RFC 9110 §5.6.4) at the start of s and
// returns its content with quoted-pairs resolved, and the rest of s.
func unquote(s string) (v, rest string, ok bool) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), trimOWS(s[i+1:]), true
		case '\\':
			if i+1 == len(s) {
				return "", s, false
			}
			i++
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
	}
	return "", s, false
}

// quote formats v as a quoted-string, escaping DQUOTE and backslash.
func quote(v string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		if v[i] == '"' || v[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(v[i])
	}
	b.WriteByte('"')
	return b.String()
}

// isToken reports whether s is a token (RFC 9110 §5.6.2): 1*tchar.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTchar(s[i]) {
			return false
		}
	}
	return true
}

// isTchar reports whether c is a tchar (RFC 9110 §5.6.2).
func isTchar(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}

// trimOWS removes optional whitespace (SP, HTAB) at both ends.
func trimOWS(s string) string { return strings.Trim(s, " \t") }
