package cachestore

import "sync/atomic"

// The read path of a hot cache hit: GetShared skips the copy of the
// metadata that Get makes, MemoryBody hands out a memory body without a
// copy, and Memo keeps what a reader derives from one stored version's
// metadata, so that it is derived once per version rather than once per
// hit. All three only add to Get and ReadAt; the stored bytes stay
// immutable.

// memo is the value readers attached to one stored version (memItem).
type memo struct {
	p atomic.Pointer[memoValue]
}

type memoValue struct{ v any }

// GetShared is Get without copying the metadata: the Entry's Meta.Header
// and Meta.Extra may be the store's own, shared with every reader of the
// same stored version, and must not be modified (copy them first, as
// http.Header.Clone does, to edit). It is for a caller that only reads
// them, such as an edge serving a hit as stored.
func (s *Store) GetShared(key string) (*Entry, error) { return s.get(key, false) }

// MemoryBody returns the body of an Entry held in memory, shared and read
// only, and true; for an Entry read from disk it returns nil and false
// (ReadAt or File read those). Memory bodies are trusted, as for ReadAt.
func (e *Entry) MemoryBody() ([]byte, bool) {
	if e.f != nil {
		return nil, false
	}
	return e.body, true
}

// Memo returns the value SetMemo attached to the stored version this Entry
// reads, or nil.
func (e *Entry) Memo() any {
	if e.memo == nil {
		return nil
	}
	if v := e.memo.p.Load(); v != nil {
		return v.v
	}
	return nil
}

// SetMemo attaches v to the stored version this Entry reads, for the
// Entries that later Gets open on the same version (the same key, until it
// is replaced or its metadata updated) to find with Memo. v must be
// derived from the Entry's Key, Meta and Size alone and must not change
// afterwards: readers share it. Only versions held in memory keep a memo;
// for others SetMemo does nothing. Concurrent calls keep one of the values.
func (e *Entry) SetMemo(v any) {
	if e.memo != nil {
		e.memo.p.Store(&memoValue{v})
	}
}
