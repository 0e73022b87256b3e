package cachestore

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// openStore opens a store and closes it when the test ends.
func openStore(t testing.TB, opts Options) *Store {
	t.Helper()
	s, err := Open(opts)
	if err != nil {
		t.Fatalf("Open(%+v): %v", opts, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put stores body under key with meta, failing the test on error.
func put(t testing.TB, s *Store, key string, meta Meta, body []byte) {
	t.Helper()
	w, err := s.NewWriter(key, meta)
	if err != nil {
		t.Fatalf("NewWriter(%q): %v", key, err)
	}
	// Write in uneven pieces to cross block boundaries mid-write.
	for rest := body; len(rest) > 0; {
		n := min(len(rest), 7919)
		if _, err := w.Write(rest[:n]); err != nil {
			t.Fatalf("Write(%q): %v", key, err)
		}
		rest = rest[n:]
	}
	if err := w.Commit(); err != nil {
		t.Fatalf("Commit(%q): %v", key, err)
	}
}

// get returns the entry's meta and whole body.
func get(s *Store, key string) (Meta, []byte, error) {
	e, err := s.Get(key)
	if err != nil {
		return Meta{}, nil, err
	}
	defer e.Close()
	body, err := io.ReadAll(io.NewSectionReader(e, 0, e.Size))
	return e.Meta, body, err
}

// mustGet returns the body under key, failing the test if it is missing.
func mustGet(t testing.TB, s *Store, key string) []byte {
	t.Helper()
	_, body, err := get(s, key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	return body
}

// pattern returns n deterministic bytes that differ per seed: the seed and
// ":0;", then bytes derived from the seed's hash and the position.
func pattern(seed string, n int) []byte {
	b := make([]byte, n)
	k := copy(b, seed+":0;")
	h := keyHash(seed)
	for i := k; i < n; i++ {
		b[i] = byte(h>>(8*(i%8))) ^ byte(i) ^ byte(i>>8) ^ byte(i>>16)
	}
	return b
}

// sampleMeta has multi-valued fields, odd casing and every Meta field set.
func sampleMeta() Meta {
	t0 := time.Date(2025, 3, 4, 5, 6, 7, 890, time.UTC)
	return Meta{
		Status: 200,
		Header: http.Header{
			"Content-Type":  {"application/octet-stream"},
			"Content-Md5":   {"1B2M2Y8AsgTpgAmY7PhCfg=="},
			"Set-Cookie":    {"a=1; Path=/", "b=2; Path=/"},
			"Vary":          {"Accept-Encoding", "Origin"},
			"X-Amz-Meta-Ün": {""},
			"Etag":          {`"5a62"`},
		},
		RequestTime:  t0,
		ResponseTime: t0.Add(150 * time.Millisecond),
		Extra:        []byte("validator\x00\xff"),
	}
}

// metaOpts compares Meta values across an encode/decode round trip.
var metaOpts = cmp.Options{
	cmpopts.EquateEmpty(),
	cmp.Comparer(func(a, b time.Time) bool { return a.Equal(b) }),
}

// entryFiles lists the entry files of a disk tier (relative names).
func entryFiles(t testing.TB, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "??", "*"+entryExt))
	if err != nil {
		t.Fatal(err)
	}
	for i := range m {
		m[i] = strings.TrimPrefix(m[i], dir+string(filepath.Separator))
	}
	return m
}

// tmpFiles lists the files in the disk tier's temporary directory.
func tmpFiles(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(dir, tmpDir))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// fileOf returns the path of key's entry file.
func fileOf(t testing.TB, s *Store, key string) string {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.index[key]
	if rec == nil || rec.disk == nil {
		t.Fatalf("%q has no disk copy", key)
	}
	return s.disk.path(rec.disk.name)
}

// inMemory reports whether key has a memory copy.
func inMemory(s *Store, key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec := s.index[key]
	return rec != nil && rec.mem != nil
}

// flipByte inverts one byte of a file.
func flipByte(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, 1)
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0xff
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

// isMiss reports whether err is the miss Get reports.
func isMiss(err error) bool { return errors.Is(err, ErrNotFound) }
