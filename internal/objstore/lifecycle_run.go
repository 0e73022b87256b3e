package objstore

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"
)

// Defaults of the lifecycle runner.
const (
	DefaultLifecycleMaxActions = 1000
	DefaultLifecycleMaxScan    = 100_000
	lifecycleChunk             = 256
)

// Lifecycle runs the buckets' lifecycle rules in the background: every
// Interval one pass walks the buckets that have rules, expiring current
// objects, removing noncurrent versions and dangling delete markers, and
// aborting old multipart uploads. A pass does bounded work (MaxActions
// changes, MaxScan rows read) and the next one resumes where it stopped,
// so a bucket with millions of versions never stalls the store. Set the
// fields before Start; the zero value of each optional field works.
type Lifecycle struct {
	// Store is the store whose buckets are processed. Required.
	Store *Store
	// Interval is the time between passes. If zero, a 24th of the store's
	// lifecycle day (one hour with real days), at least 10ms.
	Interval time.Duration
	// MaxActions bounds the objects, versions, markers and uploads acted
	// on per pass. If zero, 1000.
	MaxActions int
	// MaxScan bounds the rows read per pass. If zero, 100,000.
	MaxScan int
	// Logger receives a WARN line for a failed pass. Nil means discard.
	Logger *slog.Logger

	// runMu serialises passes (the scheduler's and RunOnce callers').
	runMu sync.Mutex
	// cursor is where the next pass starts; guarded by runMu.
	cursor lcCursor

	// mu guards the statistics.
	mu    sync.Mutex
	stats LifecycleStats
	rules map[[2]string]*LifecycleRuleStats

	startOnce sync.Once
	stop      context.CancelFunc
	done      chan struct{}
	// pass replaces RunOnce in the scheduler, for tests.
	pass func(ctx context.Context, now time.Time)
}

// LifecycleStats describe the runner's work since it was created.
type LifecycleStats struct {
	Passes int64
	// LastRun is the time the last pass ran for (the now it was given);
	// LastDuration how long it took; LastComplete whether it got through
	// every bucket (else the next pass resumes).
	LastRun      time.Time
	LastDuration time.Duration
	LastComplete bool
	// LastError is the last failed pass's error, cleared by a good pass.
	LastError string
	// Rules count the work done per bucket and rule, ordered by bucket
	// then rule ID.
	Rules []LifecycleRuleStats
}

// LifecycleRuleStats count what one rule did.
type LifecycleRuleStats struct {
	Bucket, RuleID string
	// ObjectsExpired counts current objects expired (deleted, or hidden
	// behind a delete marker in a versioned bucket).
	ObjectsExpired int64
	// VersionsRemoved counts noncurrent object versions removed.
	VersionsRemoved int64
	// DeleteMarkersRemoved counts dangling and noncurrent delete markers
	// removed.
	DeleteMarkersRemoved int64
	// UploadsAborted counts incomplete multipart uploads aborted.
	UploadsAborted int64
}

// PassResult says what one pass did.
type PassResult struct {
	Scanned, Acted int
	// Complete reports that the pass reached the last bucket; otherwise
	// the next pass resumes where this one stopped.
	Complete bool
}

// The phases of a bucket, in order.
const (
	phaseCurrent = iota
	phaseVersions
	phaseUploads
	phaseDone
)

// lcCursor is where a pass stopped.
type lcCursor struct {
	bucket string
	phase  int
	key    string // last row done in the phase; "" at its start
	id     string // its version key or upload ID
	// ncKey and ncCount count the noncurrent versions seen of key ncKey,
	// newest first, for NewerNoncurrentVersions.
	ncKey   string
	ncCount int
}

type lcBudget struct{ scans, acts int }

func (b *lcBudget) spent() bool { return b.scans <= 0 || b.acts <= 0 }

func (l *Lifecycle) interval() time.Duration {
	if l.Interval > 0 {
		return l.Interval
	}
	day := 24 * time.Hour
	if l.Store != nil {
		day = l.Store.lifecycleDay
	}
	return max(day/24, 10*time.Millisecond)
}

