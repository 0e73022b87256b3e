package httphdr

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	tests := []struct {
		name string
		in   string
		size int64
		want []ByteRange
		err  error
	}{
		// RFC 9110 §14.1.1: int-range, open-ended and suffix ranges.
		{"int-range", "bytes=0-99", size, []ByteRange{{0, 100}}, nil},
		{"single byte", "bytes=5-5", size, []ByteRange{{5, 1}}, nil},
		{"last byte", "bytes=999-999", size, []ByteRange{{999, 1}}, nil},
		{"open-ended", "bytes=900-", size, []ByteRange{{900, 100}}, nil},
		{"open-ended from zero", "bytes=0-", size, []ByteRange{{0, 1000}}, nil},
		{"suffix", "bytes=-100", size, []ByteRange{{900, 100}}, nil},
		{"suffix longer than size selects all", "bytes=-5000", size, []ByteRange{{0, 1000}}, nil},
		{"suffix equal to size", "bytes=-1000", size, []ByteRange{{0, 1000}}, nil},
		{"leading zeros", "bytes=007-0010", size, []ByteRange{{7, 4}}, nil},
		// RFC 9110 §14.1.2: last-pos beyond the end is clamped.
		{"last-pos clamped", "bytes=500-5000", size, []ByteRange{{500, 500}}, nil},
		{"last-pos equal size clamped", "bytes=0-1000", size, []ByteRange{{0, 1000}}, nil},
		// RFC 9110 §14.1.1: the range unit is case-insensitive.
		{"unit uppercase", "BYTES=0-0", size, []ByteRange{{0, 1}}, nil},
		{"unit mixed case", "Bytes=1-2", size, []ByteRange{{1, 2}}, nil},
		// RFC 9110 §14.1.1, §5.6.1.2: multiple ranges, OWS and empty elements.
		{"multiple", "bytes=0-9,20-29,-10", size, []ByteRange{{0, 10}, {20, 10}, {990, 10}}, nil},
		{"OWS around commas", "bytes=0-9 ,\t20-29 , 40-", size, []ByteRange{{0, 10}, {20, 10}, {40, 960}}, nil},
		{"empty elements", "bytes=,0-9,,20-29,", size, []ByteRange{{0, 10}, {20, 10}}, nil},
		{"OWS around the field", "  bytes=0-9\t", size, []ByteRange{{0, 10}}, nil},
		{"request order kept without overlap", "bytes=500-599,0-99", size, []ByteRange{{500, 100}, {0, 100}}, nil},
		{"adjacent ranges kept apart", "bytes=0-9,10-19", size, []ByteRange{{0, 10}, {10, 10}}, nil},
		// RFC 9110 §14.2 security note, §14.6: overlapping ranges coalesce
		// into their sorted union.
		{"overlap coalesced", "bytes=0-99,50-149", size, []ByteRange{{0, 150}}, nil},
		{"overlap sorted and adjacent merged", "bytes=500-599,0-9,550-650,651-700,10-19", size, []ByteRange{{0, 20}, {500, 201}}, nil},
		{"duplicate ranges coalesced", "bytes=0-0,0-0,0-0", size, []ByteRange{{0, 1}}, nil},
		{"suffix overlapping int-range", "bytes=-100,950-", size, []ByteRange{{900, 100}}, nil},
		{"contained range", "bytes=0-999,10-20,30-40", size, []ByteRange{{0, 1000}}, nil},
		// RFC 9110 §14.1.2: unsatisfiable specs are dropped; none left → 416.
		{"first-pos at size", "bytes=1000-", size, nil, ErrUnsatisfiable},
		{"first-pos beyond size", "bytes=2000-3000", size, nil, ErrUnsatisfiable},
		{"suffix zero", "bytes=-0", size, nil, ErrUnsatisfiable},
		{"unsatisfiable dropped", "bytes=2000-,0-9,-0", size, []ByteRange{{0, 10}}, nil},
		{"all unsatisfiable", "bytes=2000-,1000-1001,-0", size, nil, ErrUnsatisfiable},
		{"size zero int-range", "bytes=0-", 0, nil, ErrUnsatisfiable},
		{"size zero suffix", "bytes=-10", 0, nil, ErrUnsatisfiable},
		{"negative size", "bytes=0-", -1, nil, ErrUnsatisfiable},
		// RFC 9110 §14.2: an invalid field is ignored (200).
		{"last-pos before first-pos", "bytes=10-5", size, nil, ErrInvalidRange},
		{"one invalid spec spoils all", "bytes=0-9,10-5", size, nil, ErrInvalidRange},
		{"invalid even when unsatisfiable", "bytes=2000-1500", size, nil, ErrInvalidRange},
		{"other unit", "items=0-9", size, nil, ErrInvalidRange},
		{"unit prefix only", "bytesx=0-9", size, nil, ErrInvalidRange},
		{"no unit", "0-9", size, nil, ErrInvalidRange},
		{"no equals", "bytes 0-9", size, nil, ErrInvalidRange},
		{"space before equals", "bytes =0-9", size, nil, ErrInvalidRange},
		{"empty set", "bytes=", size, nil, ErrInvalidRange},
		{"only commas", "bytes= , ,", size, nil, ErrInvalidRange},
		{"empty", "", size, nil, ErrInvalidRange},
		{"no dash", "bytes=5", size, nil, ErrInvalidRange},
		{"lone dash", "bytes=-", size, nil, ErrInvalidRange},
		{"double dash", "bytes=1--2", size, nil, ErrInvalidRange},
		{"negative suffix", "bytes=--5", size, nil, ErrInvalidRange},
		{"space inside spec", "bytes=0 - 9", size, nil, ErrInvalidRange},
		{"plus sign", "bytes=+1-2", size, nil, ErrInvalidRange},
		{"hex digits", "bytes=0x1-2", size, nil, ErrInvalidRange},
		{"non-ASCII digit", "bytes=１-2", size, nil, ErrInvalidRange},
		{"other-range", "bytes=abc", size, nil, ErrInvalidRange},
		// Positions beyond int64 saturate rather than overflow.
		{"huge last-pos clamped", "bytes=10-99999999999999999999999", size, []ByteRange{{10, 990}}, nil},
		{"huge first-pos unsatisfiable", "bytes=99999999999999999999-", size, nil, ErrUnsatisfiable},
		{"huge suffix selects all", "bytes=-99999999999999999999", size, []ByteRange{{0, 1000}}, nil},
		{"huge last-pos before huge first-pos", "bytes=99999999999999999999-99999999999999999998", size, nil, ErrInvalidRange},
		{"huge equal positions", "bytes=99999999999999999999-099999999999999999999", size, nil, ErrUnsatisfiable},
		{"max int64 size", "bytes=9223372036854775806-", 1<<63 - 1, []ByteRange{{1<<63 - 2, 1}}, nil},
		{"max int64 size suffix", "bytes=-9223372036854775807", 1<<63 - 1, []ByteRange{{0, 1<<63 - 1}}, nil},
		{"max int64 size whole", "bytes=0-", 1<<63 - 1, []ByteRange{{0, 1<<63 - 1}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRange(tt.in, tt.size)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseRange(%q, %d) error = %v, want %v", tt.in, tt.size, err, tt.err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseRange(%q, %d) mismatch (-want +got):\n%s", tt.in, tt.size, diff)
			}
		})
	}
}

