package cachepolicy

import (
	"net/http"
	"testing"
	"time"
)

func TestLifetime(t *testing.T) {
	tests := []struct {
		name   string
		policy Policy
		e      Entry
		want   time.Duration
		src    Reason
	}{
		// §4.2.1 precedence for a shared cache.
		{"s-maxage over max-age", Policy{}, entry("Cache-Control", "max-age=10, s-maxage=20"), 20 * sec, SourceSMaxAge},
		{"s-maxage ignored when private", Policy{Private: true}, entry("Cache-Control", "max-age=10, s-maxage=20"), 10 * sec, SourceMaxAge},
		{"max-age over expires", Policy{}, entry("Cache-Control", "max-age=10", "Date", date(0), "Expires", date(hour)), 10 * sec, SourceMaxAge},
		// §5.3: max-age present means Expires is ignored, even if invalid.
		{"max-age with bad expires", Policy{}, entry("Cache-Control", "max-age=10", "Expires", "0"), 10 * sec, SourceMaxAge},
		{"expires minus date", Policy{}, entry("Date", date(0), "Expires", date(90*min_)), 90 * min_, SourceExpires},
		// Date absent: the response time stands in (RFC 9110 §6.6.1).
		{"expires no date", Policy{}, Entry{Status: 200, Header: hdr("Expires", date(hour)), ResponseTime: at(10 * min_)}, 50 * min_, SourceExpires},
		{"expires bad date", Policy{}, Entry{Status: 200, Header: hdr("Date", "yesterday", "Expires", date(hour)), ResponseTime: at(10 * min_)}, 50 * min_, SourceExpires},
		{"expires in the past", Policy{}, entry("Date", date(hour), "Expires", date(0)), 0, SourceExpires},
		{"expires obsolete format", Policy{}, entry("Date", date(0), "Expires", "Friday, 01-Mar-24 13:00:00 GMT"), hour, SourceExpires},
		// §5.3: invalid Expires, "0" above all, is already expired.
		{"expires 0", Policy{}, entry("Date", date(0), "Expires", "0"), 0, SourceInvalid},
		{"expires -1", Policy{}, entry("Date", date(0), "Expires", "-1", "Last-Modified", date(-100*hour)), 0, SourceInvalid},
		{"expires twice differing", Policy{}, entry("Date", date(0), "Expires", date(hour), "Expires", date(2*hour)), 0, SourceInvalid},
		{"expires twice same", Policy{}, entry("Date", date(0), "Expires", date(hour), "Expires", date(hour)), hour, SourceExpires},
		// §4.2.1: invalid freshness information is stale.
		{"max-age abc", Policy{}, entry("Cache-Control", "max-age=abc", "Expires", date(hour), "Date", date(0)), 0, SourceInvalid},
		{"s-maxage abc", Policy{}, entry("Cache-Control", "s-maxage=abc, max-age=60"), 0, SourceInvalid},
		{"max-age conflicting", Policy{}, entry("Cache-Control", "max-age=60", "Cache-Control", "max-age=120"), 0, SourceInvalid},
		{"max-age 0", Policy{}, entry("Cache-Control", "max-age=0"), 0, SourceMaxAge},
		{"max-age huge", Policy{}, entry("Cache-Control", "max-age=999999999999"), MaxDelta * sec, SourceMaxAge},
		// §4.2.2 heuristic: 10% of Date - Last-Modified, capped at 24h.
		{"heuristic 10%", Policy{}, entry("Date", date(0), "Last-Modified", date(-10*hour)), hour, SourceHeuristic},
		{"heuristic capped", Policy{}, entry("Date", date(0), "Last-Modified", date(-1000*day)), day, SourceHeuristic},
		{"heuristic custom", Policy{HeuristicFraction: 0.5, HeuristicMax: 2 * hour}, entry("Date", date(0), "Last-Modified", date(-2*hour)), hour, SourceHeuristic},
		{"heuristic off", Policy{HeuristicFraction: -1}, entry("Date", date(0), "Last-Modified", date(-10*hour)), 0, SourceNone},
		{"heuristic no last-modified", Policy{}, entry("Date", date(0)), 0, SourceNone},
		{"heuristic last-modified in future", Policy{}, entry("Date", date(0), "Last-Modified", date(hour)), 0, SourceHeuristic},
		{"heuristic bad last-modified", Policy{}, entry("Date", date(0), "Last-Modified", "soon"), 0, SourceNone},
		{"heuristic no date uses response time", Policy{}, Entry{Status: 200, Header: hdr("Last-Modified", date(-10*hour)), ResponseTime: at(10 * hour)}, 2 * hour, SourceHeuristic},
		// Only for heuristically cacheable statuses, or public.
		{"heuristic 302 none", Policy{}, Entry{Status: 302, Header: hdr("Date", date(0), "Last-Modified", date(-10*hour))}, 0, SourceNone},
		{"heuristic 302 public", Policy{}, Entry{Status: 302, Header: hdr("Cache-Control", "public", "Date", date(0), "Last-Modified", date(-10*hour))}, hour, SourceHeuristic},
		{"heuristic 404", Policy{}, Entry{Status: 404, Header: hdr("Date", date(0), "Last-Modified", date(-10*hour))}, hour, SourceHeuristic},
		// A cache rule overrides everything.
		{"rule over max-age", Policy{TTL: 90 * day}, entry("Cache-Control", "max-age=0, s-maxage=0"), 90 * day, SourceRule},
	}
	for _, tt := range tests {
		got, src := tt.policy.Lifetime(tt.e)
		if got != tt.want || src != tt.src {
			t.Errorf("%s: Lifetime = %v, %q; want %v, %q", tt.name, got, src, tt.want, tt.src)
		}
	}
}