func (l *Lifecycle) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

// Start starts the background passes; the first runs one Interval from
// now. Calling it again does nothing.
func (l *Lifecycle) Start() {
	l.startOnce.Do(func() {
		ctx, cancel := context.WithCancel(context.Background())
		l.stop, l.done = cancel, make(chan struct{})
		go l.loop(ctx)
	})
}

func (l *Lifecycle) loop(ctx context.Context) {
	defer close(l.done)
	t := time.NewTicker(l.interval())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if l.pass != nil {
				l.pass(ctx, now)
				continue
			}
			if _, err := l.RunOnce(ctx, now); err != nil && ctx.Err() == nil {
				l.logger().Warn("lifecycle pass failed; the next pass retries", "err", err)
			}
		}
	}
}

// Close stops the background passes and waits for a running one to
// stop. It is safe to call without Start, and more than once.
func (l *Lifecycle) Close() error {
	l.startOnce.Do(func() {}) // a later Start does nothing
	if l.stop != nil {
		l.stop()
		<-l.done
	}
	return nil
}

// Stats returns a snapshot of the runner's statistics.
func (l *Lifecycle) Stats() LifecycleStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.stats
	st.Rules = make([]LifecycleRuleStats, 0, len(l.rules))
	for _, r := range l.rules {
		st.Rules = append(st.Rules, *r)
	}
	sort.Slice(st.Rules, func(i, j int) bool {
		a, b := st.Rules[i], st.Rules[j]
		return a.Bucket < b.Bucket || a.Bucket == b.Bucket && a.RuleID < b.RuleID
	})
	return st
}

func (l *Lifecycle) count(bucket, rule string, add func(*LifecycleRuleStats)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rules == nil {
		l.rules = make(map[[2]string]*LifecycleRuleStats)
	}
	k := [2]string{bucket, rule}
	r := l.rules[k]
	if r == nil {
		r = &LifecycleRuleStats{Bucket: bucket, RuleID: rule}
		l.rules[k] = r
	}
	add(r)
}

// RunOnce runs one pass as of now (the time rules are evaluated against
// and delete markers are stamped with), resuming where the previous pass
// stopped. Tests call it with a time of their choosing.
func (l *Lifecycle) RunOnce(ctx context.Context, now time.Time) (PassResult, error) {
	l.runMu.Lock()
	defer l.runMu.Unlock()
	start := time.Now()
	res, err := l.runPass(ctx, now.UTC().Truncate(time.Millisecond))
	l.mu.Lock()
	l.stats.Passes++
	l.stats.LastRun, l.stats.LastDuration, l.stats.LastComplete = now, time.Since(start), res.Complete
	l.stats.LastError = ""
	if err != nil {
		l.stats.LastError = err.Error()
	}
	l.mu.Unlock()
	return res, err
}

func (l *Lifecycle) runPass(ctx context.Context, now time.Time) (PassResult, error) {
	maxActs, maxScan := l.MaxActions, l.MaxScan
	if maxActs <= 0 {
		maxActs = DefaultLifecycleMaxActions
	}
	if maxScan <= 0 {
		maxScan = DefaultLifecycleMaxScan
	}
	b := &lcBudget{scans: maxScan, acts: maxActs}
	result := func(complete bool) PassResult {
		return PassResult{Scanned: maxScan - b.scans, Acted: maxActs - b.acts, Complete: complete}
	}
	buckets, err := l.Store.ListBuckets(ctx)
	if err != nil {
		return result(false), err
	}
	cur := l.cursor
	for _, bk := range buckets {
		if bk.Name < cur.bucket {
			continue
		}
		if bk.Name > cur.bucket {
			cur = lcCursor{bucket: bk.Name}
		}
		rules, err := l.Store.bucketRules(ctx, bk.Name)
		if err != nil {
			l.cursor = cur
			return result(false), err
		}
		if len(rules) > 0 {
			err := l.runBucket(ctx, bk.Name, rules, now, &cur, b)
			l.cursor = cur
			if err != nil {
				return result(false), err
			}
			if cur.phase != phaseDone {
				return result(false), nil
			}
		}
	}
	l.cursor = lcCursor{}
	return result(true), nil
}

