package edge

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strata-cdn/strata/internal/cachepolicy"
	"github.com/strata-cdn/strata/internal/cachestore"
)

// reasonPurged is the miss reason of a stored response that a purge marked
// stale ("X-Cache: MISS reason=purged" when the origin sends a new body).
const reasonPurged cachepolicy.Reason = "purged"

// Bounds of the stale marks. A mark pushed out by a newer one is not
// forgotten: what it covered is deleted instead, which is stronger (the
// next request is a miss rather than a revalidation), never weaker.
const (
	maxURLMarks    = 1 << 16
	maxPrefixMarks = 256
)

// staleMarks records soft purges: a stored response under a marked URL or
// key prefix that was received no later than the mark's time must be
// revalidated with the origin before it is served again, whatever its
// freshness (RFC 9111 §4.3). Marks are checked at lookup, so they cover
// every variant and the metadata of an object cached in slices without
// enumerating the store. A revalidation or refetch stores the response
// with a later ResponseTime, which the mark no longer covers.
type staleMarks struct {
	count atomic.Int64 // number of marks: a lookup takes no lock when zero

	mu       sync.RWMutex
	urls     map[string]time.Time // primary key -> marked at
	order    []string             // primary keys of urls, oldest mark first
	prefixes []staleMark          // oldest first
}

// staleMark is one prefix mark, also the persisted form of a URL mark.
type staleMark struct {
	Prefix string    `json:"prefix"`
	Before time.Time `json:"before"`
}

// stale reports whether the entry under key, received at resp, is marked.
func (m *staleMarks) stale(key string, resp time.Time) bool {
	if m.count.Load() == 0 {
		return false
	}
	primary := key
	if i := strings.IndexByte(key, '#'); i >= 0 {
		primary = key[:i]
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	if at, ok := m.urls[primary]; ok && !resp.After(at) {
		return true
	}
	for _, p := range m.prefixes {
		if strings.HasPrefix(key, p.Prefix) && !resp.After(p.Before) {
			return true
		}
	}
	return false
}

// markURL marks every entry of the URL with primary key primary, stored
// until at. It returns the key prefixes of marks pushed out, to delete.
func (m *staleMarks) markURL(primary string, at time.Time) (evicted []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.urls == nil {
		m.urls = make(map[string]time.Time)
	}
	if _, ok := m.urls[primary]; !ok {
		m.order = append(m.order, primary)
	}
	m.urls[primary] = at
	for len(m.order) > maxURLMarks {
		old := m.order[0]
		m.order = m.order[1:]
		delete(m.urls, old)
		evicted = append(evicted, old+"#")
	}
	m.count.Store(int64(len(m.urls) + len(m.prefixes)))
	return evicted
}

// markPrefix marks every entry whose key starts with prefix, stored until
// at. A prefix mark replaces the older ones it covers. It returns the key
// prefixes of marks pushed out, to delete.
func (m *staleMarks) markPrefix(prefix string, at time.Time) (evicted []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	kept := m.prefixes[:0]
	for _, p := range m.prefixes {
		if !strings.HasPrefix(p.Prefix, prefix) {
			kept = append(kept, p)
		}
	}
	m.prefixes = append(kept, staleMark{Prefix: prefix, Before: at})
	for len(m.prefixes) > maxPrefixMarks {
		evicted = append(evicted, m.prefixes[0].Prefix)
		m.prefixes = m.prefixes[1:]
	}
	m.count.Store(int64(len(m.urls) + len(m.prefixes)))
	return evicted
}

// marksFile is the persisted form of the marks.
type marksFile struct {
	URLs     []staleMark `json:"urls"` // Prefix holds the primary key
	Prefixes []staleMark `json:"prefixes"`
}

// snapshot returns the marks in their persisted form.
func (m *staleMarks) snapshot() marksFile {
	m.mu.RLock()
	defer m.mu.RUnlock()
	f := marksFile{URLs: make([]staleMark, 0, len(m.order)), Prefixes: append([]staleMark(nil), m.prefixes...)}
	for _, p := range m.order {
		f.URLs = append(f.URLs, staleMark{Prefix: p, Before: m.urls[p]})
	}
	return f
}

// restore loads persisted marks, oldest first; marks past the bounds are
// returned for deletion as when marking.
func (m *staleMarks) restore(f marksFile) (evicted []string) {
	for _, u := range f.URLs {
		evicted = append(evicted, m.markURL(u.Prefix, u.Before)...)
	}
	for _, p := range f.Prefixes {
		evicted = append(evicted, m.markPrefix(p.Prefix, p.Before)...)
	}
	return evicted
}

// loadMarks reads the marks file at path; a missing file holds no marks.
func loadMarks(path string) (marksFile, error) {
	var f marksFile
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("edge: read stale marks: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("edge: stale marks file %s: %w", path, err)
	}
	return f, nil
}

// saveMarks writes f to path atomically (a temporary file renamed over it),
// so a crash leaves the old marks or the new ones, never a torn file.
func saveMarks(path string, f marksFile) error {
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".stale-marks-*")
	if err != nil {
		return fmt.Errorf("edge: save stale marks: %w", err)
	}
	_, err = tmp.Write(b)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("edge: save stale marks: %w", err)
	}
	return nil
}

// decide is Policy.Decide for the stored response m of object key obj,
// except that a response a purge marked stale must be revalidated first
// (or, under only-if-cached, is a 504: RFC 9111 §5.2.1.7). Whether it may
// stand in when the origin fails is left as Decide found it (RFC 5861 §4).
func (x *exchange) decide(obj string, m cachestore.Meta) cachepolicy.Decision {
	now := x.h.now()
	d := x.policy.Decide(policyEntry(m), x.r.Header, now)
	if d.Action == cachepolicy.GatewayTimeout || !x.h.marks.stale(obj, m.ResponseTime) {
		return d
	}
	d.Action, d.Reason = cachepolicy.MustRevalidate, reasonPurged
	if !x.policy.IgnoreRequestDirectives && cachepolicy.CacheControlOf(x.r.Header).OnlyIfCached {
		d.Action, d.Reason = cachepolicy.GatewayTimeout, cachepolicy.ReasonOnlyIfCached
	}
	return d
}
