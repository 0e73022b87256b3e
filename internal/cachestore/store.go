package cachestore

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// ErrNotFound is returned by Get and UpdateMeta for a key that is not
// stored (or was dropped as corrupt).
var ErrNotFound = errors.New("cachestore: not found")

// ErrTooLarge is returned by Writer.Write when a body exceeds MaxEntrySize
// (and by NewWriter and UpdateMeta for a key or metadata over their bounds).
var ErrTooLarge = errors.New("cachestore: entry larger than the maximum entry size")

// ErrCorrupt reports a stored body that does not match its checksum.
var ErrCorrupt = errors.New("cachestore: stored entry is corrupt")

// ErrClosed is returned by the methods of a closed Store. Entries opened
// before Close stay readable until they are closed.
var ErrClosed = errors.New("cachestore: store is closed")

// Options configure a Store. The zero value is a memory-only store of
// 64 MiB.
type Options struct {
	// Dir holds the disk tier; empty means no disk tier. One Store at a
	// time may use a directory.
	Dir string
	// MemoryBytes bounds the memory tier. If zero, 64 MiB is used.
	MemoryBytes int64
	// DiskBytes bounds the disk tier. If zero and Dir is set, 1 GiB is used.
	DiskBytes int64
	// MaxEntrySize bounds one entry's body. If zero, 1/8 of the larger tier
	// is used.
	MaxEntrySize int64
	// MemoryEntryMax is the largest body the memory tier keeps, whether
	// written through or promoted from disk on a hit. A disk entry up to
	// this size is read and verified whole by Get; a larger one is verified
	// block by block as it is read. If zero, MemoryBytes/8 capped at 4 MiB
	// is used (MaxEntrySize when there is no disk tier). Negative keeps
	// every body out of memory (it requires a disk tier).
	MemoryEntryMax int64
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

// Stats are counters and gauges of the store.
type Stats struct {
	// Entries and bytes held by each tier now (gauges). An entry in both
	// tiers counts in both.
	MemoryEntries, DiskEntries int64
	MemoryBytes, DiskBytes     int64
	// Hits and Misses count Get calls that found an entry or did not (a
	// corrupt entry is a miss).
	Hits, Misses int64
	// Evictions counts entries evicted from either tier to make room;
	// Corruptions counts entries dropped because a checksum failed.
	Evictions, Corruptions int64
	// Promotions counts disk entries copied into memory on a hit.
	Promotions int64
}

// Store is a two-tier cache of responses. Its methods are safe for
// concurrent use.
type Store struct {
	opts     Options // with defaults applied
	memMax   int64   // largest body kept in memory; <0: none
	log      *slog.Logger
	disk     *diskTier // nil without a disk tier
	gen      atomic.Uint64
	counters counters

	// mu guards index, the records and items it reaches, both tiers'
	// policies (mem, dsk) and closed. It is never held across file I/O:
	// files are opened, read, written, renamed and removed outside it, and
	// since every entry file has a name used once (its generation), a file
	// removed after mu is released can only be the one meant.
	mu     sync.Mutex
	index  map[string]*record
	mem    s3fifo
	dsk    s3fifo
	closed bool
}

// counters are updated atomically so Stats never waits for mu.
type counters struct {
	memEntries, diskEntries atomic.Int64
	memBytes, diskBytes     atomic.Int64
	hits, misses            atomic.Int64
	evictions, corruptions  atomic.Int64
	promotions              atomic.Int64
}

// Open opens the store, loading the disk tier's index and dropping entries
// that are incomplete or corrupt. It reads only each entry file's header
// (bodies are verified when read), with a few goroutines that finish before
// it returns.
func Open(opts Options) (*Store, error) {
	if opts.MemoryBytes < 0 || opts.DiskBytes < 0 || opts.MaxEntrySize < 0 {
		return nil, fmt.Errorf("cachestore: negative size in options")
	}
	if opts.MemoryBytes == 0 {
		opts.MemoryBytes = 64 << 20
	}
	if opts.Dir != "" && opts.DiskBytes == 0 {
		opts.DiskBytes = 1 << 30
	}
	if opts.Dir == "" {
		opts.DiskBytes = 0
	}
	if opts.MaxEntrySize == 0 {
		opts.MaxEntrySize = max(opts.MemoryBytes, opts.DiskBytes) / 8
	}
	s := &Store{
		opts:  opts,
		log:   opts.Logger,
		index: make(map[string]*record),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	switch {
	case opts.MemoryEntryMax < 0 && opts.Dir == "":
		return nil, fmt.Errorf("cachestore: negative MemoryEntryMax needs a disk tier (Dir)")
	case opts.MemoryEntryMax != 0:
		s.memMax = opts.MemoryEntryMax
	case opts.Dir == "":
		s.memMax = opts.MaxEntrySize
	default:
		s.memMax = min(opts.MemoryBytes/8, 4<<20)
	}
	s.mem.capacity = opts.MemoryBytes
	s.dsk.capacity = opts.DiskBytes
	if opts.Dir != "" {
		d, err := openDisk(opts.Dir, s.log)
		if err != nil {
			return nil, err
		}
		s.disk = d
		if err := s.load(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Close closes the store: later calls fail with ErrClosed. Entries already
// opened stay readable until they are closed; the disk tier needs no flush
// (every committed entry is already a complete file).
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	return nil
}

// Get opens the entry stored under key, or returns ErrNotFound.
//
// A memory entry is served from memory. A disk entry has its header and
// metadata checked; a small one (up to MemoryEntryMax) is read and verified
// whole and promoted to memory, a large one is verified block by block as
// it is read. An entry found corrupt is dropped and Get reports a miss.
func (s *Store) Get(key string) (*Entry, error) { return s.get(key, true) }

// get is Get; with clone false the metadata of a memory entry is shared
// (GetShared).
func (s *Store) get(key string, clone bool) (*Entry, error) {
	// A disk entry can be replaced or evicted between the lookup and the
	// open; the retry then finds the new state.
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, ErrClosed
		}
		rec := s.index[key]
		if rec == nil {
			s.mu.Unlock()
			s.counters.misses.Add(1)
			return nil, ErrNotFound
		}
		if m := rec.mem; m != nil {
			s.mem.hit(&m.node)
			if rec.disk != nil {
				s.dsk.hit(&rec.disk.node)
			}
			s.mu.Unlock()
			s.counters.hits.Add(1)
			// m.meta and m.body are immutable: clone outside the lock.
			meta := m.meta
			if clone {
				meta = cloneMeta(meta)
			}
			return &Entry{Key: key, Meta: meta, Size: int64(len(m.body)), body: m.body, memo: &m.memo}, nil
		}
		d := rec.disk
		s.dsk.hit(&d.node)
		if d.verified == nil {
			d.verified = &blockSet{}
		}
		gen, name, size, vs := d.gen, d.name, d.size, d.verified
		s.mu.Unlock()

		e, err := s.openDiskEntry(key, gen, name, size, vs)
		switch {
		case err == nil:
			s.counters.hits.Add(1)
			return e, nil
		case errors.Is(err, os.ErrNotExist):
			if s.dropMissing(key, gen) || attempt >= 3 {
				s.counters.misses.Add(1)
				return nil, ErrNotFound
			}
			continue // replaced or evicted meanwhile: look again
		case errors.Is(err, ErrCorrupt) || errors.Is(err, errBadHeader):
			s.dropCorrupt(key, gen, err)
			s.counters.misses.Add(1)
			return nil, ErrNotFound
		default:
			return nil, err
		}
	}
}

// UpdateMeta replaces the metadata of a stored entry (after a 304).
//
// The disk copy is rewritten as a new file (header, key and new metadata,
// then the body copied within the file system), so entry files stay
// immutable and readers never see a half-updated header.
func (s *Store) UpdateMeta(key string, meta Meta) error {
	metaBytes, err := encodeMeta(meta)
	if err != nil {
		return err
	}
	if len(meta.Extra) > maxExtra {
		return fmt.Errorf("cachestore: extra of %d bytes exceeds %d: %w", len(meta.Extra), maxExtra, ErrTooLarge)
	}
	meta = cloneMeta(meta)
	for attempt := 0; ; attempt++ {
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return ErrClosed
		}
		rec := s.index[key]
		if rec == nil {
			s.mu.Unlock()
			return ErrNotFound
		}
		if rec.disk == nil {
			s.setMemMeta(rec, meta)
			s.mu.Unlock()
			return nil
		}
		oldGen, oldName := rec.disk.gen, rec.disk.name
		s.mu.Unlock()

		newGen := s.gen.Add(1)
		newName, size, err := s.disk.rewriteMeta(key, oldName, newGen, metaBytes)
		if errors.Is(err, os.ErrNotExist) && attempt < 3 {
			continue // replaced or evicted meanwhile: look again
		}
		if errors.Is(err, errBadHeader) || errors.Is(err, ErrCorrupt) {
			s.dropCorrupt(key, oldGen, err)
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		s.mu.Lock()
		rec = s.index[key]
		if s.closed || rec == nil || rec.disk == nil || rec.disk.gen != oldGen {
			// Replaced, deleted or updated meanwhile: this update lost a
			// race; retry against the new state.
			closed := s.closed
			s.mu.Unlock()
			s.disk.remove(newName)
			if closed {
				return ErrClosed
			}
			if attempt < 3 {
				continue
			}
			return fmt.Errorf("cachestore: update metadata of %q: entry kept changing", key)
		}
		rec.disk.gen, rec.disk.name = newGen, newName
		s.dsk.resize(&rec.disk.node, size)
		s.counters.diskBytes.Store(s.dsk.bytes())
		if rec.mem != nil {
			s.setMemMeta(rec, meta)
		}
		victims := s.evictDisk(0)
		s.mu.Unlock()
		s.disk.remove(oldName)
		s.removeFiles(victims)
		return nil
	}
}

// Delete removes the entry under key; a missing key is not an error.
func (s *Store) Delete(key string) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	var files []string
	if rec := s.index[key]; rec != nil {
		files = s.dropRecord(rec, files)
	}
	s.mu.Unlock()
	s.removeFiles(files)
	return nil
}

// DeletePrefix removes every entry whose key starts with prefix and returns
// how many it removed. It scans the in-memory index, never the disk.
func (s *Store) DeletePrefix(prefix string) (int, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return 0, ErrClosed
	}
	var files []string
	n := 0
	for k, rec := range s.index {
		if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
			files = s.dropRecord(rec, files)
			n++
		}
	}
	s.mu.Unlock()
	s.removeFiles(files)
	return n, nil
}