// runBucket advances cur through the bucket's phases until they are done
// or the budget is spent.
func (l *Lifecycle) runBucket(ctx context.Context, bucket string, rules []LifecycleRule, now time.Time, cur *lcCursor, b *lcBudget) error {
	var expire, versions, uploads bool
	for _, r := range rules {
		expire = expire || r.expires()
		versions = versions || r.NoncurrentDays > 0 || r.ExpiredObjectDeleteMarker
		uploads = uploads || r.AbortIncompleteUploadDays > 0
	}
	for cur.phase < phaseDone {
		if b.spent() {
			return nil
		}
		var done bool
		var err error
		switch {
		case cur.phase == phaseCurrent && expire:
			done, err = l.expireCurrent(ctx, bucket, rules, now, cur, b)
		case cur.phase == phaseVersions && versions:
			done, err = l.expireVersions(ctx, bucket, rules, now, cur, b)
		case cur.phase == phaseUploads && uploads:
			done, err = l.abortUploads(ctx, bucket, rules, now, cur, b)
		default:
			done = true
		}
		if err != nil {
			return err
		}
		if !done {
			return nil
		}
		*cur = lcCursor{bucket: bucket, phase: cur.phase + 1}
	}
	return nil
}

func (l *Lifecycle) after(days int, t time.Time) time.Time {
	return t.Add(time.Duration(days) * l.Store.lifecycleDay)
}

// startRange is where a phase's scan resumes.
func (cur *lcCursor) startRange(limit int) KeyRange {
	return KeyRange{From: cur.key, FromID: cur.id, Limit: limit}
}

type lcCandidate struct {
	rec  ObjectRecord
	rule string
}

// expireCurrent expires current objects (phase 1). It reports whether
// the phase is done.
func (l *Lifecycle) expireCurrent(ctx context.Context, bucket string, rules []LifecycleRule, now time.Time, cur *lcCursor, b *lcBudget) (bool, error) {
	for !b.spent() {
		limit := min(lifecycleChunk, b.scans)
		var cands []lcCandidate
		n := 0
		stopped := false
		err := l.Store.cat.ScanObjects(ctx, bucket, cur.startRange(limit), func(rec ObjectRecord) bool {
			n++
			b.scans--
			cur.key, cur.id = rec.Key, ""
			for _, r := range rules {
				if !r.expires() || !r.matches(rec.Key, rec.Meta.Tags) {
					continue
				}
				due := r.ExpirationDays > 0 && !now.Before(l.after(r.ExpirationDays, rec.ModTime)) ||
					!r.ExpirationDate.IsZero() && !now.Before(r.ExpirationDate)
				if due {
					cands = append(cands, lcCandidate{rec: rec, rule: r.ID})
					break
				}
			}
			if len(cands) >= b.acts {
				stopped = true
				return false
			}
			return true
		})
		if err != nil {
			return false, err
		}
		for _, c := range cands {
			ch, err := l.Store.cat.DeleteObject(ctx, DeleteRequest{
				Bucket: bucket, Key: c.rec.Key, IfCurrent: true, IfVersionKey: c.rec.VersionKey,
				MarkerKey: newVersionKey(time.Now()), Time: now,
			})
			if err != nil {
				return false, err
			}
			b.acts--
			if !ch.Skipped {
				l.Store.collect(ctx, ch.Garbage)
				l.count(bucket, c.rule, func(s *LifecycleRuleStats) { s.ObjectsExpired++ })
			}
		}
		if n < limit && !stopped {
			return true, nil
		}
	}
	return false, nil
}

