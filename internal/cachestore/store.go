package cachestore

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

var errTODO = errors.New("cachestore: not implemented yet")

// ErrNotFound is returned by Get and UpdateMeta for a key that is not
// stored (or was dropped as corrupt).
var ErrNotFound = errors.New("cachestore: not found")

// ErrTooLarge is returned by Writer.Write when a body exceeds MaxEntrySize.
var ErrTooLarge = errors.New("cachestore: entry larger than the maximum entry size")

// Options configure a Store. The zero value is a memory-only store of
// 64 MiB.
type Options struct {
	// Dir holds the disk tier; empty means no disk tier.
	Dir string
	// MemoryBytes bounds the memory tier. If zero, 64 MiB is used.
	MemoryBytes int64
	// DiskBytes bounds the disk tier. If zero and Dir is set, 1 GiB is used.
	DiskBytes int64
	// MaxEntrySize bounds one entry's body. If zero, 1/8 of the larger tier
	// is used.
	MaxEntrySize int64
	// Logger receives corruption and eviction reports. Nil means discard.
	Logger *slog.Logger
}

// Meta is what is stored with a body.
type Meta struct {
	Status int         // status code of the stored response
	Header http.Header // response header fields as stored
	// RequestTime and ResponseTime are when the request that produced the
	// response was sent and its response received (RFC 9111 §4.2.3).
	RequestTime, ResponseTime time.Time
	// Extra is opaque data the caller stores with the entry (for example a
	// slice's validator); at most 4 KiB.
	Extra []byte
}

// Entry is a stored response opened for reading. Its body stays readable
// until Close, even if the entry is replaced, purged or evicted meanwhile.
type Entry struct {
	Key  string
	Meta Meta
	Size int64 // body length
}

// ReadAt reads from the body. A read that finds the stored bytes corrupt
// returns an error wrapping ErrCorrupt, and the entry is dropped.
func (e *Entry) ReadAt(p []byte, off int64) (int, error) { return 0, errTODO }

// Close releases the entry.
func (e *Entry) Close() error { return nil }

// ErrCorrupt reports a stored body that does not match its checksum.
var ErrCorrupt = errors.New("cachestore: stored entry is corrupt")

// Store is a two-tier cache of responses. Its methods are safe for
// concurrent use.
type Store struct{}

// Open opens the store, loading the disk tier's index and dropping entries
// that are incomplete or corrupt.
func Open(opts Options) (*Store, error) { return nil, errTODO }

// Close flushes and closes the store.
func (s *Store) Close() error { return nil }

// Get opens the entry stored under key, or returns ErrNotFound.
func (s *Store) Get(key string) (*Entry, error) { return nil, ErrNotFound }

// Writer streams a new entry into the store. Nothing is visible under its key
// until Commit; Abort (or a failed Write) discards it.
type Writer struct{}

// Write appends body bytes.
func (w *Writer) Write(p []byte) (int, error) { return 0, errTODO }

// Commit makes the entry visible, replacing any entry under the same key.
func (w *Writer) Commit() error { return errTODO }

// Abort discards the entry. It is safe to call after Commit (a no-op).
func (w *Writer) Abort() {}

// NewWriter starts storing a body under key with meta.
func (s *Store) NewWriter(key string, meta Meta) (*Writer, error) { return nil, errTODO }

// UpdateMeta replaces the metadata of a stored entry (after a 304).
func (s *Store) UpdateMeta(key string, meta Meta) error { return errTODO }

// Delete removes the entry under key; a missing key is not an error.
func (s *Store) Delete(key string) error { return errTODO }

// DeletePrefix removes every entry whose key starts with prefix and returns
// how many it removed.
func (s *Store) DeletePrefix(prefix string) (int, error) { return 0, errTODO }

// Stats are counters and gauges of the store.
type Stats struct {
	MemoryEntries, DiskEntries int64
	MemoryBytes, DiskBytes     int64
	Hits, Misses               int64
	Evictions, Corruptions     int64
}

// Stats returns the current counters.
func (s *Store) Stats() Stats { return Stats{} }

var _ io.ReaderAt = (*Entry)(nil)
