package httphdr

import (
	"errors"
	"time"
)

// ErrInvalidDate is returned by ParseHTTPDate for a value in none of the
// HTTP-date formats.
var ErrInvalidDate = errors.New("invalid HTTP-date")

// The three HTTP-date formats of RFC 9110 §5.6.7. "GMT" is literal text in
// the first two layouts, so a date in any other zone is rejected rather than
// read as UTC.
var httpDateLayouts = [...]string{
	"Mon, 02 Jan 2006 15:04:05 GMT",  // IMF-fixdate, the one to send
	"Monday, 02-Jan-06 15:04:05 GMT", // obsolete RFC 850 format
	"Mon Jan _2 15:04:05 2006",       // obsolete asctime() format
}

// ParseHTTPDate parses an HTTP-date in any of the three formats of
// RFC 9110 §5.6.7 and returns it in UTC. OWS around the value is ignored.
//
// The RFC 850 format's two-digit year is read as 1969-2068 (Go's rule); the
// RFC's "no more than 50 years in the future" rule needs a clock, which this
// package does not read.
func ParseHTTPDate(s string) (time.Time, error) {
	s = trimOWS(s)
	for _, layout := range httpDateLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, ErrInvalidDate
}

// FormatHTTPDate formats t as an IMF-fixdate (RFC 9110 §5.6.7), in GMT and
// to the second, as every HTTP date field is sent.
func FormatHTTPDate(t time.Time) string {
	return t.UTC().Format(httpDateLayouts[0])
}
