package httphdr

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ByteRange is a satisfiable range resolved against a representation's size:
// Length bytes starting at Start.
type ByteRange struct {
	Start, Length int64
}

// Errors of ParseRange.
var (
	// ErrInvalidRange: the Range field is syntactically invalid, not in
	// bytes units, or abusive (more than MaxRanges ranges); RFC 9110 §14.2
	// says to ignore it and serve 200.
	ErrInvalidRange = errors.New("invalid Range header")
	// ErrUnsatisfiable: no range overlaps the representation; answer 416
	// with Content-Range: bytes */size (RFC 9110 §15.5.17).
	ErrUnsatisfiable = errors.New("range not satisfiable")
)

// MaxRanges is the largest number of range-specs ParseRange accepts in one
// Range field. RFC 9110 §14.2 lets a server ignore a range-set with many
// small ranges, since each part of a multipart/byteranges body costs a
// header and a seek; a longer list is ErrInvalidRange, so the request is
// served whole (200). Real clients (PDF readers, download managers) send a
// handful.
const MaxRanges = 100

// ParseRange parses a Range field value ("bytes=0-99,200-", "bytes=-500")
// against a representation of size bytes (RFC 9110 §14.1.1, §14.2):
//
//   - the unit "bytes" is matched case-insensitively; any other unit is
//     ErrInvalidRange, as is any range-spec that breaks the grammar
//     (including last-pos < first-pos): one bad spec invalidates the field;
//   - "a-b" with b >= size is clamped to the end; "a-" runs to the end;
//     "-n" is the last n bytes (the whole representation when n >= size);
//   - a range starting at or beyond size, and the suffix "-0", are
//     unsatisfiable; unsatisfiable ranges in a list of several are dropped,
//     and when none is left (always so when size is 0) it returns
//     ErrUnsatisfiable;
//   - OWS around commas and empty list elements are accepted (RFC 9110
//     §5.6.1.2);
//   - more than MaxRanges range-specs is ErrInvalidRange.
//
// Ranges are returned in the order requested, unless two of them overlap:
// then, as RFC 9110 §14.6 permits and §14.2 advises against serving
// overlapping ranges, the result is their union, sorted by Start, with
// overlapping and adjacent ranges merged. The result therefore never holds
// more than size bytes in total.
//
// Positions too large for an int64 are not an error: they saturate, so a
// huge first-pos is unsatisfiable and a huge last-pos or suffix-length
// means "to the end". A negative size is treated as 0.
func ParseRange(s string, size int64) ([]ByteRange, error) {
	s = trimOWS(s)
	unit, set, ok := strings.Cut(s, "=")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return nil, ErrInvalidRange
	}
	var (
		ranges []ByteRange
		specs  int
	)
	for elem := range strings.SplitSeq(set, ",") {
		elem = trimOWS(elem)
		if elem == "" {
			continue // RFC 9110 §5.6.1.2: empty list elements are ignored.
		}
		specs++
		if specs > MaxRanges {
			return nil, ErrInvalidRange
		}
		r, ok, err := parseRangeSpec(elem, size)
		if err != nil {
			return nil, err
		}
		if ok {
			ranges = append(ranges, r)
		}
	}
	if specs == 0 {
		return nil, ErrInvalidRange // range-set = 1#range-spec
	}
	if len(ranges) == 0 {
		return nil, ErrUnsatisfiable
	}
	return coalesce(ranges), nil
}

// parseRangeSpec parses one range-spec (RFC 9110 §14.1.1):
//
//	range-spec   = int-range / suffix-range / other-range
//	int-range    = first-pos "-" [ last-pos ]
//	suffix-range = "-" suffix-length
//
// other-range is only meaningful for other units, so it is invalid here.
// It reports ok=false for a valid but unsatisfiable spec.
func parseRangeSpec(spec string, size int64) (r ByteRange, ok bool, err error) {
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return ByteRange{}, false, ErrInvalidRange
	}
	if first == "" {
		// suffix-range: RFC 9110 §14.1.2 makes a zero suffix-length
		// unsatisfiable; a longer one than size selects everything.
		n, _, valid := parseDigits(last)
		if !valid {
			return ByteRange{}, false, ErrInvalidRange
		}
		if n == 0 || size <= 0 {
			return ByteRange{}, false, nil
		}
		n = min(n, size)
		return ByteRange{Start: size - n, Length: n}, true, nil
	}
	start, startDigits, valid := parseDigits(first)
	if !valid {
		return ByteRange{}, false, ErrInvalidRange
	}
	end := int64(math.MaxInt64)
	if last != "" {
		var lastDigits string
		end, lastDigits, valid = parseDigits(last)
		// Compare the digit strings, not the saturated values, so that
		// "bytes=99999999999999999999-99999999999999999998" is invalid too.
		if !valid || digitsLess(lastDigits, startDigits) {
			return ByteRange{}, false, ErrInvalidRange
		}
	}
	if start >= size {
		return ByteRange{}, false, nil // also covers size <= 0
	}
	end = min(end, size-1)
	return ByteRange{Start: start, Length: end - start + 1}, true, nil
}

