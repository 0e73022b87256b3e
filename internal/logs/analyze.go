package logs

import (
	"time"
)

// Options configure an Analyzer. The zero value works.
type Options struct {
	// Format selects the parser: FormatAuto (the default) decides per
	// line: a line starting with "{" is Strata's, any other nginx's.
	Format Format
	// Bucket is the width of the time buckets. If zero, it starts at 10s
	// and widens (1m, 5m, 15m, 1h, 6h, 1d, 7d) to keep at most 400 buckets.
	// A given width also widens, past 100,000 buckets.
	Bucket time.Duration
	// TopN is how many rows each top table has. If zero, 10.
	TopN int
	// Capacity bounds the keys each top counter holds (clients, URLs,
	// client-URL pairs); memory is proportional to it. If zero, 4096.
	Capacity int
	// Thresholds tune the pattern detectors; zero fields take defaults.
	Thresholds Thresholds
}

// Format names a log format.
type Format string

// Log formats.
const (
	FormatAuto   Format = "auto"
	FormatStrata Format = "strata"
	FormatNginx  Format = "nginx"
)

// Thresholds decide when a detector reports a pattern.
type Thresholds struct {
	// StormMin206 is the number of 206 responses for one URL, none of them
	// served from the cache, that makes a range storm (C09). Default 50.
	StormMin206 int64
	// StormMaxClients is the most distinct clients a range storm comes
	// from ("few clients"). Default 4.
	StormMaxClients int
	// HammerMin is the number of requests from one client for one URL that
	// makes it hammering. Default 200.
	HammerMin int64
	// HammerPerSec is the least rate (requests per second over the span
	// from its first to its last request) of hammering. Default 1.
	HammerPerSec float64
	// DropMinLookups is the least cache lookups a bucket needs to count in
	// hit-ratio drops. Default 20.
	DropMinLookups int64
	// DropPoints is how far below the median a bucket's hit ratio falls to
	// be a drop: 0.25 is 25 percentage points. Default 0.25.
	DropPoints float64
	// BurstMin is the least failed fetches from one upstream in one bucket
	// for a 5xx burst (C18). Default 10.
	BurstMin int64
	// BurstShare is the least share of that upstream's fetches in the
	// bucket that failed. Default 0.5.
	BurstShare float64
}

func (t Thresholds) withDefaults() Thresholds {
	def := func(v *int64, d int64) {
		if *v <= 0 {
			*v = d
		}
	}
	deff := func(v *float64, d float64) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&t.StormMin206, 50)
	if t.StormMaxClients <= 0 {
		t.StormMaxClients = 4
	}
	def(&t.HammerMin, 200)
	deff(&t.HammerPerSec, 1)
	def(&t.DropMinLookups, 20)
	deff(&t.DropPoints, 0.25)
	def(&t.BurstMin, 10)
	deff(&t.BurstShare, 0.5)
	return t
}

// bucketLadder is the sequence of widths a timeline widens through; each
// divides the next, so buckets merge exactly.
var bucketLadder = []time.Duration{
	time.Second, 10 * time.Second, time.Minute, 5 * time.Minute, 15 * time.Minute,
	time.Hour, 6 * time.Hour, 24 * time.Hour, 7 * 24 * time.Hour,
}

const (
	autoMaxBuckets  = 400
	fixedMaxBuckets = 100_000
	maxUpstreams    = 256
	maxClientsKept  = 8
	maxExamples     = 5
)

// Analyzer accumulates records and builds a Report. Its memory is bounded
// by Options.Capacity and the bucket limits, whatever the input size. It is
// not safe for concurrent use.
type Analyzer struct {
	opt Options
	th  Thresholds

	lines, records, malformed, fills, dropped int64
	examples                                  []string
	formats                                   map[Format]bool
	first, last                               time.Time

	tot    Totals
	status map[int]int64

	width      time.Duration
	maxBuckets int
	widened    bool
	buckets    map[int64]*bucket

	upstreams map[string]*upstream

	clients *counter[traffic]
	urls    *counter[traffic]
	misses  *counter[traffic]
	ranges  *counter[rangeStat]
	pairs   *counter[pairStat]
}

// traffic is the payload of the client and URL counters.
type traffic struct {
	requests, bytes, misses, origin int64
}

// rangeStat is the payload of the range-request counter (C09).
type rangeStat struct {
	partial, hits, sent, origin int64
	clients                     []string // up to maxClientsKept distinct
	more                        bool     // more clients than kept
	first, last                 time.Time
}

// pairStat is the payload of the client-URL counter.
type pairStat struct {
	bytes, errors int64
	first, last   time.Time
}

// bucket is one time bucket of the timeline.
type bucket struct {
	requests, sent, origin, lookups, hits, s5xx int64
	missURLs                                    *counter[struct{}]
}

// upstream is what one origin or parent address did.
type upstream struct {
	attempts, failed, retriedOK int64
	msSum                       float64
	msN                         int64
	statuses                    map[int]int64
	buckets                     map[int64]*ubucket
}

