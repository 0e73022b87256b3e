package cachestore

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestRestart checks that the disk tier survives a restart (entries, their
// metadata and the newest version of a replaced key) and that temporary
// files left by writes in progress are removed.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir, DiskBytes: 16 << 20}
	s := openStore(t, opts)
	bodies := map[string][]byte{}
	for i := range 20 {
		k := fmt.Sprintf("https://r.test/%d", i)
		bodies[k] = pattern(k, i*10000)
		put(t, s, k, sampleMeta(), bodies[k])
	}
	bodies["https://r.test/3"] = []byte("replaced")
	put(t, s, "https://r.test/3", sampleMeta(), bodies["https://r.test/3"])
	// A write in progress when the process dies.
	w, err := s.NewWriter("https://r.test/unfinished", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(make([]byte, 5000))
	if len(tmpFiles(t, dir)) != 1 {
		t.Fatalf("want one temporary file while writing, have %v", tmpFiles(t, dir))
	}
	s.Close()

	s2 := openStore(t, opts)
	if got := tmpFiles(t, dir); len(got) != 0 {
		t.Errorf("temporary files after restart: %v", got)
	}
	if got, want := s2.Stats().DiskEntries, int64(len(bodies)); got != want {
		t.Errorf("DiskEntries after restart = %d, want %d", got, want)
	}
	for k, want := range bodies {
		_, got, err := get(s2, k)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("Get(%q) after restart: err %v, body equal %v", k, err, bytes.Equal(got, want))
		}
	}
	if _, err := s2.Get("https://r.test/unfinished"); !isMiss(err) {
		t.Errorf("unfinished entry after restart: %v, want ErrNotFound", err)
	}
	// Generations continue: a write after the restart replaces, and a
	// second restart keeps the newest.
	put(t, s2, "https://r.test/4", Meta{}, []byte("after restart"))
	s2.Close()
	s3 := openStore(t, opts)
	if got := mustGet(t, s3, "https://r.test/4"); string(got) != "after restart" {
		t.Errorf("second restart: got %q", got)
	}
	if got, want := len(entryFiles(t, dir)), len(bodies); got != want {
		t.Errorf("%d entry files, want %d", got, want)
	}
}

// TestRestartKeepsNewestGeneration simulates a crash between the rename of
// a new version and the removal of the old one.
func TestRestartKeepsNewestGeneration(t *testing.T) {
	dir := t.TempDir()
	opts := Options{Dir: dir}
	s := openStore(t, opts)
	put(t, s, "k", Meta{}, []byte("old"))
	oldPath := fileOf(t, s, "k")
	saved, err := os.ReadFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	put(t, s, "k", Meta{}, []byte("new"))
	s.Close()
	if err := os.WriteFile(oldPath, saved, 0o644); err != nil {
		t.Fatal(err)
	}
	s2 := openStore(t, opts)
	if got := mustGet(t, s2, "k"); string(got) != "new" {
		t.Errorf("got %q, want the newest version", got)
	}
	if _, err := os.Stat(oldPath); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("older generation's file kept: %v", err)
	}
}

// TestCorruptBody flips one byte of a stored body on disk: the reader gets
// ErrCorrupt (or a miss), never the bad byte, and the entry is gone.
func TestCorruptBody(t *testing.T) {
	body := pattern("corrupt", 4*blockSize+100)
	for _, tc := range []struct {
		name    string
		memMax  int64
		flipAt  int64 // offset in the body
		getMiss bool  // Get verifies whole (small entry) and misses
	}{
		{name: "small entry verified whole by Get", memMax: 8 << 20, flipAt: 3*blockSize + 5, getMiss: true},
		{name: "large entry verified per block", memMax: -1, flipAt: 3*blockSize + 5},
		{name: "large entry, last short block", memMax: -1, flipAt: 4*blockSize + 99},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Dir: dir, MemoryEntryMax: tc.memMax}
			s := openStore(t, opts)
			put(t, s, "k", sampleMeta(), body)
			path := fileOf(t, s, "k")
			s.Close() // so the memory copy is gone
			s = openStore(t, opts)

			h, _, _, err := readHeader(mustOpen(t, path), make([]byte, scanChunk))
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, path, h.bodyOff()+tc.flipAt)

			e, err := s.Get("k")
			if tc.getMiss {
				if !isMiss(err) {
					t.Fatalf("Get = %v, want ErrNotFound", err)
				}
			} else {
				if err != nil {
					t.Fatalf("Get = %v, want an entry (body verified lazily)", err)
				}
				good := make([]byte, blockSize)
				if n, err := e.ReadAt(good, 0); err != nil || !bytes.Equal(good[:n], body[:n]) {
					t.Errorf("ReadAt of an intact block: %d, %v", n, err)
				}
				p := make([]byte, e.Size)
				n, err := e.ReadAt(p, 0)
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("ReadAt over the bad byte = %d, %v; want ErrCorrupt", n, err)
				}
				if int64(n) > tc.flipAt {
					t.Errorf("ReadAt returned %d bytes, beyond the bad byte at %d", n, tc.flipAt)
				}
				if !bytes.Equal(p[:n], body[:n]) {
					t.Error("ReadAt returned wrong bytes before the bad block")
				}
				// Small reads go through the block cache: same rule.
				small := make([]byte, 3)
				if n, err := e.ReadAt(small, tc.flipAt-1); n != 0 || !errors.Is(err, ErrCorrupt) {
					t.Errorf("small ReadAt over the bad byte = %d, %v; want 0, ErrCorrupt", n, err)
				}
				e.Close()
			}
			if _, err := s.Get("k"); !isMiss(err) {
				t.Errorf("Get after corruption = %v, want ErrNotFound", err)
			}
			if got := s.Stats().Corruptions; got != 1 {
				t.Errorf("Corruptions = %d, want 1", got)
			}
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("corrupt file kept: %v", err)
			}
		})
	}
}