// parseDigits parses 1*DIGIT, saturating at math.MaxInt64. It also returns
// the digits without leading zeros, for exact comparison of huge values.
func parseDigits(s string) (n int64, digits string, ok bool) {
	if s == "" {
		return 0, "", false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, "", false
		}
		if n > (math.MaxInt64-int64(c-'0'))/10 {
			n = math.MaxInt64
		} else if n != math.MaxInt64 {
			n = n*10 + int64(c-'0')
		}
	}
	return n, strings.TrimLeft(s, "0"), true
}

// digitsLess compares two decimal digit strings without leading zeros.
func digitsLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

// coalesce returns ranges unchanged when no two of them share a byte, and
// otherwise their sorted union with adjacent ranges merged (RFC 9110 §14.6).
func coalesce(ranges []ByteRange) []ByteRange {
	if len(ranges) < 2 {
		return ranges
	}
	sorted := slices.Clone(ranges)
	slices.SortFunc(sorted, func(a, b ByteRange) int {
		switch {
		case a.Start < b.Start:
			return -1
		case a.Start > b.Start:
			return 1
		}
		return 0
	})
	overlap := false
	for i := 1; i < len(sorted); i++ {
		// All ranges lie within [0,size), so end() cannot overflow.
		if sorted[i].Start < sorted[i-1].end() {
			overlap = true
			break
		}
	}
	if !overlap {
		return ranges
	}
	merged := sorted[:1]
	for _, r := range sorted[1:] {
		last := &merged[len(merged)-1]
		if r.Start <= last.end() {
			last.Length = max(last.end(), r.end()) - last.Start
			continue
		}
		merged = append(merged, r)
	}
	return merged
}

// end is the offset just past the range.
func (r ByteRange) end() int64 { return r.Start + r.Length }

// ContentRange formats the Content-Range value "bytes first-last/size" of
// RFC 9110 §14.4 for a range of a representation of the given size. A
// negative size formats as "*", a complete length not (yet) known.
func (r ByteRange) ContentRange(size int64) string {
	b := make([]byte, 0, 64)
	b = append(b, "bytes "...)
	b = strconv.AppendInt(b, r.Start, 10)
	b = append(b, '-')
	b = strconv.AppendInt(b, r.Start+r.Length-1, 10)
	b = append(b, '/')
	if size < 0 {
		b = append(b, '*')
	} else {
		b = strconv.AppendInt(b, size, 10)
	}
	return string(b)
}

// ErrInvalidContentRange is returned by ParseContentRange for a value that
// breaks the grammar or the rules of RFC 9110 §14.4.
var ErrInvalidContentRange = errors.New("invalid Content-Range header")

// ParseContentRange parses a Content-Range field value, as a cache checks a
// partial response before storing it (RFC 9110 §14.4):
//
//	Content-Range     = range-unit SP ( range-resp / unsatisfied-range )
//	range-resp        = incl-range "/" ( complete-length / "*" )
//	incl-range        = first-pos "-" last-pos
//	unsatisfied-range = "*/" complete-length
//
// It returns the range and the complete length, which is -1 for "*". For an
// unsatisfied-range ("bytes */1234", sent with 416) the range is the zero
// ByteRange. The unit must be "bytes" (case-insensitive). As §14.4 says, a
// last-pos before first-pos, or a complete length not greater than last-pos,
// is invalid; so is a number too large for an int64, since it cannot be a
// real position.
func ParseContentRange(s string) (r ByteRange, size int64, err error) {
	s = trimOWS(s)
	unit, resp, ok := strings.Cut(s, " ")
	if !ok || !strings.EqualFold(unit, "bytes") {
		return ByteRange{}, 0, ErrInvalidContentRange
	}
	incl, complete, ok := strings.Cut(resp, "/")
	if !ok {
		return ByteRange{}, 0, ErrInvalidContentRange
	}
	size = -1
	if complete != "*" {
		if size, ok = parseInt63(complete); !ok {
			return ByteRange{}, 0, ErrInvalidContentRange
		}
	}
	if incl == "*" {
		if size < 0 {
			return ByteRange{}, 0, ErrInvalidContentRange // "bytes */*"
		}
		return ByteRange{}, size, nil
	}
	first, last, ok := strings.Cut(incl, "-")
	if !ok {
		return ByteRange{}, 0, ErrInvalidContentRange
	}
	start, ok1 := parseInt63(first)
	end, ok2 := parseInt63(last)
	if !ok1 || !ok2 || end < start || end == math.MaxInt64 || (size >= 0 && size <= end) {
		return ByteRange{}, 0, ErrInvalidContentRange
	}
	return ByteRange{Start: start, Length: end - start + 1}, size, nil
}

// parseInt63 parses 1*DIGIT that fits in an int64.
func parseInt63(s string) (int64, bool) {
	n, digits, ok := parseDigits(s)
	if !ok || n == math.MaxInt64 && digits != "9223372036854775807" {
		return 0, false
	}
	return n, true
}

// UnsatisfiedRange formats the Content-Range value "bytes */size" that a 416
// response carries (RFC 9110 §14.4, §15.5.17).
func UnsatisfiedRange(size int64) string {
	return "bytes */" + strconv.FormatInt(size, 10)
}

// trimOWS removes optional whitespace (SP / HTAB, RFC 9110 §5.6.3).
func trimOWS(s string) string {
	return strings.Trim(s, " \t")
}
