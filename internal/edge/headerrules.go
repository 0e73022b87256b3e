package edge

import (
	"net/http"
	"slices"
	"strings"
)

// HeaderRules edits a header set: Remove first, then Set (replacing every
// value of the field), then Add (appending a value). Field names are
// compared case-insensitively (RFC 9110 §5.1).
type HeaderRules struct {
	// Set replaces the field's values with the one given, so that a
	// response carries one value, not the origin's plus the edge's (C10).
	Set map[string]string
	// Add appends a value to the field.
	Add map[string]string
	// Remove deletes the fields. On the request towards the origin this
	// includes the fields the edge adds itself (Via, X-Forwarded-For) and
	// the client's Accept-Encoding (C12).
	Remove []string
}

// empty reports whether the rules change nothing.
func (r *HeaderRules) empty() bool {
	return len(r.Set) == 0 && len(r.Add) == 0 && len(r.Remove) == 0
}

// apply edits h in place.
func (r *HeaderRules) apply(h http.Header) {
	if r.empty() {
		return
	}
	for _, k := range r.Remove {
		ck := http.CanonicalHeaderKey(k)
		if ck == "User-Agent" {
			// A missing User-Agent makes net/http send its own; a nil
			// value sends none.
			h[ck] = nil
			continue
		}
		delete(h, ck)
	}
	for _, k := range sortedKeys(r.Set) {
		h.Set(k, r.Set[k])
	}
	for _, k := range sortedKeys(r.Add) {
		h.Add(k, r.Add[k])
	}
}

// sortedKeys returns the keys of m in order, so that rules apply the same
// way on every request.
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// editResponse applies the domain's CORS and response header rules to the
// response header out, just before it is sent. It runs for every response,
// cached or not, so that what was stored for one client is adapted to the
// next (C10).
func (x *exchange) editResponse(out http.Header) {
	if x.dom == nil {
		return
	}
	if x.dom.CORS != nil {
		x.dom.CORS.decorate(x.r, out)
	}
	x.dom.ResponseHeaders.apply(out)
}

// headerHasTokenFold reports whether any value of field in h lists token
// (comma-separated, case-insensitive).
func headerHasTokenFold(h http.Header, field, token string) bool {
	for _, v := range h.Values(field) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
