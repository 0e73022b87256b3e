package cachepolicy

import (
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// A Normalizer maps the field lines of a request field named in Vary (nil
// when the field is absent) to the one value that stands for them in the
// variant key. Two requests whose values normalise alike share a stored
// response, so a normaliser must only merge values the cache answers the
// same way (RFC 9111 §4.1).
type Normalizer func(values []string) string

// VaryOptions adjust the secondary cache key, as a cache rule asks.
type VaryOptions struct {
	// Ignore lists field names (any case) left out of the key even when
	// Vary names them: a rule's ignore_vary: [Cookie] for an origin that
	// sends Vary: Cookie on responses that do not depend on it (case C17).
	Ignore []string
	// Normalize maps a field name (any case) to its normaliser, e.g.
	// "Accept-Encoding" to NormalizeAcceptEncoding("br", "gzip").
	Normalize map[string]Normalizer
}

// VaryFields parses a Vary field value (RFC 9110 §12.5.5):
//
//	Vary = #( "*" / field-name )
//
// It returns the nominated field names, lower-cased, sorted and without
// repeats, and whether "*" is among them. Several Vary lines must be joined
// with "," first. Elements that are not tokens are skipped.
func VaryFields(vary string) (fields []string, star bool) {
	for _, el := range strings.Split(vary, ",") {
		el = trimOWS(el)
		if el == "*" {
			star = true
			continue
		}
		if !isToken(el) {
			continue
		}
		fields = append(fields, strings.ToLower(el))
	}
	sort.Strings(fields)
	return dedupSorted(fields), star
}

// VaryKey computes the secondary cache key of a request for a stored
// response whose Vary field value is vary (RFC 9111 §4.1): a string that is
// equal for two requests exactly when their nominated fields match, so the
// cache can keep one entry per variant and find it by primary key plus
// VaryKey. ok is false for Vary: *, which matches no request.
//
// Matching follows §4.1: several field lines combine into one list,
// whitespace around list and parameter separators is insignificant, and a
// field absent from a request matches only its absence (an empty value is
// not an absent one). Fields in opts.Ignore are left out; fields with a
// normaliser are keyed by its output. The key is empty when nothing varies.
// It is deterministic and unambiguous: names and values are escaped.
func VaryKey(vary string, req http.Header, opts VaryOptions) (key string, ok bool) {
	fields, star := VaryFields(vary)
	if star {
		return "", false
	}
	var b strings.Builder
	for _, f := range fields {
		if opts.ignores(f) {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(url.QueryEscape(f))
		vals := req.Values(f)
		if n := opts.normalizer(f); n != nil {
			b.WriteByte('=')
			b.WriteString(url.QueryEscape(n(vals)))
			continue
		}
		if vals == nil {
			continue // absent
		}
		b.WriteByte('=')
		b.WriteString(url.QueryEscape(normalizeList(vals)))
	}
	return b.String(), true
}

// varyValue joins the Vary field lines of h.
func varyValue(h http.Header) string {
	return strings.Join(h.Values("Vary"), ",")
}

// ignores reports whether the lower-case field f is to be left out.
func (o VaryOptions) ignores(f string) bool {
	for _, g := range o.Ignore {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// normalizer returns the normaliser for the lower-case field f, if any.
// Should the map hold the name in several spellings, the one that sorts
// first wins, so that the choice does not depend on map order.
func (o VaryOptions) normalizer(f string) Normalizer {
	var best string
	var found Normalizer
	for name, n := range o.Normalize {
		if strings.EqualFold(name, f) && (found == nil || name < best) {
			best, found = name, n
		}
	}
	return found
}

// normalizeList combines field lines and removes the whitespace the field
// syntax allows around "," and ";" (RFC 9110 §5.6.1, §5.6.6), outside
// quoted-strings; empty list elements are dropped. Values are otherwise
// kept as sent: whether their case matters depends on the field.
func normalizeList(vals []string) string {
	var els []string
	for _, v := range vals {
		for _, el := range splitList(v) {
			els = append(els, trimAroundSemicolons(el))
		}
	}
	return strings.Join(els, ",")
}

// trimAroundSemicolons removes OWS around each ";" outside quoted-strings.
func trimAroundSemicolons(s string) string {
	if !strings.Contains(s, ";") {
		return s
	}
	var parts []string
	start, inQuote := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inQuote && c == '\\':
			i++
		case c == '"':
			inQuote = !inQuote
		case c == ';' && !inQuote:
			parts = append(parts, trimOWS(s[start:i]))
			start = i + 1
		}
	}
	parts = append(parts, trimOWS(s[min(start, len(s)):]))
	return strings.Join(parts, ";")
}

// NormalizeAcceptEncoding returns a Normalizer for Accept-Encoding that
// reduces the field to the one content coding the cache would send, chosen
// by PickEncoding among offered (in the cache's order of preference). Every
// client that would get gzip then shares the gzip variant, instead of one
// variant per spelling of Accept-Encoding.
func NormalizeAcceptEncoding(offered ...string) Normalizer {
	offered = append([]string(nil), offered...)
	return func(values []string) string {
		return PickEncoding(values, offered)
	}
}

// PickEncoding chooses the content coding to send for the Accept-Encoding
// field lines given (RFC 9110 §12.5.3) among offered, the codings the
// server can produce in its order of preference: the offered coding with
// the highest qvalue wins, ties going to the earlier one. A coding not
// listed takes the qvalue of "*" if present, else is not acceptable; q=0
// means not acceptable; "x-gzip" is gzip (§8.4.1.3). When none is
// acceptable, or the field is absent or empty, the result is "identity".
// Codings are compared case-insensitively and returned as offered.
func PickEncoding(acceptEncoding []string, offered []string) string {
	q := map[string]float64{}
	for _, line := range acceptEncoding {
		for _, el := range splitList(line) {
			name, params, _ := strings.Cut(el, ";")
			name = strings.ToLower(trimOWS(name))
			if name == "x-gzip" {
				name = "gzip"
			}
			w, ok := qvalue(params)
			if !ok || !isToken(name) {
				continue
			}
			if _, dup := q[name]; !dup {
				q[name] = w
			}
		}
	}
	best, bestQ := "identity", 0.0
	for _, c := range offered {
		lc := strings.ToLower(c)
		if lc == "identity" {
			continue
		}
		w, listed := q[lc]
		if !listed {
			w = q["*"]
		}
		if w > bestQ {
			best, bestQ = c, w
		}
	}
	return best
}

// qvalue reads the weight from the parameters after a coding
// (RFC 9110 §12.4.2): ";q=0.5". No q means 1. It reports false for a
// malformed weight, which makes the element ignored.
func qvalue(params string) (float64, bool) {
	params = trimOWS(params)
	if params == "" {
		return 1, true
	}
	for _, p := range strings.Split(params, ";") {
		k, v, ok := strings.Cut(trimOWS(p), "=")
		if !ok || !strings.EqualFold(trimOWS(k), "q") {
			continue
		}
		v = trimOWS(v)
		if v == "" || len(v) > 5 || (v[0] != '0' && v[0] != '1') ||
			strings.Trim(v, "0123456789.") != "" {
			return 0, false
		}
		w, err := strconv.ParseFloat(v, 64)
		if err != nil || w < 0 || w > 1 {
			return 0, false
		}
		return w, true
	}
	return 1, true
}

// dedupSorted removes adjacent repeats from a sorted slice.
func dedupSorted(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}
