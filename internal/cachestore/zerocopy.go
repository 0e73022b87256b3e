package cachestore

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
)

// ErrNotOnDisk is returned by Entry.File for an entry whose body is held in
// memory: there is no file to send from.
var ErrNotOnDisk = errors.New("cachestore: entry body is not on disk")

// blockSet records which blocks of one entry file have passed their CRC32C
// check in this process. An entry file is never rewritten and its name is
// never reused, so a block verified once stays verified for the life of the
// file's index item; a new item (a replacement) starts with an empty set.
type blockSet struct {
	mu   sync.Mutex
	bits []uint64
}

// has reports whether every block in [lo, hi) is verified.
func (b *blockSet) has(lo, hi int64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := lo; i < hi; i++ {
		w := i / 64
		if w >= int64(len(b.bits)) || b.bits[w]&(1<<(i%64)) == 0 {
			return false
		}
	}
	return true
}

// add marks block i verified.
func (b *blockSet) add(i int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	w := int(i / 64)
	if w >= len(b.bits) {
		b.bits = append(b.bits, make([]uint64, w+1-len(b.bits))...)
	}
	b.bits[w] |= 1 << (i % 64)
}

// blockSpan is the blocks [lo, hi) covering the body bytes [off, off+n).
func blockSpan(off, n int64) (lo, hi int64) {
	if n <= 0 {
		return off / blockSize, off / blockSize
	}
	return off / blockSize, (off + n + blockSize - 1) / blockSize
}

// Verify checks the blocks covering the body bytes [off, off+n) against
// their CRC32C, reading only those not yet verified in this process. A
// corrupt block returns an error wrapping ErrCorrupt and drops the entry,
// as ReadAt does. A memory body is verified already.
func (e *Entry) Verify(off, n int64) error {
	if off < 0 || n < 0 || off+n > e.Size {
		return fmt.Errorf("cachestore: range %d+%d outside a body of %d bytes", off, n, e.Size)
	}
	if e.f == nil {
		return nil
	}
	lo, hi := blockSpan(off, n)
	if e.verified.has(lo, hi) {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return os.ErrClosed
	}
	for idx := lo; idx < hi; idx++ {
		if e.verified.has(idx, idx+1) {
			continue
		}
		if e.block == nil {
			e.block = make([]byte, blockSize)
		}
		blen := min(int64(blockSize), e.Size-idx*blockSize)
		e.blockIdx = -1
		if err := e.readBlock(e.block[:blen], idx); err != nil {
			return err
		}
		e.blockIdx = idx
	}
	return nil
}

// File returns a descriptor of its own on the entry file, positioned at
// body offset off, once the blocks covering [off, off+n) are verified (see
// Verify). It lets a caller send those bytes without copying them through
// user space (sendfile(2) via io.Copy to a network connection, wrapping the
// file in an io.LimitedReader of n bytes). The descriptor does not share
// its offset with any other; the caller closes it. A memory entry returns
// ErrNotOnDisk.
//
// Bytes past off+n are not verified: the caller must not read them without
// another Verify.
func (e *Entry) File(off, n int64) (*os.File, error) {
	if e.f == nil {
		return nil, ErrNotOnDisk
	}
	if err := e.Verify(off, n); err != nil {
		return nil, err
	}
	f, err := e.reopen()
	if err != nil {
		return nil, err
	}
	if _, err := f.Seek(e.bodyOff+off, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("cachestore: seek %q: %w", e.Key, err)
	}
	return f, nil
}

// reopen opens the entry file again, for an offset of its own. Names are
// never reused, so the path names this very file while it exists; once it
// is removed (evicted, replaced) it is reached through the open descriptor
// where the system offers that (/proc/self/fd on Linux).
func (e *Entry) reopen() (*os.File, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return nil, os.ErrClosed
	}
	f, err := os.Open(e.f.Name())
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("cachestore: reopen %q: %w", e.Key, err)
	}
	f, perr := os.Open("/proc/self/fd/" + strconv.FormatUint(uint64(e.f.Fd()), 10))
	if perr != nil {
		return nil, fmt.Errorf("cachestore: reopen %q: %w", e.Key, err)
	}
	return f, nil
}