type ubucket struct {
	attempts, failed, retriedOK int64
	statuses                    map[int]int64
}

// NewAnalyzer returns an empty Analyzer.
func NewAnalyzer(opt Options) *Analyzer {
	if opt.Format == "" {
		opt.Format = FormatAuto
	}
	if opt.TopN <= 0 {
		opt.TopN = 10
	}
	if opt.Capacity <= 0 {
		opt.Capacity = 4096
	}
	a := &Analyzer{
		opt:       opt,
		th:        opt.Thresholds.withDefaults(),
		formats:   map[Format]bool{},
		status:    map[int]int64{},
		buckets:   map[int64]*bucket{},
		upstreams: map[string]*upstream{},
		clients:   newCounter[traffic](opt.Capacity),
		urls:      newCounter[traffic](opt.Capacity),
		misses:    newCounter[traffic](opt.Capacity),
		ranges:    newCounter[rangeStat](opt.Capacity),
		pairs:     newCounter[pairStat](opt.Capacity),
	}
	a.width, a.maxBuckets = opt.Bucket, fixedMaxBuckets
	if a.width <= 0 {
		a.width, a.maxBuckets = 10*time.Second, autoMaxBuckets
	}
	return a
}

// Add accounts one record.
func (a *Analyzer) Add(r *Record) {
	a.records++
	if a.first.IsZero() || r.Time.Before(a.first) {
		a.first = r.Time
	}
	if r.Time.After(a.last) {
		a.last = r.Time
	}
	switch r.Kind {
	case KindDrop:
		a.dropped += r.Dropped
		return
	case KindFill:
		a.addFill(r)
		return
	}
	b := a.bucketAt(r.Time)
	key := r.urlKey()
	hit, known := cacheHit(r.Cache)

	a.tot.Requests++
	a.tot.BytesSent += r.BytesSent
	a.tot.BytesOrigin += r.BytesOrigin
	a.tot.OriginKnown = a.tot.OriginKnown || r.OriginKnown
	b.requests++
	b.sent += r.BytesSent
	b.origin += r.BytesOrigin
	if known {
		a.tot.Lookups++
		b.lookups++
		if hit {
			a.tot.Hits++
			b.hits++
		}
	}
	if r.Status >= 500 {
		a.tot.Status5xx++
		b.s5xx++
	}
	a.status[r.Status]++

	ce := a.clients.add(r.Client, 1)
	ce.v.requests++
	ce.v.bytes += r.BytesSent
	ue := a.urls.add(key, 1)
	ue.v.requests++
	ue.v.bytes += r.BytesSent
	ue.v.origin += r.BytesOrigin
	if known && !hit {
		ce.v.misses++
		ue.v.misses++
		me := a.misses.add(key, 1)
		me.v.requests++
		me.v.bytes += r.BytesSent
		me.v.origin += r.BytesOrigin
		if b.missURLs == nil {
			b.missURLs = newCounter[struct{}](16)
		}
		b.missURLs.add(key, 1)
	}
	if r.Status == 206 || r.Range != "" {
		a.addRange(key, r, hit)
	}
	pe := a.pairs.add(r.Client+" "+key, 1)
	pe.v.bytes += r.BytesSent
	if r.Status >= 400 {
		pe.v.errors++
	}
	if pe.v.first.IsZero() || r.Time.Before(pe.v.first) {
		pe.v.first = r.Time
	}
	if r.Time.After(pe.v.last) {
		pe.v.last = r.Time
	}
	a.addAttempts(r, hit, known)
}

// addFill accounts origin traffic that outlived its request: it adds to
// the origin bytes of the totals, the timeline and the URL, not to the
// requests.
func (a *Analyzer) addFill(r *Record) {
	a.fills++
	a.tot.BytesOrigin += r.BytesOrigin
	a.tot.OriginKnown = true
	a.bucketAt(r.Time).origin += r.BytesOrigin
	key := r.urlKey()
	if e := a.urls.get(key); e != nil {
		e.v.origin += r.BytesOrigin
	}
	if e := a.misses.get(key); e != nil {
		e.v.origin += r.BytesOrigin
	}
	if e := a.ranges.get(key); e != nil {
		e.v.origin += r.BytesOrigin
	}
	a.addAttempts(r, false, false)
}

