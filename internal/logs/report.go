package logs

import (
	"cmp"
	"slices"
	"time"
)

// Report is what an Analyzer found. Its JSON form is the output of
// "strata logs analyze --json".
type Report struct {
	// Inputs are the files read, in order.
	Inputs []string `json:"inputs"`
	// Formats are the formats of the lines parsed ("strata", "nginx").
	Formats []Format `json:"formats"`
	// Lines counts non-empty lines; Records the ones parsed; Malformed the
	// others, with up to five examples.
	Lines             int64    `json:"lines"`
	Records           int64    `json:"records"`
	Malformed         int64    `json:"malformed"`
	MalformedExamples []string `json:"malformed_examples,omitempty"`
	// Fills counts Strata "fill" records (origin traffic after its
	// request ended); Dropped the records Strata's writer reported
	// dropping.
	Fills   int64 `json:"fills"`
	Dropped int64 `json:"dropped"`
	// From and To are the first and last record times.
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Bucket is the timeline's bucket width.
	Bucket Duration `json:"bucket"`
	// Approximate says a top table's counter forgot keys (more distinct
	// keys than its capacity): top counts are then lower bounds, short by
	// at most each row's error_bound. (The range and client-URL counters
	// behind the range-storm and hammering detectors forget rare keys the
	// same way; a pattern needs many requests, so it survives.)
	Approximate bool `json:"approximate"`

	Totals      Totals        `json:"totals"`
	Timeline    []Bucket      `json:"timeline"`
	Status      []StatusCount `json:"status"`
	TopClients  []TopEntry    `json:"top_clients"`
	TopURLs     []TopEntry    `json:"top_urls"`
	TopMissURLs []TopEntry    `json:"top_miss_urls"`
	Upstreams   []Upstream    `json:"upstreams"`
	Patterns    []Pattern     `json:"patterns"`
}

// Duration is a time.Duration that reads as "1m0s" in JSON.
type Duration time.Duration

// MarshalText formats d as time.Duration does.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText parses a time.Duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}

// Totals sum the whole input.
type Totals struct {
	Requests  int64 `json:"requests"`
	BytesSent int64 `json:"bytes_sent"`
	// BytesOrigin is meaningful only when OriginKnown (Strata logs).
	BytesOrigin int64 `json:"bytes_origin"`
	OriginKnown bool  `json:"origin_known"`
	// Lookups counts requests with a known cache outcome; Hits those the
	// cache served (HIT, STALE, UPDATING, REVALIDATED).
	Lookups   int64   `json:"lookups"`
	Hits      int64   `json:"hits"`
	HitRatio  float64 `json:"hit_ratio"`
	Status5xx int64   `json:"status_5xx"`
}

// Bucket is one time bucket of the timeline.
type Bucket struct {
	Start       time.Time `json:"start"`
	Requests    int64     `json:"requests"`
	BytesSent   int64     `json:"bytes_sent"`
	BytesOrigin int64     `json:"bytes_origin"`
	Lookups     int64     `json:"lookups"`
	Hits        int64     `json:"hits"`
	HitRatio    float64   `json:"hit_ratio"`
	Status5xx   int64     `json:"status_5xx"`
}

// StatusCount is how many responses had one status.
type StatusCount struct {
	Status int   `json:"status"`
	Count  int64 `json:"count"`
}

// TopEntry is one row of a top table.
type TopEntry struct {
	Key         string `json:"key"`
	Requests    int64  `json:"requests"`
	BytesSent   int64  `json:"bytes_sent"`
	BytesOrigin int64  `json:"bytes_origin,omitempty"`
	Misses      int64  `json:"misses,omitempty"`
	// ErrorBound is how many requests the counts may miss (see
	// Report.Approximate).
	ErrorBound int64 `json:"error_bound,omitempty"`
}

// Upstream sums the fetches from one origin or parent address.
type Upstream struct {
	Addr     string `json:"addr"`
	Attempts int64  `json:"attempts"`
	// Failed counts fetches answered 5xx or not at all; RetriedOK those
	// followed, for the same request, by a successful fetch elsewhere.
	Failed    int64         `json:"failed"`
	RetriedOK int64         `json:"retried_ok"`
	MeanMS    float64       `json:"mean_ms"`
	Statuses  []StatusCount `json:"statuses"`
}