// RFC 9110 §14.2: a server may ignore a range-set with many small ranges.
func TestParseRangeMaxRanges(t *testing.T) {
	specs := make([]string, MaxRanges+1)
	for i := range specs {
		specs[i] = fmt.Sprintf("%d-%d", i*10, i*10+1)
	}
	atLimit := "bytes=" + strings.Join(specs[:MaxRanges], ",")
	got, err := ParseRange(atLimit, 1<<20)
	if err != nil || len(got) != MaxRanges {
		t.Errorf("ParseRange(%d ranges) = %d ranges, %v; want %d, nil", MaxRanges, len(got), err, MaxRanges)
	}
	over := "bytes=" + strings.Join(specs, ",")
	if got, err := ParseRange(over, 1<<20); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("ParseRange(%d ranges) = %v, %v; want ErrInvalidRange", MaxRanges+1, got, err)
	}
	// Unsatisfiable specs count too: they cost parsing all the same.
	over = "bytes=" + strings.Repeat("5000-,", MaxRanges) + "0-1"
	if got, err := ParseRange(over, 100); !errors.Is(err, ErrInvalidRange) {
		t.Errorf("ParseRange(%d unsatisfiable + 1) = %v, %v; want ErrInvalidRange", MaxRanges, got, err)
	}
	// Empty list elements do not count.
	many := "bytes=" + strings.Repeat(",", 10*MaxRanges) + "0-1"
	if got, err := ParseRange(many, 100); err != nil || len(got) != 1 {
		t.Errorf("ParseRange(empty elements) = %v, %v; want one range", got, err)
	}
}

