package cachepolicy

import (
	"math"
	"net/http"
	"strconv"
	"time"
)

// CurrentAge returns the current age of a stored response at now, computed
// as RFC 9111 §4.2.3 specifies:
//
//	apparent_age          = max(0, response_time - date_value)
//	response_delay        = response_time - request_time
//	corrected_age_value   = age_value + response_delay
//	corrected_initial_age = max(apparent_age, corrected_age_value)
//	resident_time         = now - response_time
//	current_age           = corrected_initial_age + resident_time
//
// age_value is the stored Age field, counted as 0 when it is not exactly
// one delta-seconds (§5.1; Lifetime then makes the response stale, see
// ValidAge); date_value is Date, or the response time when Date is missing
// or invalid. Negative intervals (clock steps, a zero
// RequestTime) count as 0, and the result is clamped to [0, 2^31 s]
// (§1.2.2), so it is always a valid Age.
func CurrentAge(e Entry, now time.Time) time.Duration {
	apparent := clampDuration(e.ResponseTime.Sub(dateOf(e)))
	var delay time.Duration
	if !e.RequestTime.IsZero() {
		delay = clampDuration(e.ResponseTime.Sub(e.RequestTime))
	}
	corrected := addSat(ageValue(e), delay)
	initial := max(apparent, corrected)
	resident := clampDuration(now.Sub(e.ResponseTime))
	return clampDuration(addSat(initial, resident))
}

// FormatAge formats an age as the Age field value (RFC 9111 §5.1): whole
// seconds, rounded down, at most 2^31.
func FormatAge(d time.Duration) string {
	return strconv.FormatInt(int64(clampDuration(d)/time.Second), 10)
}

// ageValue reads the stored Age field (RFC 9111 §5.1); 0 when it is
// absent or invalid (ValidAge).
func ageValue(e Entry) time.Duration {
	vs := e.Header.Values("Age")
	if len(vs) != 1 {
		return 0
	}
	d := parseDelta(trimOWS(vs[0]), true)
	return d.Duration()
}

// ValidAge reports whether h has no Age field or exactly one that is a
// single delta-seconds (RFC 9111 §5.1: Age = delta-seconds). A list ("0,
// 0", "7200,0"), several field lines, a sign, a fraction or a parameter
// ("7200;foo=bar") make it invalid. §5.1 lets a cache ignore such a field,
// but an age it cannot read may hide how old the response really is: like
// other invalid freshness information (§4.2.1), it makes the response stale
// (Lifetime reports SourceInvalid), the reading that never serves a
// response older than its origin allowed.
func ValidAge(h http.Header) bool {
	vs := h.Values("Age")
	switch len(vs) {
	case 0:
		return true
	case 1:
		return parseDelta(trimOWS(vs[0]), true).Valid()
	}
	return false
}

// addSat adds two non-negative durations, saturating instead of
// overflowing.
func addSat(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
