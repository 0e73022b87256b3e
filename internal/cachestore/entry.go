package cachestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Entry is a stored response opened for reading. Its body stays readable
// until Close, even if the entry is replaced, purged or evicted meanwhile:
// a memory body is immutable and shared, a disk body is read through the
// file handle opened by Get (a removed file lives on until it is closed).
//
// Meta is the caller's own copy. ReadAt is safe for concurrent use.
type Entry struct {
	Key  string
	Meta Meta
	Size int64 // body length

	body []byte // memory-backed: the verified body
	memo *memo  // memory-backed: the stored version's memo (shared.go)

	// Disk-backed: the open file, where its body starts, and the CRC of
	// each block of the body.
	s       *Store
	gen     uint64
	f       *os.File
	bodyOff int64
	table   []uint32
	// verified is shared by every Entry of the same file: the blocks
	// that passed their check in this process (zerocopy.go).
	verified *blockSet

	// mu guards block and blockIdx: the last block read and verified, kept
	// so that reads smaller than a block do not read and check it again.
	mu       sync.Mutex
	block    []byte
	blockIdx int64
	closed   bool
}

// ReadAt reads from the body. A read that finds the stored bytes corrupt
// returns an error wrapping ErrCorrupt, and the entry is dropped. It never
// returns bytes that failed their checksum: n counts verified bytes only.
func (e *Entry) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("cachestore: negative offset %d", off)
	}
	if off >= e.Size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	want := len(p)
	if rest := e.Size - off; int64(want) > rest {
		p = p[:rest]
	}
	var n int
	var err error
	if e.f == nil {
		n = copy(p, e.body[off:])
	} else {
		n, err = e.readFile(p, off)
	}
	if err == nil && n < want {
		err = io.EOF
	}
	return n, err
}

// readFile reads p (within the body) from the file, verifying each block
// it touches before copying any of its bytes out.
func (e *Entry) readFile(p []byte, off int64) (int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return 0, os.ErrClosed
	}
	n := 0
	for n < len(p) {
		pos := off + int64(n)
		idx := pos / blockSize
		bstart := idx * blockSize
		blen := min(int64(blockSize), e.Size-bstart)
		within := pos - bstart
		if within == 0 && int64(len(p)-n) >= blen {
			// The whole block lands in p: read it in place.
			dst := p[n : n+int(blen)]
			if err := e.readBlock(dst, idx); err != nil {
				clear(dst)
				return n, err
			}
			n += int(blen)
			continue
		}
		if e.block == nil || e.blockIdx != idx {
			if e.block == nil {
				e.block = make([]byte, blockSize)
			}
			e.blockIdx = -1
			if err := e.readBlock(e.block[:blen], idx); err != nil {
				return n, err
			}
			e.blockIdx = idx
		}
		n += copy(p[n:], e.block[within:blen])
	}
	return n, nil
}

// readBlock reads block idx into dst (exactly its length) and verifies it.
func (e *Entry) readBlock(dst []byte, idx int64) error {
	if _, err := e.f.ReadAt(dst, e.bodyOff+idx*blockSize); err != nil {
		if !errors.Is(err, io.EOF) {
			return fmt.Errorf("cachestore: read %q: %w", e.Key, err)
		}
		err = fmt.Errorf("%w: file truncated in block %d", ErrCorrupt, idx)
		e.s.dropCorrupt(e.Key, e.gen, err)
		return err
	}
	if e.verified.has(idx, idx+1) {
		return nil
	}
	if err := verifyBlocks(e.table, idx, dst); err != nil {
		e.s.dropCorrupt(e.Key, e.gen, err)
		return err
	}
	e.verified.add(idx)
	return nil
}

// Close releases the entry.
func (e *Entry) Close() error {
	if e.f == nil {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil
	}
	e.closed = true
	e.block = nil
	return e.f.Close()
}

// openDiskEntry opens generation gen of key's entry file (size bytes).
// A body up to memMax is read and verified now and promoted to memory; a
// larger one is returned file-backed, verified as it is read.
// vs is the file's set of verified blocks.
func (s *Store) openDiskEntry(key string, gen uint64, name string, size int64, vs *blockSet) (*Entry, error) {
	f, err := os.Open(s.disk.path(name))
	if err != nil {
		return nil, err
	}
	keep := false
	defer func() {
		if !keep {
			f.Close()
		}
	}()
	// A file whose body is likely to fit memMax (allowing 64 KiB of
	// metadata) is read in one go; otherwise only its start is.
	small := s.memMax >= 0 && size <= s.memMax+int64(headerSize+len(key))+64<<10+4*(s.memMax/blockSize+1)
	var buf []byte
	if small {
		// Likely small enough to verify whole: one read for everything.
		buf = make([]byte, size)
	} else {
		buf = make([]byte, scanChunk)
	}
	h, gotKey, prefix, err := readHeader(f, buf)
	if err != nil {
		return nil, err
	}
	if gotKey != key || h.Gen != gen || h.fileSize() != size {
		return nil, fmt.Errorf("%w: file %s holds key %q generation %d (%d bytes), want %q generation %d (%d bytes)",
			errBadHeader, name, gotKey, h.Gen, h.fileSize(), key, gen, size)
	}
	mb, err := readRange(f, prefix, h.metaOff(), int64(h.MetaLen))
	if err != nil {
		return nil, err
	}
	if got := crc32c(mb); got != h.MetaCRC {
		return nil, fmt.Errorf("%w: metadata checksum %08x, want %08x", ErrCorrupt, got, h.MetaCRC)
	}
	meta, err := decodeMeta(mb)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	tb, err := readRange(f, prefix, h.tableOff(), 4*h.numBlocks())
	if err != nil {
		return nil, err
	}
	table, err := decodeTable(h, tb)
	if err != nil {
		return nil, err
	}
	bodyLen := int64(h.BodyLen)
	if s.memMax >= 0 && bodyLen <= s.memMax {
		body, err := readRange(f, prefix, h.bodyOff(), bodyLen)
		if err != nil {
			return nil, err
		}
		if err := verifyBlocks(table, 0, body); err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.promote(key, gen, meta, body)
		s.mu.Unlock()
		return &Entry{Key: key, Meta: cloneMeta(meta), Size: bodyLen, body: body}, nil
	}
	keep = true
	return &Entry{Key: key, Meta: meta, Size: bodyLen, s: s, gen: gen, f: f, bodyOff: h.bodyOff(), table: table, verified: vs}, nil
}
