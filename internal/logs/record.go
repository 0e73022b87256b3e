package logs

import (
	"strings"
	"time"
)

// Record is one access-log line, normalised from either format.
type Record struct {
	// Kind is "request" for a client request, "fill" for origin traffic
	// that outlived its request (Strata logs only), "drop" for a note that
	// the writer dropped records.
	Kind string
	// Time is when the request started (Strata) or was logged (nginx).
	Time time.Time
	// Node is the edge node that served the request, when known.
	Node string
	// Client is the client's address without its port.
	Client string
	// Method, Host and URI are from the request line; Host is empty for
	// nginx logs without $host.
	Method, Host, URI string
	// Status is the response status sent to the client.
	Status int
	// Range is the request's Range header ("" when none, or unknown).
	Range string
	// BytesSent counts body bytes sent to the client.
	BytesSent int64
	// BytesOrigin counts body bytes read from the origin for this record;
	// meaningful only when OriginKnown.
	BytesOrigin int64
	// OriginKnown says the log records origin bytes (Strata's does).
	OriginKnown bool
	// Cache is the cache outcome: "HIT", "MISS", "STALE", "REVALIDATED",
	// "EXPIRED", "UPDATING", "BYPASS" or "" when unknown.
	Cache string
	// Upstream lists the origin or parent fetches made for the record.
	Upstream []Attempt
	// DurationMS is the time taken, in milliseconds; negative when unknown.
	DurationMS float64
	// Dropped is, for Kind "drop", how many records the writer dropped.
	Dropped int64
	// Error says why a response was cut short, when it was.
	Error string
}

// Attempt is one fetch from an origin or a parent.
type Attempt struct {
	// Addr is the host:port fetched from.
	Addr string
	// Status is the HTTP status received; 0 when none arrived.
	Status int
	// MS is the time to the response header in milliseconds; negative when
	// unknown.
	MS float64
}

// Record kinds.
const (
	KindRequest = "request"
	KindFill    = "fill"
	KindDrop    = "drop"
)

// cacheHit reports whether a cache outcome served the body from the cache:
// HIT, STALE, UPDATING and REVALIDATED (a 304 from the origin refreshed
// the stored body) did; MISS, EXPIRED and BYPASS went to the origin. The
// second result is false when the outcome is unknown.
func cacheHit(c string) (hit, known bool) {
	switch c {
	case "HIT", "STALE", "UPDATING", "REVALIDATED":
		return true, true
	case "MISS", "EXPIRED", "BYPASS":
		return false, true
	}
	return false, false
}

// normCache returns the outcome word of an X-Cache or
// $upstream_cache_status value ("MISS reason=no-store" → "MISS").
func normCache(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, ' '); i >= 0 {
		s = s[:i]
	}
	if s == "-" {
		return ""
	}
	return strings.ToUpper(s)
}

// urlKey names the object a record is for: host and URI.
func (r *Record) urlKey() string {
	if r.Host == "" {
		return r.URI
	}
	return r.Host + r.URI
}
