// Package transform holds the edge's content transformations (case C03):
// content-coding negotiation (RFC 9110 §12.5.3), decoding and encoding of
// gzip and brotli bodies, and minification of HTML, CSS and JavaScript.
// It is pure: no I/O beyond the byte slices and readers it is given, no
// clock, no logging.
package transform

import (
	"strconv"
	"strings"
)

// Coding is a content coding (RFC 9110 §8.4.1) the edge can produce or
// undo.
type Coding string

// The codings the edge knows.
const (
	Identity Coding = "identity"
	Gzip     Coding = "gzip"
	Brotli   Coding = "br"
)

// ParseCoding returns the coding a Content-Encoding field value names:
// Identity for an empty value or "identity", Gzip for "gzip" and its alias
// "x-gzip" (RFC 9110 §8.4.1.3), Brotli for "br". ok is false for any other
// coding and for a list of several codings (applied in turn by the origin),
// which the edge passes on untouched.
func ParseCoding(contentEncoding string) (c Coding, ok bool) {
	v := strings.ToLower(strings.TrimSpace(contentEncoding))
	switch v {
	case "", "identity":
		return Identity, true
	case "gzip", "x-gzip":
		return Gzip, true
	case "br":
		return Brotli, true
	}
	return "", false
}

// acceptItem is one element of Accept-Encoding.
type acceptItem struct {
	coding string // lower case; "*" for the wildcard
	q      int    // quality in thousandths, 0..1000
}

// parseAccept parses Accept-Encoding field values (RFC 9110 §12.5.3):
// comma-separated codings, each with an optional ";q=" weight. Malformed
// elements are skipped; a malformed weight counts as 1 (the element was
// asked for).
func parseAccept(values []string) []acceptItem {
	var items []acceptItem
	for _, v := range values {
		for _, el := range strings.Split(v, ",") {
			name, params, _ := strings.Cut(el, ";")
			name = strings.ToLower(strings.TrimSpace(name))
			if name == "" {
				continue
			}
			if name == "x-gzip" {
				name = "gzip"
			}
			q := 1000
			for _, p := range strings.Split(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if !ok || !strings.EqualFold(strings.TrimSpace(k), "q") {
					continue
				}
				if parsed, ok := parseQ(strings.TrimSpace(val)); ok {
					q = parsed
				}
			}
			items = append(items, acceptItem{coding: name, q: q})
		}
	}
	return items
}

// parseQ parses a qvalue (RFC 9110 §12.4.2): "0", "1", "0.5", "1.000", at
// most three decimals, into thousandths.
func parseQ(s string) (int, bool) {
	if s == "" || len(s) > 5 {
		return 0, false
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole != "0" && whole != "1" {
		return 0, false
	}
	for len(frac) < 3 {
		frac += "0"
	}
	if len(frac) > 3 {
		return 0, false
	}
	n, err := strconv.Atoi(frac)
	if err != nil || n < 0 {
		return 0, false
	}
	if whole == "1" {
		if n != 0 {
			return 0, false
		}
		return 1000, true
	}
	return n, true
}

// quality returns the weight the request gives coding c: its own element,
// else the wildcard's, else 0 — except identity, which stays acceptable
// unless excluded by "identity;q=0" or "*;q=0" (RFC 9110 §12.5.3). An
// identity the field does not name gets the lowest positive weight: a
// client that lists codings ("br;q=0.5, gzip;q=0.8") asks for them.
func quality(items []acceptItem, c Coding) int {
	star := -1
	for _, it := range items {
		if it.coding == string(c) {
			return it.q
		}
		if it.coding == "*" {
			star = it.q
		}
	}
	if star >= 0 {
		return star
	}
	if c == Identity {
		return 1 // acceptable, but after anything the request names
	}
	return 0
}

// Accepts reports whether Accept-Encoding values accept coding c.
// Without the field, only identity counts as accepted: RFC 9110 §12.5.3
// allows any coding then, but a cache serving many clients should not
// guess.
func Accepts(acceptEncoding []string, c Coding) bool {
	if len(acceptEncoding) == 0 {
		return c == Identity
	}
	return quality(parseAccept(acceptEncoding), c) > 0
}

// Negotiate picks the coding of a response from the request's
// Accept-Encoding values among offered, which lists the codings the server
// can send in its order of preference (identity need not be listed: it is
// the fallback). The highest weight wins; a tie goes to the earlier offer.
// Without Accept-Encoding, or when nothing offered is acceptable, the
// answer is Identity: RFC 9110 §12.5.3 lets a server send a response
// without content coding even then, rather than 406.
func Negotiate(acceptEncoding []string, offered []Coding) Coding {
	if len(acceptEncoding) == 0 {
		return Identity
	}
	items := parseAccept(acceptEncoding)
	best, bestQ := Identity, 0
	for _, c := range offered {
		if q := quality(items, c); q > bestQ {
			best, bestQ = c, q
		}
	}
	// An offered coding wins over identity at equal weight: "gzip, br"
	// leaves identity's weight implicit, and compression is what it asks.
	if bestQ > 0 && bestQ >= quality(items, Identity) {
		return best
	}
	return Identity
}