// RFC 9110 §14.2: many overlapping copies of the whole representation must
// not multiply the response size.
func TestParseRangeOverlapBounded(t *testing.T) {
	const size = 1 << 30
	in := "bytes=" + strings.TrimSuffix(strings.Repeat("0-,", MaxRanges), ",")
	got, err := ParseRange(in, size)
	if err != nil {
		t.Fatalf("ParseRange: %v", err)
	}
	if diff := cmp.Diff([]ByteRange{{0, size}}, got); diff != "" {
		t.Errorf("ParseRange(%d × whole) mismatch (-want +got):\n%s", MaxRanges, diff)
	}
}

func TestContentRange(t *testing.T) {
	tests := []struct {
		r    ByteRange
		size int64
		want string
	}{
		// RFC 9110 §14.4 examples.
		{ByteRange{42, 1192}, 1234, "bytes 42-1233/1234"},
		{ByteRange{0, 1}, 1, "bytes 0-0/1"},
		{ByteRange{1<<63 - 2, 1}, 1<<63 - 1, "bytes 9223372036854775806-9223372036854775806/9223372036854775807"},
	}
	for _, tt := range tests {
		if got := tt.r.ContentRange(tt.size); got != tt.want {
			t.Errorf("%+v.ContentRange(%d) = %q, want %q", tt.r, tt.size, got, tt.want)
		}
	}
	if got, want := UnsatisfiedRange(1234), "bytes */1234"; got != want {
		t.Errorf("UnsatisfiedRange(1234) = %q, want %q", got, want)
	}
}

func TestParseContentRange(t *testing.T) {
	tests := []struct {
		in       string
		want     ByteRange
		wantSize int64
		ok       bool
	}{
		// RFC 9110 §14.4 examples.
		{"bytes 42-1233/1234", ByteRange{42, 1192}, 1234, true},
		{"bytes 42-1233/*", ByteRange{42, 1192}, -1, true},
		{"bytes */1234", ByteRange{}, 1234, true},
		{"BYTES 0-0/1", ByteRange{0, 1}, 1, true},
		{" bytes 0-9/10 ", ByteRange{0, 10}, 10, true},
		{"bytes 0-9223372036854775806/9223372036854775807", ByteRange{0, 1<<63 - 1}, 1<<63 - 1, true},
		{"bytes */0", ByteRange{}, 0, true},
		// RFC 9110 §14.4: invalid values.
		{"bytes 10-5/100", ByteRange{}, 0, false},  // last-pos < first-pos
		{"bytes 0-99/99", ByteRange{}, 0, false},   // complete-length <= last-pos
		{"bytes 0-99/50", ByteRange{}, 0, false},   // complete-length <= last-pos
		{"bytes */*", ByteRange{}, 0, false},       // unsatisfied-range needs a length
		{"bytes 0-/100", ByteRange{}, 0, false},    // incl-range needs last-pos
		{"bytes -5/100", ByteRange{}, 0, false},    // no suffix form
		{"bytes=0-9/100", ByteRange{}, 0, false},   // Range syntax, not Content-Range
		{"items 0-9/100", ByteRange{}, 0, false},   // other unit
		{"bytes 0-9", ByteRange{}, 0, false},       // no complete length
		{"bytes 5/10", ByteRange{}, 0, false},      // no dash
		{"bytes 0-9/1x", ByteRange{}, 0, false},    // not digits
		{"bytes 0 - 9/100", ByteRange{}, 0, false}, // no spaces inside
		{"bytes 0-9/-1", ByteRange{}, 0, false},    // negative
		{"", ByteRange{}, 0, false},                // empty
		{"bytes 0-99999999999999999999/*", ByteRange{}, 0, false},
		{"bytes 0-9223372036854775807/*", ByteRange{}, 0, false},
		{"bytes */99999999999999999999", ByteRange{}, 0, false},
	}
	for _, tt := range tests {
		r, size, err := ParseContentRange(tt.in)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidContentRange)) {
			t.Errorf("ParseContentRange(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			continue
		}
		if r != tt.want || size != tt.wantSize {
			t.Errorf("ParseContentRange(%q) = %+v, %d; want %+v, %d", tt.in, r, size, tt.want, tt.wantSize)
		}
	}
	if got, want := (ByteRange{5, 10}).ContentRange(-1), "bytes 5-14/*"; got != want {
		t.Errorf("ContentRange(-1) = %q, want %q", got, want)
	}
}