// Pattern is a detected pattern with its evidence.
type Pattern struct {
	// Kind is "range-storm", "hammering", "hit-ratio-drop" or
	// "5xx-burst".
	Kind string `json:"kind"`
	// Case is the catalogue case the pattern comes from, if any.
	Case    string    `json:"case,omitempty"`
	Summary string    `json:"summary"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	// Subject is the URL, client, or upstream address concerned.
	Subject  string         `json:"subject"`
	Evidence map[string]any `json:"evidence"`
}

// Pattern kinds.
const (
	PatternRangeStorm   = "range-storm"
	PatternHammering    = "hammering"
	PatternHitRatioDrop = "hit-ratio-drop"
	Pattern5xxBurst     = "5xx-burst"
)

// maxPatternsPerKind bounds each kind's patterns in a report.
const maxPatternsPerKind = 20

// Report builds the report of everything added so far.
func (a *Analyzer) Report() *Report {
	r := &Report{
		Lines:             a.lines,
		Records:           a.records,
		Malformed:         a.malformed,
		MalformedExamples: a.examples,
		Fills:             a.fills,
		Dropped:           a.dropped,
		From:              a.first,
		To:                a.last,
		Bucket:            Duration(a.width),
		Totals:            a.tot,
	}
	for _, f := range []Format{FormatStrata, FormatNginx} {
		if a.formats[f] {
			r.Formats = append(r.Formats, f)
		}
	}
	r.Totals.HitRatio = ratio(a.tot.Hits, a.tot.Lookups)
	r.Timeline = a.timeline()
	for s, n := range a.status {
		r.Status = append(r.Status, StatusCount{s, n})
	}
	slices.SortFunc(r.Status, func(x, y StatusCount) int { return cmp.Compare(x.Status, y.Status) })
	top := func(c *counter[traffic]) []TopEntry {
		var out []TopEntry
		for _, e := range c.top(a.opt.TopN) {
			out = append(out, TopEntry{Key: e.key, Requests: e.v.requests, BytesSent: e.v.bytes, BytesOrigin: e.v.origin, Misses: e.v.misses, ErrorBound: e.err})
		}
		return out
	}
	r.TopClients = top(a.clients)
	r.TopURLs = top(a.urls)
	r.TopMissURLs = top(a.misses)
	r.Approximate = a.clients.pruned || a.urls.pruned || a.misses.pruned
	r.Upstreams = a.upstreamSummary()
	r.Patterns = append(r.Patterns, a.rangeStorms()...)
	r.Patterns = append(r.Patterns, a.hammering()...)
	r.Patterns = append(r.Patterns, a.hitRatioDrops(r.Timeline)...)
	r.Patterns = append(r.Patterns, a.bursts()...)
	return r
}

func ratio(n, d int64) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}

// timeline returns the buckets in time order, with the empty buckets
// between them.
func (a *Analyzer) timeline() []Bucket {
	if len(a.buckets) == 0 {
		return nil
	}
	lo, hi := int64(0), int64(0)
	firstIdx := true
	for i := range a.buckets {
		if firstIdx || i < lo {
			lo = i
		}
		if firstIdx || i > hi {
			hi = i
		}
		firstIdx = false
	}
	out := make([]Bucket, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		bk := Bucket{Start: time.Unix(0, i*int64(a.width)).UTC()}
		if b := a.buckets[i]; b != nil {
			bk.Requests, bk.BytesSent, bk.BytesOrigin = b.requests, b.sent, b.origin
			bk.Lookups, bk.Hits, bk.Status5xx = b.lookups, b.hits, b.s5xx
			bk.HitRatio = ratio(b.hits, b.lookups)
		}
		out = append(out, bk)
	}
	return out
}

func (a *Analyzer) upstreamSummary() []Upstream {
	var out []Upstream
	for addr, u := range a.upstreams {
		s := Upstream{Addr: addr, Attempts: u.attempts, Failed: u.failed, RetriedOK: u.retriedOK, Statuses: statusList(u.statuses)}
		if u.msN > 0 {
			s.MeanMS = round1(u.msSum / float64(u.msN))
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(x, y Upstream) int {
		if x.Attempts != y.Attempts {
			return cmp.Compare(y.Attempts, x.Attempts)
		}
		return cmp.Compare(x.Addr, y.Addr)
	})
	return out
}

func statusList(m map[int]int64) []StatusCount {
	out := make([]StatusCount, 0, len(m))
	for s, n := range m {
		out = append(out, StatusCount{s, n})
	}
	slices.SortFunc(out, func(x, y StatusCount) int { return cmp.Compare(x.Status, y.Status) })
	return out
}

func round1(f float64) float64 { return float64(int64(f*10+0.5)) / 10 }

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }
