package cachestore

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// tierConfigs are the store shapes most behaviour must hold for.
func tierConfigs(t *testing.T) []struct {
	name string
	opts Options
} {
	return []struct {
		name string
		opts Options
	}{
		{"memory-only", Options{MemoryBytes: 8 << 20}},
		{"memory+disk", Options{Dir: t.TempDir(), MemoryBytes: 8 << 20, DiskBytes: 64 << 20}},
		{"disk-only", Options{Dir: t.TempDir(), MemoryEntryMax: -1, DiskBytes: 64 << 20}},
	}
}

// TestRoundTrip_C07 stores bodies of sizes around the block size and checks
// that every header field and value comes back exactly.
func TestRoundTrip_C07(t *testing.T) {
	keys := []string{
		"https://www.example.test/a/b.bin?x=1#gzip#slice=3",
		"key with \x00 nul, \xff invalid UTF-8 and /../ dots",
		strings.Repeat("long/", 3000),
	}
	sizes := []int{0, 1, 1000, blockSize - 1, blockSize, blockSize + 1, 3*blockSize + 17}
	for _, tc := range tierConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			for _, key := range keys {
				for _, size := range sizes {
					k := key + "#" + string(rune('a'+size%26)) + strings.Repeat("z", size%7)
					body := pattern(k, size)
					put(t, s, k, sampleMeta(), body)
					meta, got, err := get(s, k)
					if err != nil {
						t.Fatalf("Get(%d-byte body): %v", size, err)
					}
					if !bytes.Equal(got, body) {
						t.Errorf("size %d: body differs (got %d bytes)", size, len(got))
					}
					if d := cmp.Diff(sampleMeta(), meta, metaOpts); d != "" {
						t.Errorf("size %d: meta (-want +got):\n%s", size, d)
					}
				}
			}
		})
	}
}

// TestMetaIsACopy checks that editing an Entry's Meta does not edit the
// stored one.
func TestMetaIsACopy(t *testing.T) {
	s := openStore(t, Options{})
	m := sampleMeta()
	put(t, s, "k", m, []byte("x"))
	m.Header.Set("Content-Type", "changed/after-put")
	e, err := s.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	e.Meta.Header.Set("Age", "10")
	e.Close()
	got, _, err := get(s, "k")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(sampleMeta(), got, metaOpts); d != "" {
		t.Errorf("stored meta changed (-want +got):\n%s", d)
	}
}

// TestReadAt checks ranges across block boundaries and io.ReaderAt's EOF
// rules, for memory and file-backed entries.
func TestReadAt(t *testing.T) {
	body := pattern("ranges", 5*blockSize+123)
	for _, tc := range tierConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			put(t, s, "k", Meta{Status: 200}, body)
			e, err := s.Get("k")
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if e.Size != int64(len(body)) {
				t.Fatalf("Size = %d, want %d", e.Size, len(body))
			}
			for _, r := range []struct{ off, n int64 }{
				{0, 1}, {0, blockSize}, {blockSize - 3, 10}, {blockSize, 2 * blockSize},
				{7, 3*blockSize + 5}, {5 * blockSize, 123}, {int64(len(body)) - 1, 1},
				{100, 100}, {101, 100}, // small sequential reads share a cached block
			} {
				p := make([]byte, r.n)
				n, err := e.ReadAt(p, r.off)
				if err != nil || n != int(r.n) {
					t.Errorf("ReadAt(%d, off %d) = %d, %v; want %d, nil", r.n, r.off, n, err, r.n)
				}
				if !bytes.Equal(p[:n], body[r.off:r.off+int64(n)]) {
					t.Errorf("ReadAt(%d, off %d): wrong bytes", r.n, r.off)
				}
			}
			p := make([]byte, 10)
			if n, err := e.ReadAt(p, e.Size-4); n != 4 || err != io.EOF {
				t.Errorf("ReadAt past end = %d, %v; want 4, EOF", n, err)
			}
			if n, err := e.ReadAt(p, e.Size); n != 0 || err != io.EOF {
				t.Errorf("ReadAt at end = %d, %v; want 0, EOF", n, err)
			}
		})
	}
}

// TestUncommittedInvisible_A1 checks that nothing is visible before Commit
// and that an aborted or failed write leaves nothing behind: a short or
// empty body can never be served in place of a complete one.
func TestUncommittedInvisible_A1(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, Options{Dir: dir})
	put(t, s, "k", Meta{Status: 200}, []byte("complete old body"))

	w, err := s.NewWriter("k", Meta{Status: 206})
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	if got := mustGet(t, s, "k"); string(got) != "complete old body" {
		t.Errorf("before Commit got %q, want the old body", got)
	}
	w.Abort()
	if got := mustGet(t, s, "k"); string(got) != "complete old body" {
		t.Errorf("after Abort got %q, want the old body", got)
	}
	if err := w.Commit(); err == nil {
		t.Error("Commit after Abort succeeded")
	}
	w.Abort() // a second Abort is a no-op
	if got := tmpFiles(t, dir); len(got) != 0 {
		t.Errorf("temporary files left: %v", got)
	}

	w2, err := s.NewWriter("new", Meta{Status: 200})
	if err != nil {
		t.Fatal(err)
	}
	w2.Write([]byte("abc"))
	if _, err := s.Get("new"); !isMiss(err) {
		t.Errorf("Get before Commit = %v, want ErrNotFound", err)
	}
	if err := w2.Commit(); err != nil {
		t.Fatal(err)
	}
	w2.Abort() // after Commit: a no-op
	if got := mustGet(t, s, "new"); string(got) != "abc" {
		t.Errorf("after Commit got %q", got)
	}
}

func TestTooLarge(t *testing.T) {
	for _, tc := range tierConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			opts := tc.opts
			opts.MaxEntrySize = 1000
			s := openStore(t, opts)
			w, err := s.NewWriter("big", Meta{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.Write(make([]byte, 600)); err != nil {
				t.Fatalf("first Write: %v", err)
			}
			if _, err := w.Write(make([]byte, 401)); !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Write past the bound = %v, want ErrTooLarge", err)
			}
			if _, err := w.Write([]byte("x")); !errors.Is(err, ErrTooLarge) {
				t.Errorf("Write after ErrTooLarge = %v, want ErrTooLarge", err)
			}
			if err := w.Commit(); !errors.Is(err, ErrTooLarge) {
				t.Errorf("Commit after ErrTooLarge = %v, want ErrTooLarge", err)
			}
			if _, err := s.Get("big"); !isMiss(err) {
				t.Errorf("Get = %v, want ErrNotFound", err)
			}
			if opts.Dir != "" {
				if got := tmpFiles(t, opts.Dir); len(got) != 0 {
					t.Errorf("temporary files left: %v", got)
				}
			}
			put(t, s, "exact", Meta{}, make([]byte, 1000))
			if _, err := s.NewWriter(strings.Repeat("k", maxKeyLen+1), Meta{}); !errors.Is(err, ErrTooLarge) {
				t.Errorf("NewWriter(huge key) = %v, want ErrTooLarge", err)
			}
			if _, err := s.NewWriter("k", Meta{Extra: make([]byte, maxExtra+1)}); !errors.Is(err, ErrTooLarge) {
				t.Errorf("NewWriter(huge Extra) = %v, want ErrTooLarge", err)
			}
		})
	}
}

func TestDeleteAndDeletePrefix(t *testing.T) {
	for _, tc := range tierConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			keys := []string{
				"https://a.test/x/1", "https://a.test/x/2#slice=0", "https://a.test/x/2#slice=1",
				"https://a.test/y", "https://b.test/x/1", "https://a.test/",
			}
			for _, k := range keys {
				put(t, s, k, Meta{Status: 200}, pattern(k, 100))
			}
			n, err := s.DeletePrefix("https://a.test/x/")
			if err != nil || n != 3 {
				t.Errorf("DeletePrefix = %d, %v; want 3, nil", n, err)
			}
			if err := s.Delete("https://a.test/y"); err != nil {
				t.Errorf("Delete: %v", err)
			}
			if err := s.Delete("never stored"); err != nil {
				t.Errorf("Delete(missing): %v", err)
			}
			want := map[string]bool{"https://b.test/x/1": true, "https://a.test/": true}
			for _, k := range keys {
				_, _, err := get(s, k)
				if got := err == nil; got != want[k] {
					t.Errorf("after deletes, Get(%q) err = %v; want present=%v", k, err, want[k])
				}
			}
			if n, _ := s.DeletePrefix(""); n != 2 {
				t.Errorf("DeletePrefix(\"\") = %d, want 2", n)
			}
			st := s.Stats()
			if st.MemoryEntries+st.DiskEntries != 0 || st.MemoryBytes+st.DiskBytes != 0 {
				t.Errorf("after deleting everything: %+v", st)
			}
			if tc.opts.Dir != "" {
				if got := entryFiles(t, tc.opts.Dir); len(got) != 0 {
					t.Errorf("entry files left: %v", got)
				}
			}
		})
	}
}

func TestUpdateMeta(t *testing.T) {
	for _, tc := range tierConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			body := pattern("u", 2*blockSize+5)
			put(t, s, "k", Meta{Status: 200}, body)
			e, err := s.Get("k") // a reader open across the update
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			if err := s.UpdateMeta("k", sampleMeta()); err != nil {
				t.Fatalf("UpdateMeta: %v", err)
			}
			meta, got, err := get(s, "k")
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(sampleMeta(), meta, metaOpts); d != "" {
				t.Errorf("meta after update (-want +got):\n%s", d)
			}
			if !bytes.Equal(got, body) {
				t.Error("body changed by UpdateMeta")
			}
			old, err := io.ReadAll(io.NewSectionReader(e, 0, e.Size))
			if err != nil || !bytes.Equal(old, body) || e.Meta.Status != 200 {
				t.Errorf("reader open across the update: status %d, err %v, body equal %v", e.Meta.Status, err, bytes.Equal(old, body))
			}
			if err := s.UpdateMeta("missing", Meta{}); !isMiss(err) {
				t.Errorf("UpdateMeta(missing) = %v, want ErrNotFound", err)
			}
			if tc.opts.Dir != "" {
				if got := entryFiles(t, tc.opts.Dir); len(got) != 1 {
					t.Errorf("entry files after update: %v, want exactly one", got)
				}
				s.Close()
				s2 := openStore(t, tc.opts)
				meta, got, err := get(s2, "k")
				if err != nil || !bytes.Equal(got, body) {
					t.Fatalf("after restart: %v", err)
				}
				if d := cmp.Diff(sampleMeta(), meta, metaOpts); d != "" {
					t.Errorf("meta after restart (-want +got):\n%s", d)
				}
			}
		})
	}
}

// TestOldReaderUnaffected checks that an open Entry keeps reading the body
// it opened while the key is replaced and then deleted.
func TestOldReaderUnaffected(t *testing.T) {
	for _, tc := range tierConfigs(t) {
		t.Run(tc.name, func(t *testing.T) {
			s := openStore(t, tc.opts)
			v1 := pattern("v1", 3*blockSize)
			v2 := pattern("v2", 2*blockSize)
			put(t, s, "k", Meta{Status: 200}, v1)
			e, err := s.Get("k")
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			first := make([]byte, 10)
			e.ReadAt(first, 0)
			put(t, s, "k", Meta{Status: 200}, v2)
			if got := mustGet(t, s, "k"); !bytes.Equal(got, v2) {
				t.Error("Get after replace does not return the new body")
			}
			if err := s.Delete("k"); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(io.NewSectionReader(e, 0, e.Size))
			if err != nil || !bytes.Equal(got, v1) {
				t.Errorf("old reader after replace+delete: err %v, body equal %v", err, bytes.Equal(got, v1))
			}
		})
	}
}

func TestClosed(t *testing.T) {
	s := openStore(t, Options{Dir: t.TempDir()})
	put(t, s, "k", Meta{}, []byte("body"))
	e, err := s.Get("k")
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.NewWriter("late", Meta{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := s.Get("k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close = %v, want ErrClosed", err)
	}
	if err := w.Commit(); !errors.Is(err, ErrClosed) {
		t.Errorf("Commit after Close = %v, want ErrClosed", err)
	}
	p := make([]byte, 4)
	if n, err := e.ReadAt(p, 0); n != 4 || string(p) != "body" {
		t.Errorf("open entry after Close: %d, %v, %q", n, err, p)
	}
	e.Close()
}
