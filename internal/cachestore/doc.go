// Package cachestore keeps cached HTTP responses for the edge: a bounded
// memory tier in front of a bounded disk tier that survives a restart. It
// knows nothing of HTTP semantics; the edge decides what to store under which
// key (a whole object, one variant, or one slice of an object). Keys are
// opaque strings of any bytes.
//
// # Tiers
//
// A committed entry is written to the disk tier (when there is one) and, if
// its body is at most Options.MemoryEntryMax, kept in memory too. A disk hit
// on such an entry promotes it back to memory. The memory tier is charged
// for bodies, keys and an estimate of metadata; the disk tier for whole
// entry files. Neither exceeds its bound: room is made before an entry is
// admitted, and an entry larger than a tier is not admitted to it. (An
// evicted memory body still read by an open Entry lives on until the
// Entry is closed, outside the bound.)
//
// # Eviction: S3-FIFO
//
// Each tier evicts with S3-FIFO (Yang et al., SOSP 2023): a small FIFO
// (10% of the tier) on probation, a main FIFO, and a ghost FIFO of the keys
// recently evicted from the small one. A new entry enters the small queue;
// if it was not hit by the time it reaches the tail, it leaves without ever
// touching the main queue. That is the property a CDN needs: most objects
// are requested once (crawlers, range storms over a big file, long-tail
// catalogues), and under LRU each of those one-hit wonders pushes a hot
// object out; under S3-FIFO a scan of any length only churns the small
// queue while the hot set stays in the main one. An entry evicted from the
// small queue and soon requested again goes straight to the main queue (the
// ghost hit). Hits only bump a 2-bit counter, so a hit never relinks a list;
// every operation is O(1) (amortised for eviction). After a restart the
// disk tier's policy starts cold, oldest entries first in line.
//
// # Disk format
//
// One file per entry, named by a hash of its key and a store-wide write
// generation ("ab/<hash>-<gen>.ce"; see format.go): a fixed header (magic,
// version, lengths, generation, checksums), the key itself (so a hash
// collision is harmless and detected), the metadata as JSON (every header
// field and value kept exactly), the body, and a table of one CRC32C per
// 64 KiB block of the body. Entries are written to a temporary file and
// renamed into place on Commit, so no reader ever sees a partial entry.
//
// There is no fsync: a cache may lose entries in a crash, and an entry torn
// by one fails its checksums (header, metadata, block table or a block) and
// is dropped, never served. Open removes temporary files, reads every entry
// file's header (not its body), and drops files whose header is bad or
// whose length disagrees with it.
//
// # Integrity
//
// Every entry carries a checksum of its body; an entry whose body does not
// match is never served: it is dropped and the caller sees a miss.
// Get reads and verifies a small disk entry whole; a large one is verified
// block by block by Entry.ReadAt, which checks every block it touches before
// returning any byte of it and reports ErrCorrupt otherwise. Either way the
// corrupt entry is removed from both tiers and counted in
// Stats.Corruptions. Memory copies are trusted.
//
// A block of a large entry is checked once per process: the store keeps,
// per entry file, which blocks have passed (files are immutable), and
// later reads of them skip the check. Entry.File hands out a descriptor
// for a range once its blocks have passed, so a caller can send it with
// sendfile(2) without copying it through user space.
//
// # Concurrency
//
// A Store is safe for concurrent use. One mutex guards the index and both
// tiers' policies; it is never held across file I/O. Entry files are
// immutable once renamed into place and their names are never reused, so
// an Entry keeps reading the body it opened after the key is replaced,
// updated, purged or evicted. The store starts no goroutines of its own
// (Open reads headers with a few workers and waits for them).
package cachestore
