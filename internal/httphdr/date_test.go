package httphdr

import (
	"errors"
	"testing"
	"time"
)

func TestParseHTTPDate(t *testing.T) {
	want := time.Date(1994, time.November, 6, 8, 49, 37, 0, time.UTC)
	tests := []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		// RFC 9110 §5.6.7: the three formats of the same instant.
		{"IMF-fixdate", "Sun, 06 Nov 1994 08:49:37 GMT", want, true},
		{"RFC 850", "Sunday, 06-Nov-94 08:49:37 GMT", want, true},
		{"asctime", "Sun Nov  6 08:49:37 1994", want, true},
		{"OWS around", "  Sun, 06 Nov 1994 08:49:37 GMT\t", want, true},
		{"RFC 850 year 2000s", "Friday, 01-Jan-21 00:00:00 GMT", time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{"invalid: other zone", "Sun, 06 Nov 1994 08:49:37 PST", time.Time{}, false},
		{"invalid: RFC 850 other zone", "Sunday, 06-Nov-94 08:49:37 PST", time.Time{}, false},
		{"invalid: numeric zone", "Sun, 06 Nov 1994 08:49:37 +0000", time.Time{}, false},
		{"invalid: RFC 3339", "1994-11-06T08:49:37Z", time.Time{}, false},
		{"invalid: one-digit day in IMF-fixdate", "Sun, 6 Nov 1994 08:49:37 GMT", time.Time{}, false},
		{"invalid: empty", "", time.Time{}, false},
		{"invalid: list of dates", "Sun, 06 Nov 1994 08:49:37 GMT, Sun, 06 Nov 1994 08:49:37 GMT", time.Time{}, false},
		{"invalid: bare ETag", "abc123", time.Time{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseHTTPDate(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("ParseHTTPDate(%q) error = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrInvalidDate) {
				t.Errorf("ParseHTTPDate(%q) error = %v, want ErrInvalidDate", tt.in, err)
			}
			if !got.Equal(tt.want) || (tt.ok && got.Location() != time.UTC) {
				t.Errorf("ParseHTTPDate(%q) = %v, want %v in UTC", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatHTTPDate(t *testing.T) {
	in := time.Date(1994, time.November, 6, 9, 49, 37, 999_999_999, time.FixedZone("CET", 3600))
	if got, want := FormatHTTPDate(in), "Sun, 06 Nov 1994 08:49:37 GMT"; got != want {
		t.Errorf("FormatHTTPDate(%v) = %q, want %q", in, got, want)
	}
	back, err := ParseHTTPDate(FormatHTTPDate(in))
	if err != nil || !back.Equal(in.Truncate(time.Second)) {
		t.Errorf("round trip = %v, %v; want %v", back, err, in.Truncate(time.Second))
	}
}
