package cachepolicy

import (
	"net/http"
	"time"
)

// t0 is the fixed instant the tests measure from.
var t0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// at returns t0 plus d.
func at(d time.Duration) time.Time { return t0.Add(d) }

// date formats t0 plus d as an HTTP-date.
func date(d time.Duration) string { return t0.Add(d).Format(http.TimeFormat) }

// hdr builds a header from name, value pairs; a name may repeat to add
// field lines.
func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Add(kv[i], kv[i+1])
	}
	return h
}

// entry builds a stored 200 received at t0 (request sent at t0) with the
// given header.
func entry(kv ...string) Entry {
	return Entry{Status: 200, Header: hdr(kv...), RequestTime: t0, ResponseTime: t0}
}

const (
	sec  = time.Second
	min_ = time.Minute
	hour = time.Hour
	day  = 24 * time.Hour
)
