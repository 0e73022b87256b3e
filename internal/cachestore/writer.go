package cachestore

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
)

// writeBuffer is the size of the buffer between Write and the entry file.
const writeBuffer = 128 << 10

// errWriterDone is returned by a Writer used after Commit or Abort.
var errWriterDone = errors.New("cachestore: writer already committed or aborted")

// Writer streams a new entry into the store. Nothing is visible under its key
// until Commit; Abort (or a failed Write) discards it. A body goes to a
// temporary file as it comes, so memory use is bounded whatever its size;
// only a body up to MemoryEntryMax is also kept in memory. A Writer is used
// by one goroutine.
type Writer struct {
	s         *Store
	key       string
	meta      Meta // the caller's meta, copied
	metaBytes []byte

	f  *os.File      // temporary entry file; nil without a disk tier
	bw *bufio.Writer // buffers writes to f

	mem   []byte // the body so far, while it may still go to memory
	toMem bool

	n         int64  // body bytes written
	table     []byte // CRC32C of each complete block, little endian
	blockCRC  uint32 // CRC32C of the current block so far
	blockFill int    // bytes in the current block

	err  error // sticky: a failed Write aborts the writer
	done bool
}

// NewWriter starts storing a body under key with meta.
func (s *Store) NewWriter(key string, meta Meta) (*Writer, error) {
	if len(key) > maxKeyLen {
		return nil, fmt.Errorf("cachestore: key of %d bytes exceeds %d: %w", len(key), maxKeyLen, ErrTooLarge)
	}
	if len(meta.Extra) > maxExtra {
		return nil, fmt.Errorf("cachestore: extra of %d bytes exceeds %d: %w", len(meta.Extra), maxExtra, ErrTooLarge)
	}
	mb, err := encodeMeta(meta)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	w := &Writer{s: s, key: key, meta: cloneMeta(meta), metaBytes: mb, toMem: s.memMax >= 0}
	if s.disk != nil {
		f, err := s.disk.createTemp()
		if err != nil {
			return nil, err
		}
		w.f = f
		w.bw = bufio.NewWriterSize(f, writeBuffer)
		// The fixed header is written last, at Commit; a zero placeholder
		// (no magic) marks the file incomplete until then.
		var zero [headerSize]byte
		w.bw.Write(zero[:])
		w.bw.WriteString(key)
		if _, err := w.bw.Write(mb); err != nil {
			w.Abort()
			return nil, fmt.Errorf("cachestore: write entry: %w", err)
		}
	}
	return w, nil
}

// Write appends body bytes. Past MaxEntrySize it returns ErrTooLarge and the
// writer is aborted.
func (w *Writer) Write(p []byte) (int, error) {
	if w.done {
		if w.err != nil {
			return 0, w.err
		}
		return 0, errWriterDone
	}
	if w.n+int64(len(p)) > w.s.opts.MaxEntrySize {
		w.Abort()
		w.err = fmt.Errorf("cachestore: body of %q exceeds %d bytes: %w", w.key, w.s.opts.MaxEntrySize, ErrTooLarge)
		return 0, w.err
	}
	if w.toMem {
		if w.n+int64(len(p)) <= w.s.memMax {
			w.mem = append(w.mem, p...)
		} else {
			w.toMem, w.mem = false, nil
		}
	}
	if w.f != nil {
		if _, err := w.bw.Write(p); err != nil {
			w.Abort()
			w.err = fmt.Errorf("cachestore: write entry: %w", err)
			return 0, w.err
		}
	}
	w.n += int64(len(p))
	for rest := p; len(rest) > 0; {
		k := min(len(rest), blockSize-w.blockFill)
		w.blockCRC = crc32.Update(w.blockCRC, castagnoli, rest[:k])
		w.blockFill += k
		rest = rest[k:]
		if w.blockFill == blockSize {
			w.endBlock()
		}
	}
	return len(p), nil
}

func (w *Writer) endBlock() {
	w.table = binary.LittleEndian.AppendUint32(w.table, w.blockCRC)
	w.blockCRC, w.blockFill = 0, 0
}

// Commit makes the entry visible, replacing any entry under the same key.
// Of concurrent writers for one key, the last to commit wins; readers of
// the replaced entry go on reading it until they close it.
//
// An entry too large for either tier is not stored; Commit still succeeds
// (a cache may always decline to keep something).
func (w *Writer) Commit() error {
	if w.done {
		if w.err != nil {
			return w.err
		}
		return errWriterDone
	}
	if w.blockFill > 0 {
		w.endBlock()
	}
	s := w.s
	rec := &record{key: w.key}
	if w.toMem {
		body := w.mem
		if body == nil {
			body = []byte{}
		}
		m := &memItem{meta: w.meta, body: body}
		m.size = memCost(w.key, w.meta, body)
		rec.mem = m
	}
	if w.f != nil {
		gen := s.gen.Add(1)
		name, size, err := w.finishFile(gen)
		if err != nil {
			w.Abort()
			w.err = err
			return err
		}
		rec.disk = &diskItem{gen: gen, name: name}
		rec.disk.size = size
	}
	w.done, w.mem, w.f, w.bw = true, nil, nil, nil

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if rec.disk != nil {
			s.disk.remove(rec.disk.name)
		}
		return ErrClosed
	}
	files := s.install(rec)
	s.mu.Unlock()
	s.removeFiles(files)
	return nil
}

// finishFile writes the block table and the header, closes the temporary
// file and renames it into place. There is no fsync: a cache may lose
// entries in a crash, and one torn by it (a header, a block of the body or
// the table that did not reach the disk) fails its checksum and is dropped
// at Open or when read, so it is never served.
func (w *Writer) finishFile(gen uint64) (string, int64, error) {
	h := entryHeader{
		KeyLen:    uint32(len(w.key)),
		MetaLen:   uint32(len(w.metaBytes)),
		BodyLen:   uint64(w.n),
		Gen:       gen,
		BlockSize: blockSize,
		MetaCRC:   crc32c(w.metaBytes),
		TableCRC:  crc32c(w.table),
	}
	if _, err := w.bw.Write(w.table); err != nil {
		return "", 0, fmt.Errorf("cachestore: write entry: %w", err)
	}
	if err := w.bw.Flush(); err != nil {
		return "", 0, fmt.Errorf("cachestore: write entry: %w", err)
	}
	if _, err := w.f.WriteAt(encodeHeader(h, w.key)[:headerSize], 0); err != nil {
		return "", 0, fmt.Errorf("cachestore: write entry: %w", err)
	}
	tmp := w.f.Name()
	if err := w.f.Close(); err != nil {
		return "", 0, fmt.Errorf("cachestore: write entry: %w", err)
	}
	name := entryName(w.key, gen)
	if err := w.s.disk.rename(tmp, name); err != nil {
		return "", 0, fmt.Errorf("cachestore: write entry: %w", err)
	}
	return name, h.fileSize(), nil
}

// Abort discards the entry. It is safe to call after Commit (a no-op).
func (w *Writer) Abort() {
	if w.done {
		return
	}
	w.done = true
	w.mem = nil
	if w.f != nil {
		w.f.Close()
		os.Remove(w.f.Name())
		w.f, w.bw = nil, nil
	}
}
