package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ErrNotStrata is returned for a line that is not one of Strata's JSON
// access records.
var ErrNotStrata = errors.New("not a strata access record")

// ErrNotNginx is returned for a line that is not in nginx's combined
// format.
var ErrNotNginx = errors.New("not an nginx combined log line")

// strataLine is the wire form of an edge access record (docs/logs.md); it
// mirrors edge.AccessRecord, which this package cannot import.
type strataLine struct {
	Time         string          `json:"time"`
	Kind         string          `json:"kind"`
	Node         string          `json:"node"`
	Client       string          `json:"client"`
	Method       string          `json:"method"`
	Host         string          `json:"host"`
	URI          string          `json:"uri"`
	Status       int             `json:"status"`
	Range        string          `json:"range"`
	BytesSent    int64           `json:"bytes_sent"`
	BytesOrigin  int64           `json:"bytes_origin"`
	Cache        string          `json:"cache"`
	Upstream     []strataAttempt `json:"upstream"`
	DurationMS   *float64        `json:"duration_ms"`
	Dropped      int64           `json:"dropped"`
	Error        string          `json:"error"`
	UpstreamMore int             `json:"upstream_more"`
}

type strataAttempt struct {
	Addr   string   `json:"addr"`
	Status int      `json:"status"`
	MS     *float64 `json:"ms"`
}

// ParseStrata parses one line of Strata's edge access log (a JSON object)
// into r, which it overwrites.
func ParseStrata(line []byte, r *Record) error {
	var l strataLine
	if err := json.Unmarshal(line, &l); err != nil {
		return fmt.Errorf("%w: %w", ErrNotStrata, err)
	}
	t, err := time.Parse(time.RFC3339Nano, l.Time)
	if err != nil {
		return fmt.Errorf("%w: time %q: %w", ErrNotStrata, l.Time, err)
	}
	switch l.Kind {
	case "", KindRequest:
		l.Kind = KindRequest
	case KindFill, KindDrop:
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrNotStrata, l.Kind)
	}
	if l.Kind != KindDrop && (l.Status < 0 || l.Status > 999 || l.BytesSent < 0 || l.BytesOrigin < 0) {
		return fmt.Errorf("%w: negative or impossible status or byte count", ErrNotStrata)
	}
	*r = Record{
		Kind:        l.Kind,
		Time:        t,
		Node:        l.Node,
		Client:      clientIP(l.Client),
		Method:      l.Method,
		Host:        strings.ToLower(l.Host),
		URI:         l.URI,
		Status:      l.Status,
		Range:       l.Range,
		BytesSent:   l.BytesSent,
		BytesOrigin: l.BytesOrigin,
		OriginKnown: true,
		Cache:       normCache(l.Cache),
		DurationMS:  -1,
		Dropped:     l.Dropped,
		Error:       l.Error,
	}
	if l.DurationMS != nil {
		r.DurationMS = *l.DurationMS
	}
	if len(l.Upstream) > 0 {
		r.Upstream = make([]Attempt, len(l.Upstream))
		for i, a := range l.Upstream {
			r.Upstream[i] = Attempt{Addr: a.Addr, Status: a.Status, MS: -1}
			if a.MS != nil {
				r.Upstream[i].MS = *a.MS
			}
		}
	}
	return nil
}

// clientIP strips the port from a client address ("1.2.3.4:5678",
// "[::1]:80"); an address without one is returned as it is.
func clientIP(addr string) string {
	if host, _, err := net.SplitHostPort(addr); err == nil {
		return host
	}
	return addr
}