// TestCorruptHeader damages entry files in ways Open must notice from the
// header alone (the body is not read): each such entry is dropped and its
// file removed, and intact entries are kept.
func TestCorruptHeader(t *testing.T) {
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, path string, h entryHeader)
	}{
		{"magic", func(t *testing.T, path string, h entryHeader) { flipByte(t, path, 0) }},
		{"body length", func(t *testing.T, path string, h entryHeader) { flipByte(t, path, 16) }},
		{"header checksum", func(t *testing.T, path string, h entryHeader) { flipByte(t, path, 61) }},
		{"key", func(t *testing.T, path string, h entryHeader) { flipByte(t, path, headerSize+2) }},
		{"truncated", func(t *testing.T, path string, h entryHeader) {
			if err := os.Truncate(path, h.fileSize()-1); err != nil {
				t.Fatal(err)
			}
		}},
		{"empty", func(t *testing.T, path string, h entryHeader) {
			if err := os.Truncate(path, 0); err != nil {
				t.Fatal(err)
			}
		}},
		{"appended", func(t *testing.T, path string, h entryHeader) {
			f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write([]byte("x"))
			f.Close()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Dir: dir}
			s := openStore(t, opts)
			put(t, s, "bad", sampleMeta(), pattern("bad", 3000))
			put(t, s, "good", sampleMeta(), pattern("good", 3000))
			path := fileOf(t, s, "bad")
			s.Close()
			h, _, _, err := readHeader(mustOpen(t, path), make([]byte, scanChunk))
			if err != nil {
				t.Fatal(err)
			}
			tc.damage(t, path, h)

			s2 := openStore(t, opts)
			if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("damaged file kept at Open: %v", err)
			}
			if _, err := s2.Get("bad"); !isMiss(err) {
				t.Errorf("Get(bad) = %v, want ErrNotFound", err)
			}
			if got := mustGet(t, s2, "good"); !bytes.Equal(got, pattern("good", 3000)) {
				t.Error("intact entry damaged")
			}
		})
	}
}

// TestCorruptMetadata damages the metadata and the block table, which Open
// does not read: Get finds them and misses.
func TestCorruptMetadata(t *testing.T) {
	for _, tc := range []struct {
		name string
		off  func(h entryHeader) int64
	}{
		{"metadata", func(h entryHeader) int64 { return h.metaOff() + 3 }},
		{"block table", func(h entryHeader) int64 { return h.tableOff() + 1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			opts := Options{Dir: dir, MemoryEntryMax: -1}
			s := openStore(t, opts)
			put(t, s, "k", sampleMeta(), pattern("k", 2*blockSize))
			path := fileOf(t, s, "k")
			h, _, _, err := readHeader(mustOpen(t, path), make([]byte, scanChunk))
			if err != nil {
				t.Fatal(err)
			}
			flipByte(t, path, tc.off(h))
			if _, err := s.Get("k"); !isMiss(err) {
				t.Errorf("Get = %v, want ErrNotFound", err)
			}
			if s.Stats().Corruptions != 1 {
				t.Errorf("Corruptions = %d, want 1", s.Stats().Corruptions)
			}
			if files := entryFiles(t, dir); len(files) != 0 {
				t.Errorf("files left: %v", files)
			}
		})
	}
}

// TestForeignFilesIgnored checks that Open leaves files that are not entry
// files alone.
func TestForeignFilesIgnored(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "README"), []byte("hi"), 0o644)
	os.Mkdir(filepath.Join(dir, "zz"), 0o755)
	s := openStore(t, Options{Dir: dir})
	put(t, s, "k", Meta{}, []byte("v"))
	s.Close()
	openStore(t, Options{Dir: dir})
	got, _ := os.ReadDir(dir)
	var names []string
	for _, e := range got {
		names = append(names, e.Name())
	}
	for _, want := range []string{"README", "zz", tmpDir} {
		if !slices.Contains(names, want) {
			t.Errorf("%s removed; directory holds %v", want, names)
		}
	}
}

func mustOpen(t *testing.T, path string) io.ReaderAt {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// TestFileRemovedBehindTheStore checks that an entry whose file was deleted
// by someone else is a miss and leaves the index.
func TestFileRemovedBehindTheStore(t *testing.T) {
	s := openStore(t, Options{Dir: t.TempDir(), MemoryEntryMax: -1})
	put(t, s, "k", Meta{}, []byte("v"))
	if err := os.Remove(fileOf(t, s, "k")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get("k"); !isMiss(err) {
		t.Errorf("Get = %v, want ErrNotFound", err)
	}
	if st := s.Stats(); st.DiskEntries != 0 || st.DiskBytes != 0 {
		t.Errorf("index still holds the entry: %+v", st)
	}
}