// addRange accounts a range request or a 206 response.
func (a *Analyzer) addRange(key string, r *Record, hit bool) {
	e := a.ranges.add(key, 1)
	v := &e.v
	if r.Status == 206 {
		v.partial++
	}
	if hit {
		v.hits++
	}
	v.sent += r.BytesSent
	v.origin += r.BytesOrigin
	if v.first.IsZero() || r.Time.Before(v.first) {
		v.first = r.Time
	}
	if r.Time.After(v.last) {
		v.last = r.Time
	}
	if !v.more && !contains(v.clients, r.Client) {
		if len(v.clients) < maxClientsKept {
			v.clients = append(v.clients, r.Client)
		} else {
			v.more = true
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// notLogged is the upstream key of nginx requests whose upstream address
// the log does not record.
const notLogged = "(upstream not logged)"

// addAttempts accounts the record's origin and parent fetches. A logged
// attempt fails when it got a 5xx or no response (status 0). For nginx logs
// without upstream fields, every request the cache did not serve counts as
// one fetch from notLogged with the response's status.
func (a *Analyzer) addAttempts(r *Record, hit, known bool) {
	atts := r.Upstream
	if len(atts) == 0 {
		if r.OriginKnown || (known && hit) || r.Kind != KindRequest {
			return
		}
		atts = []Attempt{{Addr: notLogged, Status: r.Status, MS: -1}}
	}
	idx := floorDiv(r.Time.UnixNano(), int64(a.burstWidth()))
	for i, at := range atts {
		failed := at.Status == 0 || at.Status >= 500
		retriedOK := failed && i+1 < len(atts) && laterSucceeded(atts[i+1:])
		u := a.upstreams[at.Addr]
		if u == nil {
			if len(a.upstreams) >= maxUpstreams {
				at.Addr = "(other)"
				u = a.upstreams[at.Addr]
			}
			if u == nil {
				u = &upstream{statuses: map[int]int64{}, buckets: map[int64]*ubucket{}}
				a.upstreams[at.Addr] = u
			}
		}
		ub := u.buckets[idx]
		if ub == nil {
			ub = &ubucket{statuses: map[int]int64{}}
			u.buckets[idx] = ub
		}
		u.attempts++
		ub.attempts++
		if len(u.statuses) < 64 || u.statuses[at.Status] > 0 {
			u.statuses[at.Status]++
		}
		if at.MS >= 0 {
			u.msSum += at.MS
			u.msN++
		}
		if failed {
			u.failed++
			ub.failed++
			if len(ub.statuses) < 16 || ub.statuses[at.Status] > 0 {
				ub.statuses[at.Status]++
			}
			if retriedOK {
				u.retriedOK++
				ub.retriedOK++
			}
		}
	}
}

func laterSucceeded(atts []Attempt) bool {
	for _, at := range atts {
		if at.Status > 0 && at.Status < 500 {
			return true
		}
	}
	return false
}

// bucketIndex returns the index of the bucket holding t.
func (a *Analyzer) bucketIndex(t time.Time) int64 {
	return floorDiv(t.UnixNano(), int64(a.width))
}

func floorDiv(x, y int64) int64 {
	q := x / y
	if (x%y != 0) && ((x < 0) != (y < 0)) {
		q--
	}
	return q
}

// bucketAt returns the bucket holding t, widening the buckets first when a
// new one would exceed the limit.
func (a *Analyzer) bucketAt(t time.Time) *bucket {
	idx := a.bucketIndex(t)
	b := a.buckets[idx]
	if b != nil {
		return b
	}
	if len(a.buckets) >= a.maxBuckets && a.widen() {
		return a.bucketAt(t)
	}
	b = &bucket{}
	a.buckets[idx] = b
	return b
}

// widen moves to the next width of the ladder that keeps the span within
// the limit, merging buckets. It reports false at the ladder's end.
func (a *Analyzer) widen() bool {
	next := time.Duration(0)
	for _, w := range bucketLadder {
		if w > a.width && w%a.width == 0 {
			next = w
			break
		}
	}
	if next == 0 {
		if a.width%(7*24*time.Hour) != 0 {
			return false
		}
		next = a.width * 2
	}
	f := int64(next / a.width)
	fu := int64(max(next, time.Minute) / a.burstWidth())
	a.width = next
	a.widened = true
	nb := make(map[int64]*bucket, len(a.buckets)/int(f)+1)
	for i, b := range a.buckets {
		j := floorDiv(i, f)
		if m := nb[j]; m != nil {
			m.merge(b)
		} else {
			nb[j] = b
		}
	}
	a.buckets = nb
	for _, u := range a.upstreams {
		if fu == 1 {
			break
		}
		nu := make(map[int64]*ubucket, len(u.buckets)/int(fu)+1)
		for i, b := range u.buckets {
			j := floorDiv(i, fu)
			if m := nu[j]; m != nil {
				m.attempts += b.attempts
				m.failed += b.failed
				m.retriedOK += b.retriedOK
				for s, n := range b.statuses {
					m.statuses[s] += n
				}
			} else {
				nu[j] = b
			}
		}
		u.buckets = nu
	}
	return true
}

// burstWidth is the window of the 5xx-burst detector: the timeline's
// bucket, but at least a minute, so that a burst does not fall apart into
// buckets too small to reach Thresholds.BurstMin.
func (a *Analyzer) burstWidth() time.Duration { return max(a.width, time.Minute) }

func (b *bucket) merge(o *bucket) {
	b.requests += o.requests
	b.sent += o.sent
	b.origin += o.origin
	b.lookups += o.lookups
	b.hits += o.hits
	b.s5xx += o.s5xx
	if o.missURLs != nil {
		if b.missURLs == nil {
			b.missURLs = newCounter[struct{}](16)
		}
		for _, e := range o.missURLs.m {
			b.missURLs.add(e.key, e.n)
		}
	}
}
