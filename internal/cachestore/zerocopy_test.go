package cachestore

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestFileCorruptBlockNeverHanded checks that File verifies before it hands
// out a descriptor: a flipped byte is found on the first request for its
// block, the entry is dropped, and File of intact blocks still works.
func TestFileCorruptBlockNeverHanded(t *testing.T) {
	body := pattern("zc-corrupt", 4*blockSize+100)
	dir := t.TempDir()
	opts := Options{Dir: dir, MemoryEntryMax: -1}
	s := openStore(t, opts)
	put(t, s, "k", sampleMeta(), body)
	path := fileOf(t, s, "k")
	h, _, _, err := readHeader(mustOpen(t, path), make([]byte, scanChunk))
	if err != nil {
		t.Fatal(err)
	}
	flipByte(t, path, h.bodyOff()+2*blockSize+7)

	e, err := s.Get("k")
	if err != nil {
		t.Fatalf("Get = %v, want an entry (body verified lazily)", err)
	}
	defer e.Close()
	f, err := e.File(0, blockSize)
	if err != nil {
		t.Fatalf("File of an intact block: %v", err)
	}
	f.Close()
	for _, r := range []struct{ off, n int64 }{
		{2 * blockSize, 1},
		{0, e.Size},
		{blockSize + 5, blockSize}, // ends in the corrupt block
	} {
		f, err := e.File(r.off, r.n)
		if !errors.Is(err, ErrCorrupt) {
			if f != nil {
				f.Close()
			}
			t.Errorf("File(%d, %d) = %v, want ErrCorrupt", r.off, r.n, err)
		}
	}
	if _, err := s.Get("k"); !isMiss(err) {
		t.Errorf("Get after corruption found = %v, want ErrNotFound", err)
	}
}

// TestFileVerifiedRanges checks that File returns the body's bytes at the
// requested offset, on descriptors that do not share an offset, that the
// verified-block set is shared between entries of the same file, and that
// File of a memory entry says so.
func TestFileVerifiedRanges(t *testing.T) {
	body := pattern("zc-ranges", 5*blockSize+333)
	s := openStore(t, Options{Dir: t.TempDir(), MemoryEntryMax: -1})
	put(t, s, "k", sampleMeta(), body)

	e1, err := s.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	defer e1.Close()
	// The first read verifies through ReadAt.
	if got := make([]byte, e1.Size); true {
		if _, err := e1.ReadAt(got, 0); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("ReadAt: %v, equal %v", err, bytes.Equal(got, body))
		}
	}
	e2, err := s.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	defer e2.Close()
	if lo, hi := blockSpan(0, e2.Size); !e2.verified.has(lo, hi) {
		t.Errorf("a second entry of the file does not see blocks [%d, %d) verified", lo, hi)
	}

	ranges := []struct{ off, n int64 }{
		{0, e1.Size},
		{0, 1},
		{blockSize - 1, 2},
		{3*blockSize + 17, blockSize},
		{e1.Size - 333, 333},
		{e1.Size, 0},
	}
	var files []io.ReadCloser
	for _, r := range ranges {
		f, err := e2.File(r.off, r.n)
		if err != nil {
			t.Fatalf("File(%d, %d): %v", r.off, r.n, err)
		}
		files = append(files, f)
	}
	// Read them interleaved: each must keep its own offset.
	got := make([][]byte, len(ranges))
	for more := true; more; {
		more = false
		for i, r := range ranges {
			if rest := r.n - int64(len(got[i])); rest > 0 {
				p := make([]byte, min(rest, 1000))
				n, err := io.ReadFull(files[i], p)
				if err != nil {
					t.Fatalf("range %d+%d: read: %v", r.off, r.n, err)
				}
				got[i] = append(got[i], p[:n]...)
				more = true
			}
		}
	}
	for i, r := range ranges {
		files[i].Close()
		if want := body[r.off : r.off+r.n]; !bytes.Equal(got[i], want) {
			t.Errorf("File(%d, %d) gave %d bytes, not the body's %d there", r.off, r.n, len(got[i]), len(want))
		}
	}
	if _, err := e2.File(1, e2.Size); err == nil {
		t.Errorf("File past the body's end: no error")
	}

	// The descriptor outlives the entry and its removal.
	f, err := e1.File(blockSize, blockSize)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e1.Close()
	s.Delete("k")
	p := make([]byte, blockSize)
	if _, err := io.ReadFull(f, p); err != nil || !bytes.Equal(p, body[blockSize:2*blockSize]) {
		t.Errorf("read after Close and removal: %v, equal %v", err, bytes.Equal(p, body[blockSize:2*blockSize]))
	}

	m := openStore(t, Options{Dir: t.TempDir()})
	put(t, m, "small", sampleMeta(), body[:100])
	em, err := m.Get("small")
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	if _, err := em.File(0, 10); !errors.Is(err, ErrNotOnDisk) {
		t.Errorf("File of a memory entry = %v, want ErrNotOnDisk", err)
	}
}