func TestCurrentAge(t *testing.T) {
	tests := []struct {
		name string
		e    Entry
		now  time.Time
		want time.Duration
	}{
		// Resident time only.
		{"resident", Entry{Header: hdr("Date", date(0)), RequestTime: t0, ResponseTime: t0}, at(30 * sec), 30 * sec},
		// age_value plus response_delay beats a smaller apparent age.
		{"age header", Entry{Header: hdr("Date", date(0), "Age", "100"), RequestTime: at(-2 * sec), ResponseTime: t0}, at(10 * sec), 112 * sec},
		// apparent_age = response_time - date_value when larger.
		{"apparent", Entry{Header: hdr("Date", date(-50*sec), "Age", "5"), RequestTime: at(-1 * sec), ResponseTime: t0}, t0, 50 * sec},
		// A Date in the future (origin clock ahead) gives apparent age 0.
		{"date ahead", Entry{Header: hdr("Date", date(hour)), RequestTime: t0, ResponseTime: t0}, at(5 * sec), 5 * sec},
		// §5.1: an invalid Age is ignored.
		{"age invalid", Entry{Header: hdr("Date", date(0), "Age", "abc"), ResponseTime: t0}, t0, 0},
		{"age list", Entry{Header: hdr("Date", date(0), "Age", "5, 6"), ResponseTime: t0}, t0, 0},
		{"age two lines", Entry{Header: hdr("Date", date(0), "Age", "5", "Age", "5"), ResponseTime: t0}, t0, 0},
		{"age negative", Entry{Header: hdr("Date", date(0), "Age", "-5"), ResponseTime: t0}, t0, 0},
		// §1.2.2: clamped to 2^31 seconds.
		{"age huge", Entry{Header: hdr("Age", "99999999999999999999"), ResponseTime: t0}, at(hour), MaxDelta * sec},
		// Clock stepped back: resident time 0, never negative.
		{"now before response", Entry{Header: hdr("Date", date(0)), ResponseTime: t0}, at(-hour), 0},
		// Unknown request time: no response delay.
		{"zero request time", Entry{Header: hdr("Date", date(0), "Age", "7"), ResponseTime: t0}, t0, 7 * sec},
		// Zero times everywhere must not overflow.
		{"all zero", Entry{Header: hdr("Age", "1")}, time.Time{}, sec},
		{"far future now", Entry{Header: hdr("Age", "1"), ResponseTime: time.Time{}}, at(100 * 365 * day), MaxDelta * sec},
	}
	for _, tt := range tests {
		if got := CurrentAge(tt.e, tt.now); got != tt.want {
			t.Errorf("%s: CurrentAge = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestFormatAge(t *testing.T) {
	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0"},
		{1999 * time.Millisecond, "1"},
		{-5 * sec, "0"},
		{MaxDelta * sec, "2147483648"},
		{1 << 62, "2147483648"},
	}
	for _, tt := range tests {
		if got := FormatAge(tt.in); got != tt.want {
			t.Errorf("FormatAge(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestInvalidAgeIsStale: an Age field that is not exactly one
// delta-seconds makes the response stale (RFC 9111 §5.1, §4.2.1), as the
// http-tests age-parse-* tests expect; a valid one just counts.
func TestInvalidAgeIsStale(t *testing.T) {
	tests := []struct {
		name   string
		ages   []string
		maxAge string
		fresh  bool
	}{
		{"none", nil, "3600", true},
		{"valid small", []string{"10"}, "3600", true},
		{"valid old", []string{"7200"}, "3600", false},
		{"valid with OWS", []string{" 10 "}, "3600", true},
		{"nonnumeric", []string{"abc"}, "3600", false},
		{"negative", []string{"-7200"}, "3600", false},
		{"float", []string{"7200.0"}, "3600", false},
		{"suffix list", []string{"7200,0"}, "3600", false},
		{"prefix list", []string{"0,7200"}, "3600", false},
		{"suffix two lines", []string{"7200", "0"}, "3600", false},
		{"prefix two lines", []string{"0", "7200"}, "3600", false},
		{"dup 0", []string{"0, 0"}, "3600", false},
		{"dup 0 two lines", []string{"0", "0"}, "3600", false},
		{"dup old", []string{"3600, 3600"}, "10000", false},
		{"parameter", []string{"7200;foo=bar"}, "3600", false},
		{"numeric parameter", []string{"7200;foo=111"}, "3600", false},
	}
	for _, tt := range tests {
		e := entry("Date", date(0), "Cache-Control", "max-age="+tt.maxAge)
		e.Header["Age"] = tt.ages
		if got := ValidAge(e.Header); got != (tt.name == "none" || tt.name[:5] == "valid") {
			t.Errorf("%s: ValidAge(%q) = %v", tt.name, tt.ages, got)
		}
		d := Policy{}.Decide(e, http.Header{}, at(sec))
		if fresh := d.Action == Fresh; fresh != tt.fresh {
			t.Errorf("%s: Age %q: action %v (%s, lifetime %v from %s), want fresh %v", tt.name, tt.ages, d.Action, d.Reason, d.Lifetime, d.LifetimeSource, tt.fresh)
		}
	}
	// A cache rule overrides the origin's freshness information, Age too.
	e := entry("Cache-Control", "max-age=3600", "Age", "abc")
	if d := (Policy{TTL: hour}).Decide(e, http.Header{}, at(sec)); d.Action != Fresh {
		t.Errorf("rule TTL with invalid Age: %v, want Fresh", d.Action)
	}
}
