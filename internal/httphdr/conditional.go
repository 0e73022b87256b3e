package httphdr

import (
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Validators are a representation's current validators, the input to
// conditional request evaluation.
type Validators struct {
	// ETag is the ETag field value as sent, normally quoted; it is parsed
	// leniently (ParseETag), so an origin's bare tag works too (A1). Empty
	// or unparseable means the representation has no entity tag.
	ETag string
	// LastModified is the Last-Modified time; zero if none. Comparisons are
	// at one-second granularity, the resolution of an HTTP-date.
	LastModified time.Time
	// Absent reports that no current representation exists (a PUT or
	// DELETE of a new key): "If-Match: *" then fails and
	// "If-None-Match: *" holds. The zero value means it exists.
	Absent bool
	// Now is the server's current time, used to ignore an If-Modified-Since
	// date in the future, which RFC 9110 §13.1.3 makes invalid. Zero skips
	// that check.
	Now time.Time
}

// Outcome of evaluating preconditions.
type Outcome int

// Outcomes of Evaluate.
const (
	Proceed            Outcome = iota // serve the request normally
	NotModified                       // 304
	PreconditionFailed                // 412
)

// String names the outcome, for logs and test messages.
func (o Outcome) String() string {
	switch o {
	case Proceed:
		return "Proceed"
	case NotModified:
		return "NotModified"
	case PreconditionFailed:
		return "PreconditionFailed"
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// Evaluate applies If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since in the order of RFC 9110 §13.2.2 to a request with the
// given method against the current validators:
//
//  1. If-Match (strong comparison; "*" holds when a representation exists)
//     false → 412;
//  2. otherwise, without If-Match, If-Unmodified-Since earlier than
//     Last-Modified → 412;
//  3. If-None-Match (weak comparison; "*" fails when a representation
//     exists) false → 304 for GET and HEAD, 412 for other methods;
//  4. otherwise, for GET and HEAD without If-None-Match, If-Modified-Since
//     not earlier than Last-Modified → 304.
//
// Step 5 (If-Range) is IfRangeMatches. The caller applies Evaluate only
// where RFC 9110 §13.2.1 says to: when the response would otherwise be 2xx
// (or 412 for an absent representation).
//
// Fields are read with h.Values, so several field lines of a list field
// combine. A field whose lines are all empty counts as absent. An
// unparseable If-Match fails (412: the condition cannot be shown to hold, and
// proceeding could lose an update); an unparseable If-None-Match holds (it is
// ignored, but still suppresses If-Modified-Since, which is only consulted
// when If-None-Match is absent). The date fields are ignored when their value
// is not exactly one valid HTTP-date or when there is no Last-Modified
// (RFC 9110 §13.1.3, §13.1.4); If-Modified-Since is also ignored when later
// than v.Now.
func Evaluate(method string, h http.Header, v Validators) Outcome {
	cur, hasTag := currentETag(v)
	safe := method == http.MethodGet || method == http.MethodHead

	// Step 1 and 2.
	if list, present := fieldValue(h, "If-Match"); present {
		l, ok := ParseETagList(list)
		holds := ok && !v.Absent && (l.Any || hasTag && l.MatchStrong(cur))
		if !holds {
			return PreconditionFailed
		}
	} else if d, ok := dateField(h, "If-Unmodified-Since"); ok && hasLastModified(v) {
		if lastModified(v).After(d) {
			return PreconditionFailed
		}
	}

	// Step 3 and 4.
	if list, present := fieldValue(h, "If-None-Match"); present {
		l, ok := ParseETagList(list)
		matched := ok && !v.Absent && (l.Any || hasTag && l.MatchWeak(cur))
		if matched {
			if safe {
				return NotModified
			}
			return PreconditionFailed
		}
	} else if safe {
		d, ok := dateField(h, "If-Modified-Since")
		if ok && hasLastModified(v) && (v.Now.IsZero() || !d.After(v.Now)) && !lastModified(v).After(d) {
			return NotModified
		}
	}
	return Proceed
}

// IfRangeMatches reports whether a Range request's If-Range condition holds
// (RFC 9110 §13.1.5), that is whether the ranges may be served (206) rather
// than the whole representation (200):
//
//   - an entity tag holds only if it is strong and strongly equal to the
//     current ETag; a weak tag never holds;
//   - an HTTP-date holds only if it exactly equals Last-Modified (to the
//     second). The RFC also requires Last-Modified to be a strong validator;
//     a caller that cannot vouch for that passes a zero LastModified;
//   - a bare (unquoted) tag that is not a date is read as a strong entity
//     tag, since origins that send bare ETags get them echoed back (A1);
//   - an unparseable value, several field lines, or an absent
//     representation do not hold.
//
// An absent If-Range field (or an empty one) holds. RFC 9110 §13.1.5 says to
// ignore If-Range on a request without Range; that is the caller's check.
func IfRangeMatches(h http.Header, v Validators) bool {
	lines := h.Values("If-Range")
	val, present := fieldValue(h, "If-Range")
	if !present {
		return true
	}
	if len(lines) != 1 || v.Absent {
		return false
	}
	// RFC 9110 §13.1.5: a DQUOTE in the first three characters marks an
	// entity-tag; anything else is tried as a date first, then as a bare tag.
	if !strings.HasPrefix(val, `"`) && !strings.HasPrefix(val, `W/"`) {
		if d, err := ParseHTTPDate(val); err == nil {
			return hasLastModified(v) && lastModified(v).Equal(d)
		}
	}
	t, ok := ParseETag(val)
	if !ok {
		return false
	}
	cur, hasTag := currentETag(v)
	return hasTag && StrongCompare(t, cur)
}

// currentETag parses the representation's ETag, if it has one.
func currentETag(v Validators) (ETag, bool) {
	if v.Absent || v.ETag == "" {
		return ETag{}, false
	}
	return ParseETag(v.ETag)
}

func hasLastModified(v Validators) bool {
	return !v.Absent && !v.LastModified.IsZero()
}

// lastModified is Last-Modified at the one-second resolution of an
// HTTP-date, so a stored time with nanoseconds equals its formatted self.
func lastModified(v Validators) time.Time {
	return v.LastModified.Truncate(time.Second)
}

// fieldValue joins the field's lines as one list value (RFC 9110 §5.3). It
// reports the field absent when it has no line with anything but OWS.
func fieldValue(h http.Header, name string) (string, bool) {
	lines := h.Values(name)
	present := false
	for _, l := range lines {
		if trimOWS(l) != "" {
			present = true
			break
		}
	}
	if !present {
		return "", false
	}
	return trimOWS(strings.Join(lines, ", ")), true
}

// dateField parses a date precondition field; it reports false when the
// field is absent, has several lines, or is not a valid HTTP-date, all of
// which RFC 9110 §13.1.3 and §13.1.4 say to ignore.
func dateField(h http.Header, name string) (time.Time, bool) {
	lines := h.Values(name)
	if len(lines) != 1 {
		return time.Time{}, false
	}
	d, err := ParseHTTPDate(lines[0])
	return d, err == nil
}
