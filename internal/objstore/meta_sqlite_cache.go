package objstore

import (
	"bytes"
	"sync"
)

// configCache holds bucket configuration documents (CORS, policy,
// lifecycle...) read from the catalog: S3 requests consult some of them on
// every request, and the documents change rarely. The catalog is the only
// writer of its database (the store directory is locked), so dropping an
// entry after each change keeps the cache exact.
//
// A reader fills an entry only if no change was dropped since it began its
// query (gen): otherwise it might store what a concurrent change has just
// replaced.
type configCache struct {
	mu      sync.Mutex
	gen     uint64
	buckets map[string]map[string]configEntry
}

// configEntry is a cached document, or the knowledge that the bucket has
// none of that name.
type configEntry struct {
	doc  []byte
	none bool
}

// get returns the cached entry for bucket's config name, and the
// generation to pass to put after a miss.
func (cc *configCache) get(bucket, name string) (e configEntry, ok bool, gen uint64) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	e, ok = cc.buckets[bucket][name]
	if ok && e.doc != nil {
		e.doc = bytes.Clone(e.doc) // callers may change what they get
	}
	return e, ok, cc.gen
}

// put caches e if nothing was dropped since gen.
func (cc *configCache) put(bucket, name string, e configEntry, gen uint64) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if gen != cc.gen {
		return
	}
	if cc.buckets == nil {
		cc.buckets = make(map[string]map[string]configEntry)
	}
	m := cc.buckets[bucket]
	if m == nil {
		m = make(map[string]configEntry)
		cc.buckets[bucket] = m
	}
	if e.doc != nil {
		e.doc = bytes.Clone(e.doc)
	}
	m[name] = e
}

// drop forgets bucket's config name, or all of its configs when name is
// empty. It is called after every change, committed or not.
func (cc *configCache) drop(bucket, name string) {
	cc.mu.Lock()
	defer cc.mu.Unlock()
	cc.gen++
	if name == "" {
		delete(cc.buckets, bucket)
		return
	}
	delete(cc.buckets[bucket], name)
}