// Stats returns the current counters.
func (s *Store) Stats() Stats {
	c := &s.counters
	return Stats{
		MemoryEntries: c.memEntries.Load(),
		DiskEntries:   c.diskEntries.Load(),
		MemoryBytes:   c.memBytes.Load(),
		DiskBytes:     c.diskBytes.Load(),
		Hits:          c.hits.Load(),
		Misses:        c.misses.Load(),
		Evictions:     c.evictions.Load(),
		Corruptions:   c.corruptions.Load(),
		Promotions:    c.promotions.Load(),
	}
}

// dropCorrupt removes the entry under key if it is still generation gen,
// and counts and logs the corruption once (later reads of the same open
// Entry find it already dropped).
func (s *Store) dropCorrupt(key string, gen uint64, cause error) {
	s.mu.Lock()
	var files []string
	dropped := false
	if rec := s.index[key]; rec != nil && rec.disk != nil && rec.disk.gen == gen {
		files = s.dropRecord(rec, files)
		dropped = true
	}
	s.mu.Unlock()
	s.removeFiles(files)
	if dropped {
		s.counters.corruptions.Add(1)
		s.log.Warn("cachestore: dropped corrupt entry", "key", key, "gen", gen, "err", cause)
	}
}

// dropMissing handles an entry file found missing: if the index still
// names generation gen for key, the file was removed behind the store's
// back, so the record is dropped and dropMissing reports true; otherwise the
// entry changed meanwhile and the caller should look again.
func (s *Store) dropMissing(key string, gen uint64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.index[key]
	if rec == nil || rec.disk == nil || rec.disk.gen != gen {
		return false
	}
	s.log.Warn("cachestore: entry file missing", "key", key, "file", rec.disk.name)
	s.dropRecord(rec, nil)
	return true
}

// removeFiles deletes entry files whose records are already gone.
func (s *Store) removeFiles(names []string) {
	for _, n := range names {
		s.disk.remove(n)
	}
}

// keyHash names a key in file names and in the ghost queues. FNV-1a is
// stable across restarts, which makes file names reproducible.
func keyHash(key string) uint64 {
	h := fnv.New64a()
	io.WriteString(h, key)
	return h.Sum64()
}
