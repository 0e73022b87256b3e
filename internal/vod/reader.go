package vod

import (
	"errors"
	"fmt"
	"io"
)

// Source is the input file: random access to its bytes, as ranged GETs of
// an object give. The packager never reads more than a few blocks of it
// at a time.
type Source interface {
	io.ReaderAt
	// Size is the file's length in bytes.
	Size() int64
}

// Block cache geometry: reads of the source are whole blocks, and the
// cache holds the most recently used few. Samples are read in time order;
// an interleaved file reads each block once, a file whose tracks lie in
// separate regions keeps one block per region in the cache.
const (
	blockSize   = 512 << 10
	cacheBlocks = 8
)

// blockReader reads a Source through a small LRU cache of blocks, and is
// an io.ReadSeeker for the box parser. Not safe for concurrent use.
type blockReader struct {
	src    Source
	size   int64
	pos    int64
	blocks []*block // most recently used first
	reads  int      // blocks fetched from src, for tests
	err    error    // the last error of src, wrapping ErrRead
}

type block struct {
	off  int64
	data []byte
}

func newBlockReader(src Source) *blockReader {
	return &blockReader{src: src, size: src.Size()}
}

// ReadAt reads len(p) bytes at off; short only at the end of the file.
func (r *blockReader) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	n := 0
	for n < len(p) {
		if off >= r.size {
			return n, io.EOF
		}
		b, err := r.block(off / blockSize * blockSize)
		if err != nil {
			return n, err
		}
		c := copy(p[n:], b.data[off-b.off:])
		if c == 0 {
			return n, io.ErrUnexpectedEOF
		}
		n += c
		off += int64(c)
	}
	return n, nil
}

// block returns the block at off, from the cache or the source.
func (r *blockReader) block(off int64) (*block, error) {
	for i, b := range r.blocks {
		if b.off == off {
			copy(r.blocks[1:i+1], r.blocks[:i])
			r.blocks[0] = b
			return b, nil
		}
	}
	var b *block
	if len(r.blocks) == cacheBlocks {
		b = r.blocks[cacheBlocks-1]
		copy(r.blocks[1:], r.blocks[:cacheBlocks-1])
	} else {
		// A file smaller than a block gets a buffer its size.
		b = &block{data: make([]byte, min(blockSize, r.size))}
		r.blocks = append(r.blocks, nil)
		copy(r.blocks[1:], r.blocks[:len(r.blocks)-1])
	}
	r.blocks[0] = b
	n := int(min(blockSize, r.size-off))
	b.off, b.data = off, b.data[:cap(b.data)][:n]
	if m, err := r.src.ReadAt(b.data, off); m < n {
		r.blocks = r.blocks[1:]
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		r.err = fmt.Errorf("%w at %d: %w", ErrRead, off, err)
		return nil, r.err
	}
	r.reads++
	return b, nil
}

// Read implements io.Reader at the current position.
func (r *blockReader) Read(p []byte) (int, error) {
	if r.pos >= r.size {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.size-r.pos)]
	n, err := r.ReadAt(p, r.pos)
	r.pos += int64(n)
	if errors.Is(err, io.EOF) && n > 0 {
		err = nil
	}
	return n, err
}

// Seek implements io.Seeker.
func (r *blockReader) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		off += r.pos
	case io.SeekEnd:
		off += r.size
	default:
		return 0, errors.New("bad whence")
	}
	if off < 0 {
		return 0, errors.New("seek before the start")
	}
	r.pos = off
	return off, nil
}
