package httphdr

import "strings"

// ETag is a parsed entity tag (RFC 9110 §8.8.3):
//
//	entity-tag = [ weak ] opaque-tag
//	weak       = %s"W/"
//	opaque-tag = DQUOTE *etagc DQUOTE
//	etagc      = %x21 / %x23-7E / obs-text
type ETag struct {
	Weak  bool
	Value string // without quotes and without W/; never contains DQUOTE
}

// ParseETag parses one entity tag, as found in the ETag field, leniently:
// OWS around it is ignored, and a missing pair of quotes is accepted, so that
// `abc` reads as the strong tag "abc" and `W/abc` as the weak tag W/"abc"
// (some origins send bare ETags, case A1). A bare tag must be non-empty and
// may not contain DQUOTE, whitespace, controls or a comma (which would make
// it ambiguous in a list). It reports false for anything else.
func ParseETag(s string) (ETag, bool) {
	t, rest, ok := scanETag(trimOWS(s))
	if !ok || rest != "" {
		return ETag{}, false
	}
	return t, true
}

// scanETag reads one entity tag, quoted or bare, at the start of s and
// returns the unread remainder.
func scanETag(s string) (ETag, string, bool) {
	var t ETag
	if strings.HasPrefix(s, "W/") {
		t.Weak = true
		s = s[2:]
	}
	if strings.HasPrefix(s, `"`) {
		i := 1
		for i < len(s) && s[i] != '"' {
			if !isETagc(s[i]) {
				return ETag{}, s, false
			}
			i++
		}
		if i == len(s) {
			return ETag{}, s, false // no closing DQUOTE
		}
		t.Value = s[1:i]
		return t, s[i+1:], true
	}
	// A bare tag (lenient, A1): runs to a comma or OWS.
	i := 0
	for i < len(s) && isETagc(s[i]) && s[i] != ',' {
		i++
	}
	if i == 0 {
		return ETag{}, s, false
	}
	if i < len(s) && s[i] == '"' {
		return ETag{}, s, false // a stray quote: `ab"c"`
	}
	t.Value = s[:i]
	return t, s[i:], true
}

// isETagc reports whether c may appear inside an opaque-tag: any visible
// character but DQUOTE, or obs-text (RFC 9110 §8.8.3).
func isETagc(c byte) bool {
	return c == 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80
}

// String formats the tag with quotes ("W/" prefix when weak), the form the
// ETag field and the conditional fields use.
func (e ETag) String() string {
	if e.Weak {
		return `W/"` + e.Value + `"`
	}
	return `"` + e.Value + `"`
}

// StrongCompare reports whether a and b match under the strong comparison of
// RFC 9110 §8.8.3.2: both are strong and their opaque-tags are identical.
func StrongCompare(a, b ETag) bool {
	return !a.Weak && !b.Weak && a.Value == b.Value
}

// WeakCompare reports whether a and b match under the weak comparison of
// RFC 9110 §8.8.3.2: their opaque-tags are identical, whatever their
// weakness.
func WeakCompare(a, b ETag) bool {
	return a.Value == b.Value
}

// ETagList is a parsed If-Match or If-None-Match field value
// (RFC 9110 §13.1.1, §13.1.2): either "*" or a list of entity tags.
type ETagList struct {
	Any  bool   // the field was "*": any current representation
	Tags []ETag // the listed tags when Any is false
}

// ParseETagList parses an If-Match or If-None-Match field value:
//
//	If-Match = "*" / #entity-tag
//
// Tags are read leniently as by ParseETag (bare tags are accepted), OWS
// around commas and empty list elements are ignored (RFC 9110 §5.6.1.2).
// Several field lines are combined by joining them with ", " first. It
// reports false for a value that is neither "*" nor a non-empty list of tags,
// including "*" mixed with tags.
func ParseETagList(s string) (ETagList, bool) {
	s = trimOWS(s)
	if s == "*" {
		return ETagList{Any: true}, true
	}
	var l ETagList
	for {
		s = strings.TrimLeft(s, " \t,")
		if s == "" {
			break
		}
		t, rest, ok := scanETag(s)
		if !ok || (!t.Weak && t.Value == "*" && !strings.HasPrefix(s, `"`)) {
			return ETagList{}, false // a bare "*" is only valid alone
		}
		rest = trimOWSLeft(rest)
		if rest != "" && rest[0] != ',' {
			return ETagList{}, false // `"a" "b"`: a separator is missing
		}
		l.Tags = append(l.Tags, t)
		s = rest
	}
	if len(l.Tags) == 0 {
		return ETagList{}, false
	}
	return l, true
}

// MatchStrong reports whether cur, the current representation's tag, is in
// the list under strong comparison, as If-Match requires (RFC 9110 §13.1.1).
// For "*" it reports true: the caller knows whether a representation exists.
func (l ETagList) MatchStrong(cur ETag) bool {
	if l.Any {
		return true
	}
	for _, t := range l.Tags {
		if StrongCompare(t, cur) {
			return true
		}
	}
	return false
}

// MatchWeak reports whether cur is in the list under weak comparison, as
// If-None-Match requires (RFC 9110 §13.1.2). For "*" it reports true.
func (l ETagList) MatchWeak(cur ETag) bool {
	if l.Any {
		return true
	}
	for _, t := range l.Tags {
		if WeakCompare(t, cur) {
			return true
		}
	}
	return false
}

// trimOWSLeft removes leading optional whitespace.
func trimOWSLeft(s string) string {
	return strings.TrimLeft(s, " \t")
}