// expireVersions removes noncurrent versions and dangling delete markers
// (phase 2). It reports whether the phase is done.
func (l *Lifecycle) expireVersions(ctx context.Context, bucket string, rules []LifecycleRule, now time.Time, cur *lcCursor, b *lcBudget) (bool, error) {
	for !b.spent() {
		limit := min(lifecycleChunk, b.scans)
		var cands []lcCandidate
		dangling := -1 // index in cands of a current marker not yet known to have older versions
		n := 0
		stopped := false
		err := l.Store.cat.ScanVersions(ctx, bucket, cur.startRange(limit), func(rec ObjectRecord) bool {
			n++
			b.scans--
			if dangling >= 0 && cands[dangling].rec.Key == rec.Key {
				cands = append(cands[:dangling], cands[dangling+1:]...)
			}
			dangling = -1
			cur.key, cur.id = rec.Key, rec.VersionKey
			if rec.Key != cur.ncKey {
				cur.ncKey, cur.ncCount = rec.Key, 0
			}
			if rec.IsLatest {
				if rec.DeleteMarker {
					for _, r := range rules {
						if r.ExpiredObjectDeleteMarker && r.matches(rec.Key, nil) {
							dangling = len(cands)
							cands = append(cands, lcCandidate{rec: rec, rule: r.ID})
							break
						}
					}
				}
			} else {
				idx := cur.ncCount
				cur.ncCount++
				for _, r := range rules {
					if r.NoncurrentDays > 0 && idx >= r.NewerNoncurrentVersions && r.matches(rec.Key, rec.Meta.Tags) &&
						!now.Before(l.after(r.NoncurrentDays, rec.NoncurrentSince)) {
						cands = append(cands, lcCandidate{rec: rec, rule: r.ID})
						break
					}
				}
			}
			if len(cands) >= b.acts {
				stopped = true
				return false
			}
			return true
		})
		if err != nil {
			return false, err
		}
		for _, c := range cands {
			cond := OnlyNoncurrent
			if c.rec.IsLatest {
				cond = OnlyDanglingMarker
			}
			if c.rec.VersionID == "" {
				continue // an unversioned bucket has no versions to remove
			}
			ch, err := l.Store.cat.DeleteVersion(ctx, DeleteRequest{Bucket: bucket, Key: c.rec.Key, VersionID: c.rec.VersionID, Cond: cond})
			if err != nil {
				return false, err
			}
			b.acts--
			if ch.Skipped {
				continue
			}
			l.Store.collect(ctx, ch.Garbage)
			marker := c.rec.DeleteMarker
			l.count(bucket, c.rule, func(s *LifecycleRuleStats) {
				if marker {
					s.DeleteMarkersRemoved++
				} else {
					s.VersionsRemoved++
				}
			})
		}
		if n < limit && !stopped {
			return true, nil
		}
	}
	return false, nil
}

// abortUploads aborts old incomplete multipart uploads (phase 3). It
// reports whether the phase is done.
func (l *Lifecycle) abortUploads(ctx context.Context, bucket string, rules []LifecycleRule, now time.Time, cur *lcCursor, b *lcBudget) (bool, error) {
	for !b.spent() {
		limit := min(lifecycleChunk, b.scans)
		type cand struct {
			u    Upload
			rule string
		}
		var cands []cand
		n := 0
		stopped := false
		err := l.Store.cat.ScanUploads(ctx, bucket, cur.startRange(limit), func(u Upload) bool {
			n++
			b.scans--
			cur.key, cur.id = u.Key, u.UploadID
			for _, r := range rules {
				if r.AbortIncompleteUploadDays > 0 && r.matches(u.Key, nil) && !now.Before(l.after(r.AbortIncompleteUploadDays, u.Initiated)) {
					cands = append(cands, cand{u, r.ID})
					break
				}
			}
			if len(cands) >= b.acts {
				stopped = true
				return false
			}
			return true
		})
		if err != nil {
			return false, err
		}
		for _, c := range cands {
			garbage, err := l.Store.cat.AbortUpload(ctx, bucket, c.u.Key, c.u.UploadID)
			b.acts--
			if errors.Is(err, ErrNoSuchUpload) {
				continue // completed or aborted since the scan
			}
			if err != nil {
				return false, err
			}
			l.Store.collect(ctx, garbage)
			l.count(bucket, c.rule, func(s *LifecycleRuleStats) { s.UploadsAborted++ })
		}
		if n < limit && !stopped {
			return true, nil
		}
	}
	return false, nil
}
